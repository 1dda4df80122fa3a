package org.jbhyve.snapshot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The identity every {@link Snapshottable} owes: save, restore into a fresh instance built the
 * same way, save again, and the two blobs are equal byte for byte. Device tests call
 * {@link #assertRoundTrip} after driving the device into an interesting state.
 */
public final class StateRoundTrip {
    private StateRoundTrip() {}

    /** Saves {@code original}, restores into {@code fresh}, and checks the state survived; returns the blob. */
    public static byte[] assertRoundTrip(Snapshottable original, Snapshottable fresh) {
        byte[] first = save(original);
        restore(fresh, original.stateVersion(), first);
        byte[] second = save(fresh);
        assertEquals(original.stateVersion(), fresh.stateVersion(), "the same layout version");
        assertArrayEquals(first, second, "state -> bytes -> state is the identity");
        return first;
    }

    public static byte[] save(Snapshottable part) {
        StateWriter out = new StateWriter();
        part.saveState(out);
        return out.toByteArray();
    }

    /** Restores {@code blob} and checks that the part read all of it. */
    public static void restore(Snapshottable part, int version, byte[] blob) {
        StateReader in = new StateReader(part.getClass().getSimpleName(), blob);
        part.restoreState(in, version);
        in.expectEnd();
    }
}
