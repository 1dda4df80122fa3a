package org.jbhyve.devices.net;

import org.jbhyve.snapshot.CorruptBlobs;
import org.jbhyve.backend.net.FakeNetBackend;

import static org.jbhyve.devices.net.E1000Registers.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import org.jbhyve.backend.net.MacAddress;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciInterrupts;
import org.jbhyve.snapshot.StateRoundTrip;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The 82545EM driven through its registers, with guest RAM in an arena and a fake backend. */
class E1000Test {
    private static final MacAddress MAC = MacAddress.parse("00:a0:98:11:22:33");
    private static final byte[] OUR_MAC = MAC.octets();
    private static final long RAM = 1 << 20;
    private static final long TX_RING = 0x1000, RX_RING = 0x2000, TX_BUF = 0x10000, RX_BUF = 0x40000;
    private static final int RING = 8;

    private final Arena arena = Arena.ofShared();
    private final GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, arena.allocate(RAM, 4096))));
    private final FakeNetBackend backend = new FakeNetBackend();
    private final List<Boolean> levels = new ArrayList<>();
    private final List<Runnable> timers = new ArrayList<>();
    private final List<Long> delays = new ArrayList<>();
    private final E1000 nic = newNic(backend, levels);
    private final IoHandler regs = nic.bars().get(0).handler();

    /** A NIC over this test's RAM and timers, its INTx levels recorded in {@code levels}. */
    private E1000 newNic(FakeNetBackend wire, List<Boolean> levels) {
        return new E1000(wire, MAC, memory, new PciInterrupts() {
            @Override
            public IrqLine intx() {
                return levels::add;
            }

            @Override
            public void sendMsi(long address, int data) {
                throw new AssertionError("no MSI");
            }
        }, (task, nanos) -> {
            timers.add(task);
            delays.add(nanos);
        });
    }

    @AfterEach
    void close() {
        nic.close();
        arena.close();
    }

    private void w(int offset, int value) {
        w(regs, offset, value);
    }

    private int r(int offset) {
        return r(regs, offset);
    }

    private static void w(IoHandler registers, int offset, int value) {
        registers.write(offset, 4, Integer.toUnsignedLong(value));
    }

    private static int r(IoHandler registers, int offset) {
        return (int) registers.read(offset, 4);
    }

    private boolean line() {
        return !levels.isEmpty() && levels.getLast();
    }

    // ------------------------------------------------------------ identity, PHY, EEPROM

    @Test
    void pciIdentityAndBarsAreBhyves() {
        PciConfigSpace c = nic.config();
        assertEquals(0x8086, c.get16(PciConfigSpace.VENDOR));
        assertEquals(0x100F, c.get16(PciConfigSpace.DEVICE));
        assertEquals(0x020000, c.get32(0x08) >>> 8);
        assertEquals(0x8086, c.get16(PciConfigSpace.SUBSYSTEM_VENDOR));
        assertEquals(0x1008, c.get16(PciConfigSpace.SUBSYSTEM));
        assertEquals(1, c.get8(PciConfigSpace.INTERRUPT_PIN));
        List<PciBar> bars = nic.bars();
        assertEquals(3, bars.size());
        assertEquals(PciBar.Kind.MEMORY32, bars.get(0).kind());
        assertEquals(128 * 1024, bars.get(0).size());
        assertEquals(64 * 1024, bars.get(1).size());
        assertEquals(PciBar.Kind.IO, bars.get(2).kind());
        assertEquals(8, bars.get(2).size());
    }

    @Test
    void linkIsUpAtGigabitFullDuplex() {
        int status = r(STATUS);
        assertEquals(STATUS_FD | STATUS_LU | STATUS_SPEED_1000, status & 0xC3);
    }

    private int mdioRead(int reg) {
        return mdioRead(regs, reg);
    }

    private static int mdioRead(IoHandler registers, int reg) {
        w(registers, MDIC, MDIC_OP_READ | 1 << 21 | reg << 16);
        int v = r(registers, MDIC);
        assertTrue((v & MDIC_READY) != 0);
        assertEquals(0, v & MDIC_ERROR);
        return v & 0xFFFF;
    }

    @Test
    void phyIsAMarvell88E1011WithLinkAndAutonegComplete() {
        assertEquals(0x0141, mdioRead(2));
        assertEquals(0x0C20, mdioRead(3) & 0xFFF0);
        int bmsr = mdioRead(1);
        assertTrue((bmsr & 0x04) != 0, "link up");
        assertTrue((bmsr & 0x20) != 0, "autoneg complete");
        w(MDIC, MDIC_OP_WRITE | 1 << 21 | 4 << 16 | 0x0DE1);
        assertEquals(0x0DE1, mdioRead(4));
        w(MDIC, MDIC_OP_WRITE | 1 << 21 | 0x8000 | 0x1140);
        assertEquals(0x1140, mdioRead(0), "reset bit self-clears");
    }

    private int eerd(int word) {
        w(EERD, word << 8 | EERD_START);
        int v = r(EERD);
        assertTrue((v & EERD_DONE) != 0);
        return v >>> 16;
    }

    @Test
    void eepromHoldsTheMacAndAValidChecksum() {
        assertEquals(0xa000, eerd(0));
        assertEquals(0x1198, eerd(1));
        assertEquals(0x3322, eerd(2));
        int sum = 0;
        for (int i = 0; i <= 0x3F; i++) {
            sum += eerd(i);
        }
        assertEquals(0xBABA, sum & 0xFFFF);
        assertEquals(0x100F, eerd(0x0D));
    }

    /** Linux e1000's Microwire read: request, select, shift out 110b + 6 address bits, shift in 16. */
    private int microwireRead(int word) {
        return microwireData(regs, microwireAddress(regs, word));
    }

    /** The first half of a Microwire read: request, select, shift in 110b and the address; returns EECD. */
    private static int microwireAddress(IoHandler registers, int word) {
        int eecd = r(registers, EECD) | E1000Nvm.EECD_REQ;
        w(registers, EECD, eecd);
        assertTrue((r(registers, EECD) & E1000Nvm.EECD_GNT) != 0);
        eecd = (eecd & ~(E1000Nvm.EECD_DI | E1000Nvm.EECD_SK)) | E1000Nvm.EECD_CS;
        w(registers, EECD, eecd);
        int out = 0b110 << 6 | word;
        for (int bit = 8; bit >= 0; bit--) {
            eecd = (out >>> bit & 1) != 0 ? eecd | E1000Nvm.EECD_DI : eecd & ~E1000Nvm.EECD_DI;
            w(registers, EECD, eecd);
            w(registers, EECD, eecd | E1000Nvm.EECD_SK);
            w(registers, EECD, eecd);
        }
        return eecd & ~E1000Nvm.EECD_DI;
    }

    /** The second half: shift the 16 data bits out, then deselect. */
    private static int microwireData(IoHandler registers, int eecd) {
        int data = 0;
        for (int bit = 0; bit < 16; bit++) {
            w(registers, EECD, eecd | E1000Nvm.EECD_SK);
            data = data << 1 | ((r(registers, EECD) & E1000Nvm.EECD_DO) != 0 ? 1 : 0);
            w(registers, EECD, eecd);
        }
        w(registers, EECD, eecd & ~(E1000Nvm.EECD_CS | E1000Nvm.EECD_REQ));
        return data;
    }

    @Test
    void eepromReadsByBitBanging() {
        assertTrue((r(EECD) & E1000Nvm.EECD_PRES) != 0);
        for (int i = 0; i <= 0x3F; i++) {
            assertEquals(eerd(i), microwireRead(i), "word " + i);
        }
    }

    @Test
    void receiveAddressZeroIsLoadedWithTheMac() {
        assertEquals(0x1198a000, r(RAL0));
        assertEquals(RAH_AV | 0x3322, r(RAL0 + 4));
    }

    @Test
    void ioBarReachesRegistersIndirectly() {
        IoHandler io = nic.bars().get(2).handler();
        io.write(0, 4, STATUS);
        assertEquals(STATUS, io.read(0, 4));
        assertEquals(r(STATUS), (int) io.read(4, 4));
        io.write(0, 4, IMS);
        io.write(4, 4, ICR_RXT0);
        assertEquals(ICR_RXT0, r(IMS));
        io.write(0, 4, 0x40000); // past the registers: ignored
        assertEquals(0, io.read(4, 4));
    }

    // ------------------------------------------------------------ interrupts

    @Test
    void interruptFollowsIcrAndIms() {
        w(ICS, ICR_LSC);
        assertFalse(line(), "masked");
        w(IMS, ICR_LSC | ICR_RXT0);
        assertTrue(line());
        assertTrue((nic.config().get16(PciConfigSpace.STATUS) & PciConfigSpace.STATUS_INTERRUPT) != 0);
        assertEquals(ICR_LSC, r(ICR));
        assertFalse(line(), "reading ICR clears it");
        assertEquals(0, r(ICR));
        w(ICS, ICR_RXT0);
        assertTrue(line());
        w(IMC, ICR_RXT0);
        assertFalse(line(), "masking the only cause lowers the line");
        w(IMS, ICR_RXT0);
        assertTrue(line());
        w(ICR, ICR_RXT0);
        assertFalse(line(), "write 1 to clear");
        assertEquals(ICR_RXT0 | ICR_LSC, r(IMS));
    }

    @Test
    void intxDisableHoldsTheLineLow() {
        w(IMS, ICR_LSC);
        nic.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_INTX_DISABLE | PciConfigSpace.COMMAND_MEMORY);
        w(ICS, ICR_LSC);
        assertFalse(line());
        nic.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_MEMORY);
        assertTrue(line());
    }

    @Test
    void itrThrottlesAssertions() {
        w(ITR, 1000);
        w(IMS, ICR_TXDW);
        w(ICS, ICR_TXDW);
        assertTrue(line());
        assertEquals(List.of(1000L * 256), delays);
        r(ICR);
        assertFalse(line());
        w(ICS, ICR_TXDW);
        assertFalse(line(), "held back until ITR x 256 ns have passed");
        timers.removeFirst().run();
        assertTrue(line(), "raised when the throttle expires");
        assertEquals(2, delays.size(), "and throttled again");
        r(ICR);
        timers.removeFirst().run();
        assertFalse(line(), "nothing pending: stays low");
        w(ICS, ICR_TXDW);
        assertTrue(line(), "throttle over: immediate again");
    }

    // ------------------------------------------------------------ transmit

    private void txDesc(int i, long address, int lower, int upper) {
        long d = TX_RING + i * 16L;
        memory.putLong(d, address);
        memory.putInt(d + 8, lower);
        memory.putInt(d + 12, upper);
    }

    private void enableTx() {
        w(TDBAL, (int) TX_RING);
        w(TDBAH, 0);
        w(TDLEN, RING * 16);
        w(TDH, 0);
        w(TDT, 0);
        w(TCTL, TCTL_EN);
    }

    private static byte[] bytes(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (seed + i * 7);
        }
        return b;
    }

    @Test
    void legacyDescriptorsBecomeOneFrameAndReportDone() {
        enableTx();
        byte[] a = bytes(20, 1);
        byte[] b = bytes(80, 2);
        memory.write(TX_BUF, a);
        memory.write(TX_BUF + 0x1000, b);
        txDesc(0, TX_BUF, a.length, 0);
        txDesc(1, TX_BUF + 0x1000, b.length | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS, 0);
        w(IMS, ICR_TXDW);
        w(TDT, 2);
        assertEquals(1, backend.sent().size());
        byte[] expected = new byte[100];
        System.arraycopy(a, 0, expected, 0, 20);
        System.arraycopy(b, 0, expected, 20, 80);
        assertArrayEquals(expected, backend.sent().getFirst());
        assertEquals(TXD_STAT_DD, memory.getByte(TX_RING + 16 + 12) & TXD_STAT_DD);
        assertEquals(0, memory.getByte(TX_RING + 12) & TXD_STAT_DD, "no RS: no write-back");
        assertEquals(2, r(TDH));
        assertTrue(line());
        assertEquals(ICR_TXDW | ICR_TXQE, r(ICR));
        assertEquals(1, r(GPTC));
        assertEquals(0, r(GPTC), "statistics clear on read");
        assertEquals(104, r(GOTCL));
        assertEquals(0, r(GOTCH));
    }

    @Test
    void packetWithoutEopWaitsForTheRest() {
        enableTx();
        memory.write(TX_BUF, bytes(64, 3));
        txDesc(0, TX_BUF, 32, 0);
        txDesc(1, TX_BUF + 32, 32 | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS, 0);
        w(TDT, 1);
        assertTrue(backend.sent().isEmpty());
        assertEquals(0, r(TDH));
        w(TDT, 2);
        assertEquals(1, backend.sent().size());
        assertArrayEquals(bytes(64, 3), backend.sent().getFirst());
    }

    @Test
    void transmitWrapsAroundTheRing() {
        enableTx();
        w(TDH, 6);
        w(TDT, 6);
        for (int k = 0; k < 4; k++) {
            memory.write(TX_BUF + k * 0x100, bytes(60, k));
            txDesc((6 + k) % RING, TX_BUF + k * 0x100, 60 | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS, 0);
        }
        w(TDT, 2);
        assertEquals(4, backend.sent().size());
        assertArrayEquals(bytes(60, 3), backend.sent().get(3));
        assertEquals(2, r(TDH));
    }

    /** Ethernet + IPv4 + UDP/TCP headers with the pseudo-header sum in the L4 checksum, as drivers leave it. */
    private static byte[] ipv4Packet(int protocol, int payload, int l4HeaderLength) {
        int ipLength = 20 + l4HeaderLength + payload;
        byte[] p = new byte[14 + ipLength];
        System.arraycopy(new byte[] {2, 0, 0, 0, 0, 9}, 0, p, 0, 6);
        System.arraycopy(OUR_MAC, 0, p, 6, 6);
        p[12] = 0x08;
        p[14] = 0x45;
        put16(p, 16, ipLength);
        put16(p, 18, 0x1234);
        p[22] = 64;
        p[23] = (byte) protocol;
        byte[] src = {10, 0, 0, 1};
        byte[] dst = {10, 0, 0, 2};
        System.arraycopy(src, 0, p, 26, 4);
        System.arraycopy(dst, 0, p, 30, 4);
        int l4 = 34;
        put16(p, l4, 5555);
        put16(p, l4 + 2, 80);
        if (protocol == 17) {
            put16(p, l4 + 4, l4HeaderLength + payload);
        } else {
            p[l4 + 4] = 0x10; // sequence 0x10000000
            p[l4 + 12] = 0x50;
            p[l4 + 13] = 0x19; // FIN|PSH|ACK
        }
        for (int i = 0; i < payload; i++) {
            p[l4 + l4HeaderLength + i] = (byte) (i * 13);
        }
        return p;
    }

    private static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    private static int get16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }

    private static long sum(byte[] b, int from, int to) {
        long s = 0;
        for (int i = from; i < to; i += 2) {
            s += (b[i] & 0xFF) << 8 | (i + 1 < to ? b[i + 1] & 0xFF : 0);
        }
        return s;
    }

    private static int fold(long s) {
        while (s >>> 16 != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    private static long pseudoSum(byte[] p, int protocol, int l4Length) {
        return sum(p, 26, 34) + protocol + l4Length;
    }

    private static void assertChecksumsValid(byte[] f, int protocol) {
        assertEquals(0xFFFF, fold(sum(f, 14, 34)), "IPv4 header checksum");
        int l4Length = get16(f, 16) - 20;
        assertEquals(0xFFFF, fold(pseudoSum(f, protocol, l4Length) + sum(f, 34, 34 + l4Length)), "L4 checksum");
    }

    private void contextDescriptor(int i, int tucso, int paylen, int tucmd, int hdrlen, int mss) {
        long ip = 14 | 24 << 8 | 33L << 16;
        long tu = 34 | (long) tucso << 8;
        txDesc(i, ip | tu << 32, paylen | TXD_CMD_DEXT | tucmd, hdrlen << 8 | mss << 16);
    }

    @Test
    void checksumOffloadThroughContextAndDataDescriptors() {
        enableTx();
        byte[] p = ipv4Packet(17, 100, 8);
        put16(p, 40, fold(pseudoSum(p, 17, 108))); // UDP checksum field: pseudo-header sum
        memory.write(TX_BUF, p);
        contextDescriptor(0, 40, 0, 0, 0, 0);
        int dcmd = TXD_CMD_DEXT | TXD_DTYP_D | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
        txDesc(1, TX_BUF, p.length | dcmd, (TXD_POPTS_IXSM | TXD_POPTS_TXSM) << 8);
        w(TDT, 2);
        assertEquals(1, backend.sent().size());
        byte[] f = backend.sent().getFirst();
        assertChecksumsValid(f, 17);
        assertEquals(2, r(TDH));
    }

    @Test
    void legacyChecksumInsertion() {
        enableTx();
        byte[] p = ipv4Packet(17, 30, 8);
        put16(p, 40, fold(pseudoSum(p, 17, 38)));
        put16(p, 24, 0);
        memory.write(TX_BUF, p);
        // one legacy checksum: the UDP one (css 34, cso 40)
        txDesc(0, TX_BUF, p.length | 40 << 16 | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_IC | TXD_CMD_RS, 34 << 8);
        w(TDT, 1);
        byte[] f = backend.sent().getFirst();
        int l4 = 38;
        assertEquals(0xFFFF, fold(pseudoSum(f, 17, l4) + sum(f, 34, 34 + l4)));
    }

    @Test
    void tcpSegmentationOffload() {
        enableTx();
        int payload = 2500;
        byte[] p = ipv4Packet(6, payload, 20);
        put16(p, 50, fold(sum(p, 26, 34) + 6)); // TSO: pseudo-header sum without the length
        memory.write(TX_BUF, Arrays.copyOf(p, 54));
        memory.write(TX_BUF + 0x1000, Arrays.copyOfRange(p, 54, p.length));
        contextDescriptor(0, 50, payload, TXD_CMD_TCP | TXD_CMD_IP | TXD_CMD_TSE, 54, 1000);
        int dcmd = TXD_CMD_DEXT | TXD_DTYP_D | TXD_CMD_IFCS | TXD_CMD_TSE | TXD_CMD_RS;
        int popts = (TXD_POPTS_IXSM | TXD_POPTS_TXSM) << 8;
        txDesc(1, TX_BUF, 54 | dcmd, popts);
        txDesc(2, TX_BUF + 0x1000, payload | dcmd | TXD_CMD_EOP, popts);
        w(TDT, 3);
        assertEquals(3, backend.sent().size());
        int[] sizes = {1000, 1000, 500};
        for (int s = 0; s < 3; s++) {
            byte[] f = backend.sent().get(s);
            assertEquals(54 + sizes[s], f.length);
            assertEquals(40 + sizes[s], get16(f, 16), "IP total length");
            assertEquals(0x1234 + s, get16(f, 18), "IP id");
            long seq = (long) get16(f, 38) << 16 | get16(f, 40);
            assertEquals(0x10000000L + 1000L * s, seq, "sequence number");
            int flags = f[47] & 0xFF;
            assertEquals(s == 2 ? 0x19 : 0x10, flags, "FIN/PSH only on the last segment");
            assertChecksumsValid(f, 6);
            assertArrayEquals(Arrays.copyOfRange(p, 54 + 1000 * s, 54 + 1000 * s + sizes[s]),
                    Arrays.copyOfRange(f, 54, f.length));
        }
        assertEquals(3, r(TSCTC));
        assertEquals(3, r(TDH));
    }

    @Test
    void vlanTagInsertion() {
        enableTx();
        w(CTRL, CTRL_VME);
        w(VET, 0x8100);
        byte[] p = bytes(60, 5);
        memory.write(TX_BUF, p);
        txDesc(0, TX_BUF, 60 | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_VLE, 42 << 16);
        w(TDT, 1);
        byte[] f = backend.sent().getFirst();
        assertEquals(64, f.length);
        assertEquals(0x8100, get16(f, 12));
        assertEquals(42, get16(f, 14));
        assertArrayEquals(Arrays.copyOfRange(p, 12, 60), Arrays.copyOfRange(f, 16, 64));
    }

    // ------------------------------------------------------------ hostile transmit

    @Test
    void badTransmitRingsAndBuffersAreDroppedNotFatal() {
        enableTx();
        txDesc(0, RAM + 0x1000, 60 | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS, 0); // buffer outside RAM
        txDesc(1, TX_BUF, 0xFFFF | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS, 0);    // runs past? no: inside RAM
        txDesc(2, -1L, 100 | TXD_CMD_EOP | TXD_CMD_RS, 0);
        w(TDT, 3);
        assertEquals(1, backend.sent().size(), "only the valid one");
        assertEquals(3, r(TDH), "bad packets still complete");
        assertTrue((memory.getByte(TX_RING + 12) & TXD_STAT_DD) != 0);
        assertTrue(nic.guestErrors() >= 2);

        w(TDT, 200); // tail beyond the ring
        w(TDBAL, 0xFFFFF000);
        w(TDBAH, 0x7FFF);
        w(TDT, 1);   // ring outside RAM
        w(TDLEN, 0);
        w(TDT, 2);
        assertEquals(1, backend.sent().size());
    }

    @Test
    void malformedTsoContextDropsThePacket() {
        enableTx();
        byte[] p = ipv4Packet(6, 100, 20);
        memory.write(TX_BUF, p);
        contextDescriptor(0, 50, 100, TXD_CMD_TCP | TXD_CMD_IP | TXD_CMD_TSE, 54, 0); // MSS 0
        int dcmd = TXD_CMD_DEXT | TXD_DTYP_D | TXD_CMD_IFCS | TXD_CMD_TSE | TXD_CMD_RS | TXD_CMD_EOP;
        txDesc(1, TX_BUF, p.length | dcmd, TXD_POPTS_TXSM << 8);
        contextDescriptor(2, 50, 100, TXD_CMD_TCP | TXD_CMD_IP | TXD_CMD_TSE, 20, 10); // header too short
        txDesc(3, TX_BUF, p.length | dcmd, TXD_POPTS_TXSM << 8);
        txDesc(4, TX_BUF, 10, 0);                 // legacy then data: mixed types
        txDesc(5, TX_BUF, 10 | dcmd, 0);
        w(TDT, 6);
        assertTrue(backend.sent().isEmpty());
        assertEquals(6, r(TDH));
    }

    // ------------------------------------------------------------ receive

    private void enableRx(int rctl) {
        for (int i = 0; i < RING; i++) {
            memory.putLong(RX_RING + i * 16L, RX_BUF + i * 0x4000L);
            memory.putLong(RX_RING + i * 16L + 8, 0);
        }
        w(RDBAL, (int) RX_RING);
        w(RDBAH, 0);
        w(RDLEN, RING * 16);
        w(RDH, 0);
        w(RDT, RING - 1);
        w(RCTL, rctl | RCTL_EN);
    }

    private static byte[] frameTo(byte[] dst, int length) {
        byte[] f = bytes(length, 9);
        System.arraycopy(dst, 0, f, 0, 6);
        return f;
    }

    private int rxStatus(int i) {
        return memory.getByte(RX_RING + i * 16L + 12) & 0xFF;
    }

    private int rxLength(int i) {
        return memory.getShort(RX_RING + i * 16L + 8) & 0xFFFF;
    }

    @Test
    void receivedFrameLandsInTheRing() {
        enableRx(RCTL_BAM | RCTL_SECRC);
        w(IMS, ICR_RXT0);
        byte[] f = frameTo(OUR_MAC, 200);
        backend.inject(f);
        assertEquals(RXD_STAT_DD | RXD_STAT_EOP, rxStatus(0) & (RXD_STAT_DD | RXD_STAT_EOP));
        assertEquals(200, rxLength(0));
        assertArrayEquals(f, memory.read(RX_BUF, 200));
        assertEquals(1, r(RDH));
        assertTrue(line());
        assertTrue((r(ICR) & ICR_RXT0) != 0);
        assertEquals(1, r(GPRC));
        assertEquals(204, r(GORCL));
    }

    @Test
    void shortFramesArePaddedAndFcsAppendedUnlessStripped() {
        enableRx(0);
        byte[] f = frameTo(OUR_MAC, 42);
        backend.inject(f);
        assertEquals(64, rxLength(0));
        byte[] got = memory.read(RX_BUF, 64);
        assertArrayEquals(f, Arrays.copyOf(got, 42));
        assertArrayEquals(new byte[18], Arrays.copyOfRange(got, 42, 60));
        CRC32 crc = new CRC32();
        crc.update(got, 0, 60);
        long fcs = crc.getValue();
        for (int k = 0; k < 4; k++) {
            assertEquals((byte) (fcs >>> (8 * k)), got[60 + k]);
        }
    }

    @Test
    void largeFramesSpanSeveralDescriptors() {
        enableRx(RCTL_SECRC | 3 << 16); // 256-byte buffers
        byte[] f = frameTo(OUR_MAC, 600);
        backend.inject(f);
        assertEquals(RXD_STAT_DD, rxStatus(0) & 3);
        assertEquals(RXD_STAT_DD, rxStatus(1) & 3);
        assertEquals(RXD_STAT_DD | RXD_STAT_EOP, rxStatus(2) & 3);
        assertEquals(256, rxLength(0));
        assertEquals(88, rxLength(2));
        byte[] got = new byte[600];
        System.arraycopy(memory.read(RX_BUF, 256), 0, got, 0, 256);
        System.arraycopy(memory.read(RX_BUF + 0x4000, 256), 0, got, 256, 256);
        System.arraycopy(memory.read(RX_BUF + 0x8000, 88), 0, got, 512, 88);
        assertArrayEquals(f, got);
        assertEquals(3, r(RDH));
    }

    @Test
    void bufferSizesFollowBsizeAndBsex() {
        int[][] cases = {{0, 0, 2048}, {1, 0, 1024}, {2, 0, 512}, {3, 0, 256}, {1, 1, 16384}, {2, 1, 8192}, {3, 1, 4096}};
        for (int[] c : cases) {
            w(RCTL, c[0] << 16 | (c[1] == 1 ? RCTL_BSEX : 0));
            assertEquals(c[2], nic.bufferSize());
        }
    }

    @Test
    void destinationFiltering() {
        enableRx(RCTL_SECRC);
        byte[] other = {2, 0, 0, 0, 0, 7};
        byte[] broadcast = {-1, -1, -1, -1, -1, -1};
        byte[] multicast = {0x01, 0x00, 0x5e, 0x00, 0x00, (byte) 0xfb};
        backend.inject(frameTo(other, 60));
        backend.inject(frameTo(broadcast, 60));
        backend.inject(frameTo(multicast, 60));
        assertEquals(0, r(RDH), "other unicast, broadcast without BAM, multicast without MTA: filtered");
        w(RCTL, RCTL_EN | RCTL_SECRC | RCTL_BAM);
        backend.inject(frameTo(broadcast, 60));
        assertEquals(1, r(RDH));
        int hash = ((multicast[4] & 0xFF) >>> 4 | (multicast[5] & 0xFF) << 4) & 0xFFF; // MO = 0
        w(MTA + (hash >>> 5) * 4, 1 << (hash & 31));
        backend.inject(frameTo(multicast, 60));
        assertEquals(2, r(RDH));
        w(RCTL, RCTL_EN | RCTL_SECRC | RCTL_UPE);
        backend.inject(frameTo(other, 60));
        assertEquals(3, r(RDH));
        w(RAL0 + 8, 0x00000002);
        w(RAL0 + 12, 0x0700 | RAH_AV);
        w(RCTL, RCTL_EN | RCTL_SECRC);
        backend.inject(frameTo(other, 60));
        assertEquals(4, r(RDH), "second receive address matches");
        assertEquals(1, r(BPRC));
        assertEquals(1, r(MPRC));
    }

    @Test
    void framesWaitWhileTheRingIsFull() {
        enableRx(RCTL_SECRC);
        w(RDT, 2); // two free descriptors
        for (int i = 0; i < 4; i++) {
            backend.inject(frameTo(OUR_MAC, 60 + i));
        }
        assertEquals(2, r(RDH));
        assertEquals(2, backend.queued());
        assertTrue((r(ICR) & ICR_RXDMT0) != 0);
        w(RDT, 6);
        assertEquals(4, r(RDH));
        assertEquals(0, backend.queued());
        assertEquals(63, rxLength(3));
    }

    @Test
    void receiverOffDiscardsFrames() {
        backend.inject(frameTo(OUR_MAC, 60));
        assertEquals(0, backend.queued());
        assertEquals(0, r(GPRC));
    }

    @Test
    void badReceiveBuffersAndRingsDoNotCrash() {
        enableRx(RCTL_SECRC);
        memory.putLong(RX_RING, RAM - 100); // buffer runs past the end of RAM
        backend.inject(frameTo(OUR_MAC, 60));
        assertEquals(0, r(RDH));
        assertEquals(0, backend.queued(), "dropped");
        w(RDH, 100);                       // head beyond the ring
        backend.inject(frameTo(OUR_MAC, 60));
        w(RDH, 0);
        w(RDBAL, (int) (RAM - 64));        // ring runs past the end of RAM
        w(RDT, 5);
        assertTrue(nic.guestErrors() >= 2);
        assertEquals(0, r(GPRC));
    }

    @Test
    void oversizeFramesAreCountedAndDropped() {
        enableRx(RCTL_SECRC);
        backend.inject(frameTo(OUR_MAC, 2000));
        assertEquals(0, r(RDH));
        assertEquals(1, r(ROC));
        w(RCTL, RCTL_EN | RCTL_SECRC | RCTL_LPE);
        backend.inject(frameTo(OUR_MAC, 2000));
        assertEquals(1, r(RDH), "long packets enabled: one 2048-byte buffer");
    }

    @Test
    void softwareResetClearsInterruptStateAndKeepsTheMac() {
        enableRx(RCTL_SECRC);
        w(IMS, ICR_RXT0);
        w(ICS, ICR_RXT0);
        assertTrue(line());
        w(CTRL, CTRL_RST);
        assertFalse(line());
        assertEquals(0, r(IMS));
        assertEquals(0, r(RCTL));
        assertEquals(0, r(CTRL) & CTRL_RST);
        assertEquals(0x1198a000, r(RAL0));
    }

    @Test
    void missedPacketCountComesFromBackendDrops() {
        backend.setDropped(7);
        assertEquals(7, r(MPC));
        assertEquals(0, r(MPC));
    }

    // ------------------------------------------------------------ snapshots

    private static final int UDP_OFFLOAD = TXD_CMD_DEXT | TXD_DTYP_D | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;

    /**
     * Drives the NIC through every part of its state: both rings with a frame each way, a UDP
     * checksum context taken, ITR throttling, filters, PHY, a plain register, statistics, and
     * an EEPROM read stopped after the address bits; returns EECD for finishing the read.
     */
    private int busyNic() {
        enableTx();
        enableRx(RCTL_SECRC | RCTL_BAM);
        w(ITR, 500);
        w(IMS, ICR_TXDW | ICR_RXT0);
        w(MTA + 8, 0x1234);
        w(VFTA + 4, 0x55);
        w(RAL0 + 8, 0x00000002);
        w(RAL0 + 12, 0x0700 | RAH_AV);
        w(MDIC, MDIC_OP_WRITE | 1 << 21 | 4 << 16 | 0x0DE1);
        w(RDTR, 77);
        memory.write(TX_BUF, bytes(60, 1));
        txDesc(0, TX_BUF, 60 | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS, 0);
        w(TDT, 1);
        backend.inject(frameTo(OUR_MAC, 100));
        contextDescriptor(1, 40, 0, 0, 0, 0);
        w(TDT, 2);
        assertTrue(line());
        assertEquals(1, timers.size(), "the ITR throttle is running");
        return microwireAddress(regs, 1);
    }

    @Test
    void snapshotKeepsTheRegisterFileAndTheRingsGoOnFromWhereTheyWere() {
        int eecd = busyNic();
        FakeNetBackend wire = new FakeNetBackend();
        List<Boolean> freshLevels = new ArrayList<>();
        E1000 fresh = newNic(wire, freshLevels);
        StateRoundTrip.assertRoundTrip(nic, fresh);
        IoHandler f = fresh.bars().get(0).handler();

        assertTrue(freshLevels.getLast(), "INTx raised again from the saved Interrupt Status");
        assertEquals(2, timers.size(), "the throttle restarted");
        assertEquals(500L * 256, delays.getLast());
        assertEquals(0x1198, microwireData(f, eecd), "the EEPROM read goes on where it stopped");
        assertEquals(ICR_TXDW | ICR_TXQE | ICR_RXT0, r(f, ICR) & (ICR_TXDW | ICR_TXQE | ICR_RXT0));
        assertEquals(500, r(f, ITR));
        assertEquals(ICR_TXDW | ICR_RXT0, r(f, IMS));
        assertEquals(0x1234, r(f, MTA + 8));
        assertEquals(0x55, r(f, VFTA + 4));
        assertEquals(0x0700 | RAH_AV, r(f, RAL0 + 12));
        assertEquals(0x0DE1, mdioRead(f, 4));
        assertEquals(77, r(f, RDTR));
        assertEquals(1, r(f, GPTC));
        assertEquals(1, r(f, GPRC));
        assertEquals(2, r(f, TDH));
        assertEquals(1, r(f, RDH));

        // The next packet uses descriptor 2 and the UDP checksum context taken before the snapshot.
        byte[] p = ipv4Packet(17, 100, 8);
        put16(p, 40, fold(pseudoSum(p, 17, 108)));
        memory.write(TX_BUF + 0x1000, p);
        txDesc(2, TX_BUF + 0x1000, p.length | UDP_OFFLOAD, (TXD_POPTS_IXSM | TXD_POPTS_TXSM) << 8);
        w(f, TDT, 3);
        assertEquals(1, wire.sent().size());
        assertChecksumsValid(wire.sent().getFirst(), 17);
        assertEquals(3, r(f, TDH));
        assertEquals(TXD_STAT_DD, memory.getByte(TX_RING + 2 * 16 + 12) & TXD_STAT_DD);
        assertEquals(1, backend.sent().size(), "the original's backend sent nothing more");

        wire.inject(frameTo(OUR_MAC, 90));
        assertEquals(2, r(f, RDH), "receive goes on at descriptor 1");
        assertEquals(90, rxLength(1));
        fresh.close();
    }

    @Test
    void statisticsKeepTheBackendDropsNotYetReadIntoMpc() {
        backend.setDropped(5);
        E1000 fresh = newNic(new FakeNetBackend(), new ArrayList<>());
        StateRoundTrip.assertRoundTrip(nic, fresh);
        assertEquals(5, r(fresh.bars().get(0).handler(), MPC));
        fresh.close();
    }

    @Test
    void quiesceFinishesWhatWasTakenAndHoldsFramesUntilResume() {
        enableTx();
        enableRx(RCTL_SECRC);
        memory.write(TX_BUF, bytes(60, 1));
        txDesc(0, TX_BUF, 60 | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS, 0);
        nic.quiesce();
        backend.inject(frameTo(OUR_MAC, 80));
        w(TDT, 1);
        assertEquals(0, r(RDH));
        assertEquals(1, backend.queued(), "the frame waits in the backend");
        assertTrue(backend.sent().isEmpty());
        assertEquals(0, r(TDH));
        assertArrayEquals(StateRoundTrip.save(nic), StateRoundTrip.save(nic), "nothing moves while quiesced");
        nic.resumeAfterSnapshot();
        assertEquals(1, r(RDH));
        assertEquals(0, backend.queued());
        assertEquals(1, backend.sent().size());
        assertEquals(1, r(TDH));
        assertEquals(TXD_STAT_DD, memory.getByte(TX_RING + 12) & TXD_STAT_DD);
    }

    @Test
    void damagedSnapshotsAreRefusedWithSnapshotExceptionsOnly() {
        busyNic();
        byte[] blob = StateRoundTrip.save(nic);
        E1000 fresh = newNic(new FakeNetBackend(), new ArrayList<>());
        CorruptBlobs.assertOnlySnapshotExceptions(fresh, blob);
        fresh.close();
    }

    @Test
    void closeClosesTheBackend() {
        nic.close();
        assertTrue(backend.closed);
    }
}
