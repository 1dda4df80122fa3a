package org.jbhyve.machine;

import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.jbhyve.machine.boot.BootException;
import org.jbhyve.machine.boot.BootFile;
import org.jbhyve.machine.boot.KernelLoader;
import org.jbhyve.sys.Affinity;

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
        pinning(spec.pinning(), Affinity.allowedCpus());
    }

    /**
     * Every host CPU of {@code -p vcpu:hostcpu} is one this process may run on ({@code allowed},
     * its affinity mask): a CPU beyond the host's count, offline, or outside the process's cpuset
     * would make sched_setaffinity fail in the vCPU's thread, after the VM was built.
     */
    static void pinning(Map<Integer, List<Integer>> pinning, BitSet allowed) {
        for (Map.Entry<Integer, List<Integer>> e : pinning.entrySet()) {
            for (int cpu : e.getValue()) {
                if (!allowed.get(cpu)) {
                    throw new MachineException("vcpu." + e.getKey() + ".cpuset (-p " + e.getKey() + ":" + cpu
                            + "): host CPU " + cpu + " does not exist or is not available to this process"
                            + " (available: " + ranges(allowed) + ")");
                }
            }
        }
    }

    /** {@code 0-3,8,10-11}: the set bits of {@code set} as cpuset(7) lists them. */
    static String ranges(BitSet set) {
        StringBuilder s = new StringBuilder();
        for (int from = set.nextSetBit(0); from >= 0; from = set.nextSetBit(set.nextClearBit(from))) {
            int to = set.nextClearBit(from) - 1;
            s.append(s.isEmpty() ? "" : ",").append(from).append(to > from ? "-" + to : "");
        }
        return s.isEmpty() ? "none" : s.toString();
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
