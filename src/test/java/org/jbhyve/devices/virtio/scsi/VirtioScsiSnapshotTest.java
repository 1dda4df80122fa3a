package org.jbhyve.devices.virtio.scsi;

import static org.jbhyve.devices.virtio.scsi.ScsiRig.cdb;
import static org.jbhyve.devices.virtio.scsi.ScsiRig.good;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.snapshot.CorruptBlobs;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateRoundTrip;
import org.jbhyve.virtio.MockQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The virtio-scsi device model's snapshot (the transport's is tested with the transport): the
 * driver-written config sizes and each LUN's write cache survive a restore into a device built
 * from the same command line, LUNs that differ are refused in one line, and a quiesce answers
 * the command in flight and takes no other until resumed.
 */
class VirtioScsiSnapshotTest {
    private static final int CONFIG = 0x2000;
    @TempDir
    Path dir;
    private final List<ScsiRig> rigs = new ArrayList<>();

    @AfterEach
    void close() {
        rigs.forEach(r -> {
            r.assertNoFailures();
            r.close();
        });
    }

    /** An image opened without the image lock, with one I/O worker (a second device opens it as a restore would). */
    private static BlockOptions unlocked(Path image) {
        return new BlockOptions(image.toString(), false, false, false, 0, 0, false, 1, true);
    }

    private ScsiRig rig(Map<Integer, BlockOptions> luns) {
        ScsiRig r = new ScsiRig(luns);
        rigs.add(r);
        return r;
    }

    /** MODE SELECT(6) of the caching page with WCE off. */
    private static void writeCacheOff(ScsiRig rig, int lun) throws Exception {
        byte[] list = new byte[4 + 20];
        list[4] = 0x08;
        list[5] = 0x12;
        good(rig.command(lun, cdb(0x15, 0x10, 0, 0, list.length, 0), list, 0));
    }

    /** The caching page's WCE bit as MODE SENSE(6) reports it. */
    private static boolean writeCacheSensed(ScsiRig rig, int lun) throws Exception {
        byte[] d = good(rig.command(lun, cdb(0x1A, 0x08, 0x08, 0, 255, 0), null, 255)).data();
        return (d[6] & 0x04) != 0;
    }

    @Test
    void configSizesAndLunStateSurviveARestoreAndCommandsSeeThem() throws Exception {
        Path a = ScsiRig.image(dir, "a.img", 2048);
        Path b = ScsiRig.image(dir, "b.img", 1024);
        Map<Integer, BlockOptions> luns = Map.of(0, unlocked(a), 3, unlocked(b));
        ScsiRig rig = rig(luns);
        good(rig.command(3, cdb(0x28, 0, 0, 0, 0, 5, 0, 0, 1, 0), null, 512));
        writeCacheOff(rig, 3);
        assertFalse(writeCacheSensed(rig, 3));
        rig.driver.modern().write(CONFIG + 20, 4, 64);
        rig.driver.modern().write(CONFIG + 24, 4, 24);

        ScsiRig fresh = rig(luns);
        rig.device.quiesce();
        StateRoundTrip.assertRoundTrip(rig.device, fresh.device);
        assertEquals(64, fresh.driver.config(20, 4), "sense_size");
        assertEquals(24, fresh.driver.config(24, 4), "cdb_size");
        assertTrue(fresh.device.target().lun(0).writeCacheEnabled());
        assertFalse(fresh.device.target().lun(3).writeCacheEnabled());

        fresh.driver.modern().write(CONFIG + 20, 4, 96);     // the sizes this rig lays requests out with
        fresh.driver.modern().write(CONFIG + 24, 4, 32);
        assertFalse(writeCacheSensed(fresh, 3), "LUN 3 still has its write cache off");
        assertTrue(writeCacheSensed(fresh, 0));
        byte[] data = good(fresh.command(3, cdb(0x28, 0, 0, 0, 0, 5, 0, 0, 1, 0), null, 512)).data();
        assertEquals(5, data[511]);
    }

