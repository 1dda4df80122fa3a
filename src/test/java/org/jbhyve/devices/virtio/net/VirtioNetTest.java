package org.jbhyve.devices.virtio.net;

import org.jbhyve.backend.net.FakeNetBackend;

import static org.jbhyve.devices.virtio.net.VirtioNet.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.jbhyve.backend.net.MacAddress;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.MockQueue.Buf;
import org.jbhyve.virtio.VirtioPci;
import org.jbhyve.virtio.VirtioPciFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VirtioNetTest {
    static final MacAddress MAC = MacAddress.generate(2, 0, "vm1");
    static final long ALL = -1L;
    private final MockGuest guest = new MockGuest(16 << 20);
    private final FakeNetBackend backend = new FakeNetBackend();
    private VirtioNet net;
    private VirtioPciFunction function;
    private MockDriver driver;

    @AfterEach
    void close() {
        if (function != null) {
            function.close();
        }
        guest.close();
    }

    private void create(OptionalInt mtu) {
        net = new VirtioNet(backend, MAC, mtu);
        function = new VirtioPciFunction(net, guest.memory, guest, GuestDoorbells.NONE, true);
        driver = new MockDriver(function, guest);
    }

    private long start(long features) {
        create(OptionalInt.empty());
        return driver.startModern(features, 64, true);
    }

    static long bits(int... bits) {
        long f = 0;
        for (int b : bits) {
            f |= 1L << b;
        }
        return f;
    }

    static void awaitUsed(MockQueue q, int index) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (q.usedIndex() < index && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertEquals(index, q.usedIndex(), "used index");
    }

    static byte[] frame(int length, int seed) {
        byte[] f = new byte[length];
        for (int i = 0; i < length; i++) {
            f[i] = (byte) (i * 7 + seed);
        }
        f[0] = 0x02; // unicast, locally administered destination
        return f;
    }

    private long put(byte[] data) {
        long at = guest.alloc(Math.max(1, data.length), 16);
        guest.ram.asSlice(at, data.length).copyFrom(java.lang.foreign.MemorySegment.ofArray(data));
        return at;
    }

    private byte[] read(long at, int length) {
        return guest.ram.asSlice(at, length).toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void pciIdentityIsTransitionalVirtioNet() {
        create(OptionalInt.empty());
        PciConfigSpace c = function.config();
        assertEquals(0x1AF4, c.get16(0));
        assertEquals(0x1000, c.get16(2));
        assertEquals(0x020000, c.get32(8) >>> 8);
        assertEquals(0x1AF4, c.get16(PciConfigSpace.SUBSYSTEM_VENDOR));
        assertEquals(1, c.get16(PciConfigSpace.SUBSYSTEM));
    }

    @Test
    void configHoldsMacLinkUpAndMtu() {
        create(OptionalInt.of(9000));
        driver.startModern(ALL, 64, true);
        byte[] mac = new byte[6];
        for (int i = 0; i < 6; i++) {
            mac[i] = (byte) driver.config(i, 1);
        }
        assertArrayEquals(MAC.octets(), mac);
        assertEquals("00:a0:98", MAC.toString().substring(0, 8));
        assertEquals(STATUS_LINK_UP, driver.config(6, 2));
        assertEquals(1, driver.config(8, 2));
        assertEquals(9000, driver.config(10, 2));
        assertNotEquals(0, driver.deviceFeatures() & bits(F_MTU));
    }

    @Test
    void noMtuFeatureWithoutMtuOption() {
        create(OptionalInt.empty());
        long f = driver.deviceFeatures();
        assertEquals(0, f & bits(F_MTU));
        long want = bits(F_MAC, F_STATUS, F_MRG_RXBUF, F_CSUM, F_GUEST_CSUM, F_HOST_TSO4, F_HOST_TSO6,
                F_GUEST_TSO4, F_GUEST_TSO6, F_CTRL_VQ, F_CTRL_RX, VirtioPci.F_VERSION_1);
        assertEquals(want, f & want);
        assertEquals(0, f & bits(F_HOST_UFO, F_GUEST_UFO));
    }

    @Test
    void negotiatedGuestOffloadsReachTheBackend() {
        start(ALL);
        assertEquals(12, backend.vnetHeaderSize());
        assertArrayEquals(new boolean[] {true, true, true, true, false}, backend.offloads);
    }

    @Test
    void noOffloadsWhenNotNegotiatedAndTsoNeedsChecksum() {
        start(bits(F_MAC, F_GUEST_TSO4, F_GUEST_ECN));
        assertEquals(12, backend.vnetHeaderSize());
        assertArrayEquals(new boolean[5], backend.offloads);
    }

    @Test
    void legacyDriverWithoutMergeableBuffersGetsTenByteHeaders() {
        create(OptionalInt.empty());
        var legacy = driver.legacy();
        legacy.write(0x12, 1, 0);
        legacy.write(0x12, 1, VirtioPci.STATUS_ACKNOWLEDGE | VirtioPci.STATUS_DRIVER);
        long host = legacy.read(0x00, 4);
        assertNotEquals(0, host & bits(F_MAC));
        legacy.write(0x04, 4, bits(F_MAC, F_STATUS));
        legacy.write(0x12, 1, VirtioPci.STATUS_ACKNOWLEDGE | VirtioPci.STATUS_DRIVER | VirtioPci.STATUS_DRIVER_OK);
        assertEquals(10, backend.vnetHeaderSize());
        for (int i = 0; i < 6; i++) {
            assertEquals(MAC.octet(i), legacy.read(0x14 + i, 1)); // MSI-X off: config at 0x14
        }
        assertEquals(STATUS_LINK_UP, legacy.read(0x14 + 6, 2));
        legacy.write(0x12, 1, 0);
        legacy.write(0x12, 1, VirtioPci.STATUS_ACKNOWLEDGE | VirtioPci.STATUS_DRIVER);
        legacy.write(0x04, 4, bits(F_MAC, F_MRG_RXBUF));
        legacy.write(0x12, 1, VirtioPci.STATUS_ACKNOWLEDGE | VirtioPci.STATUS_DRIVER | VirtioPci.STATUS_DRIVER_OK);
        assertEquals(12, backend.vnetHeaderSize());
    }

    @Test
    void transmitGathersHeaderAndFrame() throws Exception {
        start(ALL);
        MockQueue tx = driver.queues[TX];
        byte[] hdr = new byte[12];
        byte[] f1 = frame(60, 1);
        byte[] f2 = frame(1514, 2);
        byte[] both = new byte[12 + 1514];
        System.arraycopy(f2, 0, both, 12, 1514);
        tx.add(new Buf(put(hdr), 12, false), new Buf(put(f1), 60, false));
        tx.add(new Buf(put(both), both.length, false));
        driver.kick(TX);
        assertTrue(backend.awaitSent(2, 5000));
        awaitUsed(tx, 2);
        List<byte[]> sent = backend.sent();
        byte[] e1 = new byte[72];
        System.arraycopy(f1, 0, e1, 12, 60);
        assertArrayEquals(e1, sent.get(0));
        assertArrayEquals(both, sent.get(1));
        assertEquals(2, net.txFrames());
        assertTrue(guest.msiCount.get() >= 1, "tx interrupt");
    }

    @Test
    void transmitPassesNegotiatedOffloadsAndDropsOthers() throws Exception {
        start(bits(F_MAC, F_CSUM, F_HOST_TSO4));
        MockQueue tx = driver.queues[TX];
        byte[] ok = new byte[12 + 100];
        ok[0] = 1; // NEEDS_CSUM
        ok[1] = 1; // TCPV4
        byte[] tso6 = ok.clone();
        tso6[1] = 4; // TCPV6, not negotiated
        byte[] ufo = ok.clone();
        ufo[1] = 3;
        byte[] ecn = ok.clone();
        ecn[1] = (byte) 0x81;
        for (byte[] f : List.of(ok, tso6, ufo, ecn)) {
            tx.add(new Buf(put(f), f.length, false));
        }
        driver.kick(TX);
        awaitUsed(tx, 4);
        assertEquals(1, backend.sent().size());
        assertArrayEquals(ok, backend.sent().get(0));
        assertEquals(3, net.txDropped());
    }

    @Test
    void badTransmitChainsAreDroppedAndReturned() throws Exception {
        start(bits(F_MAC));
        MockQueue tx = driver.queues[TX];
        long buf = guest.alloc(2048, 16);
        tx.add(new Buf(buf, 12, false));                              // header only
        tx.add(new Buf(buf, 12, false), new Buf(buf + 64, 100, true)); // writable part
        tx.add(new Buf(buf, 20, false));                              // shorter than an Ethernet header
        byte[] csum = new byte[12 + 60];
        csum[0] = 1;                                                  // NEEDS_CSUM without CSUM
        tx.add(new Buf(put(csum), csum.length, false));
        tx.add(new Buf(buf, 12 + 60, false));                         // fine
        driver.kick(TX);
        awaitUsed(tx, 5);
        assertEquals(4, net.txDropped());
        assertEquals(1, backend.sent().size());
        backend.refuseSends = true;
        tx.add(new Buf(buf, 12 + 60, false));
        driver.kick(TX);
        awaitUsed(tx, 6);
        assertEquals(5, net.txDropped());
        assertEquals(0, driver.status() & VirtioPci.STATUS_NEEDS_RESET);
    }

    @Test
    void receiveWritesHeaderNumBuffersAndFrame() throws Exception {
        start(ALL);
        MockQueue rx = driver.queues[RX];
        long[] bufs = new long[4];
        for (int i = 0; i < 4; i++) {
            bufs[i] = guest.alloc(1526 + 12, 16);
            rx.add(new Buf(bufs[i], 1526 + 12, true));
        }
        driver.kick(RX);
        byte[] hdr = {1, 0, 0, 0, 0, 0, 34, 0, 16, 0};
        byte[] f = frame(98, 3);
        backend.inject(f, hdr);
        awaitUsed(rx, 1);
        MockQueue.Used u = rx.poll();
        assertEquals(12 + 98, u.length());
        byte[] got = read(bufs[0], 12 + 98);
        assertArrayEquals(hdr, Arrays.copyOf(got, 10));
        assertEquals(1, got[10]);
        assertEquals(0, got[11]);
        assertArrayEquals(f, Arrays.copyOfRange(got, 12, 110));
        assertEquals(1, net.rxFrames());
    }

    @Test
    void mergeableBuffersSpreadALargeFrame() throws Exception {
        start(ALL);
        MockQueue rx = driver.queues[RX];
        long[] bufs = new long[8];
        for (int i = 0; i < 8; i++) {
            bufs[i] = guest.alloc(256, 16);
            rx.add(new Buf(bufs[i], 256, true));
        }
        driver.kick(RX);
        byte[] f = frame(1000, 4);
        backend.inject(f, null);
        backend.inject(frame(60, 5), null);
        awaitUsed(rx, 5);
        int[] lengths = new int[5];
        byte[] all = new byte[1024];
        for (int i = 0; i < 5; i++) {
            lengths[i] = rx.poll().length();
        }
        assertArrayEquals(new int[] {256, 256, 256, 244, 72}, lengths);
        for (int i = 0; i < 4; i++) {
            System.arraycopy(read(bufs[i], 256), 0, all, 256 * i, 256);
        }
        assertEquals(4, all[10] | all[11] << 8, "num_buffers");
        assertArrayEquals(f, Arrays.copyOfRange(all, 12, 1012));
        assertEquals(1, read(bufs[4], 12)[10]);
    }

    @Test
    void withoutMergeableBuffersATooLargeFrameIsDroppedAndTheBufferReused() throws Exception {
        start(bits(F_MAC, F_STATUS));
        MockQueue rx = driver.queues[RX];
        long buf = guest.alloc(12 + 200, 16);
        rx.add(new Buf(buf, 12, true), new Buf(buf + 12, 200, true));
        driver.kick(RX);
        backend.inject(frame(500, 6), null);
        byte[] small = frame(150, 7);
        backend.inject(small, null);
        awaitUsed(rx, 1);
        assertEquals(12 + 150, rx.poll().length());
        assertArrayEquals(small, read(buf + 12, 150));
        assertEquals(1, read(buf, 12)[10], "num_buffers is 1 without MRG_RXBUF");
        assertEquals(1, net.rxDropped());
    }

    @Test
    void withoutBuffersFramesWaitInTheBoundedBackendQueue() throws Exception {
        start(ALL);
        for (int i = 0; i < 300; i++) {
            backend.inject(frame(60, i), null);
        }
        Thread.sleep(50);
        assertEquals(FakeNetBackend.QUEUE_FRAMES, backend.queued());
        assertEquals(300 - FakeNetBackend.QUEUE_FRAMES, backend.droppedFrames());
        MockQueue rx = driver.queues[RX];
        for (int i = 0; i < 64; i++) {
            rx.add(new Buf(guest.alloc(2048, 16), 2048, true));
        }
        driver.kick(RX);
        awaitUsed(rx, 64);
        assertEquals(FakeNetBackend.QUEUE_FRAMES - 64, backend.queued());
        for (int i = 0; i < 64; i++) {
            rx.poll();
        }
        for (int i = 0; i < 64; i++) {
            rx.add(new Buf(guest.alloc(2048, 16), 2048, true));
        }
        driver.kick(RX);
        awaitUsed(rx, 128);
    }

    @Test
    void hostileReceiveChainsAreReturnedEmpty() throws Exception {
        start(ALL);
        MockQueue rx = driver.queues[RX];
        long buf = guest.alloc(4096, 16);
        rx.add(new Buf(buf, 12, true));                                // header only
        rx.add(new Buf(buf, 64, false), new Buf(buf + 64, 1500, true)); // device-readable part
        rx.add(new Buf(buf + 2048, 2048, true));                       // fine
        driver.kick(RX);
        backend.inject(frame(60, 8), null);
        awaitUsed(rx, 3);
        assertEquals(0, rx.poll().length());
        assertEquals(0, rx.poll().length());
        assertEquals(72, rx.poll().length());
        assertEquals(2, net.rxBadChains());
        assertEquals(0, driver.status() & VirtioPci.STATUS_NEEDS_RESET);
    }

    @Test
    void framesQueuedBeforeDriverOkAreDiscarded() throws Exception {
        create(OptionalInt.empty());
        backend.inject(frame(60, 9), null);
        driver.startModern(ALL, 64, true);
        assertEquals(0, backend.queued());
    }

    private int control(MockQueue ctrl, byte... command) throws Exception {
        long cmd = put(command);
        long ack = guest.alloc(1, 1);
        guest.memory.putByte(ack, (byte) 0x7F);
        int next = ctrl.usedIndex() + 1;
        ctrl.add(new Buf(cmd, command.length, false), new Buf(ack, 1, true));
        driver.kick(CTRL);
        awaitUsed(ctrl, next);
        assertEquals(1, ctrl.poll().length());
        return guest.memory.getByte(ack);
    }

    @Test
    void controlQueueSetsMacAndReceiveFilter() throws Exception {
        start(ALL);
        MockQueue ctrl = driver.queues[CTRL];
        assertEquals(0, control(ctrl, (byte) 1, (byte) 1, (byte) 0x02, (byte) 0, (byte) 0, (byte) 0, (byte) 0, (byte) 7));
        assertEquals(0x02, driver.config(0, 1));
        assertEquals(7, driver.config(5, 1));
        assertEquals(1, control(ctrl, (byte) 1, (byte) 1, (byte) 0x01, (byte) 0, (byte) 0, (byte) 0, (byte) 0, (byte) 7));
        assertEquals(0, control(ctrl, (byte) 0, (byte) 0, (byte) 0)); // promiscuous off
        assertEquals(1, control(ctrl, (byte) 9, (byte) 0));           // unknown class
        MockQueue rx = driver.queues[RX];
        for (int i = 0; i < 4; i++) {
            rx.add(new Buf(guest.alloc(2048, 16), 2048, true));
        }
        driver.kick(RX);
        byte[] other = frame(60, 10);                          // 02:.. not ours
        byte[] mine = frame(60, 11);
        System.arraycopy(new byte[] {2, 0, 0, 0, 0, 7}, 0, mine, 0, 6);
        byte[] broadcast = frame(60, 12);
        Arrays.fill(broadcast, 0, 6, (byte) 0xFF);
        backend.inject(other, null);
        backend.inject(mine, null);
        backend.inject(broadcast, null);
        awaitUsed(rx, 2);
        Thread.sleep(20);
        assertEquals(2, rx.usedIndex());
        assertEquals(1, net.rxDropped());
        assertEquals("02:00:00:00:00:07", net.mac().toString());
    }

    @Test
    void resetStopsTheDataPathsAndRestartWorks() throws Exception {
        start(ALL);
        driver.startModern(bits(F_MAC), 64, true); // starts with a reset
        assertArrayEquals(new boolean[5], backend.offloads);
        MockQueue tx = driver.queues[TX];
        tx.add(new Buf(put(new byte[12 + 60]), 72, false));
        driver.kick(TX);
        awaitUsed(tx, 1);
        assertEquals(1, backend.sent().size());
    }

    @Test
    void closeClosesTheBackend() {
        create(OptionalInt.empty());
        function.close();
        function = null;
        assertTrue(backend.closed);
    }

    static List<Integer> range(int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(i);
        }
        return l;
    }
}
