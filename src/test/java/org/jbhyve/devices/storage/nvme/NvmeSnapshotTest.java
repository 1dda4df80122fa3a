package org.jbhyve.devices.storage.nvme;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jbhyve.snapshot.CorruptBlobs;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateRoundTrip;
import org.jbhyve.virtio.MockGuest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NVMe snapshots: registers, features, queues (positions and phases), held event requests and
 * SMART counters survive a restore into a controller built from the same options; the restored
 * controller goes on with the next completion slot and phase; a quiesce finishes the command in
 * flight and fetches no other; a namespace of another size, or a corrupt blob, is one
 * {@link SnapshotException}.
 */
class NvmeSnapshotTest {
    private static final int[] REGISTERS = {NvmeController.CC, NvmeController.CSTS, NvmeController.AQA,
        NvmeController.ASQ, NvmeController.ASQ + 4, NvmeController.ACQ, NvmeController.ACQ + 4, NvmeController.INTMS};
    @TempDir
    Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T keep(T c) {
        open.add(c);
        return c;
    }

    private static MockNvmeDriver.Completion setFeature(MockNvmeDriver d, int fid, int value) throws Exception {
        return d.admin(NvmeAdmin.SET_FEATURES, 0, 0, 0, fid, value);
    }

    /** Reads or writes {@code blocks} 512-byte blocks at {@code lba} through {@code q} and waits. */
    private static MockNvmeDriver.Completion io(MockNvmeDriver d, MockNvmeDriver.Pair q, int opcode, long buf,
                                                long lba, int blocks) throws Exception {
        d.submit(q, opcode, 1, buf, 0, (int) lba, (int) (lba >>> 32), blocks - 1);
        return d.await(q);
    }

    /** A driver of {@code c} that goes on with {@code d}'s queues (the guest's RAM was restored). */
    private static MockNvmeDriver continuing(NvmeController c, MockNvmeDriver d) {
        MockNvmeDriver after = new MockNvmeDriver(c, d.guest);
        after.admin = d.admin;
        return after;
    }

