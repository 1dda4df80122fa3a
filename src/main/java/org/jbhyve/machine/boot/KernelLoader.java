package org.jbhyve.machine.boot;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.jbhyve.machine.boot.E820Map.Entry;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;

/**
 * Loads a kernel without firmware ({@code -o boot.kernel=PATH}), choosing the protocol from the
 * image in QEMU's order: a bzImage ("HdrS" at 0x202) through the Linux 32-bit boot protocol; a
 * file with a Multiboot header through {@link MultibootLoader} (before the ELF paths: Multiboot
 * kernels are often ELF too); an ELF with a PVH note through PVH; an ELF without one through the
 * Linux 64-bit boot protocol at its entry point. Everything the guest will read (start info,
 * boot_params, e820, Multiboot information, command line, GDT, page tables) is written into
 * guest memory here.
 *
 * <p>The kernel and the initrd are mapped ({@link BootFile}) and copied from the mapping into guest
 * memory, so their size never touches the Java heap; they must be regular files.
 */
public final class KernelLoader {
    /** A range [start, end) of guest memory the loader writes its own structures to. */
    record Range(long start, long end) {
        /** Whether [address, address + size) shares a byte with this range (both already bounded). */
        boolean overlaps(long address, long size) {
            return size > 0 && address < end && start < address + size;
        }
    }

    /** What the Linux and PVH paths own: all memory below {@link BootLayout#KERNEL_MIN}. */
    static final List<Range> BELOW_KERNEL_MIN = List.of(new Range(0, BootLayout.KERNEL_MIN));

    /** The settings that name the files, as messages about them say. */
    public static final String KERNEL_KEY = "boot.kernel";
    public static final String INITRD_KEY = "boot.initrd";

    private final GuestMemory memory;
    private final MemoryMap map;

    public KernelLoader(GuestMemory memory, MemoryMap map) {
        this.memory = memory;
        this.map = map;
    }

    /**
     * @param rsdp guest address of the ACPI RSDP, or 0 when the VM has no ACPI tables
     * @throws BootException for unreadable or malformed images and images that do not fit
     */
    public EntryState load(Path kernel, Path initrd, String cmdline, long rsdp) {
        byte[] commandLine = commandLine(cmdline);
        try (BootFile kernelFile = BootFile.map(KERNEL_KEY, kernel);
             BootFile initrdFile = initrd == null ? null : BootFile.map(INITRD_KEY, initrd)) {
            return load(kernelFile.contents(), kernel.toString(), initrdFile == null ? null : initrdFile.contents(),
                    initrd == null ? null : initrd.toString(), cmdline, commandLine, rsdp);
        }
    }

