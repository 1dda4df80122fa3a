package org.jbhyve.machine.boot;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;

/**
 * Loads a Multiboot (version 1) kernel, as GRUB legacy, grub-bhyve and QEMU's {@code -kernel}
 * do (kvm-unit-tests' x86 test binaries are such kernels: ELF32 files with a header of flags 0).
 *
 * <p>The image goes in one of two ways. With header flags bit 16 (the "a.out kludge") the file
 * is a flat image: the bytes from file offset {@code header_offset - (header_addr - load_addr)}
 * are copied to {@code load_addr} up to {@code load_end_addr} (0: the end of the file), then
 * zeroed up to {@code bss_end_addr} (0: no bss), and the kernel is entered at
 * {@code entry_addr}. Otherwise the file must be ELF: its PT_LOAD segments go to their physical
 * addresses and the entry is {@code e_entry}. Everything lies below 4 GiB (a 32-bit kernel
 * sees no more) in RAM the loader does not own.
 *
 * <p>Unlike the Linux and PVH paths, a Multiboot kernel may lie anywhere in RAM, low memory
 * included (kvm-unit-tests' realmode test is linked at 0x8000, which QEMU accepts): only the
 * ranges this loader writes are off limits, namely the entry GDT and TSS with the information
 * structure ({@link #OWNED}: 0x1000-0x2F00) and the string area at {@link BootLayout#CMDLINE}.
 *
 * <p>The initrd becomes module 0, copied to the first page boundary above the kernel's end (or
 * above a loader range it would overlap).
 * The kernel is entered in 32-bit protected mode, paging off, interrupts off, flat segments,
 * EAX = 0x2BADB002 and EBX = the {@link MultibootInfo} structure.
 */
final class MultibootLoader {
    private static final long FOUR_GIB = 1L << 32;
    private static final long PAGE = 4096;
    /** The low memory this path writes after loading the kernel, which the kernel must leave free. */
    static final List<KernelLoader.Range> OWNED = List.of(
            new KernelLoader.Range(BootLayout.GDT, MultibootInfo.END),
            new KernelLoader.Range(BootLayout.CMDLINE, BootLayout.CMDLINE + BootLayout.CMDLINE_MAX));

    private final KernelLoader loader;
    private final GuestMemory memory;
    private final MemoryMap map;

    MultibootLoader(KernelLoader loader, GuestMemory memory, MemoryMap map) {
        this.loader = loader;
        this.memory = memory;
        this.map = map;
    }

    /** Where the image went: its end (exclusive) and its entry point. */
    private record Loaded(long end, long entry) {}

    /**
     * Loads {@code image} (whose header is {@code header}), the initrd and the information
     * structure, and returns how to enter the kernel.
     *
     * @param kernelName the kernel's file name as given: the first word of the command line
     * @param cmdline the user's command line (null: none)
     * @param ramdisk the initrd's bytes, or null; {@code initrdName} is its module string
     * @throws BootException for inconsistent headers and images or modules that do not fit
     */
    EntryState load(MultibootHeader header, MemorySegment image, String kernelName, String cmdline,
                    MemorySegment ramdisk, String initrdName) {
        Loaded kernel = header.hasAddressFields() ? loadFlat(header, image, kernelName) : loadElf(image, kernelName);
        MultibootInfo.Module module = null;
        if (ramdisk != null) {
            long length = ramdisk.byteSize();
            long start = moduleAddress(kernel.end(), length);
            checkBelow4G(start, length, "initrd (multiboot module 0)");
            loader.checkFits(start, length, "initrd (multiboot module 0 at 0x" + Long.toHexString(start) + ")", OWNED);
            memory.write(start, ramdisk);
            module = new MultibootInfo.Module(start, length, initrdName);
        }
        String commandLine = kernelName + " " + (cmdline == null ? "" : cmdline);
        long info = MultibootInfo.write(memory, map, commandLine, module);
        return new EntryState(EntryState.Mode.PROTECTED_32, kernel.entry(),
                Integer.toUnsignedLong(MultibootInfo.BOOTLOADER_MAGIC), info, 0, "multiboot");
    }

