package org.jbhyve.devices.usb;

import org.jbhyve.pci.IntxPin;
import org.jbhyve.pci.MsiCapability;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciInterrupts;

/**
 * How interrupter 0 reaches the CPU (xHCI 4.17.5): an interrupt is deliverable while IMAN.IP,
 * IMAN.IE and USBCMD.INTE are all set.
 *
 * <ul>
 *   <li>With MSI enabled (bhyve gives one message, 64-bit address), a deliverable IP sends the
 *       message once, and the completed write clears IP.</li>
 *   <li>Otherwise INTA follows the deliverable condition as a level, masked by the command
 *       register's INTx Disable; the status register's Interrupt Status bit shows it unmasked.
 *       Software lowers it by clearing IP (write 1 to IMAN.IP).</li>
 * </ul>
 * {@link #update} is called after anything that may change the condition: an event, a write
 * to IMAN or USBCMD, an MSI or command register write. Not thread-safe: the controller's lock
 * guards it.
 */
final class InterruptPath {
    private final PciConfigSpace config;
    private final MsiCapability msi;
    private boolean lastPending;
    private final IntxPin intx;

    /** Adds the MSI capability to {@code config}; the pin (INTA) is the caller's to declare. */
    InterruptPath(PciConfigSpace config, PciInterrupts interrupts) {
        this.config = config;
        this.msi = new MsiCapability(config, interrupts.msiVector());
        this.intx = new IntxPin(config, interrupts);
    }

    /**
     * Delivers what is deliverable; returns whether IP went from 0 to 1 since the last call
     * (the controller then sets USBSTS.EINT).
     */
    boolean update(Interrupter interrupter, boolean inte) {
        boolean pending = interrupter.pending();
        boolean rose = pending && !lastPending;
        if (pending && interrupter.enabled() && inte && msi.enabled()) {
            msi.fire();
            interrupter.delivered();
            pending = false;
        }
        lastPending = pending;
        boolean want = pending && interrupter.enabled() && inte && !msi.enabled();
        intx.update(want);
        return rose;
    }

    /** A config-space write: the MSI capability re-reads its message and enable bit. */
    void configWritten(int offset, int size) {
        msi.configWritten(offset, size);
    }

    /** Whether IP was pending at the last update (for the snapshot: an EINT is due when it rises). */
    boolean lastPending() {
        return lastPending;
    }

    /**
     * After a snapshot restored the config space: routes MSI as the guest programmed it and
     * drives INTx from the saved Interrupt Status bit; nothing is sent.
     */
    void restored(boolean wasPending) {
        lastPending = wasPending;
        msi.restored();
        intx.restored();
    }

    /** Controller reset: IP is clear, so nothing is remembered as pending. */
    void reset() {
        lastPending = false;
    }

    void close() {
        msi.close();
    }
}
