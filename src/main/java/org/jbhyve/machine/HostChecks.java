package org.jbhyve.machine;

import org.jbhyve.machine.boot.BootException;
import org.jbhyve.machine.boot.BootFile;
import org.jbhyve.machine.boot.KernelLoader;

/**
 * What can be checked about the host before /dev/kvm is opened, so that a mistake in the command
 * line is reported as itself (one line, status 4) rather than as whatever fails first once the
 * machine is half built: the files the VM boots from, the host CPUs of {@code -p}, and whether
 * the memory {@code -S} wires exists.
 */
final class HostChecks {
    private HostChecks() {}

    /** Runs every check; each failure is one {@link MachineException} or {@link BootException} line. */
    static void check(MachineSpec spec) {
        bootFiles(spec);
    }

    /** The kernel and initrd of {@code boot.kernel} and {@code boot.initrd} are readable regular files. */
    static void bootFiles(MachineSpec spec) {
        if (spec.kernel() != null) {
            BootFile.requireRegularFile(KernelLoader.KERNEL_KEY, spec.kernel());
        }
        if (spec.initrd() != null) {
            BootFile.requireRegularFile(KernelLoader.INITRD_KEY, spec.initrd());
        }
    }
}
