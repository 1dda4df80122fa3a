package org.jbhyve.fuzz;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jbhyve.machine.boot.BootException;
import org.jbhyve.machine.boot.KernelLoader;
import org.jbhyve.machine.boot.TestImages;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;
import org.junit.jupiter.api.Test;

/**
 * The kernel loaders ({@code boot.kernel}): the input is the kernel file, loaded by
 * {@link KernelLoader} into a 32 MiB guest, with a small initrd when the input's length is odd.
 * Seeds are a 64-bit ELF, a PVH ELF (XEN_ELFNOTE_PHYS32_ENTRY), a bzImage with a 2.15 header,
 * a Multiboot ELF32 and a Multiboot a.out-kludge image; mutations hit header fields (offsets,
 * counts, sizes, addresses, flags, checksums) with extremes.
 *
 * <p>A crash is any exception other than {@link BootException} (the loaders' one-line error),
 * or one whose message is not one line.
 */
class KernelLoaderFuzzTest {
    private static final long RAM = 32 << 20;
    private static final byte[] CODE = {(byte) 0xF4, (byte) 0xEB, (byte) 0xFE}; // hlt; jmp .
    private static final int MB_MAGIC = 0x1BADB002;

    /** An ELF32 (EM_386) whose text at 0x100000 starts with a Multiboot header, data and bss after it. */
    static byte[] multibootElf() {
        byte[] text = Fuzz.concat(Fuzz.le32(MB_MAGIC, 3, -(MB_MAGIC + 3)), CODE);
        byte[] data = {1, 2, 3, 4, 5, 6, 7, 8};
        ByteBuffer b = ByteBuffer.allocate(0x2000 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 1, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) 3).putInt(20, 1).putInt(24, 0x10000C).putInt(28, 52);
        b.putShort(40, (short) 52).putShort(42, (short) 32).putShort(44, (short) 2);
        b.putInt(52, 1).putInt(56, 0x1000).putInt(60, 0x100000).putInt(64, 0x100000).putInt(68, text.length)
                .putInt(72, text.length).putInt(76, 7).putInt(80, 0x1000);
        b.putInt(84, 1).putInt(88, 0x2000).putInt(92, 0x101000).putInt(96, 0x101000).putInt(100, data.length)
                .putInt(104, data.length + 0x1000).putInt(108, 7).putInt(112, 0x1000);
        b.put(0x1000, text);
        b.put(0x2000, data);
        return b.array();
    }

    /** A flat Multiboot image (flags bit 16: the header gives the load addresses), 4 KiB at 1 MiB. */
    static byte[] multibootFlat() {
        int flags = 1 << 16 | 2;
        byte[] header = Fuzz.le32(MB_MAGIC, flags, -(MB_MAGIC + flags), 0x100000, 0x100000, 0, 0x102000, 0x100020);
        byte[] image = new byte[4096];
        java.util.Arrays.fill(image, (byte) 0xCC);
        System.arraycopy(header, 0, image, 0, header.length);
        System.arraycopy(CODE, 0, image, 0x20, CODE.length);
        return image;
    }

    static final class Target implements Fuzz.Target {
        private final Arena arena = Arena.ofShared();
        private final MemoryMap map = MemoryMap.forSize(RAM);
        private final GuestMemory memory = new GuestMemory(List.of(
                new GuestMemory.Region(0, arena.allocate(map.lowMemory(), 4096))));
        private final Path kernel;
        private final Path initrd;

        Target() throws IOException {
            kernel = Fuzz.tempFile(".kernel");
            initrd = Fuzz.tempFile(".initrd");
            Files.write(initrd, "RAMDISK!".repeat(64).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }

        @Override
        public List<byte[]> seeds() {
            return List.of(TestImages.elf64(0x200000, CODE, 0xFFFF_FFFF_8120_0000L, 0), TestImages.elf64(0x200000, CODE, 0x200000, 0x200000),
                    TestImages.bzImage(new byte[4096], 2048), multibootElf(), multibootFlat());
        }

        @Override
        public int maxRandomLength() {
            return 2048;
        }

        @Override
        public void run(byte[] input) throws IOException {
            Files.write(kernel, input);
            try {
                new KernelLoader(memory, map).load(kernel, input.length % 2 == 1 ? initrd : null, "console=ttyS0", 0xF2400);
            } catch (BootException e) {
                if (e.getMessage() == null || e.getMessage().contains("\n")) {
                    throw new AssertionError("not a one-line error: " + e.getMessage(), e);
                }
            }
        }

        @Override
        public void close() throws IOException {
            Files.deleteIfExists(kernel);
            Files.deleteIfExists(initrd);
            arena.close();
        }
    }

    @Test
    void hostileKernelsFailWithOneLine() throws Exception {
        Fuzz.check("kernel loaders", 3000, new Target());
    }
}
