package org.jbhyve.machine;

import org.jbhyve.kvm.Registers;
import org.jbhyve.kvm.Segment;
import org.jbhyve.kvm.SpecialRegisters;
import org.jbhyve.kvm.VcpuFd;
import org.jbhyve.machine.boot.BootLayout;
import org.jbhyve.machine.boot.EntryState;

/**
 * Puts the boot vCPU in the state a boot protocol promises: flat segments from the loader's GDT
 * (code 0x10, data 0x18, TSS 0x20), interrupts off, and either 32-bit protected mode with paging
 * off or 64-bit long mode on the loader's identity page tables; RAX, RBX and RSI as the protocol
 * says (Multiboot: EAX = 0x2BADB002, EBX = its information structure). APs stay in
 * wait-for-SIPI, as the in-kernel LAPIC leaves every vCPU but the boot one.
 */
final class BootCpu {
    private BootCpu() {}

    static void enter(VcpuFd vcpu, EntryState entry) {
        boolean longMode = entry.mode() == EntryState.Mode.LONG_64;
        SpecialRegisters s = vcpu.getSpecialRegisters();
        s.cs = Segment.flatCode(BootLayout.SELECTOR_CODE, longMode);
        s.setDataSegments(Segment.flatData(BootLayout.SELECTOR_DATA));
        s.tr = Segment.busyTss(BootLayout.SELECTOR_TSS, BootLayout.TSS, BootLayout.TSS_LIMIT);
        s.gdtBase = BootLayout.GDT;
        s.gdtLimit = BootLayout.GDT_LIMIT;
        s.idtBase = 0;
        s.idtLimit = 0;
        s.cr0 = SpecialRegisters.CR0_PE | SpecialRegisters.CR0_ET | SpecialRegisters.CR0_NE;
        s.cr4 = 0;
        s.efer = 0;
        if (longMode) {
            s.cr3 = BootLayout.PML4;
            s.cr4 = SpecialRegisters.CR4_PAE;
            s.cr0 |= SpecialRegisters.CR0_PG;
            s.efer = SpecialRegisters.EFER_LME | SpecialRegisters.EFER_LMA;
        }
        vcpu.setSpecialRegisters(s);
        Registers r = new Registers();
        r.set(Registers.RIP, entry.rip());
        r.set(Registers.RFLAGS, Registers.RFLAGS_RESERVED);
        r.set(Registers.RAX, entry.rax());
        r.set(Registers.RBX, entry.rbx());
        r.set(Registers.RSI, entry.rsi());
        vcpu.setRegisters(r);
    }
}