    private EntryState load(MemorySegment image, String kernel, MemorySegment ramdisk, String initrd, String cmdline,
                            byte[] commandLine, long rsdp) {
        memory.write(BootLayout.CMDLINE, commandLine);
        EntryState entry;
        long ramdiskSize = ramdisk == null ? 0 : ramdisk.byteSize();
        boolean bzImage = LinuxBootParams.isBzImage(image);
        Optional<MultibootHeader> multiboot = bzImage ? Optional.empty() : MultibootHeader.find(image, kernel);
        if (multiboot.isPresent()) {
            entry = new MultibootLoader(this, memory, map).load(multiboot.get(), image, kernel, cmdline, ramdisk,
                    initrd);
        } else if (ElfImage.looksLikeElf(image)) {
            ElfImage elf = ElfImage.parse(image, kernel);
            loadSegments(elf, kernel);
            if (elf.pvhEntry().isPresent()) {
                entry = PvhStartInfo.write(memory, map, elf.pvhEntry().getAsLong(), commandLine.length,
                        placeInitrd(ramdisk, 0xFFFF_FFFFL), ramdiskSize, rsdp);
            } else {
                if (!elf.is64Bit()) {
                    throw new BootException(kernel + ": a 32-bit ELF needs a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
                }
                long params = LinuxBootParams.writeFor64BitElf(memory, map, commandLine.length,
                        placeInitrd(ramdisk, 0xFFFF_FFFFL), ramdiskSize);
                PageTables.writeIdentity4G(memory);
                entry = new EntryState(EntryState.Mode.LONG_64, elf.entry(), 0, params, "linux64");
            }
        } else if (bzImage) {
            entry = LinuxBootParams.loadBzImage(memory, map, image, kernel, commandLine.length, ramdisk,
                    this::placeInitrd);
        } else {
            throw new BootException(kernel + ": neither an ELF kernel nor a Linux bzImage nor a Multiboot kernel");
        }
        GdtWriter.write(memory, entry.mode());
        return entry;
    }

    /** Whether {@code kernel} is a Multiboot kernel (false when unreadable: loading reports that). */
    public static boolean isMultiboot(Path kernel) {
        return MultibootHeader.isMultiboot(kernel);
    }

    private static byte[] commandLine(String cmdline) {
        byte[] text = (cmdline == null ? "" : cmdline).getBytes(StandardCharsets.UTF_8);
        if (text.length >= BootLayout.CMDLINE_MAX) {
            throw new BootException("boot.cmdline is longer than " + (BootLayout.CMDLINE_MAX - 1) + " bytes");
        }
        byte[] terminated = new byte[text.length + 1];
        System.arraycopy(text, 0, terminated, 0, text.length);
        return terminated;
    }

    /** Copies every PT_LOAD segment to its physical address, each checked with {@link #checkFits}. */
    void loadSegments(ElfImage elf, String name) {
        loadSegments(elf, name, BELOW_KERNEL_MIN);
    }

    /** As {@link #loadSegments(ElfImage, String)}, keeping the segments out of {@code owned} instead. */
    void loadSegments(ElfImage elf, String name, List<Range> owned) {
        for (ElfImage.Segment s : elf.segments()) {
            checkFits(s.physicalAddress(), s.memorySize(), name + " segment at 0x" + Long.toHexString(s.physicalAddress()),
                    owned);
            copy(s.physicalAddress(), elf.contents(), s.offset(), s.fileSize(), s.memorySize());
        }
    }

    /**
     * Copies {@code fileSize} bytes of {@code file} from {@code offset} to guest {@code address}
     * and zeroes the rest up to {@code memorySize}. The caller has checked the range with
     * {@link #checkFits} and the bytes against the file.
     */
    void copy(long address, MemorySegment file, long offset, long fileSize, long memorySize) {
        if (fileSize > 0) {
            memory.write(address, file.asSlice(offset, fileSize));
        }
        if (memorySize > fileSize) {
            memory.slice(address + fileSize, memorySize - fileSize).fill((byte) 0);
        }
    }

    /** Checks that [address, address+size) is RAM at or above {@link BootLayout#KERNEL_MIN}. */
    void checkFits(long address, long size, String what) {
        checkFits(address, size, what, BELOW_KERNEL_MIN);
    }

    /** Checks that [address, address+size) is RAM and overlaps none of the loader's {@code owned} ranges. */
    void checkFits(long address, long size, String what, List<Range> owned) {
        if (!isRam(address, size) || owned.stream().anyMatch(r -> r.overlaps(address, size))) {
            throw new BootException(String.format("%s (0x%x bytes) does not fit in guest memory (%d MiB)",
                    what, size, map.totalRam() / MemoryMap.MiB));
        }
    }

    private boolean isRam(long address, long size) {
        for (Entry e : E820Map.of(map)) {
            if (address >= e.address() && size <= e.address() + e.size() - address) {
                return true;
            }
        }
        return false;
    }

    /** Copies the initrd to the highest page-aligned spot of low RAM below {@code limit}; returns its address (0 if none). */
    long placeInitrd(MemorySegment ramdisk, long limit) {
        if (ramdisk == null) {
            return 0;
        }
        long top = Math.min(map.lowMemory(), limit + 1);
        long address = (top - ramdisk.byteSize()) & ~0xFFFL;
        checkFits(address, ramdisk.byteSize(), "initrd");
        memory.write(address, ramdisk);
        return address;
    }

    static void writeE820(GuestMemory memory, MemoryMap map, long at, int entrySize, int max) {
        List<Entry> entries = E820Map.of(map);
        if (entries.size() > max) {
            throw new IllegalStateException("memory map has too many entries");
        }
        for (int i = 0; i < entries.size(); i++) {
            long o = at + (long) i * entrySize;
            memory.putLong(o, entries.get(i).address());
            memory.putLong(o + 8, entries.get(i).size());
            memory.putInt(o + 16, entries.get(i).type());
        }
    }
}
