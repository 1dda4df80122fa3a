package org.jbhyve.pci;

/**
 * A function's INTx pin as PCI defines it: the status register's Interrupt Status bit (0x08)
 * shows whether the function wants an interrupt, and the line to the interrupt controller is
 * asserted while it does and the command register's Interrupt Disable bit (0x400) is clear. The
 * line is driven only on changes. Not thread-safe: the owning device calls it under its lock.
 */
public final class IntxPin {
    private final PciConfigSpace config;
    private final PciInterrupts interrupts;
    private boolean high;

    /** {@code interrupts.intx()} is asked for the line each time it changes (it exists once the function is placed). */
    public IntxPin(PciConfigSpace config, PciInterrupts interrupts) {
        this.config = config;
        this.interrupts = interrupts;
    }

    /**
     * After a snapshot restored the config space: the line follows the saved Interrupt Status
     * bit (the interrupt controller's own state was restored with KVM's).
     */
    public void restored() {
        high = false;
        update((config.get16(PciConfigSpace.STATUS) & PciConfigSpace.STATUS_INTERRUPT) != 0);
    }

    /** Records whether the function wants an interrupt and drives the line accordingly. */
    public void update(boolean wanted) {
        int status = config.get16(PciConfigSpace.STATUS);
        config.put16(PciConfigSpace.STATUS, wanted ? status | PciConfigSpace.STATUS_INTERRUPT
                : status & ~PciConfigSpace.STATUS_INTERRUPT);
        boolean level = wanted && (config.command() & PciConfigSpace.COMMAND_INTX_DISABLE) == 0;
        if (level != high) {
            high = level;
            interrupts.intx().set(level);
        }
    }
}
