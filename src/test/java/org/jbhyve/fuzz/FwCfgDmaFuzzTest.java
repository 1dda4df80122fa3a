package org.jbhyve.fuzz;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jbhyve.devices.firmware.FwCfg;
import org.jbhyve.memory.GuestMemory;
import org.junit.jupiter.api.Test;

/**
 * QEMU's fw_cfg DMA interface. The input is a run of 24-byte operations: a big-endian
 * FWCfgDmaAccess (control with selector, length, address), then a 64-bit little-endian value
 * whose top byte picks how it is used: the descriptor's guest address started through the low
 * register alone, the 64-bit register, or both halves; or a selector write followed by reads of
 * the data port. Seeds are the transfers SeaBIOS and OVMF make (select and read a file, skip
 * then read, the signature, the directory); mutations give lengths past items and RAM,
 * addresses at RAM's end, write and unknown control bits, descriptors that overlap their own
 * target.
 *
 * <p>A crash is an exception out of a port access, or the device afterwards not reading the
 * signature and a file exactly through DMA.
 */
class FwCfgDmaFuzzTest {
    private static final long RAM = 1 << 20;
    private static final int OP = 24;
    private static final byte[] BIG = new byte[70_000];

    static {
        for (int i = 0; i < BIG.length; i++) {
            BIG[i] = (byte) (i * 31 + 7);
        }
    }

    static byte[] op(int control, int length, long address, int mode, long at) {
        return ByteBuffer.allocate(OP).putInt(control).putInt(length).putLong(address).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(16, at | (long) mode << 56).array();
    }

    static List<byte[]> seeds() {
        int file = FwCfg.FILE_FIRST; // "bootorder", then "etc/big", "etc/e820" in name order
        List<byte[]> s = new ArrayList<>();
        s.add(op((file + 1) << 16 | FwCfg.DMA_SELECT | FwCfg.DMA_READ, 4096, 0x8000, 0, 0x1000));
        s.add(Fuzz.concat(op((file + 2) << 16 | FwCfg.DMA_SELECT | FwCfg.DMA_SKIP, 8, 0, 1, 0x1000),
                op(FwCfg.DMA_READ, 12, 0x2000, 2, 0x1000)));
        s.add(Fuzz.concat(op(FwCfg.SIGNATURE << 16 | FwCfg.DMA_SELECT | FwCfg.DMA_READ, 4, 0x3000, 0, 0x1000),
                op(FwCfg.FILE_DIR << 16 | FwCfg.DMA_SELECT | FwCfg.DMA_READ, 4 + 64 * 3, 0x4000, 1, 0x1010)));
        s.add(Fuzz.concat(op(FwCfg.ID << 16, 8, 0, 3, 0), op(file << 16 | FwCfg.DMA_SELECT | FwCfg.DMA_READ, 0x10, 0x1008, 0,
                0x1000)));
        return s;
    }

    static final class Target implements Fuzz.Target {
        private final Arena arena = Arena.ofShared();
        private final GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, arena.allocate(RAM, 4096))));
        private final FwCfg fwcfg = FwCfg.builder().item16(0x05, 3).item64(0x03, 256L << 20)
                .file("etc/e820", new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
                .file("bootorder", "/pci@i0cf8/scsi@3/disk@0,0\0".getBytes(StandardCharsets.US_ASCII))
                .file("etc/big", BIG).build(memory);

        @Override
        public List<byte[]> seeds() {
            return FwCfgDmaFuzzTest.seeds();
        }

        @Override
        public void run(byte[] input) {
            for (int i = 0; i + OP <= input.length || (i == 0 && input.length > 0); i += OP) {
                byte[] op = Fuzz.fit(Fuzz.slice(input, i, Math.min(input.length, i + OP)), OP);
                long value = ByteBuffer.wrap(op, 16, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                int mode = (int) (value >>> 56) & 3;
                long at = value & 0x00FF_FFFF_FFFF_FFFFL;
                if (memory.contains(at, 16)) {
                    memory.write(at, Fuzz.slice(op, 0, 16));
                }
                switch (mode) {
                    case 0 -> fwcfg.write(8, 4, Integer.toUnsignedLong(Integer.reverseBytes((int) at)));
                    case 1 -> fwcfg.write(4, 8, Long.reverseBytes(at));
                    case 2 -> {
                        fwcfg.write(4, 4, Integer.toUnsignedLong(Integer.reverseBytes((int) (at >>> 32))));
                        fwcfg.write(8, 4, Integer.toUnsignedLong(Integer.reverseBytes((int) at)));
                    }
                    default -> {
                        fwcfg.write(0, 2, ByteBuffer.wrap(op).getShort() & 0xFFFF);
                        for (int n = 0; n < (op[7] & 15); n++) {
                            fwcfg.read(1, 1 << (n & 3));
                            fwcfg.read(n & 15, 4);
                        }
                    }
                }
            }
            assertStillWorks();
        }

        private int dma(int control, int length, long address) {
            memory.putInt(0x1000, Integer.reverseBytes(control));
            memory.putInt(0x1004, Integer.reverseBytes(length));
            memory.putLong(0x1008, Long.reverseBytes(address));
            fwcfg.write(4, 4, 0);
            fwcfg.write(8, 4, Integer.toUnsignedLong(Integer.reverseBytes(0x1000)));
            return Integer.reverseBytes(memory.getInt(0x1000));
        }

        private void assertStillWorks() {
            if (dma(FwCfg.SIGNATURE << 16 | FwCfg.DMA_SELECT | FwCfg.DMA_READ, 4, 0x5000) != 0
                    || !"QEMU".equals(new String(memory.read(0x5000, 4), StandardCharsets.US_ASCII))) {
                throw new AssertionError("the signature no longer reads through DMA");
            }
            int big = fwcfg.selectorOf("etc/big");
            if (dma(big << 16 | FwCfg.DMA_SELECT | FwCfg.DMA_READ, BIG.length, 0x10000) != 0
                    || !Arrays.equals(BIG, memory.read(0x10000, BIG.length))) {
                throw new AssertionError("a file no longer reads exactly through DMA");
            }
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    @Test
    void hostileDmaDescriptorsNeverBreakFwCfg() throws Exception {
        Fuzz.check("fw_cfg DMA", 3000, new Target());
    }
}
