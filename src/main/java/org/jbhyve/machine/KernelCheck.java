package org.jbhyve.machine;

import java.nio.file.Path;
import org.jbhyve.machine.boot.KernelLoader;
import org.jbhyve.memory.GuestRam;
import org.jbhyve.memory.MemoryMap;
import org.jbhyve.sys.SysException;

/**
 * What bhyveload can know about a kernel without KVM: that {@link KernelLoader} recognises its
 * format (bzImage, Multiboot, PVH or 64-bit ELF) and that it, its initrd and its command line fit
 * in a guest of the given size. The kernel is loaded into scratch memory laid out as the guest's
 * would be (anonymous, reserved lazily, so only the pages written are ever touched) and then
 * thrown away; bhyve loads it again when it runs the VM.
 */
public final class KernelCheck {
    private KernelCheck() {}

    /**
     * @throws org.jbhyve.machine.boot.BootException for unreadable, malformed or oversized images
     * @throws MachineException when the scratch memory cannot be had
     */
    public static void check(Path kernel, Path initrd, String cmdline, long memoryBytes) {
        MemoryMap map = MemoryMap.forSize((memoryBytes + 4095) & ~4095L);
        GuestRam ram;
        try {
            ram = new GuestRam(map, false, false);
        } catch (SysException e) {
            throw new MachineException("cannot reserve " + (map.totalRam() >> 20) + " MiB to check the kernel: "
                    + e.getMessage());
        }
        try (ram) {
            new KernelLoader(ram.memory(), map).load(kernel, initrd, cmdline == null ? "" : cmdline, 0);
        }
    }
}
