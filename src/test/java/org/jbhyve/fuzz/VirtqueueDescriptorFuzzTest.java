package org.jbhyve.fuzz;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.devices.virtio.block.VirtioBlock;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPci;
import org.jbhyve.virtio.VirtioPciFunction;
import org.jbhyve.virtio.VirtqueueException;
import org.junit.jupiter.api.Test;

/**
 * Virtqueue descriptors, through a virtio-blk device on the modern transport (the queue's
 * parser and the block request parser behind it). The input is a 16-entry descriptor table
 * (address, length, flags, next), 16 available-ring entries, the number of heads to publish,
 * then up to 4 KiB copied into a data window that seeds' descriptors (direct and indirect
 * tables, request headers, data) point into. Seeds are good read, write, flush, GET_ID and
 * indirect requests; mutations give loops, out-of-RAM addresses, huge lengths, nested
 * indirect tables and heads past the table.
 *
 * <p>A crash is: an exception from the driver's register writes; the device neither
 * completing every published chain nor flagging DEVICE_NEEDS_RESET (the one documented way a
 * {@link VirtqueueException} surfaces) within 2 s; bytes outside guest RAM changing; or the
 * device, after a reset, failing to serve a good read with the right data.
 */
class VirtqueueDescriptorFuzzTest {
    private static final long RAM = 8 << 20;
    private static final long WINDOW = RAM - (1 << 20);
    private static final int SIZE = 16, NEXT = 1, WRITE = 2, INDIRECT = 4;
    private static final int TABLE = 16 * SIZE, RING = 2 * SIZE, HEADER = TABLE + RING + 2;
    private static final int DISK = 64 * 1024;

    /** An input: descriptors, ring, publish count and window bytes. */
    private static final class Layout {
        final ByteBuffer table = ByteBuffer.allocate(TABLE).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer ring = ByteBuffer.allocate(RING).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer window = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        int heads;

        Layout desc(int i, long address, int length, int flags, int next) {
            table.putLong(16 * i, address).putInt(16 * i + 8, length).putShort(16 * i + 12, (short) flags)
                    .putShort(16 * i + 14, (short) next);
            return this;
        }

        Layout publish(int... head) {
            for (int h : head) {
                ring.putShort(2 * heads++, (short) h);
            }
            return this;
        }

        /** A block request header (type, sector) at window offset {@code at}. */
        Layout header(int at, int type, long sector) {
            window.putInt(at, type).putLong(at + 8, sector);
            return this;
        }

        byte[] bytes() {
            return Fuzz.concat(table.array(), ring.array(), new byte[] {(byte) heads, 0}, window.array());
        }
    }

    static List<byte[]> seeds() {
        List<byte[]> s = new ArrayList<>();
        s.add(new Layout().header(0, 0, 3).desc(0, WINDOW, 16, NEXT, 1).desc(1, WINDOW + 0x200, 1024, WRITE | NEXT, 2)
                .desc(2, WINDOW + 0x800, 1, WRITE, 0).publish(0).bytes());
        s.add(new Layout().header(0, 1, 5).desc(0, WINDOW, 16, NEXT, 1).desc(1, WINDOW + 0x200, 512, NEXT, 2)
                .desc(2, WINDOW + 0x800, 1, WRITE, 0).header(0x100, 4, 0).desc(3, WINDOW + 0x100, 16, NEXT, 4)
                .desc(4, WINDOW + 0x801, 1, WRITE, 0).publish(0, 3).bytes());
        Layout indirect = new Layout().header(0, 0, 1).desc(0, WINDOW + 0xC00, 48, INDIRECT, 0).publish(0);
        indirect.window.putLong(0xC00, WINDOW).putInt(0xC08, 16).putShort(0xC0C, (short) NEXT).putShort(0xC0E, (short) 1);
        indirect.window.putLong(0xC10, WINDOW + 0x200).putInt(0xC18, 512).putShort(0xC1C, (short) (WRITE | NEXT))
                .putShort(0xC1E, (short) 2);
        indirect.window.putLong(0xC20, WINDOW + 0x800).putInt(0xC28, 1).putShort(0xC2C, (short) WRITE);
        s.add(indirect.bytes());
        s.add(new Layout().header(0, 8, 0).desc(0, WINDOW, 16, NEXT, 1).desc(1, WINDOW + 0x200, 20, WRITE | NEXT, 2)
                .desc(2, WINDOW + 0x800, 1, WRITE, 0).header(0x100, 11, 0).desc(5, WINDOW + 0x100, 16, NEXT, 6)
                .desc(6, WINDOW + 0x400, 16, NEXT, 7).desc(7, WINDOW + 0x802, 1, WRITE, 0).publish(0, 5).bytes());
        return s;
    }

