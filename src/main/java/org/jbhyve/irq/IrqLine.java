package org.jbhyve.irq;

/**
 * An interrupt input as a device sees it: an ISA IRQ into the PIC/IOAPIC, or a PCI INTx pin.
 * {@code set(true)} raises the line, {@code set(false)} lowers it. Edge-triggered sources pulse.
 * Implementations are thread-safe.
 */
public interface IrqLine {
    void set(boolean level);

    default void pulse() {
        set(true);
        set(false);
    }

    /** A line wired to nothing, for devices configured without an interrupt and for tests. */
    IrqLine NONE = level -> {};
}
