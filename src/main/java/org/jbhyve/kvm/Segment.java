package org.jbhyve.kvm;

/**
 * A segment register's hidden part as KVM sees it (struct kvm_segment). {@code type} is the
 * 4-bit descriptor type (e.g. 0xB = execute/read code accessed, 0x3 = read/write data accessed,
 * 0xB for a busy 32/64-bit TSS with {@code s} = false).
 */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl,
                      boolean db, boolean s, boolean l, boolean g, boolean unusable) {

    /** A flat 4 GiB code segment: 32-bit when {@code longMode} is false, 64-bit otherwise. */
    public static Segment flatCode(int selector, boolean longMode) {
        return new Segment(0, 0xFFFFFFFF, selector, 0xB, true, 0, !longMode, true, longMode, true, false);
    }

    /** A flat 4 GiB read/write data segment. */
    public static Segment flatData(int selector) {
        return new Segment(0, 0xFFFFFFFF, selector, 0x3, true, 0, true, true, false, true, false);
    }

    /** A busy 32/64-bit TSS (VMX requires a usable TR even when the guest never uses one). */
    public static Segment busyTss(int selector, long base, int limit) {
        return new Segment(base, limit, selector, 0xB, true, 0, false, false, false, false, false);
    }
}
