package org.jbhyve.devices.virtio.block;

import org.jbhyve.snapshot.CorruptBlobs;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateRoundTrip;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPciFunction;
import org.jbhyve.virtio.VirtioSnapshots;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** virtio-blk across a snapshot: ring positions kept, in-flight requests completed once, the disk checked. */
class VirtioBlockSnapshotTest {
    @TempDir
    Path dir;
    private final MockGuest guest = new MockGuest(8 << 20);
    private VirtioPciFunction last;

    @AfterEach
    void close() {
        if (last != null) {
            last.close();
        }
        guest.close();
    }

    private Path image(String name, int size) throws Exception {
        Path p = dir.resolve(name);
        byte[] content = new byte[size];
        for (int i = 0; i < size; i++) {
            content[i] = (byte) (i / 512);
        }
        Files.write(p, content);
        return p;
    }

    private VirtioBlock block(Path img, boolean readOnly) {
        return new VirtioBlock(BlockBackend.open(new BlockOptions(img.toString(), readOnly, false, false, 0, 0, false,
                4)), "snap-test");
    }

    private VirtioPciFunction function(Path img) {
        last = new VirtioPciFunction(block(img, false), guest.memory, guest, GuestDoorbells.NONE, true);
        return last;
    }

    /** Queues a request (header, data, status) without kicking; returns the status byte's address. */
    private long queue(MockQueue q, int type, long sector, long data, int length) {
        long header = guest.alloc(16, 16);
        long status = guest.alloc(1, 1);
        guest.memory.putInt(header, type);
        guest.memory.putLong(header + 8, sector);
        guest.memory.putByte(status, (byte) 0x7F);
        assertTrue(q.add(new MockQueue.Buf(header, 16, false),
                new MockQueue.Buf(data, length, type == VirtioBlock.T_IN),
                new MockQueue.Buf(status, 1, true)) >= 0);
        return status;
    }

    private static void awaitUsed(MockQueue q, int index) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (q.usedIndex() < index && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertEquals(index, q.usedIndex(), "used index");
    }

    private int request(MockDriver d, int type, long sector, long data, int length) throws Exception {
        MockQueue q = d.queues[0];
        int next = q.usedIndex() + 1;
        long status = queue(q, type, sector, data, length);
        d.kick(0);
        awaitUsed(q, next);
        assertNotNull(q.poll());
        return guest.memory.getByte(status);
    }

    @Test
    void requestsContinueOnARestoredFunctionOverAFreshBackend() throws Exception {
        Path img = image("disk.img", 1 << 20);
        MockDriver d = new MockDriver(function(img), guest);
        d.startModern(-1L, 64, true);
        long buf = guest.alloc(4096, 4096);
        assertEquals(VirtioBlock.S_OK, request(d, VirtioBlock.T_IN, 3, buf, 512));
        guest.memory.write(buf, new byte[512]);
        guest.memory.putInt(buf, 0xC0FFEE);
        assertEquals(VirtioBlock.S_OK, request(d, VirtioBlock.T_OUT, 40, buf, 512));
        assertEquals(VirtioBlock.S_OK, request(d, VirtioBlock.T_FLUSH, 0, buf, 0));

        MockDriver r = VirtioSnapshots.snapshotAndRestore(d, () -> function(img));

        long read = guest.alloc(512, 512);
        assertEquals(VirtioBlock.S_OK, request(r, VirtioBlock.T_IN, 40, read, 512));
        assertEquals(4, r.queues[0].usedIndex());
        assertEquals(4, r.function.queue(0).lastAvailIndex());
        assertEquals(0xC0FFEE, guest.memory.getInt(read), "what was written before the snapshot");
    }

    @Test
    void quiesceCompletesEveryRequestTakenExactlyOnceAndTakesNoMore() throws Exception {
        Path img = image("disk.img", 4 << 20);
        VirtioPciFunction f = function(img);
        MockDriver d = new MockDriver(f, guest);
        d.startModern(-1L, 64, true);
        MockQueue q = d.queues[0];
        int n = 20; // three descriptors each: the ring holds 64, one more request comes later
        int bytes = 64 * 1024;
        long data = guest.alloc((long) bytes * n, 4096);
        long[] status = new long[n];
        for (int i = 0; i < n; i++) {
            status[i] = queue(q, i % 3 == 0 ? VirtioBlock.T_OUT : VirtioBlock.T_IN, 128L * i, data + (long) bytes * i,
                    bytes);
        }
        d.kick(0);
        f.quiesce(); // while the backend works on the batch

        int taken = f.queue(0).lastAvailIndex();
        assertEquals(n, taken, "the kick took every request");
        assertEquals(taken, q.usedIndex(), "every request taken is in the used ring");
        Set<Integer> heads = new HashSet<>();
        for (int i = 0; i < taken; i++) {
            assertTrue(heads.add(guest.memory.getInt(q.used + 4 + 8L * i)), "used once: entry " + i);
        }
        for (long s : status) {
            assertEquals(VirtioBlock.S_OK, guest.memory.getByte(s));
        }
        assertTrue(guest.msiCount.get() > 0, "the completions were interrupted for");

        long more = queue(q, VirtioBlock.T_IN, 0, guest.alloc(512, 512), 512);
        d.kick(0);
        Thread.sleep(50);
        assertEquals(n, f.queue(0).lastAvailIndex(), "nothing taken while quiesced");
        assertEquals(n, q.usedIndex());
        f.resumeAfterSnapshot();
        awaitUsed(q, n + 1);
        assertEquals(VirtioBlock.S_OK, guest.memory.getByte(more));
    }

    @Test
    void aDiskOfAnotherSizeOrKindIsRefused() throws Exception {
        Path img = image("disk.img", 1 << 20);
        Path bigger = image("bigger.img", 2 << 20);
        MockDriver d = new MockDriver(function(img), guest);
        d.startModern(-1L, 64, true);
        d.function.quiesce();
        byte[] blob = StateRoundTrip.save(d.function);
        d.function.close();
        VirtioPciFunction other = function(bigger);
        SnapshotException e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(other, 1, blob));
        assertTrue(e.getMessage().contains("2097152 bytes, the snapshot 1048576"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        other.close();

        byte[] device;
        try (VirtioBlock writable = block(img, false)) {
            device = StateRoundTrip.save(writable);
        }
        try (VirtioBlock readOnly = block(img, true)) {
            SnapshotException ro = assertThrows(SnapshotException.class,
                    () -> StateRoundTrip.restore(readOnly, 1, device));
            assertTrue(ro.getMessage().contains("is read-only, in the snapshot writable"), ro.getMessage());
        }
    }

    @Test
    void corruptBlobsFailWithSnapshotExceptionOnly() throws Exception {
        Path img = image("disk.img", 1 << 20);
        MockDriver d = new MockDriver(function(img), guest);
        d.startModern(-1L, 64, true);
        long buf = guest.alloc(512, 512);
        assertEquals(VirtioBlock.S_OK, request(d, VirtioBlock.T_IN, 1, buf, 512));
        d.function.quiesce();
        byte[] blob = StateRoundTrip.save(d.function);
        d.function.close();
        VirtioPciFunction fresh = function(img);
        CorruptBlobs.assertOnlySnapshotExceptions(() -> fresh, blob);
        fresh.close();
        last = null;
        try (VirtioBlock device = block(img, false)) {
            CorruptBlobs.assertOnlySnapshotExceptions(() -> device, StateRoundTrip.save(device));
        }
    }
}
