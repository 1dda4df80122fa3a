package org.jbhyve.fuzz;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.jbhyve.backend.net.FakeNetBackend;
import org.jbhyve.backend.net.MacAddress;
import org.jbhyve.backend.net.NetConfig;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.devices.net.E1000;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciInterrupts;
import org.junit.jupiter.api.Test;

/**
 * e1000 (82545EM) transmit and receive descriptors. The input is 8 transmit descriptors, 8
 * receive descriptors, the transmit tail (up to 15, past the 8-entry ring), the receive tail,
 * RCTL bits, how many frames arrive from the wire and how long they are, then up to 16 KiB of
 * buffer bytes (packets, the frames that arrive). Seeds are legacy packets split over
 * descriptors, a TSO context with its data descriptors over an IPv4/TCP packet, checksum
 * offload, VLAN insertion, and a receive ring with arriving frames; mutations hit addresses,
 * lengths, command and option bits, header offsets and the MSS.
 *
 * <p>A crash is an exception out of a register write or out of the receive path, or the NIC,
 * after its transmit and receive rings are set up again, not sending a good frame unchanged or
 * not receiving one.
 */
class E1000DescriptorFuzzTest {
    private static final long RAM = 1 << 20;
    private static final long TX_RING = 0x1000, RX_RING = 0x2000, BUF = 0x10000, RX_BUF = 0x40000;
    private static final int RING = 8, HEADER = 2 * 16 * RING + 6, WINDOW = 16 * 1024;
    private static final int CTRL = 0x0, IMS = 0xD0, RCTL = 0x100, TCTL = 0x400;
    private static final int RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808, RDH = 0x2810, RDT = 0x2818;
    private static final int TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808, TDH = 0x3810, TDT = 0x3818;
    private static final int EOP = 1 << 24, IFCS = 1 << 25, TSE = 1 << 26, RS = 1 << 27, DEXT = 1 << 29, VLE = 1 << 30;
    private static final int DTYP_D = 1 << 20, TCP = 1 << 24, IP = 1 << 25;
    private static final MacAddress MAC = MacAddress.parse("00:a0:98:11:22:33");

    /** An input under construction. */
    private static final class Layout {
        final ByteBuffer b = ByteBuffer.allocate(HEADER + 2048).order(ByteOrder.LITTLE_ENDIAN);

        Layout tx(int i, long address, int lower, int upper) {
            b.putLong(16 * i, address).putInt(16 * i + 8, lower).putInt(16 * i + 12, upper);
            return this;
        }

        Layout rx(int i, long address) {
            b.putLong(16 * RING + 16 * i, address);
            return this;
        }

        Layout tails(int tdt, int rdt, int rctl, int frames, int frameLength) {
            b.put(2 * 16 * RING, (byte) tdt).put(2 * 16 * RING + 1, (byte) rdt).put(2 * 16 * RING + 2, (byte) rctl)
                    .put(2 * 16 * RING + 3, (byte) frames).putShort(2 * 16 * RING + 4, (short) frameLength);
            return this;
        }

        Layout data(int at, byte[] bytes) {
            b.put(HEADER + at, bytes);
            return this;
        }

        byte[] bytes() {
            return b.array();
        }
    }

    /** An Ethernet + IPv4 + TCP packet of {@code payload} bytes to our MAC. */
    static byte[] tcpPacket(int payload) {
        ByteBuffer p = ByteBuffer.allocate(54 + payload);
        p.put(MAC.octets()).put(new byte[] {2, 0, 0, 0, 0, 1}).putShort((short) 0x0800);
        p.put((byte) 0x45).put((byte) 0).putShort((short) (40 + payload)).putInt(0).put((byte) 64).put((byte) 6)
                .putShort((short) 0).putInt(0x0A000001).putInt(0x0A000002);
        p.putShort((short) 1234).putShort((short) 80).putInt(1).putInt(0).put((byte) 0x50).put((byte) 0x18)
                .putShort((short) 8192).putInt(0);
        for (int i = 0; i < payload; i++) {
            p.put((byte) i);
        }
        return p.array();
    }

    static List<byte[]> seeds() {
        List<byte[]> s = new ArrayList<>();
        byte[] p = tcpPacket(200);
        s.add(new Layout().data(0, p).tx(0, BUF, 20, 0).tx(1, BUF + 20, (p.length - 20) | EOP | IFCS | RS, 0)
                .tails(2, RING - 1, 0, 0, 0).bytes());
        int dcmd = DEXT | DTYP_D | IFCS | TSE | RS | EOP;
        // context: IPCSS 14, IPCSO 24, IPCSE 33, TUCSS 34, TUCSO 50, PAYLEN, MSS 100, HDRLEN 54
        Layout tso = new Layout().data(0, p).tails(2, RING - 1, 0, 0, 0);
        tso.b.putInt(0, 14 | 24 << 8 | 33 << 16).putInt(4, 34 | 50 << 8).putInt(8, (p.length - 54) | TCP | IP | TSE | DEXT | RS)
                .putInt(12, 54 << 8 | 100 << 16);
        tso.tx(1, BUF, p.length | dcmd, 3 << 8);
        s.add(tso.bytes());
        s.add(new Layout().data(0, p).tx(0, BUF, p.length | EOP | IFCS | RS | VLE, 42 << 16 | 14 << 8 | 3 << 0)
                .tx(1, BUF, 60 | EOP | DEXT | DTYP_D | RS, 2 << 8).tails(3, RING - 1, 0, 0, 0).bytes());
        Layout rx = new Layout().data(0, p).tails(0, 5, 0x81, 3, p.length);
        for (int i = 0; i < RING; i++) {
            rx.rx(i, RX_BUF + 0x800L * i);
        }
        s.add(rx.bytes());
        return s;
    }

