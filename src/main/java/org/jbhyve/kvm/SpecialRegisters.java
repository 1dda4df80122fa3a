package org.jbhyve.kvm;

/** Segment, descriptor-table and control registers (struct kvm_sregs). Mutable: get, edit, set. */
public final class SpecialRegisters {
    public static final long CR0_PE = 1L;
    public static final long CR0_ET = 1L << 4;
    public static final long CR0_NE = 1L << 5;
    public static final long CR0_PG = 1L << 31;
    public static final long CR4_PAE = 1L << 5;
    public static final long EFER_LME = 1L << 8;
    public static final long EFER_LMA = 1L << 10;

    public Segment cs, ds, es, fs, gs, ss, tr, ldt;
    public long gdtBase, idtBase;
    public int gdtLimit, idtLimit;
    public long cr0, cr2, cr3, cr4, cr8, efer, apicBase;
    /** struct kvm_sregs.interrupt_bitmap: pending external interrupt, preserved across get/set. */
    final long[] interruptBitmap = new long[4];

    /** Loads the same flat data segment into DS, ES, FS, GS and SS. */
    public void setDataSegments(Segment data) {
        ds = es = fs = gs = ss = data;
    }
}
