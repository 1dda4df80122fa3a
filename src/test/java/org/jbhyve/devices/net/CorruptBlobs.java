package org.jbhyve.devices.net;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateRoundTrip;

/**
 * What a device owes a damaged snapshot file: restoring a valid blob cut short at any length
 * is a {@link SnapshotException}; restoring it with any one byte inverted either succeeds or
 * is a {@link SnapshotException}, never another exception out of the device. Shared by the
 * device tests of several packages.
 */
public final class CorruptBlobs {
    private CorruptBlobs() {}

    /** Checks both rules for {@code blob} (saved from a device like {@code target}), restoring into {@code target}. */
    public static void assertOnlySnapshotExceptions(Snapshottable target, byte[] blob) {
        int version = target.stateVersion();
        for (int length = 0; length < blob.length; length++) {
            byte[] cut = Arrays.copyOf(blob, length);
            int at = length;
            assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(target, version, cut),
                    () -> "the blob cut to " + at + " of " + blob.length + " bytes was accepted");
        }
        for (int i = 0; i < blob.length; i++) {
            byte[] flipped = blob.clone();
            flipped[i] ^= (byte) 0xFF;
            try {
                StateRoundTrip.restore(target, version, flipped);
            } catch (SnapshotException expected) {
                // a one-line refusal is what a corrupt file deserves
            } catch (RuntimeException e) {
                fail("byte " + i + " of " + blob.length + " inverted: " + e, e);
            }
        }
    }
}
