package org.jbhyve.devices.virtio.console;

import org.jbhyve.snapshot.CorruptBlobs;
import static org.junit.jupiter.api.Assertions.*;

import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.snapshot.StateRoundTrip;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPciFunction;
import org.jbhyve.virtio.VirtioSnapshots;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** virtio-console across a snapshot: control state, undelivered input, and the port's open state. */
class VirtioConsoleSnapshotTest {
    private static final int CONTROL_RX = 2, CONTROL_TX = 3;
    @TempDir
    Path dir;
    private final MockGuest guest = new MockGuest(4 << 20);
    private VirtioPciFunction last;

    @AfterEach
    void close() {
        if (last != null) {
            last.close();
        }
        guest.close();
    }

    private VirtioPciFunction function() {
        VirtioConsole con = new VirtioConsole(List.of(new VirtioConsole.PortSpec("console", dir.resolve("c.sock"))));
        last = new VirtioPciFunction(con, guest.memory, guest, GuestDoorbells.NONE, true);
        return last;
    }

    private static void await(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (!condition.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertTrue(condition.getAsBoolean(), what);
    }

    /** A driver past DEVICE_READY and PORT_READY for port 0, with control buffers posted. */
    private MockDriver ready() throws Exception {
        MockDriver d = new MockDriver(function(), guest);
        d.startModern(-1L, 16, true);
        for (int i = 0; i < 12; i++) {
            d.queues[CONTROL_RX].add(new MockQueue.Buf(guest.alloc(64, 8), 64, true));
        }
        send(d, VirtioConsole.DEVICE_READY, 1);
        send(d, VirtioConsole.PORT_READY, 1);
        return d;
    }

    private void send(MockDriver d, int event, int value) {
        long m = guest.alloc(8, 8);
        guest.memory.write(m, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(0).putShort((short) event)
                .putShort((short) value).array());
        d.queues[CONTROL_TX].add(new MockQueue.Buf(m, 8, false));
        d.kick(CONTROL_TX);
    }

    /** The control messages delivered so far, as (event, value) pairs, taken off the ring. */
    private int[] lastControl(MockDriver d) {
        int[] eventValue = null;
        for (MockQueue.Used u; (u = d.queues[CONTROL_RX].poll()) != null; ) {
            long at = d.queues[CONTROL_RX].desc + 16L * u.head();
            long buf = guest.memory.getLong(at);
            eventValue = new int[] {guest.memory.getShort(buf + 4), guest.memory.getShort(buf + 6)};
        }
        return eventValue;
    }

    @Test
    void inputTheGuestHadNotTakenIsDeliveredAfterRestore() throws Exception {
        MockDriver d = ready();
        try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("c.sock")))) {
            await(() -> d.queues[CONTROL_RX].usedIndex() == 4, "DEVICE_ADD, CONSOLE_PORT, PORT_NAME, PORT_OPEN");
            client.write(ByteBuffer.wrap("abc".getBytes(StandardCharsets.US_ASCII)));
        }
        await(() -> d.queues[CONTROL_RX].usedIndex() == 5, "PORT_OPEN 0 when the client left");
        assertArrayEquals(new int[] {VirtioConsole.PORT_OPEN, 0}, lastControl(d));

        MockDriver r = VirtioSnapshots.snapshotAndRestore(d, this::function);

        long in = guest.alloc(16, 1);
        r.queues[0].add(new MockQueue.Buf(in, 16, true));
        r.kick(0);
        MockQueue.Used u = r.queues[0].poll();
        assertNotNull(u, "the input waiting in the snapshot reaches the guest");
        assertEquals("abc", new String(guest.memory.read(in, u.length()), StandardCharsets.US_ASCII));
        assertEquals(1, r.queues[0].usedIndex());
    }

    @Test
    void aPortTheGuestBelievedOpenIsAnnouncedClosedAfterRestore() throws Exception {
        MockDriver d = ready();
        byte[] blob;
        try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("c.sock")))) {
            await(() -> d.queues[CONTROL_RX].usedIndex() == 4, "PORT_OPEN 1 for the client");
            assertArrayEquals(new int[] {VirtioConsole.PORT_OPEN, 1}, lastControl(d));
            d.function.quiesce();
            blob = StateRoundTrip.save(d.function);
        }
        d.function.close();
        VirtioPciFunction fresh = function();
        StateRoundTrip.restore(fresh, 1, blob);
        MockDriver r = d.continueOn(fresh);
        await(() -> r.queues[CONTROL_RX].usedIndex() == 5, "a control message after restore");
        assertArrayEquals(new int[] {VirtioConsole.PORT_OPEN, 0}, lastControl(r));
    }

    @Test
    void corruptBlobsFailWithSnapshotExceptionOnly() throws Exception {
        MockDriver d = ready();
        VirtioConsole con = (VirtioConsole) d.function.device();
        byte[] blob = StateRoundTrip.save(con);
        CorruptBlobs.assertOnlySnapshotExceptions(() -> con, blob);
    }
}
