package org.jbhyve.machine;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jbhyve.bus.IoBus;
import org.jbhyve.devices.firmware.CfiFlash;
import org.jbhyve.kvm.VmFd;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/**
 * The UEFI variable store of {@code -l bootrom,CODE,VARS}: the VARS file mapped shared, so what
 * the firmware programs into the flash is in the file at once (the page cache keeps it if the
 * VMM is killed) and variables survive a restart. It sits directly below the boot ROM, as QEMU
 * stacks its second pflash, driven by a {@link CfiFlash} whose read-array mode is a read-only
 * memory slot. Use a per-VM copy of the firmware's VARS template, as the Handbook says.
 */
final class VarsFlash implements AutoCloseable {
    private final MemorySegment contents;
    private CfiFlash flash;

    private VarsFlash(MemorySegment contents) {
        this.contents = contents;
    }

    /** The flash device in front of the file (its command state goes into a snapshot; the contents are the file). */
    CfiFlash flash() {
        return flash;
    }

    /** Maps {@code varsFile} just below {@code romBase} in slot {@code slot}; problems are one line. */
    static VarsFlash install(String varsFile, long romBase, VmFd vm, int slot, IoBus mmio) {
        long size = check(varsFile);
        long base = romBase - size;
        if (base < BootRom.FLASH_FLOOR) {
            throw new MachineException("bootvars " + varsFile + ": ROM and variables together exceed 16 MiB");
        }
        MemorySegment contents;
        try (Fd fd = Posix.open(varsFile, Posix.O_RDWR | Posix.O_CLOEXEC, 0)) {
            contents = Posix.mmap(size, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_SHARED, fd, 0);
        } catch (SysException e) {
            throw new MachineException("bootvars " + varsFile + ": " + e.reason());
        }
        VarsFlash vars = new VarsFlash(contents);
        try {
            CfiFlash flash = new CfiFlash(contents, CfiFlash.QEMU_PC_BLOCK_SIZE, false, direct -> {
                if (direct) {
                    vm.setReadOnlyMemoryRegion(slot, base, contents);
                } else {
                    vm.removeMemoryRegion(slot, base);
                }
            });
            vm.setReadOnlyMemoryRegion(slot, base, contents);
            mmio.register(base, size, "bootvars", flash);
            vars.flash = flash;
            return vars;
        } catch (IllegalArgumentException e) {
            vars.close();
            throw new MachineException("bootvars " + varsFile + ": " + e.getMessage());
        }
    }

    /** Checks the file can serve as the variable store; returns its size. Problems are one line. */
    static long check(String varsFile) {
        Path path = Path.of(varsFile);
        long size = BootRom.checkedSize(path, "bootvars");
        if (!Files.isReadable(path) || !Files.isWritable(path)) {
            throw new MachineException("bootvars " + varsFile + ": not readable and writable (UEFI variables are stored in it)");
        }
        return size;
    }

    @Override
    public void close() {
        Posix.munmap(contents);
    }
}
