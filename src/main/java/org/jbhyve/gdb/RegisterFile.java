package org.jbhyve.gdb;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.kvm.Fpu;
import org.jbhyve.kvm.Registers;
import org.jbhyve.kvm.Segment;
import org.jbhyve.kvm.SpecialRegisters;

/**
 * gdb's x86-64 register numbering and its mapping onto KVM's register sets. The order is the
 * remote protocol's: {@code g} sends every register in it, {@code p n} register n. Values are
 * little-endian, sized as gdb's target description says:
 *
 * <pre>
 *  0-15  rax rbx rcx rdx rsi rdi rbp rsp r8-r15  64  org.gnu.gdb.i386.core (kvm_regs)
 *  16    rip 64, 17 eflags 32
 *  18-23 cs ss ds es fs gs                        32  selectors (kvm_sregs)
 *  24-31 st0-st7                                  80  x87 stack, ST(i) order (kvm_fpu)
 *  32-39 fctrl fstat ftag fiseg fioff foseg fooff fop  32
 *  40-55 xmm0-xmm15 128, 56 mxcsr 32               org.gnu.gdb.i386.sse (kvm_fpu)
 *  57-58 fs_base gs_base                          64  org.gnu.gdb.i386.segments (kvm_sregs)
 *  59-64 cr0 cr2 cr3 cr4 cr8 efer                  64  org.jbhyve.x86.system (kvm_sregs)
 * </pre>
 * {@code ftag} is the full x87 tag word (2 bits per physical register: 00 valid, 01 zero, 10
 * special, 11 empty); KVM keeps FXSAVE's abridged form (1 bit: not empty), so reading
 * classifies each register's value as gdb's own i387 code does, and writing keeps only
 * empty/not empty. {@code fiseg:fioff} and {@code foseg:fooff} are FXSAVE's FCS:FIP and FDS:FDP.
 */
final class RegisterFile {
    /** One register of the table: name, width in bits, gdb type, group and feature. */
    record Reg(String name, int bits, String type, String group, String feature) {
        int bytes() {
            return bits / 8;
        }
    }

    static final String CORE = "org.gnu.gdb.i386.core";
    static final String SSE = "org.gnu.gdb.i386.sse";
    static final String SEGMENTS = "org.gnu.gdb.i386.segments";
    static final String SYSTEM = "org.jbhyve.x86.system";

    static final int RIP = 16, EFLAGS = 17, CS = 18, ST0 = 24, FCTRL = 32, XMM0 = 40, MXCSR = 56;
    static final int FS_BASE = 57, CR0 = 59;

    /** gdb's order of the general registers, as KVM indexes (rbp and rsp swap places). */
    private static final int[] GENERAL = {Registers.RAX, Registers.RBX, Registers.RCX, Registers.RDX, Registers.RSI,
        Registers.RDI, Registers.RBP, Registers.RSP, Registers.R8, Registers.R9, Registers.R10, Registers.R11,
        Registers.R12, Registers.R13, Registers.R14, Registers.R15};

    static final List<Reg> REGISTERS = table();

    private RegisterFile() {}

