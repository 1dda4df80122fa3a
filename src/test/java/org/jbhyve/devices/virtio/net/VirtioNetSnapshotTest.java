package org.jbhyve.devices.virtio.net;

import org.jbhyve.snapshot.CorruptBlobs;
import static org.jbhyve.devices.virtio.net.VirtioNet.*;
import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.OptionalInt;
import org.jbhyve.backend.net.FakeNetBackend;
import org.jbhyve.backend.net.MacAddress;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.snapshot.StateRoundTrip;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.MockQueue.Buf;
import org.jbhyve.virtio.VirtioPciFunction;
import org.jbhyve.virtio.VirtioSnapshots;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** virtio-net across a snapshot: MAC and receive filter kept, held receive chains given back, both ways paused. */
class VirtioNetSnapshotTest {
    private static final MacAddress MAC = MacAddress.generate(2, 0, "vm1");
    private static final byte[] NEW_MAC = {0x02, 0, 0, 0, 0, 0x07};
    private static final byte[] LISTED = {0x02, 0, 0, 0, 0, 0x09};
    private final MockGuest guest = new MockGuest(16 << 20);
    private VirtioPciFunction last;

    @AfterEach
    void close() {
        if (last != null) {
            last.close();
        }
        guest.close();
    }

    private VirtioPciFunction function(FakeNetBackend backend) {
        last = new VirtioPciFunction(new VirtioNet(backend, MAC, OptionalInt.empty()), guest.memory, guest,
                GuestDoorbells.NONE, true);
        return last;
    }

