package org.jbhyve.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.jbhyve.kvm.CpuidEntry;
import org.jbhyve.machine.acpi.CpuTopology;
import org.junit.jupiter.api.Test;

class CpuidBuilderTest {
    /** A host whose KVM reports max leaf 7, x2APIC support and no leaf 0xB at all. */
    private static final List<CpuidEntry> HOST = List.of(
            new CpuidEntry(0, 0, 0, 0x7, 0x756E6547, 0x6C65746E, 0x49656E69),
            new CpuidEntry(1, 0, 0, 0x000906EA, 0x00010800, (1 << 21) | 1, 0),
            new CpuidEntry(4, 0, CpuidEntry.FLAG_SIGNIFICANT_INDEX, (1 << 5) | 1, 0, 0, 0),
            new CpuidEntry(4, 1, CpuidEntry.FLAG_SIGNIFICANT_INDEX, (3 << 5) | 3, 0, 0, 0));

    private static CpuidEntry leaf(List<CpuidEntry> entries, int function, int index) {
        return entries.stream().filter(e -> e.function() == function && e.index() == index).findFirst().orElseThrow();
    }

    @Test
    void topologyLeavesDescribeTwoSocketsOfTwoCoresOfTwoThreads() {
        CpuidBuilder b = new CpuidBuilder(HOST, new CpuTopology(2, 2, 2), false);
        List<CpuidEntry> vcpu5 = b.forVcpu(5); // socket 1, core 0, thread 1 -> APIC id 0b101
        assertEquals(5, leaf(vcpu5, 1, 0).ebx() >>> 24, "initial APIC id");
        assertEquals(4, (leaf(vcpu5, 1, 0).ebx() >>> 16) & 0xFF, "logical processors per package");
        CpuidEntry smt = leaf(vcpu5, 0xB, 0);
        assertEquals(List.of(1, 2, 1 << 8, 5), List.of(smt.eax(), smt.ebx(), smt.ecx(), smt.edx()));
        CpuidEntry core = leaf(vcpu5, 0xB, 1);
        assertEquals(List.of(2, 4, 1 | 2 << 8, 5), List.of(core.eax(), core.ebx(), core.ecx(), core.edx()));
        assertEquals(0, (leaf(vcpu5, 0xB, 2).ecx() >>> 8) & 0xFF, "level 2 is invalid: the list ends");
        assertEquals(0xB, leaf(vcpu5, 0, 0).eax(), "max basic leaf raised to reach 0xB");
    }

    @Test
    void cacheLeavesShareByThreadsAndPackages() {
        List<CpuidEntry> v = new CpuidBuilder(HOST, new CpuTopology(1, 4, 2), false).forVcpu(0);
        assertEquals(1, (leaf(v, 4, 0).eax() >>> 14) & 0xFFF, "L1 shared by the 2 threads of a core");
        assertEquals(7, (leaf(v, 4, 1).eax() >>> 14) & 0xFFF, "L3 shared by the package's 8 threads");
        assertEquals(3, leaf(v, 4, 0).eax() >>> 26, "cores per package - 1");
    }

    @Test
    void x2apicAndHypervisorBits() {
        assertEquals(0, leaf(new CpuidBuilder(HOST, new CpuTopology(1, 1, 1), false).forVcpu(0), 1, 0).ecx() & (1 << 21));
        CpuidEntry withX2apic = leaf(new CpuidBuilder(HOST, new CpuTopology(1, 1, 1), true).forVcpu(0), 1, 0);
        assertEquals(1 << 21, withX2apic.ecx() & (1 << 21));
        assertEquals(1 << 31, withX2apic.ecx() & (1 << 31), "hypervisor present");
    }

    @Test
    void tscDeadlineIsOfferedOnlyWhenKvmEmulatesIt() {
        CpuTopology one = new CpuTopology(1, 1, 1);
        assertEquals(0, leaf(new CpuidBuilder(HOST, one, false).forVcpu(0), 1, 0).ecx() & (1 << 24));
        assertEquals(1 << 24, leaf(new CpuidBuilder(HOST, one, false, true).forVcpu(0), 1, 0).ecx() & (1 << 24));
    }
}