    @Test
    void quiesceAnswersTheCommandInFlightAndTakesNoOtherUntilResumed() throws Exception {
        ScsiRig rig = rig(Map.of(0, unlocked(ScsiRig.image(dir, "a.img", 64))));
        CountDownLatch gate = new CountDownLatch(1);
        rig.device.target().lun(0).backend().submit(() -> {   // the only worker waits: the read stays in flight
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        ScsiRig.Sent read = rig.send(0, 0, cdb(0x28, 0, 0, 0, 0, 7, 0, 0, 1, 0), null, 512);
        MockQueue q = rig.driver.queues[ScsiRig.REQUEST];
        assertNull(q.poll());
        assertEquals(1, rig.device.inProgress());

        Thread quiesce = Thread.ofPlatform().start(rig.device::quiesce);
        quiesce.join(200);
        assertTrue(quiesce.isAlive(), "quiesce waits for the read");
        gate.countDown();
        quiesce.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(quiesce.isAlive());
        MockQueue.Used used = q.poll();
        assertNotNull(used, "the read was answered in the used ring before the quiesce ended");
        assertEquals(read.head(), used.head());
        assertEquals(7, good(read.reply(used.length())).data()[0]);

        ScsiRig.Sent later = rig.send(0, 0, cdb(0x00, 0, 0, 0, 0, 0), null, 0);   // kicked while quiesced
        Thread.sleep(50);
        assertNull(q.poll(), "not taken while quiesced");
        assertEquals(0, rig.device.inProgress());
        rig.device.resumeAfterSnapshot();
        MockQueue.Used next = ScsiRig.await(q);
        assertEquals(later.head(), next.head());
        good(later.reply(next.length()));
    }

    @Test
    void lunsOfAnotherSizeOrNumberAreRefusedInOneLine() throws Exception {
        Path a = ScsiRig.image(dir, "a.img", 2048);
        Path small = ScsiRig.image(dir, "small.img", 1024);
        byte[] blob = StateRoundTrip.save(rig(Map.of(0, unlocked(a), 1, unlocked(small))).device);

        VirtioScsi swapped = rig(Map.of(0, unlocked(small), 1, unlocked(a))).device;
        SnapshotException e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(swapped, 1, blob));
        assertEquals("VirtioScsi: LUN 0 has 1024 blocks of 512 bytes, the snapshot 2048 blocks of 512 bytes",
                e.getMessage());
        VirtioScsi moved = rig(Map.of(0, unlocked(a), 2, unlocked(small))).device;
        e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(moved, 1, blob));
        assertEquals("VirtioScsi: the snapshot has LUN 1, the target has LUNs [0, 2]", e.getMessage());
        VirtioScsi fewer = rig(Map.of(0, unlocked(a))).device;
        e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(fewer, 1, blob));
        assertEquals("VirtioScsi: the snapshot has LUN 1, the target has LUNs [0]", e.getMessage());
        VirtioScsi more = rig(Map.of(0, unlocked(a), 1, unlocked(small), 2, unlocked(small))).device;
        e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(more, 1, blob));
        assertEquals("VirtioScsi: the target has LUNs [0, 1, 2], the snapshot [0, 1]", e.getMessage());
    }

    @Test
    void truncatedOrCorruptBlobsFailOnlyWithSnapshotExceptions() throws Exception {
        Map<Integer, BlockOptions> luns = Map.of(0, unlocked(ScsiRig.image(dir, "a.img", 64)),
                5, unlocked(ScsiRig.image(dir, "b.img", 32)));
        ScsiRig rig = rig(luns);
        writeCacheOff(rig, 5);
        rig.driver.modern().write(CONFIG + 20, 4, 40);
        byte[] blob = StateRoundTrip.save(rig.device);
        VirtioScsi target = rig(luns).device;
        CorruptBlobs.assertOnlySnapshotExceptions(target, blob, 0);
        StateRoundTrip.restore(target, 1, blob);
        assertArrayEquals(blob, StateRoundTrip.save(target));
    }
}
