package org.jbhyve.virtio;

import org.jbhyve.pci.IntxPin;
import org.jbhyve.pci.MsiCapability;
import org.jbhyve.pci.MsixCapability;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciInterrupts;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * How a virtio PCI function interrupts the guest, in the order the guest may choose them:
 *
 * <ul>
 *   <li>MSI-X (default; bhyve without -W): a {@link MsixCapability} with one table entry per
 *       queue plus one for config changes, table and PBA in BAR1; the driver picks entries
 *       through the queue/config vector registers. Nothing is sent for NO_VECTOR.</li>
 *   <li>MSI (with -W): a {@link MsiCapability} with one message; every interrupt sends it and
 *       sets the ISR bits.</li>
 *   <li>INTx ({@link IntxPin}): the ISR bits are ORed in and the pin asserted; a read of the ISR
 *       register returns and clears them and deasserts the pin.</li>
 * </ul>
 * Thread-safe: the ISR and the pin are guarded by this object; MSI-X messages go out through
 * the capability's own lock.
 */
final class VirtioInterrupts implements AutoCloseable {
    private static final int ISR_BITS = VirtioPci.ISR_QUEUE | VirtioPci.ISR_CONFIG;

    private final MsixCapability msix; // null with MSI
    private final MsiCapability msi;   // null with MSI-X
    private final IntxPin intx;
    private int isr;

    VirtioInterrupts(PciConfigSpace config, PciInterrupts pci, boolean useMsix, int vectorCount) {
        this.intx = new IntxPin(config, pci);
        this.msix = useMsix ? new MsixCapability(config, pci, vectorCount, VirtioPci.MSIX_BAR) : null;
        this.msi = useMsix ? null : new MsiCapability(config, pci.msiVector());
    }

    /** The MSI-X capability (its BAR is declared by the function), or null with MSI. */
    MsixCapability msix() {
        return msix;
    }

    /** Vectors the driver may pick from (0 without MSI-X). */
    int vectorCount() {
        return msix == null ? 0 : msix.vectorCount();
    }

    /** Whether MSI-X is enabled now (the legacy register layout depends on it). */
    boolean msixEnabled() {
        return msix != null && msix.enabled();
    }

    /** Re-reads the capabilities and the INTx disable bit after a guest config write. */
    synchronized void configWritten(int offset, int size) {
        if (msix != null) {
            msix.configWritten();
        } else {
            msi.configWritten(offset, size);
        }
        updateIntx();
    }

    /** Interrupt for a queue whose driver-chosen MSI-X vector is {@code vector}. */
    void queue(int vector) {
        signal(vector, VirtioPci.ISR_QUEUE);
    }

    void config(int vector) {
        signal(vector, VirtioPci.ISR_CONFIG);
    }

    private void signal(int vector, int isrBit) {
        if (msixEnabled()) {
            msix.fire(vector);
            return;
        }
        boolean sendMsi;
        synchronized (this) {
            isr |= isrBit;
            sendMsi = msi != null && msi.enabled();
            updateIntx();
        }
        if (sendMsi) {
            msi.fire();
        }
    }

    /** ISR read: returns and clears the bits, deasserts INTx. */
    synchronized int readIsr() {
        int v = isr;
        isr = 0;
        updateIntx();
        return v;
    }

    /** Device reset: ISR cleared, pin deasserted (the MSI-X table is PCI state and stays). */
    synchronized void reset() {
        isr = 0;
        updateIntx();
    }

    /** The pin is up while ISR bits wait and neither MSI-X nor MSI is enabled (caller holds the lock). */
    private void updateIntx() {
        intx.update(isr != 0 && !msixEnabled() && (msi == null || !msi.enabled()));
    }

    /**
     * The interrupt part of a snapshot: u8 ISR bits, then with MSI-X the capability's table and
     * PBA (nested). The capability registers themselves are config space (the function's part).
     */
    synchronized void saveState(StateWriter out) {
        out.u8(isr);
        if (msix != null) {
            out.nested(msix);
        }
    }

    /**
     * Restores what {@link #saveState} wrote, after the config space was restored: MSI-X or MSI
     * routes are programmed as the guest left them and the INTx line follows the saved
     * Interrupt Status bit. Nothing is sent.
     */
    synchronized void restoreState(StateReader in) {
        int savedIsr = in.u8();
        if ((savedIsr & ~ISR_BITS) != 0) {
            throw in.invalid("ISR is 0x" + Integer.toHexString(savedIsr));
        }
        if (msix != null) {
            in.nested(msix, "msix");
        } else {
            msi.restored();
        }
        isr = savedIsr;
        intx.restored();
    }

    @Override
    public void close() {
        if (msix != null) {
            msix.close();
        } else {
            msi.close();
        }
    }
}
