package org.jbhyve.virtio;

import org.jbhyve.snapshot.CorruptBlobs;
import static org.jbhyve.virtio.VirtioPci.*;
import static org.junit.jupiter.api.Assertions.*;

import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateRoundTrip;
import org.jbhyve.snapshot.StateWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The transport's snapshot: registers, queues at their ring positions, interrupts, reactivation. */
class VirtioPciSnapshotTest {
    private final MockGuest guest = new MockGuest(1 << 20);

    @AfterEach
    void close() {
        guest.close();
    }

    private VirtioPciFunction function(boolean msix) {
        return new VirtioPciFunction(new SnapshottableEcho(), guest.memory, guest, GuestDoorbells.NONE, msix);
    }

    /** Posts one echo request of {@code value} and returns the address its answer goes to. */
    private long post(MockQueue q, int value) {
        long in = guest.alloc(4, 4);
        long out = guest.alloc(4, 4);
        guest.memory.putInt(in, value);
        q.add(new MockQueue.Buf(in, 4, false), new MockQueue.Buf(out, 4, true));
        return out;
    }

    @Test
    void modernDriverContinuesAfterRestoreWithoutRepeatingTheHandshake() {
        MockDriver d = new MockDriver(function(true), guest);
        long features = d.startModern(-1L, 8, true);
        MockQueue q = d.queues[0];
        for (int i = 0; i < 5; i++) {
            post(q, i);
            d.kick(0);
            assertNotNull(q.poll());
        }
        d.modern().write(COMMON_OFFSET + C_DFSELECT, 4, 1);
        d.modern().write(COMMON_OFFSET + C_Q_SELECT, 2, 0);
        int msisBefore = guest.msiCount.get();

        MockDriver r = VirtioSnapshots.snapshotAndRestore(d, () -> function(true));

        assertEquals(msisBefore, guest.msiCount.get(), "restoring sends no interrupt");
        assertEquals(STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK | STATUS_DRIVER_OK, r.status());
        assertEquals(1, r.modern().read(COMMON_OFFSET + C_DFSELECT, 4));
        r.modern().write(COMMON_OFFSET + C_GFSELECT, 4, 1);
        assertEquals(features >>> 32, r.modern().read(COMMON_OFFSET + C_GF, 4));
        assertEquals(1, r.modern().read(COMMON_OFFSET + C_Q_ENABLE, 2));
        assertEquals(q.desc, r.modern().read(COMMON_OFFSET + C_Q_DESC, 4));
        assertEquals(q.used, r.modern().read(COMMON_OFFSET + C_Q_USED, 4));
        assertEquals(0, r.modern().read(COMMON_OFFSET + C_Q_MSIX, 2));
        assertEquals(1, r.modern().read(COMMON_OFFSET + C_MSIX_CONFIG, 2));
        assertEquals(5, r.function.queue(0).lastAvailIndex(), "the device's ring position survived");

        long out = post(q, 0x5A5A);
        r.kick(0);
        MockQueue.Used u = q.poll();
        assertNotNull(u, "the restored queue is live");
        assertEquals(6, q.usedIndex());
        assertEquals(0x5A5A, guest.memory.getInt(out));
        assertEquals(msisBefore + 1, guest.msiCount.get(), "MSI-X vector 0 routed again");
        assertEquals(0x40, guest.lastMsiData);
        r.function.close();
    }

