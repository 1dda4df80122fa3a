package org.jbhyve.machine.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jbhyve.memory.GuestRam;
import org.jbhyve.memory.MemoryMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Boot files are mapped and copied into guest memory, never read onto the heap; only regular files qualify. */
class BootFileTest {
    private static final byte[] CODE = {(byte) 0xF4, (byte) 0xEB, (byte) 0xFE}; // hlt; jmp .
    private static final long INITRD_SIZE = 200L << 20;

    @TempDir
    Path dir;

    private static long allocatedByThisThread() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().threadId());
    }

    @Test
    void aTwoHundredMegabyteInitrdIsCopiedWithoutTouchingTheHeap() throws Exception {
        Path kernel = dir.resolve("k.elf");
        Files.write(kernel, TestImages.elf64(0x200000, CODE, 0xFFFF_FFFF_8120_0000L, 0x200000));
        Path initrd = dir.resolve("initrd.img");
        try (RandomAccessFile f = new RandomAccessFile(initrd.toFile(), "rw")) {
            f.setLength(INITRD_SIZE); // sparse: only the two marks take disk space
            f.write("FIRST".getBytes(StandardCharsets.US_ASCII));
            f.seek(INITRD_SIZE - 4);
            f.write("LAST".getBytes(StandardCharsets.US_ASCII));
        }
        MemoryMap map = MemoryMap.forSize(512L << 20);
        try (GuestRam ram = new GuestRam(map, false, false)) {
            KernelLoader loader = new KernelLoader(ram.memory(), map);
            long before = allocatedByThisThread();
            loader.load(kernel, initrd, "console=ttyS0", 0);
            long allocated = allocatedByThisThread() - before;
            assertTrue(allocated < 16L << 20, "loading allocated " + allocated + " bytes on the heap");

            long module = ram.memory().getLong(BootLayout.START_INFO + 16);
            long at = ram.memory().getLong(module);
            assertEquals(INITRD_SIZE, ram.memory().getLong(module + 8));
            assertArrayEquals("FIRST".getBytes(StandardCharsets.US_ASCII), ram.memory().read(at, 5));
            assertArrayEquals("LAST".getBytes(StandardCharsets.US_ASCII), ram.memory().read(at + INITRD_SIZE - 4, 4));
        }
    }

    @Test
    void aDeviceOrDirectoryIsNotABootFile() {
        assertEquals("boot.kernel /dev/zero: not a regular file",
                assertThrows(BootException.class, () -> BootFile.map("boot.kernel", Path.of("/dev/zero"))).getMessage());
        assertEquals("boot.initrd " + dir + ": not a regular file",
                assertThrows(BootException.class, () -> BootFile.map("boot.initrd", dir)).getMessage());
    }

    @Test
    void aMissingFileIsNamedOnceWithTheSystemsReason() throws Exception {
        MemoryMap map = MemoryMap.forSize(64L << 20);
        try (GuestRam ram = new GuestRam(map, false, false)) {
            KernelLoader loader = new KernelLoader(ram.memory(), map);
            assertEquals("boot.kernel /nonexistent/vmlinuz: No such file or directory", assertThrows(
                    BootException.class, () -> loader.load(Path.of("/nonexistent/vmlinuz"), null, "", 0)).getMessage());
            Path kernel = dir.resolve("k.elf");
            Files.write(kernel, TestImages.elf64(0x200000, CODE, 0xFFFF_FFFF_8120_0000L, 0x200000));
            Path loop = Files.createSymbolicLink(dir.resolve("loop"), dir.resolve("loop"));
            assertEquals("boot.initrd " + loop + ": Too many levels of symbolic links", assertThrows(
                    BootException.class, () -> loader.load(kernel, loop, "", 0)).getMessage());
        }
    }

    @Test
    void anEmptyKernelIsMappedAndThenRefusedForItsFormat() throws Exception {
        Path empty = dir.resolve("empty");
        Files.write(empty, new byte[0]);
        try (BootFile f = BootFile.map("boot.kernel", empty)) {
            assertEquals(0, f.size());
        }
        MemoryMap map = MemoryMap.forSize(64L << 20);
        try (GuestRam ram = new GuestRam(map, false, false)) {
            assertEquals(empty + ": neither an ELF kernel nor a Linux bzImage nor a Multiboot kernel",
                    assertThrows(BootException.class, () -> new KernelLoader(ram.memory(), map).load(empty, null, "", 0))
                            .getMessage());
        }
    }
}
