package org.jbhyve.virtio;

import static org.junit.jupiter.api.Assertions.*;
import static org.jbhyve.virtio.VirtioPci.*;

import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.pci.PciConfigSpace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VirtioPciTransportTest {
    private final MockGuest guest = new MockGuest(1 << 20);
    private final EchoDevice device = new EchoDevice();

    @AfterEach
    void close() {
        guest.close();
    }

    private VirtioPciFunction function(boolean msix) {
        return new VirtioPciFunction(device, guest.memory, guest, GuestDoorbells.NONE, msix);
    }

    @Test
    void configSpaceIsATransitionalVirtioFunction() {
        VirtioPciFunction f = function(true);
        PciConfigSpace c = f.config();
        assertEquals(0x1AF4, c.get16(PciConfigSpace.VENDOR));
        assertEquals(0x10FF, c.get16(PciConfigSpace.DEVICE));
        assertEquals(0, c.get8(PciConfigSpace.REVISION));
        assertEquals(0x1AF4, c.get16(PciConfigSpace.SUBSYSTEM_VENDOR));
        assertEquals(42, c.get16(PciConfigSpace.SUBSYSTEM));
        assertEquals(1, c.get8(PciConfigSpace.INTERRUPT_PIN));
        // capability list: MSI-X, then common, ISR, device, notify vendor capabilities on BAR4
        int cap = c.get8(PciConfigSpace.CAPABILITIES);
        assertEquals(0x11, c.get8(cap));
        int[] types = new int[4];
        for (int i = 0; i < 4; i++) {
            cap = c.get8(cap + 1);
            assertEquals(0x09, c.get8(cap));
            assertEquals(4, c.get8(cap + 4));
            types[i] = c.get8(cap + 3);
        }
        assertArrayEquals(new int[] {CAP_COMMON, CAP_ISR, CAP_DEVICE, CAP_NOTIFY}, types);
        assertEquals(NOTIFY_MULTIPLIER, c.get32(cap + 16));
        assertEquals(0, c.get8(cap + 1));
    }

    @Test
    void modernDriverRoundTripWithMsix() {
        VirtioPciFunction f = function(true);
        MockDriver d = new MockDriver(f, guest);
        long features = d.startModern(-1L, 8, true);
        assertTrue((features & 1L << F_VERSION_1) != 0);
        assertEquals(0x0201, d.config(0, 2));
        MockQueue q = d.queues[0];
        long in = guest.alloc(4, 1);
        long out = guest.alloc(4, 1);
        guest.memory.putInt(in, 0xCAFEBABE);
        int head = q.add(new MockQueue.Buf(in, 4, false), new MockQueue.Buf(out, 4, true));
        q.setUsedEvent(0);
        d.kick(0);
        MockQueue.Used u = q.poll();
        assertEquals(head, u.head());
        assertEquals(4, u.length());
        assertEquals(0xCAFEBABE, guest.memory.getInt(out));
        assertEquals(1, guest.msiCount.get());
        assertEquals(0x40, guest.lastMsiData);
    }

    @Test
    void legacyDriverUsesPfnLayoutAndIntxWithIsrReadClearing() {
        VirtioPciFunction f = function(false);
        MockDriver d = new MockDriver(f, guest);
        var l = d.legacy();
        l.write(L_STATUS, 1, 0);
        l.write(L_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        assertEquals(0, l.read(L_HOST_FEATURES, 4) >>> 32);
        l.write(L_GUEST_FEATURES, 4, 0);
        l.write(L_QUEUE_SELECT, 2, 0);
        assertEquals(16, l.read(L_QUEUE_SIZE, 2));
        long base = guest.alloc(3 * 4096, 4096);
        l.write(L_QUEUE_PFN, 4, base / 4096);
        assertEquals(base / 4096, l.read(L_QUEUE_PFN, 4));
        l.write(L_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
        assertEquals(0x04030201L, l.read(L_CONFIG, 4), "device config at 0x14 without MSI-X");
        // legacy layout: desc at base, avail after 16 * 16 bytes, used at the next page
        long desc = base;
        long avail = base + 256;
        long used = base + 4096;
        long in = guest.alloc(4, 4);
        long out = guest.alloc(4, 4);
        guest.memory.putInt(in, 77);
        guest.memory.putLong(desc, in);
        guest.memory.putInt(desc + 8, 4);
        guest.memory.putShort(desc + 12, (short) Virtqueue.F_NEXT);
        guest.memory.putShort(desc + 14, (short) 1);
        guest.memory.putLong(desc + 16, out);
        guest.memory.putInt(desc + 24, 4);
        guest.memory.putShort(desc + 28, (short) Virtqueue.F_WRITE);
        guest.memory.putShort(avail + 4, (short) 0);
        guest.memory.putShort(avail + 2, (short) 1);
        l.write(L_QUEUE_NOTIFY, 2, 0);
        assertEquals(1, guest.memory.getShort(used + 2));
        assertEquals(77, guest.memory.getInt(out));
        assertTrue(guest.intxLevel);
        assertEquals(ISR_QUEUE, l.read(L_ISR, 1));
        assertFalse(guest.intxLevel);
        assertEquals(0, l.read(L_ISR, 1));
    }

    @Test
    void featuresOkIsRefusedWithoutVersion1ForModernDrivers() {
        VirtioPciFunction f = function(true);
        MockDriver d = new MockDriver(f, guest);
        var m = d.modern();
        m.write(COMMON_OFFSET + C_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        m.write(COMMON_OFFSET + C_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        assertEquals(0, m.read(COMMON_OFFSET + C_STATUS, 1) & STATUS_FEATURES_OK);
    }

    @Test
    void badQueueLayoutSetsNeedsReset() {
        VirtioPciFunction f = function(true);
        MockDriver d = new MockDriver(f, guest);
        var m = d.modern();
        m.write(COMMON_OFFSET + C_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        m.write(COMMON_OFFSET + C_GFSELECT, 4, 1);
        m.write(COMMON_OFFSET + C_GF, 4, 1);
        m.write(COMMON_OFFSET + C_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        m.write(COMMON_OFFSET + C_Q_SELECT, 2, 0);
        m.write(COMMON_OFFSET + C_Q_DESC, 8, 0xFFFF_FFFF_0000L); // not RAM
        m.write(COMMON_OFFSET + C_Q_ENABLE, 2, 1);
        assertEquals(0, m.read(COMMON_OFFSET + C_Q_ENABLE, 2));
        assertNotEquals(0, d.status() & STATUS_NEEDS_RESET);
        m.write(COMMON_OFFSET + C_STATUS, 1, 0);
        assertEquals(0, d.status());
    }

    @Test
    void maskedMsixVectorIsPendingAndFiresOnUnmask() {
        VirtioPciFunction f = function(true);
        MockDriver d = new MockDriver(f, guest);
        d.startModern(-1L, 8, true);
        var table = f.bars().stream().filter(b -> b.index() == MSIX_BAR).findFirst().orElseThrow().handler();
        int msixCap = f.config().get8(PciConfigSpace.CAPABILITIES);
        long pba = f.config().get32(msixCap + 8) & ~7L;
        table.write(12, 4, 1); // mask vector 0
        long in = guest.alloc(4, 1);
        d.queues[0].add(new MockQueue.Buf(in, 4, false));
        d.kick(0);
        assertEquals(0, guest.msiCount.get());
        assertEquals(1, table.read(pba, 4) & 1);
        table.write(12, 4, 0);
        assertEquals(1, guest.msiCount.get());
        assertEquals(0, table.read(pba, 4) & 1);
    }

    @Test
    void msiModeSendsTheOneMessage() {
        VirtioPciFunction f = function(false);
        MockDriver d = new MockDriver(f, guest);
        d.startModern(-1L, 8, false);
        int cap = f.config().get8(0x34);
        assertEquals(0x05, f.config().get8(cap));
        f.configWrite(cap + 4, 4, 0xFEE01000L);
        f.configWrite(cap + 8, 4, 0);
        f.configWrite(cap + 12, 2, 0x31);
        f.configWrite(cap + 2, 2, 1);
        d.queues[0].add(new MockQueue.Buf(guest.alloc(4, 1), 4, false));
        d.kick(0);
        assertEquals(1, guest.msiCount.get());
        assertEquals(0xFEE01000L, guest.lastMsiAddress);
        assertEquals(0x31, guest.lastMsiData);
        assertFalse(guest.intxLevel);
    }
}
