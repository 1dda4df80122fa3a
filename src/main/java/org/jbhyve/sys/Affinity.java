package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;
import java.util.List;

/**
 * sched_setaffinity(2) for the calling thread (bhyve's -p vcpu:hostcpu), and sched_getaffinity(2)
 * for the CPUs this process may run on: a CPU that does not exist, is offline or lies outside
 * the process's cpuset (taskset, cgroups) is not in that set, and pinning to it fails with EINVAL.
 */
public final class Affinity {
    private static final int CPU_SETSIZE = 1024;
    private static final SystemCall SCHED_SETAFFINITY = new SystemCall(203); // sched_setaffinity(2)
    private static final SystemCall SCHED_GETAFFINITY = new SystemCall(204); // sched_getaffinity(2)

    private Affinity() {}

    /** The host CPUs (below 1024) the calling thread may run on: its affinity mask. */
    public static BitSet allowedCpus() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(CPU_SETSIZE / 8, 8);
            int r = (int) SCHED_GETAFFINITY.call(0, mask.byteSize(), LibC.address(mask));
            LibC.check(r, "sched_getaffinity");
            return BitSet.valueOf(mask.toArray(JAVA_LONG));
        }
    }

    /** Restricts the calling thread to {@code cpus} (host CPU numbers below 1024). */
    public static void pinCurrentThread(List<Integer> cpus) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(CPU_SETSIZE / 8, 8);
            for (int cpu : cpus) {
                if (cpu < 0 || cpu >= CPU_SETSIZE) {
                    throw new IllegalArgumentException("host CPU " + cpu + " out of range");
                }
                long word = mask.getAtIndex(JAVA_LONG, cpu / 64);
                mask.setAtIndex(JAVA_LONG, cpu / 64, word | 1L << (cpu % 64));
            }
            int r = (int) SCHED_SETAFFINITY.call(0, mask.byteSize(), LibC.address(mask));
            LibC.check(r, "sched_setaffinity");
        }
    }
}