    private static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertTrue(condition.getAsBoolean(), what);
    }

    private void control(MockDriver d, byte... command) throws Exception {
        MockQueue ctrl = d.queues[CTRL];
        long cmd = guest.alloc(command.length, 8);
        long ack = guest.alloc(1, 1);
        guest.memory.write(cmd, command);
        guest.memory.putByte(ack, (byte) 0x7F);
        int next = ctrl.usedIndex() + 1;
        ctrl.add(new Buf(cmd, command.length, false), new Buf(ack, 1, true));
        d.kick(CTRL);
        await(() -> ctrl.usedIndex() >= next, "control command answered");
        ctrl.poll();
        assertEquals(NetControl.OK, guest.memory.getByte(ack));
    }

    private static byte[] frameTo(byte[] destination, int length) {
        byte[] f = new byte[length];
        for (int i = 0; i < length; i++) {
            f[i] = (byte) (i * 3);
        }
        System.arraycopy(destination, 0, f, 0, 6);
        return f;
    }

    private long transmit(MockDriver d, int length) {
        long at = guest.alloc(12 + length, 16);
        guest.memory.write(at + 12, frameTo(LISTED, length));
        d.queues[TX].add(new Buf(at, 12 + length, false));
        d.kick(TX);
        return at;
    }

    @Test
    void macFilterAndHeldReceiveChainsSurviveARestore() throws Exception {
        FakeNetBackend backend = new FakeNetBackend();
        MockDriver d = new MockDriver(function(backend), guest);
        d.startModern(-1L, 64, true);
        control(d, (byte) 1, (byte) 1, NEW_MAC[0], NEW_MAC[1], NEW_MAC[2], NEW_MAC[3], NEW_MAC[4], NEW_MAC[5]);
        control(d, (byte) 0, (byte) 0, (byte) 0); // promiscuous off
        control(d, (byte) 1, (byte) 0, (byte) 1, (byte) 0, (byte) 0, (byte) 0, LISTED[0], LISTED[1], LISTED[2],
                LISTED[3], LISTED[4], LISTED[5], (byte) 0, (byte) 0, (byte) 0, (byte) 0); // unicast table: LISTED
        transmit(d, 60);
        assertTrue(backend.awaitSent(1, 5000));
        MockQueue rx = d.queues[RX];
        long small = guest.alloc(64, 16);
        rx.add(new Buf(small, 64, true));
        d.kick(RX);
        backend.inject(frameTo(NEW_MAC, 100), null); // needs two 64-byte buffers: the one posted is held
        VirtioPciFunction f = d.function;
        await(() -> f.queue(RX).lastAvailIndex() == 1, "the receive chain was taken");
        assertEquals(0, rx.usedIndex());

        FakeNetBackend fresh = new FakeNetBackend();
        MockDriver r = VirtioSnapshots.snapshotAndRestore(d, () -> function(fresh));

        assertEquals(0, r.function.queue(RX).lastAvailIndex(), "the held chain went back to the ring");
        for (int i = 0; i < 6; i++) {
            assertEquals(NEW_MAC[i], (byte) r.config(i, 1), "MAC byte " + i);
        }
        assertEquals(12, fresh.vnetHeaderSize(), "the restored device was activated");
        long second = guest.alloc(64, 16);
        rx.add(new Buf(second, 64, true));
        r.kick(RX);
        fresh.inject(frameTo(new byte[] {0x02, 0, 0, 0, 0, 0x55}, 60), null); // not for us: filtered
        byte[] mine = frameTo(NEW_MAC, 100);
        fresh.inject(mine, null);
        await(() -> rx.usedIndex() == 2, "the frame for the new MAC arrived in both chains");
        assertEquals(64, rx.poll().length());
        assertEquals(48, rx.poll().length());
        assertArrayEquals(Arrays.copyOf(mine, 52), guest.memory.read(small + 12, 52));
        assertEquals(1, r.function.device() instanceof VirtioNet n ? n.rxDropped() : -1, "one frame filtered");

        transmit(r, 80);
        assertTrue(fresh.awaitSent(1, 5000), "transmit continues on the fresh backend");
        await(() -> r.queues[TX].usedIndex() == 2, "transmit used index continues");
    }

    @Test
    void quiescedDeviceMovesNoFrameEitherWayUntilResumed() throws Exception {
        FakeNetBackend backend = new FakeNetBackend();
        VirtioPciFunction f = function(backend);
        VirtioNet net = (VirtioNet) f.device();
        MockDriver d = new MockDriver(f, guest);
        d.startModern(-1L, 64, true);
        MockQueue rx = d.queues[RX];
        rx.add(new Buf(guest.alloc(1600, 16), 1600, true));
        d.kick(RX);
        f.quiesce();
        backend.inject(frameTo(MAC.octets(), 60), null);
        transmit(d, 60);
        Thread.sleep(50);
        assertEquals(0, rx.usedIndex(), "no frame received while quiesced");
        assertEquals(0, backend.sent().size(), "no frame sent while quiesced");
        assertEquals(1, backend.queued(), "the frame waits in the backend");
        byte[] before = StateRoundTrip.save(f);
        assertArrayEquals(before, StateRoundTrip.save(f), "nothing changes while quiesced");
        f.resumeAfterSnapshot();
        await(() -> rx.usedIndex() == 1, "received after resume");
        assertTrue(backend.awaitSent(1, 5000), "sent after resume");
        await(net::idle, "workers settle");
    }

    @Test
    void corruptBlobsFailWithSnapshotExceptionOnly() throws Exception {
        MockDriver d = new MockDriver(function(new FakeNetBackend()), guest);
        d.startModern(-1L, 64, true);
        control(d, (byte) 1, (byte) 0, (byte) 1, (byte) 0, (byte) 0, (byte) 0, LISTED[0], LISTED[1], LISTED[2],
                LISTED[3], LISTED[4], LISTED[5], (byte) 0, (byte) 0, (byte) 0, (byte) 0);
        VirtioNet net = (VirtioNet) d.function.device();
        byte[] blob = StateRoundTrip.save(net);
        try (VirtioNet fresh = new VirtioNet(new FakeNetBackend(), MAC, OptionalInt.empty())) {
            CorruptBlobs.assertOnlySnapshotExceptions(() -> fresh, blob);
        }
        byte[] functionBlob = StateRoundTrip.save(d.function);
        VirtioPciFunction fresh = function(new FakeNetBackend());
        CorruptBlobs.assertOnlySnapshotExceptions(() -> fresh, functionBlob);
        d.function.close();
    }
}
