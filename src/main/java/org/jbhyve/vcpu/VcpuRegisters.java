package org.jbhyve.vcpu;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jbhyve.kvm.DebugRegisters;
import org.jbhyve.kvm.Registers;
import org.jbhyve.kvm.Segment;
import org.jbhyve.kvm.SpecialRegisters;
import org.jbhyve.kvm.VcpuEvents;
import org.jbhyve.kvm.VcpuFd;

/**
 * bhyve's register names (vm_get_register/vm_set_register: rax ... r15, rip, rflags, rsp, cr0,
 * cr2, cr3, cr4, efer, dr0-dr3, dr6, dr7 and the segment selectors cs ... ldtr) over KVM's three
 * register groups: struct kvm_regs (general registers), kvm_sregs (control registers, EFER,
 * segments, GDTR/IDTR) and kvm_debugregs. A read fetches each group it needs once; a write
 * reads, edits and writes back only the groups it touches, so values not named are kept.
 *
 * <p>Every method here takes a {@link VcpuFd} and must run on that vCPU's thread (inside a
 * {@link VcpuRequest}).
 */
public final class VcpuRegisters {
    /** In struct kvm_regs order, so a name's index is its {@link Registers} index. */
    private static final List<String> GENERAL = List.of("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags");
    private static final List<String> CONTROL = List.of("cr0", "cr2", "cr3", "cr4", "efer");
    private static final List<String> DEBUG = List.of("dr0", "dr1", "dr2", "dr3", "dr6", "dr7");
    /** The segment registers, in struct kvm_sregs order. */
    public static final List<String> SEGMENTS = List.of("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldtr");
    /** Everything {@link #read} and {@link #write} accept. */
    public static final List<String> NAMES = java.util.stream.Stream.of(GENERAL, CONTROL, DEBUG, SEGMENTS)
            .flatMap(List::stream).toList();
    /** Everything {@link #readDescriptor} and {@link #writeDescriptor} accept. */
    public static final List<String> DESCRIPTORS = java.util.stream.Stream.of(SEGMENTS, List.of("gdtr", "idtr"))
            .flatMap(List::stream).toList();

    /** bhyve's VM_INTINFO encoding: vector 7:0, type 10:8, error code valid 11, valid 31, error code 63:32. */
    public static final long INTINFO_VALID = 1L << 31, INTINFO_DEL_ERRCODE = 1L << 11;
    public static final long INTINFO_HWINTR = 0, INTINFO_NMI = 2L << 8, INTINFO_HWEXCEPTION = 3L << 8;
    public static final long INTINFO_SWINTR = 4L << 8;

    private VcpuRegisters() {}

    /** Reads the named registers (each must be in {@link #NAMES}), in the order given. */
    public static Map<String, Long> read(VcpuFd vcpu, Collection<String> names) {
        Registers regs = names.stream().anyMatch(GENERAL::contains) ? vcpu.getRegisters() : null;
        SpecialRegisters sregs = names.stream().anyMatch(n -> CONTROL.contains(n) || SEGMENTS.contains(n))
                ? vcpu.getSpecialRegisters() : null;
        DebugRegisters dregs = names.stream().anyMatch(DEBUG::contains) ? vcpu.getDebugRegisters() : null;
        Map<String, Long> out = new LinkedHashMap<>();
        for (String name : names) {
            out.put(name, get(name, regs, sregs, dregs));
        }
        return out;
    }

    /** Writes the named registers; groups not named keep their values. */
    public static void write(VcpuFd vcpu, Map<String, Long> values) {
        Collection<String> names = values.keySet();
        Registers regs = names.stream().anyMatch(GENERAL::contains) ? vcpu.getRegisters() : null;
        SpecialRegisters sregs = names.stream().anyMatch(n -> CONTROL.contains(n) || SEGMENTS.contains(n))
                ? vcpu.getSpecialRegisters() : null;
        DebugRegisters dregs = names.stream().anyMatch(DEBUG::contains) ? vcpu.getDebugRegisters() : null;
        values.forEach((name, value) -> set(name, value, regs, sregs, dregs));
        if (regs != null) {
            vcpu.setRegisters(regs);
        }
        if (sregs != null) {
            vcpu.setSpecialRegisters(sregs);
        }
        if (dregs != null) {
            vcpu.setDebugRegisters(dregs);
        }
    }

    private static long get(String name, Registers regs, SpecialRegisters s, DebugRegisters d) {
        int general = GENERAL.indexOf(name);
        if (general >= 0) {
            return regs.get(general);
        }
        return switch (name) {
            case "cr0" -> s.cr0;
            case "cr2" -> s.cr2;
            case "cr3" -> s.cr3;
            case "cr4" -> s.cr4;
            case "efer" -> s.efer;
            case "dr0", "dr1", "dr2", "dr3" -> d.db[name.charAt(2) - '0'];
            case "dr6" -> d.dr6;
            case "dr7" -> d.dr7;
            default -> segment(s, name).selector();
        };
    }

