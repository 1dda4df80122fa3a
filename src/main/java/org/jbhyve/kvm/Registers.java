package org.jbhyve.kvm;

/** General registers (struct kvm_regs), indexed by the constants below. Mutable: get, edit, set. */
public final class Registers {
    public static final int RAX = 0, RBX = 1, RCX = 2, RDX = 3, RSI = 4, RDI = 5, RSP = 6, RBP = 7;
    public static final int R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;
    public static final int RIP = 16, RFLAGS = 17;
    static final int COUNT = 18;

    /** RFLAGS bit 1 is reserved and always set. */
    public static final long RFLAGS_RESERVED = 0x2;
    public static final long RFLAGS_IF = 1L << 9;

    private final long[] values = new long[COUNT];

    public long get(int register) {
        return values[register];
    }

    public Registers set(int register, long value) {
        values[register] = value;
        return this;
    }

    long[] raw() {
        return values;
    }
}
