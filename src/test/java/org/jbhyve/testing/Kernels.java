package org.jbhyve.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Kernel images small enough to write in a test: just enough for the loader to accept them. */
public final class Kernels {
    private Kernels() {}

    /**
     * A PVH kernel: an ELF64 whose one PT_LOAD puts {@code hlt; jmp .} at {@code loadAddress},
     * with a PT_NOTE of type 18 (XEN_ELFNOTE_PHYS32_ENTRY) naming it as the 32-bit entry, and
     * {@code bss} zero bytes after it.
     */
    public static byte[] pvh(long loadAddress, long bss) {
        byte[] code = {(byte) 0xF4, (byte) 0xEB, (byte) 0xFE};
        int phoff = 64;
        int note = phoff + 2 * 56;
        int text = 0x200;
        ByteBuffer b = ByteBuffer.allocate(text + code.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1).putLong(24, loadAddress);
        b.putLong(32, phoff).putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) 2);
        b.putInt(phoff, 1).putInt(phoff + 4, 7).putLong(phoff + 8, text).putLong(phoff + 16, loadAddress)
                .putLong(phoff + 24, loadAddress).putLong(phoff + 32, code.length).putLong(phoff + 40, code.length + bss);
        int n = phoff + 56;
        b.putInt(n, 4).putLong(n + 8, note).putLong(n + 32, 20);
        b.putInt(note, 4).putInt(note + 4, 4).putInt(note + 8, 18).put(note + 12, new byte[] {'X', 'e', 'n', 0});
        b.putInt(note + 16, (int) loadAddress);
        b.put(text, code);
        return b.array();
    }
}
