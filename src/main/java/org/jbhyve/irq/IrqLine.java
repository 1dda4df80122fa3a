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

    /**
     * A line wired to nothing, for devices configured without an interrupt and for tests. (A class
     * rather than a lambda: the start-up cache keeps no lambda made by an interface's initialiser,
     * so one here was generated anew at every start.)
     */
    IrqLine NONE = new Unconnected();

    /** The class of {@link #NONE}. */
    final class Unconnected implements IrqLine {
        private Unconnected() {}

        @Override
        public void set(boolean level) {
            // nothing is connected
        }
    }
}
