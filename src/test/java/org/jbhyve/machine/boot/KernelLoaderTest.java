package org.jbhyve.machine.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelLoaderTest {
    private static final byte[] CODE = {(byte) 0xF4, (byte) 0xEB, (byte) 0xFE}; // hlt; jmp .

    @TempDir
    Path dir;

    private final MemoryMap map = MemoryMap.forSize(64L << 20);
    private final GuestMemory memory = new GuestMemory(List.of(
            new GuestMemory.Region(0, Arena.ofAuto().allocate(map.lowMemory(), 4096))));

    private Path file(String name, byte[] bytes) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private String cString(long address) {
        StringBuilder s = new StringBuilder();
        for (long a = address; memory.getByte(a) != 0; a++) {
            s.append((char) memory.getByte(a));
        }
        return s.toString();
    }

    @Test
    void pvhStartInfoCarriesCommandLineMemoryMapInitrdAndRsdp() throws Exception {
        Path kernel = file("k.elf", TestImages.elf64(0x200000, CODE, 0xFFFF_FFFF_8120_0000L, 0x200000));
        Path initrd = file("initrd", "RAMDISK!".getBytes(StandardCharsets.US_ASCII));
        EntryState e = new KernelLoader(memory, map).load(kernel, initrd, "console=ttyS0", 0xF2400);
        assertEquals(new EntryState(EntryState.Mode.PROTECTED_32, 0x200000, BootLayout.START_INFO, 0, "pvh"), e);
        long s = BootLayout.START_INFO;
        assertEquals(PvhStartInfo.MAGIC, memory.getInt(s));
        assertEquals(1, memory.getInt(s + 4));
        assertEquals("console=ttyS0", cString(memory.getLong(s + 24)));
        assertEquals(0xF2400, memory.getLong(s + 32));
        assertEquals(1, memory.getInt(s + 12), "the initrd is module 0");
        long module = memory.getLong(s + 16);
        long initrdAt = memory.getLong(module);
        assertEquals(8, memory.getLong(module + 8));
        assertArrayEquals("RAMDISK!".getBytes(StandardCharsets.US_ASCII), memory.read(initrdAt, 8));
        assertEquals(2, memory.getInt(s + 48));
        long mm = memory.getLong(s + 40);
        assertEquals(0, memory.getLong(mm));
        assertEquals(0xA0000, memory.getLong(mm + 8));
        assertEquals(0x100000, memory.getLong(mm + 24));
        assertEquals((64L << 20) - 0x100000, memory.getLong(mm + 32));
        assertArrayEquals(CODE, memory.read(0x200000, CODE.length), "the segment is loaded");
        assertEquals(0, memory.getByte(0x200000 + CODE.length + 0x10), "bss is zeroed");
    }

    @Test
    void bzImageGetsBootParamsAtEsi() throws Exception {
        Path kernel = file("bzImage", TestImages.bzImage(CODE, 2048));
        EntryState e = new KernelLoader(memory, map).load(kernel, null, "root=/dev/vda", 0);
        assertEquals(EntryState.Mode.PROTECTED_32, e.mode());
        assertEquals(0x100000, e.rip());
        long p = e.rsi();
        assertEquals(0x53726448, memory.getInt(p + 0x202), "setup header copied");
        assertEquals((byte) 0xFF, memory.getByte(p + 0x210), "type_of_loader");
        assertEquals("root=/dev/vda", cString(Integer.toUnsignedLong(memory.getInt(p + 0x228))));
        assertEquals(2, memory.getByte(p + 0x1E8), "e820 entries");
        assertEquals(0x100000, memory.getLong(p + 0x2D0 + 20));
        assertEquals(1, memory.getInt(p + 0x2D0 + 20 + 16));
        assertArrayEquals(CODE, memory.read(0x100000, CODE.length));
    }

    @Test
    void sixtyFourBitElfWithoutNoteUsesLongModeAndIdentityPageTables() throws Exception {
        Path kernel = file("vmlinux", TestImages.elf64(0x1000000, CODE, 0x1000000, 0));
        EntryState e = new KernelLoader(memory, map).load(kernel, null, "quiet", 0);
        assertEquals(EntryState.Mode.LONG_64, e.mode());
        assertEquals(0x1000000, e.rip());
        assertEquals(BootLayout.BOOT_PARAMS, e.rsi());
        assertEquals(BootLayout.PDPT | 3, memory.getLong(BootLayout.PML4));
        long pd3 = memory.getLong(BootLayout.PDPT + 24) & ~0xFFFL;
        assertEquals((3L << 30) + (511L << 21) | 0x83, memory.getLong(pd3 + 511 * 8), "last 2 MiB page below 4 GiB");
    }

    @Test
    void imagesThatDoNotFitAreOneLineErrors() throws Exception {
        Path high = file("high.elf", TestImages.elf64(128L << 20, CODE, 0, 128L << 20));
        BootException e = assertThrows(BootException.class, () -> new KernelLoader(memory, map).load(high, null, "", 0));
        assertTrue(e.getMessage().contains("does not fit in guest memory (64 MiB)"), e.getMessage());
        Path legacyHole = file("hole.elf", TestImages.elf64(0xF0000, CODE, 0, 0xF0000));
        assertThrows(BootException.class, () -> new KernelLoader(memory, map).load(legacyHole, null, "", 0));
        Path bz = file("bz", TestImages.bzImage(CODE, 8));
        BootException tooLong = assertThrows(BootException.class,
                () -> new KernelLoader(memory, map).load(bz, null, "a much longer command line", 0));
        assertTrue(tooLong.getMessage().contains("limit of 8 bytes"), tooLong.getMessage());
        assertThrows(BootException.class, () -> new KernelLoader(memory, map).load(dir.resolve("missing"), null, "", 0));
    }
}
