package org.jbhyve.backend.net;

import org.jbhyve.testing.HostCommand;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jbhyve.sys.PacketSocket;
import org.jbhyve.sys.Tun;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real tap interfaces with unique names in this network namespace, removed afterwards. The host
 * side is watched and fed through an AF_PACKET socket on the tap; frames carry the local
 * experimental EtherType 0x88B5 so the host's own traffic (IPv6 neighbour discovery) is told apart.
 */
class TapBackendTest {
    private static final String TAG = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xFFFFFF));
    private static final String TAP = "jbt" + TAG;
    private static final String TUN = "jbu" + TAG;

    @BeforeAll
    static void createInterfaces() {
        ip("tuntap", "add", TAP, "mode", "tap");
        ip("tuntap", "add", TUN, "mode", "tun");
        sysctl("net.ipv6.conf." + TAP + ".disable_ipv6=1");
        ip("link", "set", TAP, "up");
    }

    @AfterAll
    static void deleteInterfaces() {
        ipQuiet("link", "del", TAP);
        ipQuiet("link", "del", TUN);
    }

    private static byte[] frame(int seq, int length) {
        byte[] f = new byte[length];
        byte[] dst = {0x02, 0, 0, 0, 0, 0x02};
        byte[] src = {0x02, 0, 0, 0, 0, 0x01};
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xB5;
        for (int i = 14; i < length; i++) {
            f[i] = (byte) (seq + i);
        }
        return f;
    }

    private static boolean isOurs(byte[] f) {
        return f != null && f.length >= 14 && f[12] == (byte) 0x88 && f[13] == (byte) 0xB5;
    }

    private static byte[] receiveOurs(PacketSocket s) {
        for (int i = 0; i < 50; i++) {
            byte[] f = s.receive(2000);
            if (f == null || isOurs(f)) {
                return f;
            }
        }
        return null;
    }

    @Test
    void missingInterfaceIsRefusedWithoutCreatingOne() {
        String name = "jbm" + TAG;
        NetBackendException e = assertThrows(NetBackendException.class,
                () -> NetBackends.open("e1000", name, OptionalInt.empty()));
        assertEquals("e1000: " + name + ": no such tap interface: create it with 'ip tuntap add " + name
                + " mode tap' (and bring it up with 'ip link set " + name + " up')", e.getMessage());
        assertEquals(0, Tun.interfaceIndex(name), "no transient interface was created");
    }

    @Test
    void tunAndNonTunInterfacesAreRefused() {
        NetBackendException e = assertThrows(NetBackendException.class, () -> TapBackend.open("e1000", TUN, OptionalInt.empty()));
        assertTrue(e.getMessage().contains("not a tap"), e.getMessage());
        e = assertThrows(NetBackendException.class, () -> TapBackend.open("e1000", "lo", OptionalInt.empty()));
        assertTrue(e.getMessage().contains("is not a tap interface"), e.getMessage());
    }

    @Test
    void secondOpenIsBusy() {
        try (TapBackend first = TapBackend.open("e1000", TAP, OptionalInt.empty())) {
            NetBackendException e = assertThrows(NetBackendException.class,
                    () -> TapBackend.open("virtio-net", TAP, OptionalInt.empty()));
            assertTrue(e.getMessage().contains("busy"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        TapBackend.open("e1000", TAP, OptionalInt.empty()).close(); // free again after close
    }

    @Test
    void framesSentByTheBackendArriveOnTheHost() {
        try (TapBackend tap = TapBackend.open("e1000", TAP, OptionalInt.empty());
             PacketSocket host = new PacketSocket(TAP);
             Arena arena = Arena.ofConfined()) {
            byte[] f = frame(1, 100);
            MemorySegment a = arena.allocate(40);
            MemorySegment b = arena.allocate(60);
            MemorySegment.copy(f, 0, a, ValueLayout.JAVA_BYTE, 0, 40);
            MemorySegment.copy(f, 40, b, ValueLayout.JAVA_BYTE, 0, 60);
            assertTrue(tap.send(a, b)); // gathered from native segments: writev
            assertArrayEquals(f, receiveOurs(host));
            byte[] g = frame(2, 64);
            assertTrue(tap.send(MemorySegment.ofArray(g))); // heap segment: staged copy
            assertArrayEquals(g, receiveOurs(host));
        }
    }

    @Test
    void queuedFramesArriveInOrderOnceFlushedAcrossSeveralBatches() {
        int frames = TapSendBatch.FRAMES * 2 + 7;
        try (TapBackend tap = TapBackend.open("virtio-net", TAP, OptionalInt.empty());
             PacketSocket host = new PacketSocket(TAP);
             Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < frames; i++) {
                byte[] f = frame(i, 60 + i);
                if (i == 100) {
                    assertTrue(tap.queue(MemorySegment.ofArray(f))); // heap memory: sent in its turn
                    continue;
                }
                MemorySegment head = arena.allocate(14);
                MemorySegment rest = arena.allocate(f.length - 14);
                MemorySegment.copy(f, 0, head, ValueLayout.JAVA_BYTE, 0, 14);
                MemorySegment.copy(f, 14, rest, ValueLayout.JAVA_BYTE, 0, f.length - 14);
                assertTrue(tap.queue(head, MemorySegment.NULL.reinterpret(0), rest));
            }
            assertEquals(0, tap.flush());
            assertEquals(0, tap.flush(), "nothing left to send");
            for (int i = 0; i < frames; i++) {
                assertArrayEquals(frame(i, 60 + i), receiveOurs(host), "frame " + i);
            }
        }
    }

    @Test
    void anOversizedFrameIsDroppedAndCountedOnceWhetherSentOrQueued() {
        try (TapBackend tap = TapBackend.open("virtio-net", TAP, OptionalInt.empty());
             Arena arena = Arena.ofConfined()) {
            MemorySegment big = arena.allocate(NetBackend.MAX_FRAME + 1);
            assertFalse(tap.send(big));
            assertEquals(1, tap.sendFailures());
            assertFalse(tap.queue(big));
            assertEquals(0, tap.flush());
            assertEquals(2, tap.sendFailures());
        }
    }

    @Test
    void framesFromTheHostAreQueuedAndSignalled() throws Exception {
        try (TapBackend tap = TapBackend.open("e1000", TAP, OptionalInt.empty());
             PacketSocket host = new PacketSocket(TAP);
             Arena arena = Arena.ofConfined()) {
            Semaphore ready = new Semaphore(0);
            tap.setReceiveListener(ready::release);
            byte[] f = frame(3, 300);
            host.send(f);
            byte[] got = null;
            MemorySegment first = arena.allocate(256);
            MemorySegment second = arena.allocate(256);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (got == null && System.nanoTime() < deadline) {
                ready.tryAcquire(1, TimeUnit.SECONDS);
                while (tap.peekLength() >= 0) {
                    int len = tap.peekLength();
                    int n = tap.receive(first, second);
                    assertEquals(len, n);
                    byte[] all = new byte[512];
                    MemorySegment.copy(first, ValueLayout.JAVA_BYTE, 0, all, 0, 256);
                    MemorySegment.copy(second, ValueLayout.JAVA_BYTE, 0, all, 256, 256);
                    byte[] frame = Arrays.copyOf(all, n);
                    if (isOurs(frame)) {
                        got = frame;
                    }
                }
            }
            assertArrayEquals(f, got, "frame scattered over two buffers, header stripped");
            assertEquals(-1, tap.receive(first));
            assertFalse(tap.discard());
        }
    }

    @Test
    void vnetHeaderModePassesHeadersThrough() throws Exception {
        try (TapBackend tap = TapBackend.open("virtio-net", TAP, OptionalInt.empty());
             PacketSocket host = new PacketSocket(TAP);
             Arena arena = Arena.ofConfined()) {
            tap.setVnetHeader(12);
            assertEquals(12, tap.vnetHeaderSize());
            byte[] f = frame(4, 80);
            MemorySegment hdr = arena.allocate(12); // all zero: no offload, GSO_NONE
            assertTrue(tap.send(hdr, MemorySegment.ofArray(f)));
            assertArrayEquals(f, receiveOurs(host));

            host.send(f);
            MemorySegment buf = arena.allocate(2048);
            byte[] got = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (got == null && System.nanoTime() < deadline) {
                int n = tap.receive(buf);
                if (n < 0) {
                    Thread.sleep(10);
                    continue;
                }
                byte[] all = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                byte[] frame = Arrays.copyOfRange(all, 12, n);
                if (isOurs(frame)) {
                    assertEquals(0, all[1], "gso_type NONE");
                    got = frame;
                }
            }
            assertArrayEquals(f, got);
            tap.setOffloads(true, true, true, false, false);
            tap.setOffloads(false, false, false, false, false);
            tap.setVnetHeader(0);
            assertThrows(IllegalStateException.class, () -> tap.setOffloads(true, false, false, false, false));
        }
    }

    @Test
    void fullQueueDropsAndCounts() throws Exception {
        try (TapBackend tap = TapBackend.open("e1000", TAP, OptionalInt.empty());
             PacketSocket host = new PacketSocket(TAP)) {
            int sent = TapBackend.QUEUE_FRAMES + 100;
            for (int i = 0; i < sent; i++) {
                host.send(frame(i, 60));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (tap.droppedFrames() < 100 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(tap.droppedFrames() >= 100, "dropped " + tap.droppedFrames());
            int queued = 0;
            while (tap.discard()) {
                queued++;
            }
            assertEquals(TapBackend.QUEUE_FRAMES, queued);
        }
    }

    @Test
    void mtuIsAppliedToTheInterface() {
        int before = Tun.mtu(TAP);
        try (TapBackend tap = TapBackend.open("virtio-net", TAP, OptionalInt.of(1400))) {
            assertEquals(1400, Tun.mtu(TAP));
            assertEquals(OptionalInt.of(1400), tap.mtu());
        } finally {
            Tun.setMtu(TAP, before);
        }
        NetBackendException e = assertThrows(NetBackendException.class,
                () -> TapBackend.open("virtio-net", TAP, OptionalInt.of(50)));
        assertTrue(e.getMessage().contains("cannot set the MTU to 50"), e.getMessage());
    }

    @Test
    void closeIsIdempotentAndStopsSending() {
        TapBackend tap = TapBackend.open("e1000", TAP, OptionalInt.empty());
        tap.close();
        tap.close();
        assertFalse(tap.send(MemorySegment.ofArray(frame(5, 60))));
    }

    private static void ip(String... args) {
        HostCommand.ip(true, args);
    }

    private static void ipQuiet(String... args) {
        HostCommand.ip(false, args);
    }

    /** Best effort: only reduces host noise on the tap. */
    private static void sysctl(String setting) {
        HostCommand.run(false, "sysctl", "-q", "-w", setting);
    }


}
