package org.jbhyve.devices.lpc;

import org.jbhyve.bus.IoHandler;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The POST diagnostic ports. Firmware and some kernels write progress codes to port 0x80 (and
 * Linux uses {@code outb 0x80} as an I/O delay); a card on the bus would show them on LEDs.
 *
 * <pre>
 * port 0x80  POST code: writes are remembered (see {@link #lastCode()}) and otherwise ignored;
 *            reads return 0xFF
 * port 0x84  bhyve's post.c: read-only, byte reads return 0xFF ("some garbage"), others ignored
 * </pre>
 *
 * bhyve itself claims only 0x84; claiming 0x80 here keeps the common delay writes from counting
 * as unclaimed accesses under {@code -e}. Register one instance per port ({@link #POST_CODE_PORT},
 * {@link #BHYVE_POST_PORT}); both behave the same.
 *
 * <p>Snapshot state (layout 1): the last code written (i32, -1 for none), so the progress a
 * snapshot was taken at stays visible after a restore.
 */
public final class PostPort implements IoHandler, Snapshottable {
    public static final int POST_CODE_PORT = 0x80;
    public static final int BHYVE_POST_PORT = 0x84;

    private volatile int lastCode = -1;

    @Override
    public long read(long offset, int size) {
        return IoHandler.mask(size);
    }

    @Override
    public void write(long offset, int size, long value) {
        lastCode = (int) (value & 0xFF);
    }

    /** The last code written, or -1 if none. */
    public int lastCode() {
        return lastCode;
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public void saveState(StateWriter out) {
        out.i32(lastCode);
    }

    @Override
    public void restoreState(StateReader in, int version) {
        lastCode = in.intIn(-1, 0xFF, "the last POST code");
    }
}
