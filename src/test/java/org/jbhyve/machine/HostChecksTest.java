package org.jbhyve.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.jbhyve.machine.acpi.CpuTopology;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.SysException;
import org.junit.jupiter.api.Test;

class HostChecksTest {
    private static BitSet cpus(int... numbers) {
        BitSet set = new BitSet();
        for (int n : numbers) {
            set.set(n);
        }
        return set;
    }

    @Test
    void pinnedCpusMustBeInTheAffinityMask() {
        HostChecks.pinning(Map.of(0, List.of(1), 1, List.of(2, 3)), cpus(1, 2, 3));
        assertEquals("vcpu.1.cpuset (-p 1:5): host CPU 5 does not exist or is not available to this process"
                        + " (available: 0-3,8)",
                assertThrows(MachineException.class,
                        () -> HostChecks.pinning(Map.of(1, List.of(2, 5)), cpus(0, 1, 2, 3, 8))).getMessage());
    }

    @Test
    void cpuListsReadAsCpusetWritesThem() {
        assertEquals("0", HostChecks.ranges(cpus(0)));
        assertEquals("0-1", HostChecks.ranges(cpus(0, 1)));
        assertEquals("0-3,8,10-11", HostChecks.ranges(cpus(0, 1, 2, 3, 8, 10, 11)));
        assertEquals("none", HostChecks.ranges(new BitSet()));
    }

    private static final String MEMINFO = "MemTotal:       24684000 kB\nMemFree:        21000000 kB\n"
            + "MemAvailable:    2097152 kB\nBuffers:          100000 kB\n";
    private static final String ROOT = "Name:\tjava\nCapEff:\t000001ffffffffff\n";
    private static final String USER = "Name:\tjava\nCapEff:\t0000000000000000\n";
    private static final String LIMITS = "Limit                     Soft Limit           Hard Limit           Units\n"
            + "Max locked memory         8388608              8388608              bytes\n";

    @Test
    void wiredMemoryMustBeAvailable() {
        HostChecks.wiredMemory(2L << 30, MEMINFO, ROOT, LIMITS);
        assertEquals("memory.wired (-S): cannot wire 65536 MiB of guest memory: the host has 2048 MiB available"
                + " (MemAvailable in /proc/meminfo)", assertThrows(MachineException.class,
                () -> HostChecks.wiredMemory(64L << 30, MEMINFO, ROOT, LIMITS)).getMessage());
    }

    @Test
    void withoutCapIpcLockTheLockedMemoryLimitCounts() {
        HostChecks.wiredMemory(8L << 20, MEMINFO, USER, LIMITS);
        assertEquals("memory.wired (-S): cannot wire 256 MiB of guest memory: the locked-memory limit is 8 MiB"
                + " (raise ulimit -l, or run with CAP_IPC_LOCK)", assertThrows(MachineException.class,
                () -> HostChecks.wiredMemory(256L << 20, MEMINFO, USER, LIMITS)).getMessage());
        HostChecks.wiredMemory(256L << 20, MEMINFO, USER, LIMITS.replace("8388608 ", "unlimited "));
        HostChecks.wiredMemory(256L << 20, null, null, null); // nothing known: mlock decides
    }

    @Test
    void aFailedMlockIsOneLineWithTheLimit() {
        assertEquals("memory.wired (-S): cannot wire 256 MiB of guest memory: mlock: Cannot allocate memory"
                        + " (the locked-memory limit, ulimit -l, is 8 MiB)",
                HostChecks.wiringFailed(256L << 20, new SysException("mlock", Errno.ENOMEM), LIMITS));
        assertEquals("memory.wired (-S): cannot wire 256 MiB of guest memory: mlock: Invalid argument",
                HostChecks.wiringFailed(256L << 20, new SysException("mlock", Errno.EINVAL), LIMITS));
    }

    @Test
    void theTopologyMustFitKvmsLimits() {
        HostChecks.kvmLimits(CpuTopology.ofSockets(1024), 1024, 1024);
        assertEquals("cpus: 1024 vCPUs requested; KVM on this host allows at most 288", assertThrows(
                MachineException.class, () -> HostChecks.kvmLimits(CpuTopology.ofSockets(1024), 288, 1024)).getMessage());
        // 340 sockets of 3 cores: 1020 vCPUs, but core ids take 2 bits, so the last APIC id is 339 << 2 | 2
        assertEquals("cpus: the topology's highest APIC id is 1358; KVM on this host allows ids below 1024"
                        + " (powers of two for cores and threads leave no gaps in the ids)",
                assertThrows(MachineException.class,
                        () -> HostChecks.kvmLimits(new CpuTopology(340, 3, 1), 1024, 1024)).getMessage());
    }
}
