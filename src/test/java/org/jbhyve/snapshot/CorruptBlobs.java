package org.jbhyve.snapshot;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * What a restore owes a damaged snapshot file: a {@link SnapshotException} (or, for a change that
 * still makes sense, a successful restore), never another exception. Shared by every
 * device's snapshot tests.
 */
public final class CorruptBlobs {
    /** Blobs longer than this are damaged at their first and last bytes and a sample between. */
    private static final int EVERY_BYTE_UP_TO = 2048;
    private static final int EDGE = 128, STRIDE = 2039;
    private static final int[] FLIPS = {0xFF, 0x01, 0x80};

    private CorruptBlobs() {}

    /**
     * Restores {@code blob} cut short at every length into a device from {@code fresh} (each cut
     * must be refused with a SnapshotException), then with bytes flipped (each must be refused
     * the same way or restore).
     */
    public static void assertOnlySnapshotExceptions(Supplier<? extends Snapshottable> fresh, byte[] blob) {
        assertOnlySnapshotExceptions(fresh, blob, 0);
    }

    /**
     * As above, flipping bytes only from {@code flipsFrom} on (a blob that starts with the PCI
     * config space, where most bytes are free-form, is damaged where the device's own state is).
     */
    public static void assertOnlySnapshotExceptions(Snapshottable target, byte[] blob, int flipsFrom) {
        assertOnlySnapshotExceptions(() -> target, blob, flipsFrom);
    }

    private static void assertOnlySnapshotExceptions(Supplier<? extends Snapshottable> fresh, byte[] blob, int flipsFrom) {
        for (int length : positions(blob.length)) {
            byte[] cut = Arrays.copyOf(blob, length);
            Snapshottable device = fresh.get();
            assertThrows(SnapshotException.class,
                    () -> StateRoundTrip.restore(device, device.stateVersion(), cut),
                    "the blob cut to " + length + " of " + blob.length + " bytes");
        }
        for (int at : positions(blob.length)) {
            if (at < flipsFrom) {
                continue;
            }
            for (int flip : FLIPS) {
                byte[] damaged = blob.clone();
                damaged[at] ^= (byte) flip;
                Snapshottable device = fresh.get();
                try {
                    StateRoundTrip.restore(device, device.stateVersion(), damaged);
                } catch (SnapshotException expected) {
                    if (expected.getMessage() == null || expected.getMessage().contains("\n")) {
                        fail("a snapshot error must be one line: " + expected.getMessage());
                    }
                } catch (RuntimeException e) {
                    fail("byte " + at + " xor 0x" + Integer.toHexString(flip) + ": " + e, e);
                }
            }
        }
    }

    /** The same checks, restoring every damaged blob into {@code target} (a device that tolerates repeated restores). */
    public static void assertOnlySnapshotExceptions(Snapshottable target, byte[] blob) {
        assertOnlySnapshotExceptions(() -> target, blob);
    }

    private static int[] positions(int length) {
        if (length <= EVERY_BYTE_UP_TO) {
            return IntStream.range(0, length).toArray();
        }
        return IntStream.range(0, length)
                .filter(i -> i < EDGE || i >= length - EDGE || i % STRIDE == 0)
                .toArray();
    }
}
