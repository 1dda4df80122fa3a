package org.jbhyve.vcpu;

import java.util.HexFormat;
import org.jbhyve.kvm.Registers;
import org.jbhyve.kvm.SpecialRegisters;
import org.jbhyve.kvm.VcpuExit;

/**
 * The one-line message for a KVM internal error. The common case is an emulation failure: KVM
 * had to emulate a guest instruction (real mode on hosts without unrestricted guest, MMIO, a
 * nested software KVM) and could not. With KVM_CAP_EXIT_ON_EMULATION_FAILURE the kernel hands over
 * the instruction's bytes; the message names them, the linear address of the instruction
 * (CS.base + RIP) and the CPU mode, so a user can tell "firmware needs an instruction this host's
 * KVM cannot emulate" from a VMM bug.
 */
final class EmulationFailure {
    private EmulationFailure() {}

    static String describe(int vcpu, VcpuExit.InternalError e, Registers regs, SpecialRegisters sregs) {
        long rip = regs.get(Registers.RIP);
        String where = String.format("rip 0x%x (cs base 0x%x) in %s", rip, sregs.cs.base(), mode(sregs, regs));
        if (e.suberror() != VcpuExit.InternalError.EMULATION) {
            return String.format("vcpu %d: KVM internal error %d at %s", vcpu, e.suberror(), where);
        }
        String bytes = e.instruction().length == 0 ? "(bytes not reported by this kernel)"
                : HexFormat.ofDelimiter(" ").formatHex(e.instruction());
        String known = knownInstruction(e.instruction());
        return String.format("vcpu %d: this host's KVM cannot emulate the instruction %s%s at %s", vcpu, bytes,
                known.isEmpty() ? "" : " (" + known + ")", where);
    }

    /** Real, virtual-8086, 16/32-bit protected, compatibility or 64-bit mode, with paging noted. */
    static String mode(SpecialRegisters s, Registers regs) {
        if ((s.cr0 & SpecialRegisters.CR0_PE) == 0) {
            return "real mode";
        }
        String paging = (s.cr0 & SpecialRegisters.CR0_PG) == 0 ? ", paging off" : "";
        if ((s.efer & SpecialRegisters.EFER_LMA) != 0) {
            return s.cs.l() ? "64-bit mode" : "compatibility mode";
        }
        if ((regs.get(Registers.RFLAGS) & (1L << 17)) != 0) {
            return "virtual-8086 mode";
        }
        return (s.cs.db() ? "32-bit" : "16-bit") + " protected mode" + paging;
    }

    /** Names a few instructions firmware commonly starts with that software KVMs lack. */
    static String knownInstruction(byte[] b) {
        int i = 0;
        while (i < b.length && isPrefix(b[i] & 0xFF)) {
            i++;
        }
        if (i >= b.length) {
            return "";
        }
        int op = b[i] & 0xFF;
        int next = i + 1 < b.length ? b[i + 1] & 0xFF : -1;
        if (op == 0xDB && next == 0xE3) {
            return "x87 fninit";
        }
        if (op >= 0xD8 && op <= 0xDF) {
            return "x87 floating point";
        }
        if (op == 0xCC) {
            return "int3";
        }
        if (op == 0x0F && next == 0xAE && i + 2 < b.length) {
            int r = ((b[i + 2] & 0xFF) >> 3) & 7;
            return switch (r) {
                case 0 -> "fxsave";
                case 1 -> "fxrstor";
                case 4 -> "xsave";
                case 5 -> "xrstor";
                default -> "0f ae group";
            };
        }
        if (op == 0x0F && next == 0xC7 && i + 2 < b.length && (((b[i + 2] & 0xFF) >> 3) & 7) == 1) {
            boolean rexW = i > 0 && (b[i - 1] & 0xF8) == 0x48;
            return rexW ? "cmpxchg16b" : "cmpxchg8b";
        }
        return "";
    }

    private static boolean isPrefix(int b) {
        return b == 0x66 || b == 0x67 || b == 0xF0 || b == 0xF2 || b == 0xF3 || b == 0x2E || b == 0x3E
                || b == 0x26 || b == 0x36 || b == 0x64 || b == 0x65 || (b >= 0x40 && b <= 0x4F);
    }
}
