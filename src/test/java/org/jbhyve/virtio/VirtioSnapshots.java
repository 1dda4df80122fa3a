package org.jbhyve.virtio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.function.Supplier;
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
}
