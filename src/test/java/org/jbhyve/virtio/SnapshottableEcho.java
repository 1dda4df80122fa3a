package org.jbhyve.virtio;

import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/** {@link EchoDevice} with snapshots: it has no state of its own, so its blob is empty. */
final class SnapshottableEcho extends EchoDevice implements Snapshottable {
    int quiesced;
    int resumed;

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public void saveState(StateWriter out) {}

    @Override
    public void restoreState(StateReader in, int version) {}

    @Override
    public void quiesce() {
        quiesced++;
    }

    @Override
    public void resumeAfterSnapshot() {
        resumed++;
    }
}
