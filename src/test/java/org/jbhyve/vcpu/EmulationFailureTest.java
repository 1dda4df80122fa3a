package org.jbhyve.vcpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.jbhyve.kvm.Registers;
import org.jbhyve.kvm.Segment;
import org.jbhyve.kvm.SpecialRegisters;
import org.jbhyve.kvm.VcpuExit;
import org.junit.jupiter.api.Test;

/** The one line a user sees when the host's KVM cannot emulate an instruction. */
class EmulationFailureTest {

    private static SpecialRegisters realModeAtResetVector() {
        SpecialRegisters s = new SpecialRegisters();
        s.cs = new Segment(0xFFFF0000L, 0xFFFF, 0xF000, 0xB, true, 0, false, true, false, false, false);
        return s;
    }

    private static Registers rip(long rip) {
        Registers r = new Registers();
        r.set(Registers.RIP, rip);
        r.set(Registers.RFLAGS, Registers.RFLAGS_RESERVED);
        return r;
    }

    @Test
    void ovmfsFirstInstructionIsNamedWithItsBytesAddressAndMode() {
        VcpuExit.InternalError e = new VcpuExit.InternalError(1, new byte[] {(byte) 0xDB, (byte) 0xE3});
        assertEquals("vcpu 0: this host's KVM cannot emulate the instruction db e3 (x87 fninit) at rip 0xfff0 "
                + "(cs base 0xffff0000) in real mode", EmulationFailure.describe(0, e, rip(0xFFF0), realModeAtResetVector()));
    }

    @Test
    void modesAndOtherInstructions() {
        SpecialRegisters s = realModeAtResetVector();
        s.cr0 = SpecialRegisters.CR0_PE;
        s.cs = Segment.flatCode(8, false);
        assertEquals("32-bit protected mode, paging off", EmulationFailure.mode(s, rip(0)));
        s.cs = Segment.flatCode(8, true);
        s.efer = SpecialRegisters.EFER_LMA | SpecialRegisters.EFER_LME;
        s.cr0 |= SpecialRegisters.CR0_PG;
        assertEquals("64-bit mode", EmulationFailure.mode(s, rip(0)));
        assertEquals("cmpxchg16b", EmulationFailure.knownInstruction(new byte[] {(byte) 0xF0, 0x48, 0x0F, (byte) 0xC7, 0x0E}));
        assertEquals("cmpxchg8b", EmulationFailure.knownInstruction(new byte[] {0x0F, (byte) 0xC7, 0x0E}));
        assertEquals("xrstor", EmulationFailure.knownInstruction(new byte[] {0x0F, (byte) 0xAE, 0x2F}));
        assertEquals("int3", EmulationFailure.knownInstruction(new byte[] {(byte) 0xCC}));
        assertEquals("", EmulationFailure.knownInstruction(new byte[] {0x66}));
    }

    @Test
    void otherInternalErrorsAndMissingBytes() {
        assertEquals("vcpu 1: KVM internal error 3 at rip 0x10 (cs base 0xffff0000) in real mode",
                EmulationFailure.describe(1, new VcpuExit.InternalError(3, new byte[0]), rip(0x10), realModeAtResetVector()));
        assertEquals("vcpu 0: this host's KVM cannot emulate the instruction (bytes not reported by this kernel) "
                + "at rip 0x10 (cs base 0xffff0000) in real mode",
                EmulationFailure.describe(0, new VcpuExit.InternalError(1, new byte[0]), rip(0x10), realModeAtResetVector()));
    }
}
