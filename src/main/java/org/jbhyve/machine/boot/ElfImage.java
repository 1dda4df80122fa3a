package org.jbhyve.machine.boot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * A parsed x86 ELF executable (ELFCLASS32 or ELFCLASS64, little-endian): its loadable segments
 * and, when present, the PVH entry point from a {@code XEN_ELFNOTE_PHYS32_ENTRY} note (name
 * "Xen", type 18, a 32-bit physical address). Every offset and size is checked against the file:
 * a malformed image is a {@link BootException}, never an exception from deep inside. The file is
 * read where it lies (a mapping of the kernel file, see {@link BootFile}), never copied whole.
 */
public final class ElfImage {
    private static final int PT_LOAD = 1;
    private static final int PT_NOTE = 4;
    private static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    private static final int EM_386 = 3;
    private static final int EM_X86_64 = 62;

    /** A PT_LOAD segment: {@code fileSize} bytes from {@code offset} at {@code physicalAddress}, zero-filled to {@code memorySize}. */
    public record Segment(long physicalAddress, long offset, long fileSize, long memorySize) {}

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment file;
    private final boolean is64;
    private final long entry;
    private final List<Segment> segments;
    private final OptionalLong pvhEntry;

    private ElfImage(MemorySegment file, boolean is64, long entry, List<Segment> segments, OptionalLong pvhEntry) {
        this.file = file;
        this.is64 = is64;
        this.entry = entry;
        this.segments = segments;
        this.pvhEntry = pvhEntry;
    }

    public static boolean looksLikeElf(MemorySegment file) {
        return file.byteSize() >= 4 && u8(file, 0) == 0x7F && u8(file, 1) == 'E' && u8(file, 2) == 'L'
                && u8(file, 3) == 'F';
    }

    /** {@link #parse(MemorySegment, String)} of bytes on the heap (tests, small images). */
    public static ElfImage parse(byte[] file, String name) {
        return parse(MemorySegment.ofArray(file), name);
    }

    public static ElfImage parse(MemorySegment file, String name) {
        long length = file.byteSize();
        if (!looksLikeElf(file) || length < 52) {
            throw new BootException(name + ": not an ELF file");
        }
        MemorySegment b = file;
        int elfClass = u8(file, 4);
        if (u8(file, 5) != 1) {
            throw new BootException(name + ": not a little-endian ELF file");
        }
        boolean is64 = elfClass == 2;
        if (elfClass != 1 && !is64) {
            throw new BootException(name + ": unknown ELF class " + elfClass);
        }
        if (length < (is64 ? 64 : 52)) {
            throw new BootException(name + ": ELF header is truncated");
        }
        int machine = u16(b, 18);
        if (machine != EM_386 && machine != EM_X86_64) {
            throw new BootException(name + ": not an x86 ELF file (machine " + machine + ")");
        }
        long entry = is64 ? b.get(U64, 24) : u32(b, 24);
        long phoff = is64 ? b.get(U64, 32) : u32(b, 28);
        int phentsize = u16(b, is64 ? 54 : 42);
        int phnum = u16(b, is64 ? 56 : 44);
        if (phnum == 0 || phentsize < (is64 ? 56 : 32) || phoff < 0 || phoff > length
                || (long) phnum * phentsize > length - phoff) {
            throw new BootException(name + ": ELF program headers are missing or truncated");
        }
        List<Segment> segments = new ArrayList<>();
        OptionalLong pvh = OptionalLong.empty();
        for (int i = 0; i < phnum; i++) {
            long h = phoff + (long) i * phentsize;
            int type = b.get(U32, h);
            long offset = is64 ? b.get(U64, h + 8) : u32(b, h + 4);
            long paddr = is64 ? b.get(U64, h + 24) : u32(b, h + 12);
            long filesz = is64 ? b.get(U64, h + 32) : u32(b, h + 16);
            long memsz = is64 ? b.get(U64, h + 40) : u32(b, h + 20);
            if (offset < 0 || filesz < 0 || offset > length || filesz > length - offset) {
                throw new BootException(name + ": ELF segment " + i + " lies outside the file");
            }
            if (type == PT_LOAD) {
                if (memsz < filesz) {
                    throw new BootException(name + ": ELF segment " + i + " has memsz < filesz");
                }
                segments.add(new Segment(paddr, offset, filesz, memsz));
            } else if (type == PT_NOTE && pvh.isEmpty()) {
                pvh = findPvhNote(b, offset, filesz);
            }
        }
        if (segments.isEmpty()) {
            throw new BootException(name + ": ELF file has no loadable segments");
        }
        return new ElfImage(file, is64, entry, List.copyOf(segments), pvh);
    }

    /** Walks ELF notes: {u32 namesz, descsz, type; name padded to 4; desc padded to 4}. */
    private static OptionalLong findPvhNote(MemorySegment b, long start, long size) {
        long at = start;
        long end = start + size;
        while (at + 12 <= end) {
            long namesz = u32(b, at);
            long descsz = u32(b, at + 4);
            int type = b.get(U32, at + 8);
            long name = at + 12L;
            long desc = name + ((namesz + 3) & ~3L);
            long next = desc + ((descsz + 3) & ~3L);
            if (next > end) {
                break;
            }
            if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 && u8(b, name) == 'X'
                    && u8(b, name + 1) == 'e' && u8(b, name + 2) == 'n' && descsz >= 4) {
                return OptionalLong.of(u32(b, desc));
            }
            at = next;
        }
        return OptionalLong.empty();
    }

    public boolean is64Bit() {
        return is64;
    }

    public long entry() {
        return entry;
    }

    public List<Segment> segments() {
        return segments;
    }

    public OptionalLong pvhEntry() {
        return pvhEntry;
    }

    /** The file the segments' offsets refer to. */
    MemorySegment contents() {
        return file;
    }

    private static int u8(MemorySegment s, long at) {
        return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, at));
    }

    private static int u16(MemorySegment s, long at) {
        return Short.toUnsignedInt(s.get(U16, at));
    }

    private static long u32(MemorySegment s, long at) {
        return Integer.toUnsignedLong(s.get(U32, at));
    }
}
