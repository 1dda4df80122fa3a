package org.jbhyve.kvm;

/**
 * The debug registers of a vCPU (struct kvm_debugregs): the four breakpoint addresses DR0-DR3,
 * DR6 (status: which breakpoint hit, single step, task switch) and DR7 (control: per-breakpoint
 * enable bits L0-L3/G0-G3 and the R/W and LEN fields of each). DR4 and DR5 are aliases of DR6
 * and DR7 and have no slot of their own. Mutable: get, edit, set.
 */
public final class DebugRegisters {
    /** DR6 and DR7 as a CPU leaves reset (SDM vol. 3, 18.2: reserved bits read as 1 in DR6, bit 10 in DR7). */
    public static final long DR6_RESET = 0xFFFF0FF0L;
    public static final long DR7_RESET = 0x400L;

    /** DR0-DR3: linear addresses of the four breakpoints. */
    public final long[] db = new long[4];
    public long dr6;
    public long dr7;
    /** struct kvm_debugregs.flags, kept as read so a read-modify-write round trip preserves it. */
    long flags;
}