    private static void set(String name, long value, Registers regs, SpecialRegisters s, DebugRegisters d) {
        int general = GENERAL.indexOf(name);
        if (general >= 0) {
            regs.set(general, value);
            return;
        }
        switch (name) {
            case "cr0" -> s.cr0 = value;
            case "cr2" -> s.cr2 = value;
            case "cr3" -> s.cr3 = value;
            case "cr4" -> s.cr4 = value;
            case "efer" -> s.efer = value;
            case "dr0", "dr1", "dr2", "dr3" -> d.db[name.charAt(2) - '0'] = value;
            case "dr6" -> d.dr6 = value;
            case "dr7" -> d.dr7 = value;
            default -> {
                Segment old = segment(s, name);
                setSegment(s, name, new Segment(old.base(), old.limit(), (int) (value & 0xFFFF), old.type(),
                        old.present(), old.dpl(), old.db(), old.s(), old.l(), old.g(), old.unusable()));
            }
        }
    }

    /** A segment register or GDTR/IDTR as bhyve's vm_get_desc reports it. */
    public static Descriptor readDescriptor(VcpuFd vcpu, String name) {
        SpecialRegisters s = vcpu.getSpecialRegisters();
        return switch (name) {
            case "gdtr" -> new Descriptor(s.gdtBase, s.gdtLimit, 0);
            case "idtr" -> new Descriptor(s.idtBase, s.idtLimit, 0);
            default -> toDescriptor(segment(s, name));
        };
    }

    /** bhyve's vm_set_desc: base, limit and access rights; the selector is kept. */
    public static void writeDescriptor(VcpuFd vcpu, String name, Descriptor d) {
        SpecialRegisters s = vcpu.getSpecialRegisters();
        switch (name) {
            case "gdtr" -> {
                s.gdtBase = d.base();
                s.gdtLimit = (int) (d.limit() & 0xFFFF);
            }
            case "idtr" -> {
                s.idtBase = d.base();
                s.idtLimit = (int) (d.limit() & 0xFFFF);
            }
            default -> setSegment(s, name, fromDescriptor(segment(s, name).selector(), d));
        }
        vcpu.setSpecialRegisters(s);
    }

    /** KVM's segment fields in VMX access-rights form (AVL is not kept by this package's Segment: 0). */
    public static Descriptor toDescriptor(Segment g) {
        long access = (g.type() & Descriptor.TYPE_MASK) | (g.s() ? Descriptor.S : 0)
                | ((long) (g.dpl() & 3) << Descriptor.DPL_SHIFT) | (g.present() ? Descriptor.P : 0)
                | (g.l() ? Descriptor.L : 0) | (g.db() ? Descriptor.DB : 0) | (g.g() ? Descriptor.G : 0)
                | (g.unusable() ? Descriptor.UNUSABLE : 0);
        return new Descriptor(g.base(), Integer.toUnsignedLong(g.limit()), access);
    }

    public static Segment fromDescriptor(int selector, Descriptor d) {
        long a = d.access();
        return new Segment(d.base(), (int) d.limit(), selector, (int) (a & Descriptor.TYPE_MASK),
                (a & Descriptor.P) != 0, (int) (a >> Descriptor.DPL_SHIFT) & 3, (a & Descriptor.DB) != 0,
                (a & Descriptor.S) != 0, (a & Descriptor.L) != 0, (a & Descriptor.G) != 0,
                (a & Descriptor.UNUSABLE) != 0);
    }

    private static Segment segment(SpecialRegisters s, String name) {
        return switch (name) {
            case "cs" -> s.cs;
            case "ds" -> s.ds;
            case "es" -> s.es;
            case "fs" -> s.fs;
            case "gs" -> s.gs;
            case "ss" -> s.ss;
            case "tr" -> s.tr;
            case "ldtr" -> s.ldt;
            default -> throw new IllegalArgumentException("not a segment register: " + name);
        };
    }

    private static void setSegment(SpecialRegisters s, String name, Segment value) {
        switch (name) {
            case "cs" -> s.cs = value;
            case "ds" -> s.ds = value;
            case "es" -> s.es = value;
            case "fs" -> s.fs = value;
            case "gs" -> s.gs = value;
            case "ss" -> s.ss = value;
            case "tr" -> s.tr = value;
            case "ldtr" -> s.ldt = value;
            default -> throw new IllegalArgumentException("not a segment register: " + name);
        }
    }

    /**
     * bhyve's vm_get_intinfo from KVM's events: {pending, current}. "Current" is the event that
     * was being delivered when the vCPU left the guest (an injected exception, interrupt or NMI);
     * "pending" is one queued but not started (a pending exception or NMI). 0 means none.
     */
    public static long[] intinfo(VcpuEvents e) {
        long current = 0;
        if (e.exceptionInjected()) {
            current = exception(e);
        } else if (e.interruptInjected()) {
            current = INTINFO_VALID | (e.interruptSoft() ? INTINFO_SWINTR : INTINFO_HWINTR) | e.interruptNr();
        } else if (e.nmiInjected()) {
            current = INTINFO_VALID | INTINFO_NMI | 2;
        }
        long pending = 0;
        if (e.exceptionPending()) {
            pending = exception(e);
        } else if (e.nmiPending()) {
            pending = INTINFO_VALID | INTINFO_NMI | 2;
        }
        return new long[] {pending, current};
    }

    private static long exception(VcpuEvents e) {
        long info = INTINFO_VALID | INTINFO_HWEXCEPTION | (e.exceptionNr() & 0xFF);
        if (e.exceptionHasErrorCode()) {
            info |= INTINFO_DEL_ERRCODE | (Integer.toUnsignedLong(e.errorCode()) << 32);
        }
        return info;
    }
}