    @Test
    void stateAfterCommandsSurvivesARestoreAndTheNextCompletionContinuesTheQueue() throws Exception {
        NvmeFixture f = keep(NvmeFixture.image(dir, 1 << 20, "nolock", "maxq=4", "qsz=64").started());
        MockNvmeDriver d = f.driver;
        d.enableMsix(5);
        assertTrue(setFeature(d, NvmeFeatures.NUMBER_OF_QUEUES, 1 | 1 << 16).ok());
        assertTrue(setFeature(d, NvmeFeatures.ARBITRATION, 0x03020107).ok());
        MockNvmeDriver.Pair q = d.createPair(1, 8, true, 1);
        MockNvmeDriver.Pair quiet = d.createPair(2, 4, false, 0);
        long buf = f.guest.alloc(8192, 4096);
        byte[] data = new byte[1024];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 13 + 1);
        }
        f.guest.memory.write(buf, data);
        assertTrue(io(d, q, NvmeIo.WRITE, buf, 100, 2).ok());
        for (int i = 0; i < 9; i++) {                       // around the 8-entry ring: the phase flips
            assertTrue(io(d, q, NvmeIo.READ, buf + 4096, i, 1).ok());
        }
        assertFalse(q.phase, "the driver's CQ phase flipped");
        int aer1 = d.submit(d.admin, NvmeAdmin.ASYNC_EVENT_REQUEST, 0, 0, 0);
        int aer2 = d.submit(d.admin, NvmeAdmin.ASYNC_EVENT_REQUEST, 0, 0, 0);
        d.submit(quiet, NvmeIo.READ, 1, buf + 4096, 0, 7, 0, 0);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (d.controller.submissionHead(2) != 1 || d.guest.memory.getInt(quiet.cq + 12) == 0) {
            assertTrue(System.nanoTime() < until, "queue 2's completion posted");
            Thread.sleep(1);
        }
        d.write32(NvmeController.INTMS, 1);
        int msis = f.guest.msiCount.get();

        f.controller.quiesce();
        NvmeController fresh = keep(f.twin("nolock", "maxq=4", "qsz=64"));
        StateRoundTrip.assertRoundTrip(f.controller, fresh);
        MockNvmeDriver after = continuing(fresh, d);
        for (int r : REGISTERS) {
            assertEquals(d.read32(r), after.read32(r), "register 0x" + Integer.toHexString(r));
        }
        assertEquals(d.controller.config().get16(PciConfigSpace.COMMAND), fresh.config().get16(PciConfigSpace.COMMAND));
        assertTrue(after.ready());
        assertEquals(2, fresh.events().outstanding());
        assertEquals(0x03020107, after.admin(NvmeAdmin.GET_FEATURES, 0, 0, 0, NvmeFeatures.ARBITRATION).cdw0());
        assertEquals(NvmeStatus.INVALID_QUEUE_IDENTIFIER,
                after.admin(NvmeAdmin.CREATE_CQ, 0, buf, 0, 3 << 16 | 3, 1).status(), "two I/O queues were granted");

        // The completion left unconsumed on queue 2 is still there; queue 1 continues at its slot and phase.
        MockNvmeDriver.Completion left = after.poll(quiet);
        assertNotNull(left);
        assertEquals(1, left.sqHead());
        long back = buf + 4096;
        MockNvmeDriver.Completion c = io(after, q, NvmeIo.READ, back, 100, 2);
        assertTrue(c.ok());
        assertEquals(3, c.sqHead(), "11 commands through an 8-entry queue");
        assertEquals(1, c.sqId());
        assertArrayEquals(data, f.guest.memory.read(back, 1024));
        assertTrue(f.guest.msiCount.get() > msis, "queue 1 interrupts on vector 1");

        // A held event request completes on the restored controller: an invalid doorbell is an error event.
        after.write32(NvmeController.DOORBELLS + 8 * 3, 0);
        MockNvmeDriver.Completion event = after.await(after.admin);
        assertEquals(aer1, event.cid());
        assertEquals(NvmeLogPages.ERROR << 16 | AsyncEvents.INVALID_DOORBELL << 8 | AsyncEvents.TYPE_ERROR, event.cdw0());
        assertEquals(1, fresh.events().outstanding(), "request " + aer2 + " is still held");
    }

    private static NvmeController gated(GatedStorage storage, MockGuest guest) {
        NvmeOptions o = NvmeOptions.parse(k -> java.util.Optional.ofNullable(k.equals("ram") ? "4" : null), "vm", 0, 4, 0);
        return new NvmeController(o, storage, guest.memory, guest);
    }

    @Test
    void quiesceFinishesTheCommandInFlightAndTheRestoredControllerFetchesTheOneQueuedAfter() throws Exception {
        MockGuest guest = keep(new MockGuest(8 << 20));
        GatedStorage storage = new GatedStorage(4 << 20);
        NvmeController c = keep(gated(storage, guest));
        MockNvmeDriver d = new MockNvmeDriver(c, guest);
        d.enableDevice();
        d.enable(16, 16);
        MockNvmeDriver.Pair q = d.createPair(1, 16, false, 0);
        long buf = guest.alloc(8192, 4096);
        guest.memory.putInt(buf, 0x5A5A5A5A);
        int first = d.submit(q, NvmeIo.READ, 1, buf, 0, 0, 0, 0);
        storage.awaitWaiting(1);

        Thread quiesce = Thread.ofPlatform().start(c::quiesce);
        quiesce.join(200);
        assertTrue(quiesce.isAlive(), "quiesce waits for the read in flight");
        int second = d.submit(q, NvmeIo.READ, 1, buf + 4096, 0, 1, 0, 0);
        storage.release(1);
        quiesce.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(quiesce.isAlive());
        assertEquals(0, guest.memory.getInt(buf), "the data of the first read arrived");
        MockNvmeDriver.Completion done = d.poll(q, false);
        assertNotNull(done, "its completion was posted before the quiesce ended");
        assertEquals(first, done.cid());
        assertEquals(1, c.submissionHead(1), "the second command was not fetched");
        assertNull(d.poll(q, false));

        GatedStorage storage2 = new GatedStorage(4 << 20);
        storage2.release(10);
        NvmeController fresh = keep(gated(storage2, guest));
        StateRoundTrip.restore(fresh, 1, StateRoundTrip.save(c));
        MockNvmeDriver after = continuing(fresh, d);
        MockNvmeDriver.Completion next = after.await(q);
        assertEquals(second, next.cid(), "fetched once, by the restored controller");
        assertEquals(2, next.sqHead());
        assertTrue(next.ok());
        assertEquals(1, c.submissionHead(1), "the quiesced controller stays still");
    }

    @Test
    void resumeAfterSnapshotFetchesWhatWasQueuedWhileQuiesced() throws Exception {
        NvmeFixture f = keep(NvmeFixture.ram(4).started());
        MockNvmeDriver.Pair q = f.driver.createPair(1, 8, false, 0);
        f.controller.quiesce();
        long buf = f.guest.alloc(4096, 4096);
        f.driver.submit(q, NvmeIo.READ, 1, buf, 0, 0, 0, 0);
        Thread.sleep(20);
        assertNull(f.driver.poll(q), "nothing fetched while quiesced");
        f.controller.resumeAfterSnapshot();
        assertTrue(f.driver.await(q).ok());
    }

    @Test
    void aNamespaceOfAnotherSizeIsRefusedInOneLine() throws Exception {
        NvmeFixture f = keep(NvmeFixture.ram(4).started());
        byte[] blob = StateRoundTrip.save(f.controller);
        MockGuest guest = keep(new MockGuest(1 << 20));
        NvmeController larger = keep(NvmeFixture.controller(java.util.Map.of("ram", "8"), guest));
        SnapshotException e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(larger, 1, blob));
        assertEquals("NvmeController: the namespace has 2048 blocks of 4096 bytes, the snapshot 1024 blocks of 4096"
                + " bytes", e.getMessage());
        NvmeController smallerBlocks = keep(NvmeFixture.controller(java.util.Map.of("ram", "4", "sectsz", "512"), guest));
        e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(smallerBlocks, 1, blob));
        assertEquals("NvmeController: the namespace has 8192 blocks of 512 bytes, the snapshot 1024 blocks of 4096"
                + " bytes", e.getMessage());
    }

    @Test
    void truncatedOrCorruptBlobsFailOnlyWithSnapshotExceptions() throws Exception {
        NvmeFixture f = keep(NvmeFixture.ram(4, "maxq=2").started());
        f.driver.enableMsix(3);
        MockNvmeDriver.Pair q = f.driver.createPair(1, 4, true, 1);
        long buf = f.guest.alloc(4096, 4096);
        f.driver.submit(q, NvmeIo.READ, 1, buf, 0, 0, 0, 0);
        assertTrue(f.driver.await(q).ok());
        f.driver.submit(f.driver.admin, NvmeAdmin.ASYNC_EVENT_REQUEST, 0, 0, 0);
        f.controller.quiesce();
        byte[] blob = StateRoundTrip.save(f.controller);
        NvmeController target = keep(f.twin("ram=4", "maxq=2"));
        CorruptBlobs.assertOnlySnapshotExceptions(target, blob, PciConfigSpace.SIZE - 64);
        target.quiesce();
        StateRoundTrip.restore(target, 1, blob);
        assertArrayEquals(blob, StateRoundTrip.save(target), "a valid blob still restores afterwards");
    }
}
