package org.jbhyve.machine;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.kvm.CpuidEntry;
import org.jbhyve.machine.acpi.CpuTopology;

/**
 * A vCPU's CPUID table: KVM's supported list with the topology leaves rewritten so the guest sees
 * the configured sockets/cores/threads and its own APIC id.
 *
 * <ul>
 *   <li>leaf 1: EBX[31:24] initial APIC id, EBX[23:16] addressable logical processors per
 *       package, EDX bit 28 HTT when that is more than one; ECX bit 31 "running on a hypervisor";</li>
 *   <li>leaf 4 (Intel caches): EAX[31:26] = cores per package - 1, EAX[25:14] = logical
 *       processors sharing the cache - 1 (threads for L1/L2, the package for L3);</li>
 *   <li>leaves 0xB and 0x1F: subleaf 0 the SMT level (EAX = thread bits, EBX = threads), subleaf 1
 *       the core level (EAX = thread + core bits, EBX = threads x cores), then an invalid level;
 *       EDX = the x2APIC id in every subleaf;</li>
 *   <li>leaf 0x80000008 (AMD): ECX[7:0] = logical processors per package - 1, ECX[15:12] = APIC id size.</li>
 * </ul>
 */
public final class CpuidBuilder {
    private static final int LEAF_FEATURES = 0x1;
    private static final int LEAF_CACHES = 0x4;
    private static final int LEAF_TOPOLOGY = 0xB;
    private static final int LEAF_TOPOLOGY_V2 = 0x1F;
    private static final int LEAF_AMD_SIZES = 0x8000_0008;
    private static final int ECX_HYPERVISOR = 1 << 31;
    private static final int EDX_HTT = 1 << 28;
    private static final int LEVEL_SMT = 1, LEVEL_CORE = 2;

    private static final int ECX_X2APIC = 1 << 21;
    private static final int ECX_TSC_DEADLINE = 1 << 24;

    private final List<CpuidEntry> supported;
    private final CpuTopology topology;
    private final boolean x2apic;
    private final boolean tscDeadline;

    /** @param x2apic bhyve's -x: offer x2APIC (CPUID.1:ECX[21]); bhyve hides it otherwise */
    public CpuidBuilder(List<CpuidEntry> supported, CpuTopology topology, boolean x2apic) {
        this(supported, topology, x2apic, false);
    }

    /**
     * @param tscDeadline offer the LAPIC's TSC-deadline timer mode (CPUID.1:ECX[24]). KVM emulates
     *     it (KVM_CAP_TSC_DEADLINE_TIMER) but leaves it out of its supported list for the VMM to
     *     set, as QEMU does by default; guests then program one-shot timers with one MSR write.
     */
    public CpuidBuilder(List<CpuidEntry> supported, CpuTopology topology, boolean x2apic, boolean tscDeadline) {
        this.supported = supported;
        this.topology = topology;
        this.x2apic = x2apic;
        this.tscDeadline = tscDeadline;
    }

    public List<CpuidEntry> forVcpu(int vcpu) {
        int apicId = topology.apicId(vcpu);
        int perPackage = 1 << (topology.coreBits() + topology.threadBits());
        List<CpuidEntry> out = new ArrayList<>();
        boolean topologyV2 = false;
        for (CpuidEntry e : supported) {
            if (e.function() == LEAF_TOPOLOGY || e.function() == LEAF_TOPOLOGY_V2) {
                // Rebuilt below: the host's list mirrors the host's own levels, not the guest's.
                topologyV2 |= e.function() == LEAF_TOPOLOGY_V2;
                continue;
            }
            switch (e.function()) {
                case 0 -> out.add(e.withRegisters(Math.max(e.eax(), LEAF_TOPOLOGY), e.ebx(), e.ecx(), e.edx()));
                case LEAF_FEATURES -> out.add(e.withRegisters(e.eax(),
                        (e.ebx() & 0x0000FFFF) | (Math.min(perPackage, 255) << 16) | (apicId & 0xFF) << 24,
                        (x2apic ? e.ecx() | ECX_X2APIC : e.ecx() & ~ECX_X2APIC) | ECX_HYPERVISOR
                                | (tscDeadline ? ECX_TSC_DEADLINE : 0),
                        perPackage > 1 ? e.edx() | EDX_HTT : e.edx() & ~EDX_HTT));
                case LEAF_CACHES -> out.add(cacheLeaf(e));
                case LEAF_AMD_SIZES -> out.add(e.withRegisters(e.eax(), e.ebx(),
                        (e.ecx() & ~0xF0FF) | ((topology.cores() * topology.threads()) - 1)
                                | (topology.coreBits() + topology.threadBits()) << 12, e.edx()));
                default -> out.add(e);
            }
        }
        for (int leaf : topologyV2 ? new int[] {LEAF_TOPOLOGY, LEAF_TOPOLOGY_V2} : new int[] {LEAF_TOPOLOGY}) {
            for (int level = 0; level < 3; level++) {
                out.add(topologyLeaf(new CpuidEntry(leaf, level, CpuidEntry.FLAG_SIGNIFICANT_INDEX, 0, 0, 0, 0), apicId));
            }
        }
        return out;
    }

    private CpuidEntry cacheLeaf(CpuidEntry e) {
        if ((e.eax() & 0x1F) == 0) {
            return e; // no more cache levels
        }
        int level = (e.eax() >>> 5) & 0x7;
        int sharing = level >= 3 ? (topology.cores() * topology.threads()) : topology.threads();
        int eax = (e.eax() & 0x3FFF) | ((sharing - 1) & 0xFFF) << 14 | ((topology.cores() - 1) & 0x3F) << 26;
        return e.withRegisters(eax, e.ebx(), e.ecx(), e.edx());
    }

    private CpuidEntry topologyLeaf(CpuidEntry e, int apicId) {
        return switch (e.index()) {
            case 0 -> e.withRegisters(topology.threadBits(), topology.threads(), LEVEL_SMT << 8, apicId);
            case 1 -> e.withRegisters(topology.threadBits() + topology.coreBits(), (topology.cores() * topology.threads()),
                    1 | LEVEL_CORE << 8, apicId);
            default -> e.withRegisters(0, 0, e.index() & 0xFF, apicId);
        };
    }
}
