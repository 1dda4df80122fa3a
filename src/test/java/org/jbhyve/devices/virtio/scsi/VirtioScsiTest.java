package org.jbhyve.devices.virtio.scsi;

import static org.jbhyve.devices.virtio.scsi.ScsiRig.cdb;
import static org.jbhyve.devices.virtio.scsi.ScsiRig.good;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.MockQueue.Buf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The virtio side: identity, config space, targets, malformed chains, the control and event queues, batching. */
class VirtioScsiTest {
    @TempDir
    Path dir;
    private ScsiRig rig;

    @AfterEach
    void close() {
        if (rig != null) {
            rig.assertNoFailures();
            rig.close();
        }
    }

    private void start() throws Exception {
        rig = ScsiRig.of(ScsiRig.options(ScsiRig.image(dir, "disk.img", 2048), false, false));
    }

    /** Sends a control request and returns its used entry (the response byte(s) are in {@code out}). */
    private MockQueue.Used control(byte[] request, long out, int outLength) throws Exception {
        long in = rig.guest.alloc(request.length, 8);
        rig.guest.memory.write(in, request);
        rig.guest.memory.putByte(out, (byte) 0x55);
        MockQueue q = rig.driver.queues[VirtioScsi.CONTROL];
        q.add(new Buf(in, request.length, false), new Buf(out, outLength, true));
        rig.driver.kick(VirtioScsi.CONTROL);
        return ScsiRig.await(q);
    }