    static final class Target implements Fuzz.Target {
        private final Arena arena = Arena.ofShared();
        private final GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, arena.allocate(RAM, 4096))));
        /** The wire: every frame sent counted, the newest kept; frames to receive queued. */
        private final FakeNetBackend wire = new FakeNetBackend(1);
        private final E1000 nic = new E1000(new NetConfig(wire, MAC, OptionalInt.empty()), memory, new PciInterrupts() {
            @Override
            public IrqLine intx() {
                return level -> { };
            }

            @Override
            public void sendMsi(long address, int data) {
            }
        });
        private final IoHandler regs = nic.bars().getFirst().handler();

        private void w(int offset, int value) {
            regs.write(offset, 4, Integer.toUnsignedLong(value));
        }

        private int r(int offset) {
            return (int) regs.read(offset, 4);
        }

        @Override
        public List<byte[]> seeds() {
            return E1000DescriptorFuzzTest.seeds();
        }

        @Override
        public int maxRandomLength() {
            return HEADER + 256;
        }

        /** Reset, then both rings at their places, empty; receive on with {@code rctl}. */
        private void setUp(int rctl, int rdt) {
            w(CTRL, 1 << 26);
            w(TDBAL, (int) TX_RING);
            w(TDBAH, 0);
            w(TDLEN, RING * 16);
            w(TDH, 0);
            w(TDT, 0);
            w(TCTL, 1 << 1);
            w(RDBAL, (int) RX_RING);
            w(RDBAH, 0);
            w(RDLEN, RING * 16);
            w(RDH, 0);
            w(RDT, rdt);
            w(RCTL, rctl | 1 << 1);
            w(IMS, -1);
        }

        @Override
        public void run(byte[] input) {
            byte[] in = Fuzz.fit(input, HEADER);
            ByteBuffer h = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN);
            int at = 2 * 16 * RING;
            int tdt = in[at] & 0xF;
            int rdt = in[at + 1] & 0xF;
            int rctl = (in[at + 2] & 0xFF) << 2 | (in[at + 2] & 0x80) << 18 | (in[at + 2] & 0x40) << 20
                    | (in[at + 2] & 0x30) << 12;
            int frames = in[at + 3] & 3;
            int frameLength = h.getShort(at + 4) & 0x7FFF;
            setUp(rctl, 0);
            memory.write(TX_RING, Fuzz.slice(in, 0, 16 * RING));
            memory.write(RX_RING, Fuzz.slice(in, 16 * RING, 2 * 16 * RING));
            byte[] window = input.length > HEADER ? Fuzz.slice(input, HEADER, Math.min(input.length, HEADER + WINDOW))
                    : new byte[0];
            memory.write(BUF, window);
            w(TDT, tdt);
            w(RDT, rdt);
            for (int i = 0; i < frames; i++) {
                wire.inject(Arrays.copyOf(window, Math.min(frameLength, 20000)));
            }
            wire.clearIncoming();
            assertStillWorks();
        }

        /** A good frame goes out unchanged and a good frame comes in. */
        private void assertStillWorks() {
            setUp(0, RING - 1);
            byte[] p = tcpPacket(100);
            memory.write(BUF, p);
            memory.putLong(TX_RING, BUF);
            memory.putInt(TX_RING + 8, p.length | EOP | IFCS | RS);
            memory.putInt(TX_RING + 12, 0);
            long before = wire.sentCount();
            w(TDT, 1);
            if (wire.sentCount() != before + 1 || !Arrays.equals(p, wire.lastSent()) || r(TDH) != 1) {
                throw new AssertionError("a good frame was not sent as it was");
            }
            for (int i = 0; i < RING; i++) {
                memory.putLong(RX_RING + 16L * i, RX_BUF + 0x800L * i);
                memory.putLong(RX_RING + 16L * i + 8, 0);
            }
            wire.inject(p);
            if ((memory.getByte(RX_RING + 12) & 1) == 0 || !Arrays.equals(p, memory.read(RX_BUF, p.length))) {
                throw new AssertionError("a good frame was not received");
            }
        }

        @Override
        public void close() {
            nic.close();
            arena.close();
        }
    }

    /** Found by this target: a packet of no bytes (or only its FCS) threw out of the TDT write. */
    @Test
    void anEmptyPacketIsDroppedNotThrown() throws Exception {
        try (Target t = new Target()) {
            t.setUp(0, 0);
            t.memory.putLong(TX_RING, BUF);
            t.memory.putInt(TX_RING + 8, EOP | IFCS | RS);
            t.memory.putLong(TX_RING + 16, BUF);
            t.memory.putInt(TX_RING + 24, 4 | EOP | RS);              // only an FCS
            t.w(TDT, 2);
            org.junit.jupiter.api.Assertions.assertEquals(2, t.r(TDH), "both completed");
            org.junit.jupiter.api.Assertions.assertEquals(0, t.wire.sentCount(), "nothing went on the wire");
            t.assertStillWorks();
        }
    }

    @Test
    void hostileDescriptorsNeverBreakTheNic() throws Exception {
        Fuzz.check("e1000 descriptors", 3000, new Target());
    }
}