    private static List<Reg> table() {
        List<Reg> t = new ArrayList<>();
        String[] general = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp"};
        for (String n : general) {
            t.add(new Reg(n, 64, n.equals("rbp") || n.equals("rsp") ? "data_ptr" : "int64", "general", CORE));
        }
        for (int i = 8; i < 16; i++) {
            t.add(new Reg("r" + i, 64, "int64", "general", CORE));
        }
        t.add(new Reg("rip", 64, "code_ptr", "general", CORE));
        t.add(new Reg("eflags", 32, "i386_eflags", "general", CORE));
        for (String n : new String[] {"cs", "ss", "ds", "es", "fs", "gs"}) {
            t.add(new Reg(n, 32, "int32", "general", CORE));
        }
        for (int i = 0; i < 8; i++) {
            t.add(new Reg("st" + i, 80, "i387_ext", "float", CORE));
        }
        for (String n : new String[] {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"}) {
            t.add(new Reg(n, 32, "int", "float", CORE));
        }
        for (int i = 0; i < 16; i++) {
            t.add(new Reg("xmm" + i, 128, "vec128", "vector", SSE));
        }
        t.add(new Reg("mxcsr", 32, "i386_mxcsr", "vector", SSE));
        t.add(new Reg("fs_base", 64, "int", "system", SEGMENTS));
        t.add(new Reg("gs_base", 64, "int", "system", SEGMENTS));
        for (String n : new String[] {"cr0", "cr2", "cr3", "cr4", "cr8", "efer"}) {
            t.add(new Reg(n, 64, "uint64", "system", SYSTEM));
        }
        return List.copyOf(t);
    }

    static int count() {
        return REGISTERS.size();
    }

    /** Bytes of all registers together (the size of a {@code g} reply). */
    static int totalBytes() {
        return REGISTERS.stream().mapToInt(Reg::bytes).sum();
    }

    /** Register {@code n}'s value, little-endian, into {@code out[off..]}. */
    static void read(CpuState s, int n, byte[] out, int off) {
        Reg r = REGISTERS.get(n);
        if (n < 16) {
            put(out, off, 8, s.regs.get(GENERAL[n]));
        } else if (n == RIP) {
            put(out, off, 8, s.regs.get(Registers.RIP));
        } else if (n == EFLAGS) {
            put(out, off, 4, s.regs.get(Registers.RFLAGS));
        } else if (n < ST0) {
            put(out, off, 4, segment(s.sregs, n - CS).selector());
        } else if (n < FCTRL) {
            System.arraycopy(s.fpu.fpr, (n - ST0) * 16, out, off, 10);
        } else if (n < XMM0) {
            put(out, off, 4, x87Control(s.fpu, n - FCTRL));
        } else if (n < MXCSR) {
            System.arraycopy(s.fpu.xmm, (n - XMM0) * 16, out, off, 16);
        } else if (n == MXCSR) {
            put(out, off, 4, Integer.toUnsignedLong(s.fpu.mxcsr));
        } else if (n < CR0) {
            put(out, off, 8, (n == FS_BASE ? s.sregs.fs : s.sregs.gs).base());
        } else {
            put(out, off, r.bytes(), system(s.sregs, n - CR0));
        }
    }

    /** Sets register {@code n} from {@code in[off..]} (little-endian); returns the set it changed. */
    static CpuState.Part write(CpuState s, int n, byte[] in, int off) {
        long v = n < ST0 || (n >= FCTRL && n < XMM0) || n >= MXCSR ? get(in, off, REGISTERS.get(n).bytes()) : 0;
        if (n < 16) {
            s.regs.set(GENERAL[n], v);
        } else if (n == RIP) {
            s.regs.set(Registers.RIP, v);
        } else if (n == EFLAGS) {
            s.regs.set(Registers.RFLAGS, (s.regs.get(Registers.RFLAGS) & ~0xFFFF_FFFFL) | v | Registers.RFLAGS_RESERVED);
        } else if (n < ST0) {
            Segment g = segment(s.sregs, n - CS);
            setSegment(s.sregs, n - CS, new Segment(g.base(), g.limit(), (int) (v & 0xFFFF), g.type(), g.present(),
                    g.dpl(), g.db(), g.s(), g.l(), g.g(), g.unusable()));
            return CpuState.Part.SPECIAL;
        } else if (n < FCTRL) {
            System.arraycopy(in, off, s.fpu.fpr, (n - ST0) * 16, 10);
            return CpuState.Part.FPU;
        } else if (n < XMM0) {
            setX87Control(s.fpu, n - FCTRL, v);
            return CpuState.Part.FPU;
        } else if (n < MXCSR) {
            System.arraycopy(in, off, s.fpu.xmm, (n - XMM0) * 16, 16);
            return CpuState.Part.FPU;
        } else if (n == MXCSR) {
            s.fpu.mxcsr = (int) v;
            return CpuState.Part.FPU;
        } else if (n < CR0) {
            int which = n == FS_BASE ? 4 : 5;
            Segment g = segment(s.sregs, which);
            setSegment(s.sregs, which, new Segment(v, g.limit(), g.selector(), g.type(), g.present(), g.dpl(), g.db(),
                    g.s(), g.l(), g.g(), g.unusable()));
            return CpuState.Part.SPECIAL;
        } else {
            setSystem(s.sregs, n - CR0, v);
            return CpuState.Part.SPECIAL;
        }
        return CpuState.Part.GENERAL;
    }

    /** cs ss ds es fs gs, in gdb's order. */
    private static Segment segment(SpecialRegisters s, int i) {
        Segment g = switch (i) {
            case 0 -> s.cs;
            case 1 -> s.ss;
            case 2 -> s.ds;
            case 3 -> s.es;
            case 4 -> s.fs;
            default -> s.gs;
        };
        return g == null ? new Segment(0, 0, 0, 0, false, 0, false, false, false, false, true) : g;
    }

    private static void setSegment(SpecialRegisters s, int i, Segment g) {
        switch (i) {
            case 0 -> s.cs = g;
            case 1 -> s.ss = g;
            case 2 -> s.ds = g;
            case 3 -> s.es = g;
            case 4 -> s.fs = g;
            default -> s.gs = g;
        }
    }

    private static long system(SpecialRegisters s, int i) {
        return switch (i) {
            case 0 -> s.cr0;
            case 1 -> s.cr2;
            case 2 -> s.cr3;
            case 3 -> s.cr4;
            case 4 -> s.cr8;
            default -> s.efer;
        };
    }

    private static void setSystem(SpecialRegisters s, int i, long v) {
        switch (i) {
            case 0 -> s.cr0 = v;
            case 1 -> s.cr2 = v;
            case 2 -> s.cr3 = v;
            case 3 -> s.cr4 = v;
            case 4 -> s.cr8 = v;
            default -> s.efer = v;
        }
    }

    /** fctrl fstat ftag fiseg fioff foseg fooff fop. */
    private static long x87Control(Fpu f, int i) {
        return switch (i) {
            case 0 -> f.fcw;
            case 1 -> f.fsw;
            case 2 -> X87Tags.full(f);
            case 3 -> (f.lastIp >>> 32) & 0xFFFF;
            case 4 -> f.lastIp & 0xFFFF_FFFFL;
            case 5 -> (f.lastDp >>> 32) & 0xFFFF;
            case 6 -> f.lastDp & 0xFFFF_FFFFL;
            default -> f.lastOpcode & 0x7FF;
        };
    }

    private static void setX87Control(Fpu f, int i, long v) {
        switch (i) {
            case 0 -> f.fcw = (int) (v & 0xFFFF);
            case 1 -> f.fsw = (int) (v & 0xFFFF);
            case 2 -> f.ftwx = X87Tags.abridged((int) v);
            case 3 -> f.lastIp = (f.lastIp & ~0xFFFF_0000_0000L) | ((v & 0xFFFF) << 32);
            case 4 -> f.lastIp = (f.lastIp & ~0xFFFF_FFFFL) | (v & 0xFFFF_FFFFL);
            case 5 -> f.lastDp = (f.lastDp & ~0xFFFF_0000_0000L) | ((v & 0xFFFF) << 32);
            case 6 -> f.lastDp = (f.lastDp & ~0xFFFF_FFFFL) | (v & 0xFFFF_FFFFL);
            default -> f.lastOpcode = (int) (v & 0x7FF);
        }
    }

    static void put(byte[] out, int off, int bytes, long v) {
        for (int i = 0; i < bytes; i++) {
            out[off + i] = (byte) (i < 8 ? v >>> (8 * i) : 0);
        }
    }

    static long get(byte[] in, int off, int bytes) {
        long v = 0;
        for (int i = 0; i < bytes && i < 8; i++) {
            v |= Byte.toUnsignedLong(in[off + i]) << (8 * i);
        }
        return v;
    }
}
