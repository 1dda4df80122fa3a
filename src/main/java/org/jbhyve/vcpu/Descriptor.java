package org.jbhyve.vcpu;

/**
 * A segment register's hidden part or a descriptor-table register in bhyve's terms
 * (vm_get_desc/vm_set_desc): base, byte-granular limit, and the access rights in VMX's layout
 *
 * <pre>
 * bits 3:0 type   4 S (code/data)   6:5 DPL   7 P   12 AVL   13 L (64-bit code)   14 D/B
 * 15 G (4 KiB granularity)   16 unusable
 * </pre>
 * GDTR and IDTR have no access rights (0).
 */
public record Descriptor(long base, long limit, long access) {
    public static final long TYPE_MASK = 0xF;
    public static final long S = 1 << 4, P = 1 << 7, AVL = 1 << 12, L = 1 << 13, DB = 1 << 14, G = 1 << 15;
    public static final long UNUSABLE = 1 << 16;
    public static final int DPL_SHIFT = 5;
}
