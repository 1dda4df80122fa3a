package org.jbhyve.devices.storage.ahci;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateRoundTrip;

/**
 * What a device owes a corrupt snapshot file: restoring a valid blob cut short at any length,
 * or with any one byte changed, either works or fails with a {@link SnapshotException}; never
 * another exception. Shared by the storage controllers' snapshot tests.
 */
public final class CorruptBlobs {
    private CorruptBlobs() {}

    /**
     * Restores every strict prefix of {@code blob} into {@code target} (each must fail: a
     * prefix lacks a field) and {@code blob} with each byte from {@code from} on inverted (any
     * outcome but a non-snapshot exception). {@code target} may be reused: each restore replaces
     * its state.
     */
    public static void assertOnlySnapshotExceptions(Snapshottable target, byte[] blob, int from) {
        for (int length = 0; length < blob.length; length++) {
            byte[] cut = Arrays.copyOf(blob, length);
            assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(target, 1, cut),
                    "blob cut to " + length + " of " + blob.length + " bytes");
        }
        for (int at = from; at < blob.length; at++) {
            byte[] flipped = blob.clone();
            flipped[at] ^= (byte) 0xFF;
            try {
                StateRoundTrip.restore(target, 1, flipped);
            } catch (SnapshotException expected) {
                // a one-line error for the user: fine
            } catch (RuntimeException | Error e) {
                fail("byte " + at + " inverted: " + e, e);
            }
        }
    }
}
