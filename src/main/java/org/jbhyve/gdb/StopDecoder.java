package org.jbhyve.gdb;

import org.jbhyve.memory.GuestMemory;

/**
 * Turns a vCPU's {@link Trap} into the stop gdb is told about, or decides it is not the
 * debugger's: an int3 (intercepted #BP or emulation failure) counts only where a breakpoint was
 * planted, matched by physical address so any linear alias of the byte matches; a #DB is a
 * debug-register hit when DR6 names a slot in use (its breakpoint or watchpoint is named in
 * the reply; a slot backing a software breakpoint is reported as that software breakpoint,
 * {@code swbreak:}), else a single step. An instruction breakpoint traps before the
 * instruction, so the trap's pc is the breakpoint's address as it is; the stop remembers it
 * ({@link GdbSession.Stop#onInstructionBreakpoint}) so resuming can step past it. Runs on vCPU
 * threads; needs only thread-safe parts.
 */
final class StopDecoder {
    private StopDecoder() {}

    /** The stop to report for {@code trap} on {@code vcpu}, or null when the trap is not ours. */
    static GdbSession.Stop decode(int vcpu, Trap trap, GuestMemory memory, Breakpoints breakpoints) {
        return switch (trap.kind()) {
            case BREAKPOINT, EMULATION_FAILURE -> {
                long physical;
                try {
                    physical = PageWalker.translate(memory, trap.paging(), trap.pc());
                } catch (PageWalker.UnmappedException e) {
                    yield null;
                }
                yield breakpoints.plantedAt(physical) ? new GdbSession.Stop(vcpu, GdbSession.SIGTRAP, "swbreak:;") : null;
            }
            case DEBUG -> {
                Breakpoints.Hardware h = breakpoints.hardwareHit(trap.dr6());
                String reason = h == null ? "" : switch (h.type()) {
                    case Breakpoints.SOFTWARE -> "swbreak:;";
                    case Breakpoints.EXEC -> "hwbreak:;";
                    case Breakpoints.WRITE -> "watch:" + Long.toHexString(h.address()) + ";";
                    case Breakpoints.READ -> "rwatch:" + Long.toHexString(h.address()) + ";";
                    default -> "awatch:" + Long.toHexString(h.address()) + ";";
                };
                boolean instruction = h != null && (h.type() == Breakpoints.SOFTWARE || h.type() == Breakpoints.EXEC);
                yield new GdbSession.Stop(vcpu, GdbSession.SIGTRAP, reason, instruction, trap.pc());
            }
        };
    }
}
