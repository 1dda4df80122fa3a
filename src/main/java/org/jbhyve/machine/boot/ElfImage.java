package org.jbhyve.machine.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * A parsed x86 ELF executable (ELFCLASS32 or ELFCLASS64, little-endian): its loadable segments
 * and, when present, the PVH entry point from a {@code XEN_ELFNOTE_PHYS32_ENTRY} note (name
 * "Xen", type 18, a 32-bit physical address). Every offset and size is checked against the file:
 * a malformed image is a {@link BootException}, never an exception from deep inside.
 */
public final class ElfImage {
    private static final int PT_LOAD = 1;
    private static final int PT_NOTE = 4;
    private static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;
    private static final int EM_386 = 3;
    private static final int EM_X86_64 = 62;

    /** A PT_LOAD segment: {@code fileSize} bytes from {@code offset} at {@code physicalAddress}, zero-filled to {@code memorySize}. */
    public record Segment(long physicalAddress, long offset, long fileSize, long memorySize) {}

    private final byte[] file;
    private final boolean is64;
    private final long entry;
    private final List<Segment> segments;
    private final OptionalLong pvhEntry;

    private ElfImage(byte[] file, boolean is64, long entry, List<Segment> segments, OptionalLong pvhEntry) {
        this.file = file;
        this.is64 = is64;
        this.entry = entry;
        this.segments = segments;
        this.pvhEntry = pvhEntry;
    }

    public static boolean looksLikeElf(byte[] file) {
        return file.length >= 4 && file[0] == 0x7F && file[1] == 'E' && file[2] == 'L' && file[3] == 'F';
    }

    public static ElfImage parse(byte[] file, String name) {
        if (!looksLikeElf(file) || file.length < 52) {
            throw new BootException(name + ": not an ELF file");
        }
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int elfClass = file[4];
        if (file[5] != 1) {
            throw new BootException(name + ": not a little-endian ELF file");
        }
        boolean is64 = elfClass == 2;
        if (elfClass != 1 && !is64) {
            throw new BootException(name + ": unknown ELF class " + elfClass);
        }
        if (file.length < (is64 ? 64 : 52)) {
            throw new BootException(name + ": ELF header is truncated");
        }
        int machine = Short.toUnsignedInt(b.getShort(18));
        if (machine != EM_386 && machine != EM_X86_64) {
            throw new BootException(name + ": not an x86 ELF file (machine " + machine + ")");
        }
        long entry = is64 ? b.getLong(24) : Integer.toUnsignedLong(b.getInt(24));
        long phoff = is64 ? b.getLong(32) : Integer.toUnsignedLong(b.getInt(28));
        int phentsize = Short.toUnsignedInt(b.getShort(is64 ? 54 : 42));
        int phnum = Short.toUnsignedInt(b.getShort(is64 ? 56 : 44));
        if (phnum == 0 || phentsize < (is64 ? 56 : 32) || phoff < 0 || phoff + (long) phnum * phentsize > file.length) {
            throw new BootException(name + ": ELF program headers are missing or truncated");
        }
        List<Segment> segments = new ArrayList<>();
        OptionalLong pvh = OptionalLong.empty();
        for (int i = 0; i < phnum; i++) {
            int h = (int) (phoff + (long) i * phentsize);
            int type = b.getInt(h);
            long offset = is64 ? b.getLong(h + 8) : Integer.toUnsignedLong(b.getInt(h + 4));
            long paddr = is64 ? b.getLong(h + 24) : Integer.toUnsignedLong(b.getInt(h + 12));
            long filesz = is64 ? b.getLong(h + 32) : Integer.toUnsignedLong(b.getInt(h + 16));
            long memsz = is64 ? b.getLong(h + 40) : Integer.toUnsignedLong(b.getInt(h + 20));
            if (offset < 0 || filesz < 0 || offset + filesz > file.length || offset + filesz < 0) {
                throw new BootException(name + ": ELF segment " + i + " lies outside the file");
            }
            if (type == PT_LOAD) {
                if (memsz < filesz) {
                    throw new BootException(name + ": ELF segment " + i + " has memsz < filesz");
                }
                segments.add(new Segment(paddr, offset, filesz, memsz));
            } else if (type == PT_NOTE && pvh.isEmpty()) {
                pvh = findPvhNote(b, (int) offset, (int) filesz);
            }
        }
        if (segments.isEmpty()) {
            throw new BootException(name + ": ELF file has no loadable segments");
        }
        return new ElfImage(file, is64, entry, List.copyOf(segments), pvh);
    }

    /** Walks ELF notes: {u32 namesz, descsz, type; name padded to 4; desc padded to 4}. */
    private static OptionalLong findPvhNote(ByteBuffer b, int start, int size) {
        int at = start;
        int end = start + size;
        while (at + 12 <= end) {
            long namesz = Integer.toUnsignedLong(b.getInt(at));
            long descsz = Integer.toUnsignedLong(b.getInt(at + 4));
            int type = b.getInt(at + 8);
            long name = at + 12L;
            long desc = name + ((namesz + 3) & ~3L);
            long next = desc + ((descsz + 3) & ~3L);
            if (next > end) {
                break;
            }
            if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 && b.get((int) name) == 'X'
                    && b.get((int) name + 1) == 'e' && b.get((int) name + 2) == 'n' && descsz >= 4) {
                return OptionalLong.of(descsz >= 8 ? b.getLong((int) desc) & 0xFFFFFFFFL
                        : Integer.toUnsignedLong(b.getInt((int) desc)));
            }
            at = (int) next;
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

    byte[] bytes() {
        return file;
    }
}
