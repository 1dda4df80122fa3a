package org.jbhyve.virtio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.function.Supplier;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateRoundTrip;

/**
 * Snapshot steps shared by the virtio device tests, in the order the VMM takes them: quiesce,
 * save, close the old device (its host backend is released, as when the process exits), build
 * a fresh one the same way over the same guest RAM, restore, and carry on driving it.
 */
public final class VirtioSnapshots {
    private VirtioSnapshots() {}

    /**
     * Quiesces and saves {@code original}'s function, closes it, restores into the function
     * {@code rebuild} makes, checks that saving again gives the same bytes, and returns the
     * driver continuing on the restored function.
     */
    public static MockDriver snapshotAndRestore(MockDriver original, Supplier<VirtioPciFunction> rebuild) {
        VirtioPciFunction old = original.function;
        old.quiesce();
        byte[] blob = StateRoundTrip.save(old);
        old.close();
        VirtioPciFunction fresh = rebuild.get();
        StateRoundTrip.restore(fresh, old.stateVersion(), blob);
        assertArrayEquals(blob, StateRoundTrip.save(fresh), "state -> bytes -> state is the identity");
        return original.continueOn(fresh);
    }

    /**
     * Restores every truncation of {@code blob} and copies with one byte changed (each byte in
     * turn, to a random other value) into the
     * part {@code target} gives (a fresh one each time, or the same one): each must either
     * restore or fail with a {@link SnapshotException}, never another exception. Truncations
     * must all fail.
     */
    public static void assertCorruptBlobsRefused(byte[] blob, int version, Supplier<? extends Snapshottable> target) {
        for (int length = 0; length < blob.length; length++) {
            byte[] cut = Arrays.copyOf(blob, length);
            assertFalse(restores(target.get(), version, cut), "a blob cut at " + length + " bytes restored");
        }
        java.util.Random random = new java.util.Random(42);
        for (int i = 0; i < blob.length; i++) {
            byte[] bad = blob.clone();
            bad[i] ^= (byte) (1 + random.nextInt(255));
            restores(target.get(), version, bad);
        }
    }

    private static boolean restores(Snapshottable part, int version, byte[] blob) {
        try {
            StateRoundTrip.restore(part, version, blob);
            return true;
        } catch (SnapshotException e) {
            if (e.getMessage() == null || e.getMessage().contains("\n")) {
                fail("a snapshot error must be one line: " + e.getMessage());
            }
            return false;
        }
    }
}
