package org.jbhyve.kvm;

/**
 * Sizes and offsets of the x86 KVM structs this package reads and writes by hand.
 *
 * <pre>
 * struct kvm_regs   : rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags   (18 x u64 = 144)
 * struct kvm_segment: u64 base; u32 limit; u16 selector; u8 type, present, dpl, db, s, l, g,
 *                     avl, unusable, padding                                  (24 bytes)
 * struct kvm_dtable : u64 base; u16 limit; u16 padding[3]                     (16 bytes)
 * struct kvm_sregs  : cs ds es fs gs ss tr ldt (8 segments), gdt idt, cr0 cr2 cr3 cr4 cr8 efer
 *                     apic_base, u64 interrupt_bitmap[4]                      (312 bytes)
 * struct kvm_debugregs: u64 db[4], dr6, dr7, flags, reserved[9]              (128 bytes)
 * struct kvm_vcpu_events: exception {u8 injected, nr, has_error_code, pending; u32 error_code},
 *                     interrupt {u8 injected, nr, soft, shadow}, nmi {u8 injected, pending,
 *                     masked, pad}, u32 sipi_vector, u32 flags, smi {4 x u8}, triple_fault {u8},
 *                     u8 reserved[26], u8 exception_has_payload, u64 exception_payload (64 bytes)
 * struct kvm_guest_debug: u32 control, pad; u64 debugreg[8] (DR0-DR3, -, -, DR6, DR7)  (72 bytes)
 * </pre>
 */
final class KvmStructs {
    static final int REGS_SIZE = 144;
    static final int SEGMENT_SIZE = 24;
    static final int SREGS_SIZE = 312;
    static final int SREGS_GDT = 8 * SEGMENT_SIZE;
    static final int SREGS_IDT = SREGS_GDT + 16;
    static final int SREGS_CR0 = SREGS_IDT + 16;
    static final int DEBUGREGS_SIZE = 128;
    static final int VCPU_EVENTS_SIZE = 64;
    static final int GUEST_DEBUG_SIZE = 72;

    private KvmStructs() {}
}
