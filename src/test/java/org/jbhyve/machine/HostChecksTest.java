package org.jbhyve.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.BitSet;
import java.util.List;
import java.util.Map;
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
}
