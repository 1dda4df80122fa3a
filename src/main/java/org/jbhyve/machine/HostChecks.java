package org.jbhyve.machine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.jbhyve.machine.acpi.CpuTopology;
import org.jbhyve.machine.boot.BootException;
import org.jbhyve.machine.boot.BootFile;
import org.jbhyve.machine.boot.KernelLoader;
import org.jbhyve.sys.Affinity;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.SysException;

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
        if (spec.wired()) {
            wiredMemory(spec.memoryBytes(), read(MEMINFO), read(STATUS), read(LIMITS));
        }
    }

    static final Path MEMINFO = Path.of("/proc/meminfo");
    static final Path STATUS = Path.of("/proc/self/status");
    static final Path LIMITS = Path.of("/proc/self/limits");
    /** CAP_IPC_LOCK: mlock without the RLIMIT_MEMLOCK limit. */
    private static final int CAP_IPC_LOCK = 14;
    private static final String WIRED = "memory.wired (-S): ";

    /**
     * {@code -S} wires all guest memory (mlock) when the VM is built; before KVM is opened, check
     * that this can succeed: the host has that much memory available ({@code MemAvailable} of
     * /proc/meminfo: free memory plus what the kernel can reclaim), and the process may lock it
     * (CAP_IPC_LOCK, or an RLIMIT_MEMLOCK soft limit at least that high). A file that cannot be
     * read (null) skips its part of the check; mlock then has the last word.
     */
    static void wiredMemory(long bytes, String meminfo, String status, String limits) {
        long availableKib = field(meminfo, "MemAvailable:", 1);
        long available = availableKib * KIB;
        if (availableKib >= 0 && bytes > available) {
            throw new MachineException(WIRED + "cannot wire " + mib(bytes) + " of guest memory: the host has "
                    + mib(available) + " available (MemAvailable in /proc/meminfo)");
        }
        long caps = status == null ? -1 : capabilities(status);
        long limit = lockLimit(limits);
        if (caps >= 0 && (caps & 1L << CAP_IPC_LOCK) == 0 && limit >= 0 && bytes > limit) {
            throw new MachineException(WIRED + "cannot wire " + mib(bytes) + " of guest memory: the locked-memory"
                    + " limit is " + mib(limit) + " (raise ulimit -l, or run with CAP_IPC_LOCK)");
        }
    }

    /**
     * The one line for an mlock that failed all the same (the limit may be a cgroup's, or memory
     * went elsewhere since the check): the system's reason, and the locked-memory limit when
     * that is what the reason points at.
     */
    static String wiringFailed(long bytes, SysException e, String limits) {
        long limit = lockLimit(limits);
        boolean limited = e.errno() == Errno.ENOMEM || e.errno() == Errno.EPERM || e.errno() == Errno.EAGAIN;
        return WIRED + "cannot wire " + mib(bytes) + " of guest memory: " + e.getMessage()
                + (limited && limit >= 0 ? " (the locked-memory limit, ulimit -l, is " + mib(limit) + ")" : "");
    }

    /** RLIMIT_MEMLOCK's soft limit from /proc/self/limits, in bytes; -1 when unlimited or unknown. */
    static long lockLimit(String limits) {
        if (limits == null) {
            return -1;
        }
        for (String line : limits.lines().toList()) {
            if (line.startsWith("Max locked memory")) {
                String[] words = line.substring("Max locked memory".length()).trim().split("\\s+");
                return words[0].matches("[0-9]+") ? Long.parseLong(words[0]) : -1;
            }
        }
        return -1;
    }

    /** The effective capability mask (CapEff of /proc/self/status); -1 when unknown. */
    static long capabilities(String status) {
        for (String line : status.lines().toList()) {
            if (line.startsWith("CapEff:")) {
                try {
                    return Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    /** Word {@code index} of the line starting with {@code name}, as a number; -1 when absent. */
    private static long field(String text, String name, int index) {
        if (text == null) {
            return -1;
        }
        for (String line : text.lines().toList()) {
            if (line.startsWith(name)) {
                String[] words = line.trim().split("\\s+");
                return words.length > index && words[index].matches("[0-9]+") ? Long.parseLong(words[index]) : -1;
            }
        }
        return -1;
    }

    private static final long KIB = 1024;

    private static String mib(long bytes) {
        return (bytes >> 20) + " MiB";
    }

    /** The text of a /proc file, or null when it cannot be read (not Linux, no procfs). */
    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return null;
        }
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

    /**
     * The topology against what this host's KVM allows, once /dev/kvm is open: the vCPU count
     * (KVM_CAP_MAX_VCPUS) and the highest APIC id, which is the vCPU id KVM_CREATE_VCPU is given
     * (KVM_CAP_MAX_VCPU_ID; topologies whose counts are not powers of two leave gaps in the ids).
     */
    static void kvmLimits(CpuTopology topology, int maxVcpus, int maxVcpuId) {
        if (topology.vcpus() > maxVcpus) {
            throw new MachineException("cpus: " + topology.vcpus() + " vCPUs requested; KVM on this host allows at most "
                    + maxVcpus);
        }
        if (topology.maxApicId() >= maxVcpuId) {
            throw new MachineException("cpus: the topology's highest APIC id is " + topology.maxApicId()
                    + "; KVM on this host allows ids below " + maxVcpuId
                    + " (powers of two for cores and threads leave no gaps in the ids)");
        }
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
