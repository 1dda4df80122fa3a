package org.jbhyve.kvm;

import org.jbhyve.sys.Ioctl;

/**
 * The kernel structures a snapshot takes from KVM as they are (their layouts are KVM's stable
 * ABI, linux/kvm.h and asm/kvm.h), each with the ioctl pair that reads and writes it. Sizes are
 * the structures' sizes on x86-64.
 *
 * <pre>
 * REGS       struct kvm_regs          144  general registers, rip, rflags
 * SREGS      struct kvm_sregs         312  segments, descriptor tables, cr0-cr8, efer, apic_base
 * XSAVE      struct kvm_xsave        4096  x87/SSE/AVX state in XSAVE layout (supersedes KVM_GET_FPU)
 * XCRS       struct kvm_xcrs          392  XCR0
 * LAPIC      struct kvm_lapic_state  1024  the in-kernel local APIC's register page
 * EVENTS     struct kvm_vcpu_events    64  pending/injected exception, interrupt, NMI, SIPI, SMM;
 *                                          its flags say which fields are valid, as KVM filled them
 * MP_STATE   struct kvm_mp_state        4  runnable, halted, waiting for INIT/SIPI
 * DEBUGREGS  struct kvm_debugregs     128  DR0-3, DR6, DR7
 * PIT        struct kvm_pit_state2    112  the in-kernel i8254's three channels (VM fd)
 * CLOCK      struct kvm_clock_data     48  kvmclock's time base (VM fd)
 * </pre>
 * The in-kernel PIC pair and IOAPIC go through {@code struct kvm_irqchip} (520 bytes) with a
 * chip id; see {@link VmFd#getIrqchip}.
 */
public enum KvmStateBlob {
    REGS(0x81, 0x82, KvmStructs.REGS_SIZE, false),
    SREGS(0x83, 0x84, KvmStructs.SREGS_SIZE, false),
    XSAVE(0xa4, 0xa5, 4096, false),
    XCRS(0xa6, 0xa7, 392, false),
    LAPIC(0x8e, 0x8f, 1024, false),
    EVENTS(0x9f, 0xa0, KvmStructs.VCPU_EVENTS_SIZE, false),
    MP_STATE(0x98, 0x99, 4, false),
    DEBUGREGS(0xa1, 0xa2, KvmStructs.DEBUGREGS_SIZE, false),
    PIT(0x9f, 0xa0, 112, true),
    CLOCK(0x7c, 0x7b, 48, true);

    private static final int KVMIO = 0xAE;

    final long get;
    final long set;
    private final int size;
    private final boolean vmWide;

    KvmStateBlob(int getNr, int setNr, int size, boolean vmWide) {
        this.get = Ioctl.ior(KVMIO, getNr, size);
        this.set = Ioctl.iow(KVMIO, setNr, size);
        this.size = size;
        this.vmWide = vmWide;
    }

    /** The structure's size in bytes. */
    public int size() {
        return size;
    }

    /** Whether the structure belongs to the VM fd (else to a vCPU fd). */
    public boolean vmWide() {
        return vmWide;
    }
}
