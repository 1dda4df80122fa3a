package org.jbhyve.pci;

import org.jbhyve.irq.IrqLine;
import org.jbhyve.irq.MsiVector;

/**
 * The interrupt paths a PCI function may use: its INTx pin (wired by the machine to an IOAPIC
 * pin, as the DSDT's _PRT and the MP table say) and MSI messages (the address/data pair a guest
 * programs into an MSI or MSI-X capability, delivered by the machine).
 */
public interface PciInterrupts {
    /** The function's INTx line; the pin (INTA-INTD) is the one its config space advertises. */
    IrqLine intx();

    /** Delivers one MSI: what a device's memory write of {@code data} to {@code address} would do. */
    void sendMsi(long address, int data);

    /**
     * A vector for a device's MSI/MSI-X table entry. The machine backs it with an irqfd so
     * firing it costs one eventfd write; the default sends through {@link #sendMsi}.
     */
    default MsiVector msiVector() {
        return MsiVector.direct(this::sendMsi);
    }
}
