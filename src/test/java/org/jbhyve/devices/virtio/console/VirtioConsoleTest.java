package org.jbhyve.devices.virtio.console;

import static org.junit.jupiter.api.Assertions.*;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPciFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VirtioConsoleTest {
    @TempDir
    Path dir;

    private static byte[] message(int id, int event, int value) {
        ByteBuffer b = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        return b.putInt(id).putShort((short) event).putShort((short) value).array();
    }

    @Test
    void multiportControlProtocolAndDataBothWays() throws Exception {
        Path sock = dir.resolve("c.sock");
        try (MockGuest guest = new MockGuest(4 << 20)) {
            VirtioConsole con = new VirtioConsole(List.of(new VirtioConsole.PortSpec("console", sock)));
            VirtioPciFunction f = new VirtioPciFunction(con, guest.memory, guest, GuestDoorbells.NONE, true);
            MockDriver d = new MockDriver(f, guest);
            long features = d.startModern(-1L, 16, true);
            assertNotEquals(0, features & 1L << VirtioConsole.F_MULTIPORT);
            assertEquals(16, d.config(4, 4), "max_nr_ports");
            MockQueue ctrlRx = d.queues[2];
            MockQueue ctrlTx = d.queues[3];
            long[] rx = new long[8];
            for (int i = 0; i < rx.length; i++) {
                rx[i] = guest.alloc(64, 8);
                ctrlRx.add(new MockQueue.Buf(rx[i], 64, true));
            }
            long m = guest.alloc(8, 8);
            guest.memory.write(m, message(0, VirtioConsole.DEVICE_READY, 1));
            ctrlTx.add(new MockQueue.Buf(m, 8, false));
            d.kick(3);
            MockQueue.Used u = ctrlRx.poll();
            assertNotNull(u);
            assertEquals(VirtioConsole.DEVICE_ADD, guest.memory.getShort(rx[u.head()] + 4));
            long m2 = guest.alloc(8, 8);
            guest.memory.write(m2, message(0, VirtioConsole.PORT_READY, 1));
            ctrlTx.add(new MockQueue.Buf(m2, 8, false));
            d.kick(3);
            u = ctrlRx.poll();
            assertEquals(VirtioConsole.CONSOLE_PORT, guest.memory.getShort(rx[u.head()] + 4));
            u = ctrlRx.poll();
            assertEquals(VirtioConsole.PORT_NAME, guest.memory.getShort(rx[u.head()] + 4));
            assertEquals("console", new String(guest.memory.read(rx[u.head()] + 8, u.length() - 8),
                    StandardCharsets.UTF_8));
            // Guest output before any client is buffered, then delivered on connect.
            long out = guest.alloc(5, 1);
            guest.memory.write(out, "hello".getBytes(StandardCharsets.US_ASCII));
            d.queues[1].add(new MockQueue.Buf(out, 5, false));
            d.kick(1);
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
                ByteBuffer got = ByteBuffer.allocate(5);
                while (got.hasRemaining()) {
                    client.read(got);
                }
                assertEquals("hello", new String(got.array(), StandardCharsets.US_ASCII));
                long in = guest.alloc(16, 1);
                d.queues[0].add(new MockQueue.Buf(in, 16, true));
                d.kick(0);
                client.write(ByteBuffer.wrap("hi!".getBytes(StandardCharsets.US_ASCII)));
                MockQueue.Used r = null;
                for (int i = 0; i < 500 && r == null; i++) {
                    r = d.queues[0].poll();
                    Thread.sleep(5);
                }
                assertNotNull(r);
                assertEquals("hi!", new String(guest.memory.read(in, r.length()), StandardCharsets.US_ASCII));
            }
            f.close();
            assertFalse(Files.exists(sock), "the socket is removed at close");
        }
    }

    @Test
    void refusesAnExistingNonSocketPathAndReplacesAStaleSocket() throws Exception {
        Path file = dir.resolve("file");
        Files.writeString(file, "x");
        assertThrows(IllegalArgumentException.class,
                () -> new VirtioConsole(List.of(new VirtioConsole.PortSpec("p", file))));
        Path stale = dir.resolve("stale.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(stale));
        }
        assertTrue(Files.exists(stale));
        new VirtioConsole(List.of(new VirtioConsole.PortSpec("p", stale))).close();
    }
}