    private static byte[] tmf(int subtype, int target, int lun, long id) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(24).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, ScsiControlQueue.T_TMF).putInt(4, subtype).putLong(16, id);
        b.put(8, (byte) 1).put(9, (byte) target).put(10, (byte) (0x40 | lun >> 8)).put(11, (byte) lun);
        return b.array();
    }

    private int tmfResponse(int subtype, int target, int lun, long id) throws Exception {
        long out = rig.guest.alloc(1, 1);
        assertEquals(1, control(tmf(subtype, target, lun, id), out, 1).length());
        return rig.guest.memory.getByte(out) & 0xFF;
    }

    @Test
    void identityConfigAndFeatures() throws Exception {
        start();
        PciConfigSpace cs = rig.function.config();
        assertEquals(0x1AF4, cs.get16(0));
        assertEquals(0x1004, cs.get16(2), "transitional virtio-scsi");
        assertEquals(8, cs.get16(PciConfigSpace.SUBSYSTEM), "virtio type 8");
        assertEquals(0x01, cs.get8(0x0B), "mass storage");
        assertEquals(3, rig.driver.queues.length);
        assertEquals(3, rig.device.queueCount());
        assertEquals(0, rig.driver.deviceFeatures() & 0xFFFFFF, "no INOUT, HOTPLUG, CHANGE, T10_PI");
        long[] expected = {1, 126, 0xFFFF, 128, 16, 96, 32};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], rig.driver.config(4 * i, 4), "config word " + i);
        }
        assertEquals(0, rig.driver.config(28, 2), "max_channel");
        assertEquals(0, rig.driver.config(30, 2), "max_target");
        assertEquals(16383, rig.driver.config(32, 4), "max_lun");
    }

    @Test
    void senseAndCdbSizesAreDriverWritableUntilReset() throws Exception {
        start();
        rig.driver.modern().write(0x2000 + 20, 4, 20);
        rig.driver.modern().write(0x2000 + 24, 4, 16);
        rig.driver.modern().write(0x2000 + 24, 4, 100_000); // ignored
        assertEquals(20, rig.driver.config(20, 4));
        assertEquals(16, rig.driver.config(24, 4));
        // 19 + 16 header bytes, 12 + 20 response bytes: the data starts where the sizes say.
        long h = rig.header(0, 0, 1, cdb(0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0));
        long resp = rig.guest.alloc(32 + 512, 8);
        MockQueue q = rig.driver.queues[ScsiRig.REQUEST];
        q.add(new Buf(h, 35, false), new Buf(resp, 32 + 512, true));
        rig.driver.kick(ScsiRig.REQUEST);
        assertEquals(32 + 512, ScsiRig.await(q).length());
        assertEquals(0, rig.guest.memory.getByte(resp + 11));
        assertEquals(3, rig.guest.memory.getByte(resp + 32), "sector 3 right after the 32-byte response");
        rig.driver.modern().write(0x14, 1, 0); // common config device_status (0x14) = 0: reset
        assertEquals(96, rig.driver.config(20, 4));
        assertEquals(32, rig.driver.config(24, 4));
    }

    @Test
    void otherTargetsAndBadLunFieldsGetBadTarget() throws Exception {
        start();
        assertEquals(VirtioScsi.S_BAD_TARGET, rig.command(1, 0, cdb(0x12, 0, 0, 0, 36, 0), null, 36).response());
        assertEquals(VirtioScsi.S_BAD_TARGET, rig.command(255, 0, cdb(0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0), null, 16)
                .response());
        long h = rig.header(0, 0, 1, cdb(0x00));
        rig.guest.memory.putByte(h, (byte) 2); // LUN field must start with 1
        long resp = rig.guest.alloc(108, 8);
        MockQueue q = rig.driver.queues[ScsiRig.REQUEST];
        q.add(new Buf(h, 51, false), new Buf(resp, 108, true));
        rig.driver.kick(ScsiRig.REQUEST);
        assertEquals(108, ScsiRig.await(q).length());
        assertEquals(VirtioScsi.S_BAD_TARGET, rig.guest.memory.getByte(resp + 11));
        good(rig.command(0, 0, cdb(0x00), null, 0));
    }

    @Test
    void shortChainsGetFailureInWhateverResponseBytesFit() throws Exception {
        start();
        long h = rig.header(0, 0, 1, cdb(0x00));
        long resp = rig.guest.alloc(108, 8);
        MockQueue q = rig.driver.queues[ScsiRig.REQUEST];
        q.add(new Buf(h, 30, false), new Buf(resp, 108, true)); // header cut short
        rig.driver.kick(ScsiRig.REQUEST);
        assertEquals(108, ScsiRig.await(q).length());
        assertEquals(VirtioScsi.S_FAILURE, rig.guest.memory.getByte(resp + 11));
        q.add(new Buf(h, 51, false), new Buf(resp, 12, true)); // no room for the sense bytes
        rig.driver.kick(ScsiRig.REQUEST);
        assertEquals(12, ScsiRig.await(q).length());
        assertEquals(VirtioScsi.S_FAILURE, rig.guest.memory.getByte(resp + 11));
        q.add(new Buf(h, 51, false)); // nothing writable at all
        rig.driver.kick(ScsiRig.REQUEST);
        assertEquals(0, ScsiRig.await(q).length());
        // A header split over descriptors at odd places still parses.
        long h2 = rig.header(0, 0, 2, cdb(0x28, 0, 0, 0, 0, 7, 0, 0, 1, 0));
        long data = rig.guest.alloc(512, 8);
        q.add(new Buf(h2, 7, false), new Buf(h2 + 7, 40, false), new Buf(h2 + 47, 4, false),
                new Buf(resp, 50, true), new Buf(resp + 50, 58, true), new Buf(data, 100, true),
                new Buf(data + 100, 412, true));
        rig.driver.kick(ScsiRig.REQUEST);
        assertEquals(108 + 512, ScsiRig.await(q).length());
        assertEquals(0, rig.guest.memory.getByte(resp + 11));
        assertEquals(7, rig.guest.memory.getByte(data + 511));
    }

    @Test
    void taskManagementAnswers() throws Exception {
        start();
        assertEquals(VirtioScsi.S_FUNCTION_COMPLETE, tmfResponse(ScsiControlQueue.ABORT_TASK, 0, 0, 99));
        assertEquals(VirtioScsi.S_FUNCTION_COMPLETE, tmfResponse(ScsiControlQueue.ABORT_TASK_SET, 0, 0, 0));
        assertEquals(VirtioScsi.S_FUNCTION_COMPLETE, tmfResponse(ScsiControlQueue.CLEAR_TASK_SET, 0, 0, 0));
        assertEquals(VirtioScsi.S_FUNCTION_COMPLETE, tmfResponse(ScsiControlQueue.I_T_NEXUS_RESET, 0, 0, 0));
        assertEquals(VirtioScsi.S_FUNCTION_COMPLETE, tmfResponse(ScsiControlQueue.QUERY_TASK, 0, 0, 5));
        assertEquals(VirtioScsi.S_FUNCTION_COMPLETE, tmfResponse(ScsiControlQueue.QUERY_TASK_SET, 0, 0, 0));
        assertEquals(VirtioScsi.S_FUNCTION_REJECTED, tmfResponse(ScsiControlQueue.CLEAR_ACA, 0, 0, 0));
        assertEquals(VirtioScsi.S_FUNCTION_REJECTED, tmfResponse(77, 0, 0, 0));
        assertEquals(VirtioScsi.S_BAD_TARGET, tmfResponse(ScsiControlQueue.LOGICAL_UNIT_RESET, 2, 0, 0));
        assertEquals(VirtioScsi.S_INCORRECT_LUN, tmfResponse(ScsiControlQueue.LOGICAL_UNIT_RESET, 0, 9, 0));
        byte[] list = new byte[4 + 20];
        list[4] = 0x08;
        list[5] = 0x12;
        good(rig.command(0, cdb(0x15, 0x10, 0, 0, list.length, 0), list, 0)); // WCE off
        assertFalse(rig.device.target().lun(0).writeCacheEnabled());
        assertEquals(VirtioScsi.S_FUNCTION_COMPLETE, tmfResponse(ScsiControlQueue.LOGICAL_UNIT_RESET, 0, 0, 0));
        assertTrue(rig.device.target().lun(0).writeCacheEnabled(), "LUN reset restores the default mode pages");
    }

    @Test
    void abortAnswersOnlyAfterTheCommandCompleted() throws Exception {
        start();
        CountDownLatch hold = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) { // both workers of the LUN's backend busy
            rig.device.target().lun(0).backend().submit(() -> {
                blocked.countDown();
                try {
                    hold.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        blocked.await();
        long h = rig.header(0, 0, 42, cdb(0x28, 0, 0, 0, 0, 2, 0, 0, 1, 0));
        long resp = rig.guest.alloc(108, 8);
        long data = rig.guest.alloc(512, 8);
        MockQueue rq = rig.driver.queues[ScsiRig.REQUEST];
        rq.add(new Buf(h, 51, false), new Buf(resp, 108, true), new Buf(data, 512, true)); // not kicked: the TMF finds it
        long abortOut = rig.guest.alloc(1, 1);
        long abortIn = rig.guest.alloc(24, 8);
        rig.guest.memory.write(abortIn, tmf(ScsiControlQueue.ABORT_TASK, 0, 0, 42));
        MockQueue cq = rig.driver.queues[VirtioScsi.CONTROL];
        cq.add(new Buf(abortIn, 24, false), new Buf(abortOut, 1, true));
        rig.driver.kick(VirtioScsi.CONTROL);
        assertEquals(VirtioScsi.S_FUNCTION_SUCCEEDED, tmfResponse(ScsiControlQueue.QUERY_TASK, 0, 0, 42),
                "the read is in the task set");
        assertEquals(VirtioScsi.S_FUNCTION_SUCCEEDED, tmfResponse(ScsiControlQueue.QUERY_TASK_SET, 0, 0, 0));
        Thread.sleep(50);
        assertEquals(2, cq.usedIndex(), "two queries answered, the abort still waits");
        assertEquals(0, rq.usedIndex());
        hold.countDown();
        MockQueue.Used u = ScsiRig.await(cq);
        assertEquals(1, u.length());
        assertEquals(1, rq.usedIndex(), "the read was published before the abort was answered");
        assertEquals(VirtioScsi.S_FUNCTION_COMPLETE, rig.guest.memory.getByte(abortOut));
        ScsiRig.await(rq);
        assertEquals(2, rig.guest.memory.getByte(data), "the read itself completed normally");
        assertEquals(0, rig.device.inProgress());
    }

    @Test
    void asynchronousNotificationQueriesReportNoEvents() throws Exception {
        start();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, ScsiControlQueue.T_AN_SUBSCRIBE).put(4, (byte) 1).put(6, (byte) 0x40).putInt(12, 0x7E);
        long out = rig.guest.alloc(5, 8);
        rig.guest.memory.putInt(out, -1);
        assertEquals(5, control(b.array(), out, 5).length());
        assertEquals(0, rig.guest.memory.getInt(out), "event_actual");
        assertEquals(VirtioScsi.S_OK, rig.guest.memory.getByte(out + 4));
        b.put(5, (byte) 3); // target 3
        rig.guest.memory.putInt(out, -1);
        control(b.array(), out, 5);
        assertEquals(VirtioScsi.S_BAD_TARGET, rig.guest.memory.getByte(out + 4));
        assertEquals(0, control(new byte[] {9, 0, 0, 0}, out, 5).length(), "unknown control type: returned untouched");
    }

    @Test
    void eventQueueKeepsItsBuffers() throws Exception {
        start();
        MockQueue eq = rig.driver.queues[VirtioScsi.EVENT];
        for (int i = 0; i < 4; i++) {
            eq.add(new Buf(rig.guest.alloc(16, 8), 16, true));
        }
        rig.driver.kick(VirtioScsi.EVENT);
        good(rig.command(0, cdb(0x00), null, 0));
        assertEquals(0, eq.usedIndex());
    }

    @Test
    void inlineCompletionsOfOneKickShareOneInterrupt() throws Exception {
        rig = new ScsiRig(java.util.Map.of(0, ScsiRig.options(ScsiRig.image(dir, "disk.img", 64), false, false)),
                ~(1L << 29)); // no EVENT_IDX: without batching every entry would interrupt
        MockQueue q = rig.driver.queues[ScsiRig.REQUEST];
        int before = rig.guest.msiCount.get();
        long resp = rig.guest.alloc(108 * 8, 8);
        for (int i = 0; i < 8; i++) {
            q.add(new Buf(rig.header(0, 0, i, cdb(0x00)), 51, false), new Buf(resp + 108 * i, 108, true));
        }
        rig.driver.kick(ScsiRig.REQUEST);
        for (int i = 0; i < 8; i++) {
            ScsiRig.await(q);
        }
        assertEquals(8, q.usedIndex());
        assertEquals(1, rig.guest.msiCount.get() - before, "one interrupt for the batch");
    }
}