    /** The first page boundary at or above {@code kernelEnd} where {@code size} bytes miss every {@link #OWNED} range. */
    static long moduleAddress(long kernelEnd, long size) {
        long start = (kernelEnd + PAGE - 1) & -PAGE;
        for (KernelLoader.Range r : OWNED) { // sorted by address: one pass moves past each at most once
            if (r.overlaps(start, size)) {
                start = (r.end() + PAGE - 1) & -PAGE;
            }
        }
        return start;
    }

    private Loaded loadFlat(MultibootHeader h, MemorySegment image, String name) {
        if (h.headerAddress() < h.loadAddress()) {
            throw new BootException(String.format("%s: multiboot header_addr 0x%x is below load_addr 0x%x",
                    name, h.headerAddress(), h.loadAddress()));
        }
        if (h.headerAddress() - h.loadAddress() > h.offset()) {
            throw new BootException(String.format(
                    "%s: multiboot load_addr 0x%x would start before the file (header at offset 0x%x,"
                            + " header_addr 0x%x)", name, h.loadAddress(), h.offset(), h.headerAddress()));
        }
        long fileOffset = h.offset() - (h.headerAddress() - h.loadAddress());
        long loadSize;
        if (h.loadEndAddress() == 0) {
            loadSize = image.byteSize() - fileOffset;
        } else if (h.loadEndAddress() < h.loadAddress()) {
            throw new BootException(String.format("%s: multiboot load_end_addr 0x%x is below load_addr 0x%x",
                    name, h.loadEndAddress(), h.loadAddress()));
        } else {
            loadSize = h.loadEndAddress() - h.loadAddress();
            if (loadSize > image.byteSize() - fileOffset) {
                throw new BootException(String.format(
                        "%s: multiboot load_end_addr 0x%x lies beyond the end of the file", name, h.loadEndAddress()));
            }
        }
        long memorySize = loadSize;
        if (h.bssEndAddress() != 0) {
            if (h.bssEndAddress() < h.loadAddress() + loadSize) {
                throw new BootException(String.format("%s: multiboot bss_end_addr 0x%x is below the loaded end 0x%x",
                        name, h.bssEndAddress(), h.loadAddress() + loadSize));
            }
            memorySize = h.bssEndAddress() - h.loadAddress();
        }
        String what = name + " at 0x" + Long.toHexString(h.loadAddress());
        checkBelow4G(h.loadAddress(), memorySize, what);
        loader.checkFits(h.loadAddress(), memorySize, what, OWNED);
        loader.copy(h.loadAddress(), image, fileOffset, loadSize, memorySize);
        return new Loaded(h.loadAddress() + memorySize, h.entryAddress());
    }

    private Loaded loadElf(MemorySegment image, String name) {
        if (!ElfImage.looksLikeElf(image)) {
            throw new BootException(name + ": a multiboot kernel without address fields (flags bit 16) must be ELF");
        }
        ElfImage elf = ElfImage.parse(image, name);
        long end = 0;
        for (ElfImage.Segment s : elf.segments()) {
            checkBelow4G(s.physicalAddress(), s.memorySize(),
                    name + " segment at 0x" + Long.toHexString(s.physicalAddress()));
            end = Math.max(end, s.physicalAddress() + s.memorySize());
        }
        if (elf.entry() < 0 || elf.entry() >= FOUR_GIB) {
            throw new BootException(String.format("%s: ELF entry 0x%x is not a 32-bit address", name, elf.entry()));
        }
        loader.loadSegments(elf, name, OWNED);
        return new Loaded(end, elf.entry());
    }

    private void checkBelow4G(long address, long size, String what) {
        if (address < 0 || size < 0 || address >= FOUR_GIB || size > FOUR_GIB - address) {
            throw new BootException(String.format("%s (0x%x bytes) does not lie below 4 GiB", what, size));
        }
    }
}
