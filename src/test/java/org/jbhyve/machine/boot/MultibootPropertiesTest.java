package org.jbhyve.machine.boot;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;

/** Whatever a Multiboot header says, loading fails as a {@link BootException} or succeeds inside RAM. */
class MultibootPropertiesTest {
    private static final MemoryMap MAP = MemoryMap.forSize(16L << 20);
    private static final GuestMemory MEMORY = new GuestMemory(List.of(
            new GuestMemory.Region(0, Arena.ofAuto().allocate(MAP.lowMemory(), 4096))));

    /** Addresses near the interesting edges: the loader's area, 1 MiB, the end of RAM, 4 GiB. */
    private static long near(int choice, int delta) {
        long[] bases = {0, 0x30000, 0x100000, MAP.lowMemory(), 0xFFFF_F000L};
        return (bases[Math.floorMod(choice, bases.length)] + delta) & 0xFFFF_FFFFL;
    }

    @Property(tries = 1500)
    void addressFieldsNeverEscape(@ForAll @IntRange(min = 0, max = 0x7F) int slot,
                                  @ForAll int h, @ForAll @IntRange(min = -0x3000, max = 0x3000) int hd,
                                  @ForAll int l, @ForAll @IntRange(min = -0x3000, max = 0x3000) int ld,
                                  @ForAll int e, @ForAll @IntRange(min = -0x3000, max = 0x3000) int ed,
                                  @ForAll int b, @ForAll @IntRange(min = -0x3000, max = 0x3000) int bd,
                                  @ForAll @IntRange(min = 0, max = 0x3000) int fileSize,
                                  @ForAll @IntRange(min = -1, max = 0x2000) int initrdSize) {
        int offset = slot * 4;
        byte[] header = MultibootImages.addressHeader(0, near(h, hd), near(l, ld), e % 2 == 0 ? 0 : near(e, ed),
                b % 2 == 0 ? 0 : near(b, bd), near(l, ld));
        byte[] image = new byte[Math.max(fileSize, offset + header.length)];
        System.arraycopy(header, 0, image, offset, header.length);
        load(image, initrdSize < 0 ? null : new byte[initrdSize]);
    }

    @Property(tries = 1500)
    void elfSegmentsNeverEscape(@ForAll int text, @ForAll @IntRange(min = -0x3000, max = 0x3000) int td,
                                @ForAll int data, @ForAll @IntRange(min = -0x3000, max = 0x3000) int dd,
                                @ForAll @IntRange(min = 0, max = 0x20000) int bss, @ForAll int entry) {
        byte[] code = new byte[16];
        System.arraycopy(MultibootImages.header(0), 0, code, 0, 12);
        load(MultibootImages.elf32(near(text, td), code, near(data, dd), new byte[32], bss, entry), new byte[100]);
    }

    private static void load(byte[] image, byte[] initrd) {
        try {
            Optional<MultibootHeader> header = MultibootHeader.find(image, "k");
            if (header.isEmpty()) {
                throw new AssertionError("the header was not found");
            }
            new MultibootLoader(new KernelLoader(MEMORY, MAP), MEMORY, MAP).load(header.get(),
                    java.lang.foreign.MemorySegment.ofArray(image), "k", "",
                    initrd == null ? null : java.lang.foreign.MemorySegment.ofArray(initrd),
                    "i");
        } catch (BootException expected) {
            // the only acceptable failure
        }
    }
}
