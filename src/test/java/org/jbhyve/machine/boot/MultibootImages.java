package org.jbhyve.machine.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Hand-built Multiboot kernels for loader tests. */
final class MultibootImages {
    static final int MAGIC = 0x1BADB002;

    private MultibootImages() {}

    /** A 12-byte Multiboot header with {@code flags} and a matching checksum. */
    static byte[] header(int flags) {
        return ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(MAGIC).putInt(flags).putInt(-(MAGIC + flags)).array();
    }

    /** A 32-byte header with flags bit 16 (plus {@code extraFlags}) and the address fields. */
    static byte[] addressHeader(int extraFlags, long headerAddr, long loadAddr, long loadEndAddr, long bssEndAddr,
                                long entryAddr) {
        int flags = MultibootHeader.FLAG_ADDRESSES | extraFlags;
        return ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(MAGIC).putInt(flags).putInt(-(MAGIC + flags))
                .putInt((int) headerAddr).putInt((int) loadAddr).putInt((int) loadEndAddr)
                .putInt((int) bssEndAddr).putInt((int) entryAddr).array();
    }

    /** {@code size} bytes of 0xCC with {@code part} copied in at {@code offset}. */
    static byte[] filled(int size, int offset, byte[] part) {
        byte[] image = new byte[size];
        java.util.Arrays.fill(image, (byte) 0xCC);
        System.arraycopy(part, 0, image, offset, part.length);
        return image;
    }

    /**
     * An ELF32 (EM_386) with two PT_LOAD segments: {@code text} at {@code textAddress} (file
     * offset 0x1000) and {@code data} at {@code dataAddress} (file offset 0x2000), the second
     * with {@code bss} more bytes in memory than in the file.
     */
    static byte[] elf32(long textAddress, byte[] text, long dataAddress, byte[] data, int bss, long entry) {
        ByteBuffer b = ByteBuffer.allocate(0x2000 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 1, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) 3).putInt(20, 1).putInt(24, (int) entry).putInt(28, 52);
        b.putShort(40, (short) 52).putShort(42, (short) 32).putShort(44, (short) 2);
        segment(b, 52, 0x1000, textAddress, text.length, text.length);
        segment(b, 84, 0x2000, dataAddress, data.length, data.length + bss);
        b.put(0x1000, text);
        b.put(0x2000, data);
        return b.array();
    }

    private static void segment(ByteBuffer b, int h, int offset, long address, int fileSize, int memSize) {
        b.putInt(h, 1).putInt(h + 4, offset).putInt(h + 8, (int) address).putInt(h + 12, (int) address)
                .putInt(h + 16, fileSize).putInt(h + 20, memSize).putInt(h + 24, 7).putInt(h + 28, 0x1000);
    }
}
