package org.jbhyve.bus;

/**
 * A device's view of one claimed range on a bus (port I/O or MMIO).
 *
 * <p>Handlers see the offset from the start of their range, never an absolute address, so a BAR
 * can move without the device knowing. {@code size} is the access width in bytes (1, 2, 4 or 8);
 * values are little-endian and zero-extended into the long. Handlers may be called from several
 * vCPU threads at once and must do their own locking.
 */
public interface IoHandler {
    /** Returns the value read; bits above {@code size} bytes are ignored. */
    long read(long offset, int size);

    void write(long offset, int size, long value);

    /** The bits an access of {@code size} bytes carries: also what an unclaimed read returns. */
    static long mask(int size) {
        return size >= 8 ? -1L : (1L << (8 * size)) - 1;
    }
}
