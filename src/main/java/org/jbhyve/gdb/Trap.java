package org.jbhyve.gdb;

/**
 * Why a vCPU left the guest for the debugger, as the hardware (or KVM) reported it:
 *
 * <ul>
 *   <li>{@link Kind#BREAKPOINT}: an {@code int3} raised #BP and KVM intercepted it
 *       (KVM_GUESTDBG_USE_SW_BP); {@code pc} is its linear address.</li>
 *   <li>{@link Kind#EMULATION_FAILURE}: KVM's instruction emulator stopped at {@code pc}; it is a
 *       breakpoint when the debugger planted an {@code int3} there (emulators lack it).</li>
 *   <li>{@link Kind#DEBUG}: a #DB: single step (DR6.BS, bit 14) or a debug-register hit (DR6
 *       bits 0-3 name the slot); {@code pc} is where the vCPU stands now.</li>
 * </ul>
 * {@code paging} is the vCPU's translation state, so {@code pc} can be matched against the
 * physical address a breakpoint was planted at.
 */
public record Trap(Kind kind, long pc, long dr6, Paging paging) {
    public enum Kind {
        BREAKPOINT, EMULATION_FAILURE, DEBUG
    }

    /** DR6.BS: the #DB is a single step. */
    public static final long DR6_SINGLE_STEP = 1L << 14;
}
