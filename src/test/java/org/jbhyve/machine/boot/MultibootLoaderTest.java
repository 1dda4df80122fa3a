package org.jbhyve.machine.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MultibootLoaderTest {
    private static final byte[] CODE = {(byte) 0xF4, (byte) 0xEB, (byte) 0xFE}; // hlt; jmp .
    private static final long INFO = MultibootInfo.INFO;

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

    private EntryState load(byte[] kernel, byte[] initrd, String cmdline) throws Exception {
        return new KernelLoader(memory, map).load(file("kernel", kernel), initrd == null ? null : file("initrd", initrd),
                cmdline, 0);
    }

    private String load(byte[] kernel) {
        return assertThrows(BootException.class, () -> load(kernel, null, "")).getMessage();
    }

    private String cString(long address) {
        StringBuilder s = new StringBuilder();
        for (long a = address; memory.getByte(a) != 0; a++) {
            s.append((char) memory.getByte(a));
        }
        return s.toString();
    }

    private long u32(long address) {
        return Integer.toUnsignedLong(memory.getInt(address));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Text: the header then code; data: 0x100 bytes of 0xAB followed by 0x3000 bytes of bss. */
    private static byte[] elfKernel() {
        byte[] data = new byte[0x100];
        Arrays.fill(data, (byte) 0xAB);
        return MultibootImages.elf32(0x100000, concat(MultibootImages.header(0), CODE), 0x101000, data, 0x3000,
                0x10000C);
    }

    @Test
    void elfKernelIsEnteredWithTheMagicInEaxAndTheInformationInEbx() throws Exception {
        memory.write(0x101100, new byte[] {1, 2, 3, 4}); // stale bytes where the bss goes
        EntryState e = load(elfKernel(), null, "x=1");
        assertEquals(new EntryState(EntryState.Mode.PROTECTED_32, 0x10000C, 0x2BADB002L, INFO, 0, "multiboot"), e);
        assertArrayEquals(concat(MultibootImages.header(0), CODE), memory.read(0x100000, 15), "text segment");
        assertEquals((byte) 0xAB, memory.getByte(0x1010FF));
        assertArrayEquals(new byte[4], memory.read(0x101100, 4), "bss is zeroed");
        assertEquals(0x24D, memory.getInt(INFO), "flags: memory, cmdline, mods, mmap, boot loader name");
        assertEquals(0, memory.getInt(INFO + 12), "no boot_device");
        assertEquals(dir.resolve("kernel") + " x=1", cString(u32(INFO + 16)), "file name first, as QEMU");
        assertEquals(0, memory.getInt(INFO + 20), "no modules");
        assertEquals("jbhyve", cString(u32(INFO + 64)));
    }

    @Test
    void informationStructureFieldsByteByByte() throws Exception {
        load(elfKernel(), "ENV=1\n".getBytes(StandardCharsets.US_ASCII), null);
        byte[] info = memory.read(INFO, MultibootInfo.INFO_SIZE);
        byte[] expected = new byte[MultibootInfo.INFO_SIZE];
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(expected).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x24D).putInt(4, 640).putInt(8, 63 * 1024);
        b.putInt(16, 0x20000).putInt(20, 1).putInt(24, 0x2100);
        b.putInt(44, 2 * 24).putInt(48, 0x2300).putInt(64, 0x2200);
        assertArrayEquals(expected, info);
        assertEquals(dir.resolve("kernel") + " ", cString(0x20000), "no boot.cmdline: QEMU still adds the space");
    }

    @Test
    void memoryMapEntriesAreSizePrefixed() throws Exception {
        load(elfKernel(), null, "");
        byte[] expected = new byte[48];
        java.nio.ByteBuffer.wrap(expected).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(20).putLong(0).putLong(0xA0000).putInt(1)
                .putInt(20).putLong(0x100000).putLong((64L << 20) - 0x100000).putInt(1);
        assertArrayEquals(expected, memory.read(u32(INFO + 48), 48));
        assertEquals(48, memory.getInt(INFO + 44));
    }

    @Test
    void initrdIsModuleZeroOnThePageAfterTheKernelsBss() throws Exception {
        byte[] env = "ENV=yes\nX=2\n".getBytes(StandardCharsets.US_ASCII);
        load(elfKernel(), env, "a b");
        long module = u32(INFO + 24);
        assertEquals(1, memory.getInt(INFO + 20));
        assertEquals(0x105000, u32(module), "bss ends at 0x104100: next page");
        assertEquals(0x105000 + env.length, u32(module + 4), "mod_end is exclusive");
        assertEquals(dir.resolve("initrd").toString(), cString(u32(module + 8)));
        assertEquals(0, memory.getInt(module + 12));
        assertArrayEquals(env, memory.read(0x105000, env.length));
        assertEquals(dir.resolve("kernel") + " a b", cString(u32(INFO + 16)));
    }

    @Test
    void addressFieldsLoadAFlatImage() throws Exception {
        // Header at file offset 0x40; the file is loaded from offset 0 at 0x200000.
        byte[] header = MultibootImages.addressHeader(MultibootHeader.FLAG_PAGE_ALIGN, 0x200040, 0x200000, 0x200800,
                0x203000, 0x200100);
        byte[] image = MultibootImages.filled(0x1000, 0x40, header);
        memory.write(0x200800, new byte[] {9, 9});
        EntryState e = load(image, "M".getBytes(StandardCharsets.US_ASCII), "");
        assertEquals(0x200100, e.rip());
        assertEquals(0x2BADB002L, e.rax());
        assertArrayEquals(Arrays.copyOf(image, 0x800), memory.read(0x200000, 0x800), "up to load_end_addr");
        assertArrayEquals(new byte[2], memory.read(0x200800, 2), "bss up to bss_end_addr is zeroed");
        assertEquals(0x203000, u32(u32(INFO + 24)), "module after bss_end_addr");
    }

    @Test
    void flatImageWithoutLoadEndIsLoadedToTheEndOfTheFile() throws Exception {
        // Header at file offset 0x1000, header_addr 0x300010: the load starts at file offset 0xFF0.
        byte[] header = MultibootImages.addressHeader(0, 0x300010, 0x300000, 0, 0, 0x300000);
        byte[] image = MultibootImages.filled(0x1800, 0x1000, header);
        image[image.length - 1] = 0x5A;
        load(image, new byte[1], "");
        assertArrayEquals(Arrays.copyOfRange(image, 0xFF0, image.length), memory.read(0x300000, image.length - 0xFF0));
        assertEquals(0x301000, u32(u32(INFO + 24)), "module on the page after the file's end 0x300810");
    }

    @Test
    void multibootTakesPrecedenceOverPvhAndABadChecksumDoesNot() throws Exception {
        byte[] code = concat(MultibootImages.header(0), CODE);
        EntryState e = load(TestImages.elf64(0x200000, code, 0x20000C, 0x200000), null, "");
        assertEquals("multiboot", e.protocol());
        assertEquals(0x20000C, e.rip(), "ELF entry, not the PVH note's");
        code[8]++;
        assertEquals("pvh", load(TestImages.elf64(0x200000, code, 0x20000C, 0x200000), null, "").protocol());
        assertEquals("linux64", load(TestImages.elf64(0x200000, code, 0x20000C, 0), null, "").protocol());
    }

    @Test
    void inconsistentAddressFieldsAreOneLineErrors() {
        assertTrue(load(MultibootImages.filled(0x1000, 0x40,
                MultibootImages.addressHeader(0, 0x200040, 0x200000, 0x1FF000, 0, 0x200000)))
                .endsWith("multiboot load_end_addr 0x1ff000 is below load_addr 0x200000"));
        assertTrue(load(MultibootImages.filled(0x1000, 0x40,
                MultibootImages.addressHeader(0, 0x100000, 0x200000, 0, 0, 0x200000)))
                .endsWith("multiboot header_addr 0x100000 is below load_addr 0x200000"));
        assertTrue(load(MultibootImages.filled(0x1000, 0x40,
                MultibootImages.addressHeader(0, 0x200080, 0x200000, 0, 0, 0x200000)))
                .contains("would start before the file"));
        assertTrue(load(MultibootImages.filled(0x1000, 0x40,
                MultibootImages.addressHeader(0, 0x200040, 0x200000, 0x201001, 0, 0x200000)))
                .endsWith("multiboot load_end_addr 0x201001 lies beyond the end of the file"));
        assertTrue(load(MultibootImages.filled(0x1000, 0x40,
                MultibootImages.addressHeader(0, 0x200040, 0x200000, 0x200800, 0x200400, 0x200000)))
                .endsWith("multiboot bss_end_addr 0x200400 is below the loaded end 0x200800"));
        assertTrue(load(MultibootImages.header(0)).endsWith("a multiboot kernel without address fields"
                + " (flags bit 16) must be ELF"));
    }

    @Test
    void kernelsAndModulesThatDoNotFitAreOneLineErrors() throws Exception {
        String high = load(MultibootImages.filled(0x1000, 0,
                MultibootImages.addressHeader(0, 0x8000000, 0x8000000, 0, 0, 0x8000000)));
        assertTrue(high.endsWith("at 0x8000000 (0x1000 bytes) does not fit in guest memory (64 MiB)"), high);
        String low = load(MultibootImages.filled(0x1000, 0,
                MultibootImages.addressHeader(0, 0x2000, 0x2000, 0, 0, 0x2000)));
        assertTrue(low.contains("does not fit in guest memory"), "the loader's own area: " + low);
        String bss = load(MultibootImages.filled(0x1000, 0,
                MultibootImages.addressHeader(0, 0x3F00000, 0x3F00000, 0, 0xFFFFF000L, 0x3F00000)));
        assertTrue(bss.endsWith("does not fit in guest memory (64 MiB)"), bss);
        String elf = load(MultibootImages.elf32(0x100000, concat(MultibootImages.header(0), CODE), 0x4000000,
                new byte[16], 0, 0x100000));
        assertTrue(elf.endsWith("segment at 0x4000000 (0x10 bytes) does not fit in guest memory (64 MiB)"), elf);
        byte[] nearTheEnd = MultibootImages.filled(0x1000, 0,
                MultibootImages.addressHeader(0, 0x3FFE000, 0x3FFE000, 0, 0, 0x3FFE000));
        BootException module = assertThrows(BootException.class, () -> load(nearTheEnd, new byte[0x1001], ""));
        assertEquals("initrd (multiboot module 0 at 0x3fff000) (0x1001 bytes) does not fit in guest memory (64 MiB)",
                module.getMessage());
        String above4g = load(TestImages.elf64(1L << 32, concat(MultibootImages.header(0), CODE), 1L << 32, 0));
        assertTrue(above4g.endsWith("segment at 0x100000000 (0x10f bytes) does not lie below 4 GiB"), above4g);
    }

    @Test
    void lowLinkedKernelLoadsBelowTheLinuxMinimumAroundTheLoadersOwnRanges() throws Exception {
        // Laid out like kvm-unit-tests' realmode.flat: text at 0x8000, data and bss up to 0xDA30.
        byte[] data = new byte[0x100];
        Arrays.fill(data, (byte) 0xAB);
        byte[] kernel = MultibootImages.elf32(0x8000, concat(MultibootImages.header(0), CODE), 0xB000, data, 0x2930,
                0x800C);
        byte[] env = "TARGET=qemu\n".getBytes(StandardCharsets.US_ASCII);
        EntryState e = load(kernel, env, "");
        assertEquals(new EntryState(EntryState.Mode.PROTECTED_32, 0x800C, 0x2BADB002L, INFO, 0, "multiboot"), e);
        assertArrayEquals(concat(MultibootImages.header(0), CODE), memory.read(0x8000, 15));
        assertEquals((byte) 0xAB, memory.getByte(0xB0FF));
        assertEquals(0xE000, u32(u32(INFO + 24)), "module on the page after the bss end 0xDA30");
        assertArrayEquals(env, memory.read(0xE000, env.length));
        assertEquals(GdtWriter.CODE32, memory.getLong(BootLayout.GDT + BootLayout.SELECTOR_CODE), "entry GDT intact");
    }

    @Test
    void moduleSkipsTheStringAreaWhenTheKernelEndsJustBelowIt() throws Exception {
        byte[] kernel = MultibootImages.elf32(0x10000, concat(MultibootImages.header(0), CODE), 0x11000, new byte[16],
                0xE000, 0x1000C);
        byte[] initrd = new byte[0x2000];
        Arrays.fill(initrd, (byte) 0x5C);
        load(kernel, initrd, "args");
        long module = u32(u32(INFO + 24));
        assertEquals(BootLayout.CMDLINE + BootLayout.CMDLINE_MAX, module, "0x1F000 + 8 KiB would cross 0x20000");
        assertArrayEquals(initrd, memory.read(module, initrd.length));
        assertEquals(dir.resolve("kernel") + " args", cString(u32(INFO + 16)), "the command line is not overwritten");
        assertEquals(0x1F000, MultibootLoader.moduleAddress(0x1E001, 0x1000), "a module that fits stays put");
    }

    @Test
    void kernelsOverlappingTheLoadersLowRangesAreRefused() {
        String gdt = load(MultibootImages.elf32(0xFF8, concat(MultibootImages.header(0), CODE), 0x8000, new byte[16],
                0, 0xFF8));
        assertTrue(gdt.endsWith("segment at 0xff8 (0xf bytes) does not fit in guest memory (64 MiB)"), gdt);
        String info = load(MultibootImages.filled(0x1000, 0,
                MultibootImages.addressHeader(0, 0x2E00, 0x2E00, 0, 0, 0x2E00)));
        assertTrue(info.endsWith("at 0x2e00 (0x1000 bytes) does not fit in guest memory (64 MiB)"), info);
        String strings = load(MultibootImages.elf32(0x18000, concat(MultibootImages.header(0), CODE), 0x1F000,
                new byte[16], 0x1000, 0x1800C));
        assertTrue(strings.endsWith("segment at 0x1f000 (0x1010 bytes) does not fit in guest memory (64 MiB)"), strings);
        String hole = load(MultibootImages.filled(0x1000, 0,
                MultibootImages.addressHeader(0, 0x9F800, 0x9F800, 0, 0, 0x9F800)));
        assertTrue(hole.endsWith("at 0x9f800 (0x1000 bytes) does not fit in guest memory (64 MiB)"),
                "the legacy VGA/ROM hole is not RAM: " + hole);
    }

    @Test
    void memUpperCountsContiguousRamFromOneMiBBelow4GiB() {
        List<E820Map.Entry> unsorted = List.of(new E820Map.Entry(0x200000, 0x100000, 1),
                new E820Map.Entry(0, 0x9FC00, 1), new E820Map.Entry(0x100000, 0x100000, 1),
                new E820Map.Entry(0x300000, 0x100000, 2), new E820Map.Entry(0x400000, 0x100000, 1));
        assertEquals(2048, MultibootInfo.memUpperKiB(unsorted), "stops at the reserved range");
        assertEquals(639, MultibootInfo.memLowerKiB(unsorted));
        MemoryMap big = new MemoryMap(3L << 30, 2L << 30);
        assertEquals((3L << 20) - 1024, MultibootInfo.memUpperKiB(E820Map.of(big)), "high memory is not counted");
        assertEquals(0, MultibootInfo.memUpperKiB(List.of(new E820Map.Entry(0, 0xA0000, 1))));
    }

    @Test
    void informationForALargeGuestListsHighMemory() {
        MemoryMap big = new MemoryMap(3L << 30, 2L << 30);
        MultibootInfo.write(memory, big, "k", null);
        assertEquals(3 * 24, memory.getInt(INFO + 44));
        assertEquals(1L << 32, memory.getLong(MultibootInfo.MMAP + 2 * 24 + 4));
        assertEquals(2L << 30, memory.getLong(MultibootInfo.MMAP + 2 * 24 + 12));
        assertEquals(((3L << 30) - (1 << 20)) / 1024, u32(INFO + 8));
    }

    @Test
    void stringsLongerThanTheirAreaAreRefused() {
        String longName = "x".repeat(BootLayout.CMDLINE_MAX - 10);
        BootException e = assertThrows(BootException.class, () -> MultibootInfo.write(memory, map, longName,
                new MultibootInfo.Module(0x200000, 1, "initrd-with-a-long-name")));
        assertEquals("boot.cmdline and the file names are longer than 65536 bytes in all", e.getMessage());
    }
}
