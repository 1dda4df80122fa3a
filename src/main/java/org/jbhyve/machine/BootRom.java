package org.jbhyve.machine;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import org.jbhyve.kvm.Kvm;
import org.jbhyve.kvm.VmFd;
import org.jbhyve.machine.boot.BootException;
import org.jbhyve.machine.boot.BootFile;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.MemoryMap;

/**
 * The boot ROM of {@code -l bootrom,ROM[,VARS]} (bhyve's bootrom.c, as a PC lays it out):
 *
 * <ul>
 *   <li>the ROM file is mapped read-only ({@link BootFile}) and that mapping is the guest's memory
 *       slot, so that it ends at 4 GiB: the reset vector
 *       0xFFFFFFF0, where every vCPU's first instruction is fetched, is its 16th-last byte.
 *       Guest writes to it exit as MMIO writes and are dropped, as on a real flash part;</li>
 *   <li>a legacy BIOS image (at most 256 KiB, e.g. SeaBIOS's bios-256k.bin) is also copied into
 *       RAM so it ends at 1 MiB: its last 128 KiB at 0xE0000-0xFFFFF, where the real-mode far
 *       jump of the reset vector lands. On a PC the chipset aliases that range to the flash and
 *       the BIOS copies itself into shadow RAM (PAM registers); handing the guest writable RAM
 *       with the copy already made is the state the BIOS then expects. Larger (UEFI) images only
 *       get the 128 KiB alias, which they do not use;</li>
 *   <li>the optional VARS file (UEFI variables) sits directly below the ROM, as QEMU places the
 *       second pflash (see {@link VarsFlash}).</li>
 * </ul>
 * The ROM must be a whole number of 4 KiB pages and at most 16 MiB: it then lies above the
 * LAPIC and KVM's private pages (0xFEFFC000-0xFF000000).
 */
final class BootRom implements AutoCloseable {
    static final long PAGE = 4096;
    static final long MAX_SIZE = 16 * MemoryMap.MiB;
    static final long FOUR_GIB = 4 * MemoryMap.GiB;
    static final long LEGACY_BIOS_MAX = 256 * MemoryMap.KiB;
    static final long ISA_BIOS_ALIAS = 128 * MemoryMap.KiB;
    static final long ONE_MIB = MemoryMap.MiB;
    /** The lowest address boot ROM and variables together may reach. */
    static final long FLASH_FLOOR = FOUR_GIB - MAX_SIZE;

    private final BootFile file;
    private final MemorySegment image;

    private BootRom(BootFile file) {
        this.file = file;
        this.image = file.contents();
    }

    /** Checks and maps the ROM file; every problem with it is one {@link MachineException} line. */
    static BootRom open(String romFile) {
        Path path = Path.of(romFile);
        checkedSize(path, "bootrom");
        try {
            return new BootRom(BootFile.map("bootrom", path));
        } catch (BootException e) {
            throw new MachineException(e.getMessage());
        }
    }

    static long checkedSize(Path path) {
        return checkedSize(path, "bootrom");
    }

    /**
     * The size of a firmware file that must be a regular file of whole 4 KiB pages, at most 16 MiB;
     * {@code what} names it in messages ("bootrom", "bootvars": {@code bootrom /x: No such file or
     * directory}).
     */
    static long checkedSize(Path path, String what) {
        long size;
        try {
            size = BootFile.requireRegularFile(what, path);
        } catch (BootException e) {
            throw new MachineException(e.getMessage());
        }
        if (size == 0 || size % PAGE != 0) {
            throw new MachineException(what + " " + path + ": size " + size + " is not a multiple of 4 KiB");
        }
        if (size > MAX_SIZE) {
            throw new MachineException(what + " " + path + ": " + size + " bytes is larger than 16 MiB");
        }
        return size;
    }

    long size() {
        return image.byteSize();
    }

    /** Guest-physical address of the ROM's first byte: it ends at 4 GiB. */
    long base() {
        return FOUR_GIB - size();
    }

    boolean isLegacyBios() {
        return size() <= LEGACY_BIOS_MAX;
    }

    /**
     * Maps the ROM at the top of 4 GiB in memory slot {@code slot} and copies its low-memory image
     * into RAM (see the class comment).
     */
    void install(Kvm kvm, VmFd vm, int slot, GuestMemory ram) {
        if (kvm.checkExtension(Kvm.CAP_READONLY_MEM) == 0) {
            throw new MachineException("bootrom: this host's KVM cannot map read-only memory (KVM_CAP_READONLY_MEM)");
        }
        vm.setReadOnlyMemoryRegion(slot, base(), image);
        long low = isLegacyBios() ? size() : Math.min(size(), ISA_BIOS_ALIAS);
        ram.write(ONE_MIB - low, image.asSlice(size() - low, low));
    }

    @Override
    public void close() {
        file.close();
    }
}
