package org.jbhyve.gdb;

import java.util.EnumSet;
import java.util.Set;
import org.jbhyve.kvm.Fpu;
import org.jbhyve.kvm.Registers;
import org.jbhyve.kvm.SpecialRegisters;

/**
 * One vCPU's architectural state as the debugger sees it: KVM's three register sets. A state is
 * read once per stop and edited in place; {@link Part} says which sets an edit touched, so only
 * those are written back (writing the special registers has side effects in KVM: it resets the
 * MMU context, so it is not done for a change of RAX).
 */
public final class CpuState {
    /** The register sets, as KVM reads and writes them. */
    public enum Part {
        GENERAL, SPECIAL, FPU
    }

    public final Registers regs;
    public final SpecialRegisters sregs;
    public final Fpu fpu;

    public CpuState(Registers regs, SpecialRegisters sregs, Fpu fpu) {
        this.regs = regs;
        this.sregs = sregs;
        this.fpu = fpu;
    }

    /** The paging registers: how this vCPU translates linear addresses. */
    public Paging paging() {
        return Paging.of(sregs);
    }

    /**
     * The linear address of the next instruction, as KVM computes it for debug exits: RIP in
     * 64-bit mode, else CS base + RIP truncated to 32 bits.
     */
    public long linearPc() {
        long rip = regs.get(Registers.RIP);
        if ((sregs.efer & Paging.EFER_LMA) != 0 && sregs.cs != null && sregs.cs.l()) {
            return rip;
        }
        long base = sregs.cs == null ? 0 : sregs.cs.base();
        return (base + rip) & 0xFFFF_FFFFL;
    }

    static Set<Part> none() {
        return EnumSet.noneOf(Part.class);
    }
}
