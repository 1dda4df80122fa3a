package org.jbhyve.machine.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Small, hand-built kernel images for loader tests. */
public final class TestImages {
    private TestImages() {}

    /**
     * An ELF64 with one PT_LOAD of {@code code} at {@code loadAddress} and, when {@code pvhEntry}
     * is non-zero, a PT_NOTE holding XEN_ELFNOTE_PHYS32_ENTRY.
     */
    public static byte[] elf64(long loadAddress, byte[] code, long entry, long pvhEntry) {
        int phnum = pvhEntry != 0 ? 2 : 1;
        int phoff = 64;
        int noteOffset = phoff + 56 * phnum;
        int noteSize = 20;
        int codeOffset = 0x200;
        ByteBuffer b = ByteBuffer.allocate(codeOffset + code.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1).putLong(24, entry).putLong(32, phoff);
        b.putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) phnum);
        int h = phoff;
        b.putInt(h, 1).putInt(h + 4, 7).putLong(h + 8, codeOffset).putLong(h + 16, loadAddress)
                .putLong(h + 24, loadAddress).putLong(h + 32, code.length).putLong(h + 40, code.length + 0x100);
        if (pvhEntry != 0) {
            h += 56;
            b.putInt(h, 4).putLong(h + 8, noteOffset).putLong(h + 32, noteSize);
            b.putInt(noteOffset, 4).putInt(noteOffset + 4, 4).putInt(noteOffset + 8, 18);
            b.put(noteOffset + 12, new byte[] {'X', 'e', 'n', 0});
            b.putInt(noteOffset + 16, (int) pvhEntry);
        }
        b.put(codeOffset, code);
        return b.array();
    }

    /** A bzImage: 4 setup sectors with a 2.15 header, then {@code payload} as the protected-mode kernel. */
    public static byte[] bzImage(byte[] payload, int cmdlineSize) {
        int setupSects = 4;
        ByteBuffer b = ByteBuffer.allocate((setupSects + 1) * 512 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1F1, (byte) setupSects);
        b.putShort(0x1FE, (short) 0xAA55);
        b.put(0x201, (byte) 0x6A); // header ends at 0x202 + 0x6A = 0x26C
        b.putInt(0x202, 0x53726448);
        b.putShort(0x206, (short) 0x020F);
        b.put(0x211, (byte) 0x01);
        b.putInt(0x214, 0x100000);
        b.putInt(0x22C, 0x7FFFFFFF);
        b.putInt(0x230, 0x200000);
        b.putInt(0x238, cmdlineSize);
        b.putInt(0x260, payload.length + 0x1000);
        b.put((setupSects + 1) * 512, payload);
        return b.array();
    }
}
