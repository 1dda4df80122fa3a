package org.jbhyve.devices.virtio.rng;

import static org.junit.jupiter.api.Assertions.*;

import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPciFunction;
import org.junit.jupiter.api.Test;

class VirtioRngTest {
    @Test
    void fillsBuffersAndIsRateLimited() throws Exception {
        try (MockGuest guest = new MockGuest(4 << 20)) {
            VirtioRng rng = new VirtioRng(into -> into.fill((byte) 0xA5), 64 * 1024);
            VirtioPciFunction f = new VirtioPciFunction(rng, guest.memory, guest, GuestDoorbells.NONE, true);
            assertEquals(0x1005, f.config().get16(2));
            MockDriver d = new MockDriver(f, guest);
            d.startModern(-1L, 64, true);
            MockQueue q = d.queues[0];
            long buf = guest.alloc(16, 1);
            q.add(new MockQueue.Buf(buf, 16, true));
            d.kick(0);
            MockQueue.Used u = q.poll();
            assertEquals(16, u.length());
            assertEquals((byte) 0xA5, guest.memory.getByte(buf + 15));
            // Ask for far more than the burst: the first answers are capped, the rest wait for tokens.
            long total = 0;
            long big = guest.alloc(64 * 1024, 4096);
            for (int i = 0; i < 8; i++) {
                q.add(new MockQueue.Buf(big, 64 * 1024, true));
            }
            long start = System.nanoTime();
            d.kick(0);
            int done = 0;
            while (done < 8 && System.nanoTime() - start < 20_000_000_000L) {
                MockQueue.Used x = q.poll();
                if (x == null) {
                    Thread.sleep(5);
                    continue;
                }
                done++;
                total += x.length();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            assertEquals(8, done);
            // token bucket: never more than the burst plus what the rate allowed meanwhile
            double allowed = 64 * 1024 + 64 * 1024 * seconds + 4096;
            assertTrue(total <= allowed, total + " bytes in " + seconds + " s exceeds the bucket");
            f.close();
        }
    }
}