    @Test
    void legacyDriverKeepsItsPfnAndAPendingIntx() {
        VirtioPciFunction f = function(false);
        MockDriver d = new MockDriver(f, guest);
        var l = d.legacy();
        l.write(L_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        l.write(L_GUEST_FEATURES, 4, 0);
        l.write(L_QUEUE_SELECT, 2, 0);
        long base = guest.alloc(3 * 4096, 4096);
        l.write(L_QUEUE_PFN, 4, base / 4096);
        l.write(L_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
        long in = guest.alloc(4, 4);
        guest.memory.putLong(base, in);
        guest.memory.putInt(base + 8, 4);
        guest.memory.putShort(base + 256 + 4, (short) 0);
        guest.memory.putShort(base + 256 + 2, (short) 1);
        l.write(L_QUEUE_NOTIFY, 2, 0);
        assertTrue(guest.intxLevel, "interrupt pending when the snapshot is taken");
        guest.intxLevel = false;

        VirtioPciFunction fresh = function(false);
        StateRoundTrip.assertRoundTrip(f, fresh);
        var rl = new MockDriver(fresh, guest).legacy();

        assertTrue(guest.intxLevel, "the restored line is up again");
        assertEquals(base / 4096, rl.read(L_QUEUE_PFN, 4));
        assertEquals(0x04030201L, rl.read(L_CONFIG, 4), "device config at 0x14: MSI-X is off");
        assertEquals(ISR_QUEUE, rl.read(L_ISR, 1));
        assertFalse(guest.intxLevel);
        assertEquals(1, fresh.queue(0).lastAvailIndex());
        assertEquals(1, guest.memory.getShort(base + 4096 + 2), "used index");
        f.close();
        fresh.close();
    }

    @Test
    void aFunctionBeforeDriverOkStaysInactive() {
        VirtioPciFunction f = function(true);
        MockDriver d = new MockDriver(f, guest);
        d.modern().write(COMMON_OFFSET + C_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        d.modern().write(COMMON_OFFSET + C_Q_SELECT, 2, 0);
        d.modern().write(COMMON_OFFSET + C_Q_SIZE, 2, 4);
        VirtioPciFunction fresh = function(true);
        StateRoundTrip.assertRoundTrip(f, fresh);
        assertNull(((EchoDevice) fresh.device()).transport, "not activated");
        assertEquals(4, new MockDriver(fresh, guest).modern().read(COMMON_OFFSET + C_Q_SIZE, 2));
    }

    @Test
    void quiesceIgnoresKicksUntilResumeThenServesThem() {
        VirtioPciFunction f = function(true);
        SnapshottableEcho echo = (SnapshottableEcho) f.device();
        MockDriver d = new MockDriver(f, guest);
        d.startModern(-1L, 8, true);
        MockQueue q = d.queues[0];
        post(q, 1); // made available but not kicked before the vCPUs stopped
        f.quiesce();
        assertEquals(1, echo.quiesced);
        assertEquals(1, q.usedIndex(), "quiesce took what was available");
        post(q, 2);
        d.kick(0);
        assertEquals(1, q.usedIndex(), "nothing taken while quiesced");
        f.resumeAfterSnapshot();
        assertEquals(1, echo.resumed);
        assertEquals(2, q.usedIndex(), "the ignored kick is served on resume");
    }

    @Test
    void aDeviceWithoutSnapshotsIsRefused() {
        VirtioPciFunction f = new VirtioPciFunction(new EchoDevice(), guest.memory, guest, GuestDoorbells.NONE, true);
        SnapshotException e = assertThrows(SnapshotException.class, () -> f.saveState(new StateWriter()));
        assertEquals("VirtioPciFunction: cannot be snapshotted", e.getMessage());
        assertThrows(SnapshotException.class, f::quiesce);
    }

    @Test
    void corruptBlobsFailWithSnapshotExceptionOnly() {
        MockDriver d = new MockDriver(function(true), guest);
        d.startModern(-1L, 8, true);
        post(d.queues[0], 7);
        d.kick(0);
        byte[] blob = StateRoundTrip.save(d.function);
        CorruptBlobs.assertOnlySnapshotExceptions(() -> function(true), blob);
        MockDriver legacy = new MockDriver(function(false), guest);
        legacy.startModern(-1L, 8, false);
        CorruptBlobs.assertOnlySnapshotExceptions(() -> function(false), StateRoundTrip.save(legacy.function));
    }

    @Test
    void aBlobOfAnotherDeviceIsRefused() {
        MockDriver d = new MockDriver(function(true), guest);
        d.startModern(-1L, 8, true);
        byte[] blob = StateRoundTrip.save(d.function);
        VirtioPciFunction msi = function(false);
        assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(msi, 1, blob));
    }
}
