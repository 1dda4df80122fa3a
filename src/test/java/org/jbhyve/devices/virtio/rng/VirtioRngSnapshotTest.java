package org.jbhyve.devices.virtio.rng;

import org.jbhyve.snapshot.CorruptBlobs;
import static org.junit.jupiter.api.Assertions.*;

import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.snapshot.StateRoundTrip;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPciFunction;
import org.jbhyve.virtio.VirtioSnapshots;
import org.junit.jupiter.api.Test;

class VirtioRngSnapshotTest {
    private static VirtioPciFunction function(MockGuest guest) {
        return new VirtioPciFunction(new VirtioRng(into -> into.fill((byte) 0x3C), 1 << 20), guest.memory, guest,
                GuestDoorbells.NONE, true);
    }

    @Test
    void requestsContinueAfterRestoreAndNothingIsTakenWhileQuiesced() throws Exception {
        try (MockGuest guest = new MockGuest(4 << 20)) {
            MockDriver d = new MockDriver(function(guest), guest);
            d.startModern(-1L, 64, true);
            MockQueue q = d.queues[0];
            for (int i = 0; i < 3; i++) {
                q.add(new MockQueue.Buf(guest.alloc(32, 1), 32, true));
                d.kick(0);
                assertEquals(32, q.poll().length());
            }
            d.function.quiesce();
            long waiting = guest.alloc(16, 1);
            q.add(new MockQueue.Buf(waiting, 16, true));
            d.kick(0);
            assertEquals(3, q.usedIndex(), "nothing taken while quiesced");
            d.function.resumeAfterSnapshot();
            assertEquals(4, q.usedIndex(), "the request left waiting is served on resume");
            assertEquals((byte) 0x3C, guest.memory.getByte(waiting + 15));

            MockDriver r = VirtioSnapshots.snapshotAndRestore(d, () -> function(guest));

            q.add(new MockQueue.Buf(guest.alloc(8, 1), 8, true));
            r.kick(0);
            assertNotNull(q.poll());
            assertNotNull(q.poll());
            assertEquals(5, q.usedIndex());
            CorruptBlobs.assertOnlySnapshotExceptions(() -> function(guest), StateRoundTrip.save(r.function));
            r.function.close();
        }
    }
}