    static final class Target implements Fuzz.Target {
        private final Path image;
        private MockGuest guest;
        private VirtioPciFunction function;
        private MockDriver driver;
        private int inputs;

        Target() throws IOException {
            image = Files.createTempFile("fuzz", ".img");
            byte[] content = new byte[DISK];
            for (int i = 0; i < DISK; i++) {
                content[i] = (byte) (i / 512 * 3 + i % 512);
            }
            Files.write(image, content);
        }

        private void rig() {
            closeRig();
            guest = new MockGuest(RAM + 8192);      // 8 KiB past RAM's end: canaries
            guest.ram.asSlice(RAM, 8192).fill((byte) 0x5A);
            VirtioBlock dev = new VirtioBlock(BlockBackend.open(new BlockOptions(image.toString(), false, false, false,
                    512, 512, false, 2)), null);
            function = new VirtioPciFunction(dev, new org.jbhyve.memory.GuestMemory(List.of(
                    new org.jbhyve.memory.GuestMemory.Region(0, guest.ram.asSlice(0, RAM)))), guest,
                    GuestDoorbells.NONE, true);
            driver = new MockDriver(function, guest);
        }

        private void closeRig() {
            if (function != null) {
                function.close();
                guest.close();
            }
        }

        @Override
        public List<byte[]> seeds() {
            return VirtqueueDescriptorFuzzTest.seeds();
        }

        @Override
        public int maxRandomLength() {
            return HEADER + 512;
        }

        @Override
        public void run(byte[] input) throws Exception {
            if (inputs++ % 2000 == 0) {
                rig();               // the mock guest's allocator only grows: a fresh guest now and then
            }
            driver.startModern(-1L, SIZE, false);
            MockQueue q = driver.queues[0];
            byte[] in = Fuzz.fit(input, HEADER);
            guest.memory.write(q.desc, Fuzz.slice(in, 0, TABLE));
            int heads = Byte.toUnsignedInt(in[TABLE + RING]) % (SIZE + 1);
            if (input.length > HEADER) {
                guest.memory.write(WINDOW, Fuzz.slice(input, HEADER, Math.min(input.length, HEADER + 4096)));
            }
            ByteBuffer ring = ByteBuffer.wrap(in, TABLE, RING).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < heads; i++) {
                q.publish(Short.toUnsignedInt(ring.getShort(TABLE + 2 * i)));
            }
            driver.kick(0);
            long end = System.nanoTime() + 2_000_000_000L;
            while (q.usedIndex() != heads && (driver.status() & VirtioPci.STATUS_NEEDS_RESET) == 0) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("neither completed (" + q.usedIndex() + " of " + heads
                            + " chains) nor flagged DEVICE_NEEDS_RESET");
                }
                Thread.onSpinWait();
            }
            for (long i = 0; i < 8192; i++) {
                if (guest.ram.get(ValueLayout.JAVA_BYTE, RAM + i) != 0x5A) {
                    throw new AssertionError("byte " + i + " past guest RAM changed");
                }
            }
            assertServesARead(inputs % (DISK / 512));
        }

        /** Resets the device, then reads sector {@code sector} and checks its bytes and status. */
        private void assertServesARead(int sector) throws IOException {
            driver.startModern(-1L, SIZE, false);
            MockQueue q = driver.queues[0];
            long hdr = guest.alloc(16, 16);
            long data = guest.alloc(512, 512);
            long status = guest.alloc(1, 1);
            guest.memory.putInt(hdr, 0);
            guest.memory.putLong(hdr + 8, sector);
            guest.memory.putByte(status, (byte) 0x77);
            q.add(new MockQueue.Buf(hdr, 16, false), new MockQueue.Buf(data, 512, true), new MockQueue.Buf(status, 1, true));
            driver.kick(0);
            long end = System.nanoTime() + 5_000_000_000L;
            while (q.usedIndex() != 1) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("a good read did not complete after a reset");
                }
                Thread.onSpinWait();
            }
            if (guest.memory.getByte(status) != 0) {
                throw new AssertionError("a good read failed: status " + guest.memory.getByte(status));
            }
            byte[] expected = new byte[512];
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(image.toFile(), "r")) {
                f.seek(512L * sector);
                f.readFully(expected); // hostile writes may have changed it: the file is the truth
            }
            if (!java.util.Arrays.equals(expected, guest.memory.read(data, 512))) {
                throw new AssertionError("a good read returned the wrong bytes");
            }
        }

        @Override
        public void close() throws IOException {
            closeRig();
            Files.deleteIfExists(image);
        }
    }

    @Test
    void hostileDescriptorChainsNeverBreakTheDevice() throws Exception {
        Fuzz.check("virtqueue descriptors", 3000, new Target());
    }
}
