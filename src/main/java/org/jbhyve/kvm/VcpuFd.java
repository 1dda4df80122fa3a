package org.jbhyve.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/**
 * A vCPU fd and its kvm_run page. {@link #run()} and the register calls belong to the vCPU's own
 * thread (KVM takes the vCPU mutex, so another thread would block until KVM_RUN returns).
 */
public final class VcpuFd implements AutoCloseable {
    public static final int MP_STATE_RUNNABLE = 0;
    public static final int MP_STATE_HALTED = 3;

    /** struct kvm_guest_debug.control bits (linux/kvm.h and arch/x86/include/uapi/asm/kvm.h). */
    public static final int GUESTDBG_ENABLE = 0x1;
    /** Exit (KVM_EXIT_DEBUG, #DB with DR6.BS) after every guest instruction. */
    public static final int GUESTDBG_SINGLESTEP = 0x2;
    /** Intercept #BP (int3): KVM_EXIT_DEBUG with exception 3 instead of delivering it. */
    public static final int GUESTDBG_USE_SW_BP = 0x10000;
    /** The debug registers are the debugger's (debugreg[]): hits exit with #DB, the guest's own DRs are shadowed. */
    public static final int GUESTDBG_USE_HW_BP = 0x20000;
    /** Queue a #BP for the guest at the next entry (a breakpoint that was not the debugger's). */
    public static final int GUESTDBG_INJECT_BP = 0x80000;
    /** No interrupt is injected while single-stepping (kernel 5.16+; older kernels refuse it with EINVAL). */
    public static final int GUESTDBG_BLOCKIRQ = 0x200000;

    private final int id;
    private final Fd fd;
    private final MemorySegment runPage;
    private final KvmRun run;

    VcpuFd(int id, Fd fd, int mmapSize) {
        this.id = id;
        this.fd = fd;
        this.runPage = Posix.mmap(mmapSize, Posix.PROT_READ | Posix.PROT_WRITE, Posix.MAP_SHARED, fd, 0);
        this.run = new KvmRun(runPage);
    }

    public int id() {
        return id;
    }

    public KvmRun kvmRun() {
        return run;
    }

    /** KVM_RUN until the next exit; EINTR (a kick) comes back as {@link VcpuExit.Interrupted}. */
    public VcpuExit run() {
        int r = Posix.ioctlOrErrno(fd, KvmIoctls.RUN, 0);
        if (r < 0) {
            if (-r == Errno.EINTR || -r == Errno.EAGAIN) {
                return new VcpuExit.Interrupted();
            }
            throw new SysException("KVM_RUN", -r);
        }
        return run.decode();
    }

    public Registers getRegisters() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(KvmStructs.REGS_SIZE, 8);
            Posix.ioctl(fd, KvmIoctls.GET_REGS, buf);
            Registers regs = new Registers();
            for (int i = 0; i < Registers.COUNT; i++) {
                regs.raw()[i] = buf.getAtIndex(JAVA_LONG, i);
            }
            return regs;
        }
    }

    public void setRegisters(Registers regs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(KvmStructs.REGS_SIZE, 8);
            for (int i = 0; i < Registers.COUNT; i++) {
                buf.setAtIndex(JAVA_LONG, i, regs.raw()[i]);
            }
            Posix.ioctl(fd, KvmIoctls.SET_REGS, buf);
        }
    }

    public SpecialRegisters getSpecialRegisters() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmStructs.SREGS_SIZE, 8);
            Posix.ioctl(fd, KvmIoctls.GET_SREGS, b);
            SpecialRegisters s = new SpecialRegisters();
            Segment[] segs = new Segment[8];
            for (int i = 0; i < 8; i++) {
                segs[i] = readSegment(b, (long) i * KvmStructs.SEGMENT_SIZE);
            }
            s.cs = segs[0]; s.ds = segs[1]; s.es = segs[2]; s.fs = segs[3];
            s.gs = segs[4]; s.ss = segs[5]; s.tr = segs[6]; s.ldt = segs[7];
            s.gdtBase = b.get(JAVA_LONG, KvmStructs.SREGS_GDT);
            s.gdtLimit = Short.toUnsignedInt(b.get(JAVA_SHORT, KvmStructs.SREGS_GDT + 8));
            s.idtBase = b.get(JAVA_LONG, KvmStructs.SREGS_IDT);
            s.idtLimit = Short.toUnsignedInt(b.get(JAVA_SHORT, KvmStructs.SREGS_IDT + 8));
            long o = KvmStructs.SREGS_CR0;
            s.cr0 = b.get(JAVA_LONG, o); s.cr2 = b.get(JAVA_LONG, o + 8); s.cr3 = b.get(JAVA_LONG, o + 16);
            s.cr4 = b.get(JAVA_LONG, o + 24); s.cr8 = b.get(JAVA_LONG, o + 32); s.efer = b.get(JAVA_LONG, o + 40);
            s.apicBase = b.get(JAVA_LONG, o + 48);
            for (int i = 0; i < 4; i++) {
                s.interruptBitmap[i] = b.get(JAVA_LONG, o + 56 + 8L * i);
            }
            return s;
        }
    }

    public void setSpecialRegisters(SpecialRegisters s) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmStructs.SREGS_SIZE, 8);
            Segment[] segs = {s.cs, s.ds, s.es, s.fs, s.gs, s.ss, s.tr, s.ldt};
            for (int i = 0; i < 8; i++) {
                writeSegment(b, (long) i * KvmStructs.SEGMENT_SIZE, segs[i]);
            }
            b.set(JAVA_LONG, KvmStructs.SREGS_GDT, s.gdtBase);
            b.set(JAVA_SHORT, KvmStructs.SREGS_GDT + 8, (short) s.gdtLimit);
            b.set(JAVA_LONG, KvmStructs.SREGS_IDT, s.idtBase);
            b.set(JAVA_SHORT, KvmStructs.SREGS_IDT + 8, (short) s.idtLimit);
            long o = KvmStructs.SREGS_CR0;
            b.set(JAVA_LONG, o, s.cr0); b.set(JAVA_LONG, o + 8, s.cr2); b.set(JAVA_LONG, o + 16, s.cr3);
            b.set(JAVA_LONG, o + 24, s.cr4); b.set(JAVA_LONG, o + 32, s.cr8); b.set(JAVA_LONG, o + 40, s.efer);
            b.set(JAVA_LONG, o + 48, s.apicBase);
            for (int i = 0; i < 4; i++) {
                b.set(JAVA_LONG, o + 56 + 8L * i, s.interruptBitmap[i]);
            }
            Posix.ioctl(fd, KvmIoctls.SET_SREGS, b);
        }
    }

    private static Segment readSegment(MemorySegment b, long o) {
        return new Segment(b.get(JAVA_LONG, o), b.get(JAVA_INT, o + 8), Short.toUnsignedInt(b.get(JAVA_SHORT, o + 12)),
                b.get(JAVA_BYTE, o + 14), b.get(JAVA_BYTE, o + 15) != 0, b.get(JAVA_BYTE, o + 16),
                b.get(JAVA_BYTE, o + 17) != 0, b.get(JAVA_BYTE, o + 18) != 0, b.get(JAVA_BYTE, o + 19) != 0,
                b.get(JAVA_BYTE, o + 20) != 0, b.get(JAVA_BYTE, o + 22) != 0);
    }

    private static void writeSegment(MemorySegment b, long o, Segment s) {
        b.set(JAVA_LONG, o, s.base());
        b.set(JAVA_INT, o + 8, s.limit());
        b.set(JAVA_SHORT, o + 12, (short) s.selector());
        b.set(JAVA_BYTE, o + 14, (byte) s.type());
        b.set(JAVA_BYTE, o + 15, flag(s.present()));
        b.set(JAVA_BYTE, o + 16, (byte) s.dpl());
        b.set(JAVA_BYTE, o + 17, flag(s.db()));
        b.set(JAVA_BYTE, o + 18, flag(s.s()));
        b.set(JAVA_BYTE, o + 19, flag(s.l()));
        b.set(JAVA_BYTE, o + 20, flag(s.g()));
        b.set(JAVA_BYTE, o + 21, (byte) 0);
        b.set(JAVA_BYTE, o + 22, flag(s.unusable()));
    }

    private static byte flag(boolean b) {
        return (byte) (b ? 1 : 0);
    }

    /** KVM_SET_CPUID2: what CPUID reports to this vCPU. */
    public void setCpuid(List<CpuidEntry> entries) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8 + (long) entries.size() * CpuidEntry.SIZE, 8);
            buf.set(JAVA_INT, 0, entries.size());
            for (int i = 0; i < entries.size(); i++) {
                CpuidEntry e = entries.get(i);
                long o = 8 + (long) i * CpuidEntry.SIZE;
                buf.set(JAVA_INT, o, e.function());
                buf.set(JAVA_INT, o + 4, e.index());
                buf.set(JAVA_INT, o + 8, e.flags());
                buf.set(JAVA_INT, o + 12, e.eax());
                buf.set(JAVA_INT, o + 16, e.ebx());
                buf.set(JAVA_INT, o + 20, e.ecx());
                buf.set(JAVA_INT, o + 24, e.edx());
            }
            Posix.ioctl(fd, KvmIoctls.SET_CPUID2, buf);
        }
    }

    /** KVM_SET_MSRS: writes {index -> value} pairs (struct kvm_msrs + kvm_msr_entry[]). */
    public void setMsrs(long[][] indexValuePairs) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8 + 16L * indexValuePairs.length, 8);
            buf.set(JAVA_INT, 0, indexValuePairs.length);
            for (int i = 0; i < indexValuePairs.length; i++) {
                buf.set(JAVA_INT, 8 + 16L * i, (int) indexValuePairs[i][0]);
                buf.set(JAVA_LONG, 8 + 16L * i + 8, indexValuePairs[i][1]);
            }
            int done = Posix.ioctl(fd, KvmIoctls.SET_MSRS, buf);
            if (done != indexValuePairs.length) {
                throw new IllegalStateException("KVM_SET_MSRS set " + done + " of " + indexValuePairs.length);
            }
        }
    }

    /** KVM_SET_SIGNAL_MASK: the signal mask in force while this vCPU is inside KVM_RUN. */
    public void setSignalMask(long kernelSigset) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(16, 8);
            buf.set(JAVA_INT, 0, 8);
            buf.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 4, kernelSigset);
            Posix.ioctl(fd, KvmIoctls.SET_SIGNAL_MASK, buf);
        }
    }

    /** KVM_GET_MP_STATE: RUNNABLE, HALTED, INIT_RECEIVED... */
    public int getMpState() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4, 4);
            Posix.ioctl(fd, KvmIoctls.GET_MP_STATE, buf);
            return buf.get(JAVA_INT, 0);
        }
    }

    /** KVM_GET_DEBUGREGS: DR0-DR3, DR6, DR7. */
    public DebugRegisters getDebugRegisters() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmStructs.DEBUGREGS_SIZE, 8);
            Posix.ioctl(fd, KvmIoctls.GET_DEBUGREGS, b);
            DebugRegisters d = new DebugRegisters();
            for (int i = 0; i < 4; i++) {
                d.db[i] = b.getAtIndex(JAVA_LONG, i);
            }
            d.dr6 = b.getAtIndex(JAVA_LONG, 4);
            d.dr7 = b.getAtIndex(JAVA_LONG, 5);
            d.flags = b.getAtIndex(JAVA_LONG, 6);
            return d;
        }
    }

    /** KVM_SET_DEBUGREGS; KVM refuses (EINVAL) values with bits set above bit 31 of DR6 or DR7. */
    public void setDebugRegisters(DebugRegisters d) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmStructs.DEBUGREGS_SIZE, 8);
            for (int i = 0; i < 4; i++) {
                b.setAtIndex(JAVA_LONG, i, d.db[i]);
            }
            b.setAtIndex(JAVA_LONG, 4, d.dr6);
            b.setAtIndex(JAVA_LONG, 5, d.dr7);
            b.setAtIndex(JAVA_LONG, 6, d.flags);
            Posix.ioctl(fd, KvmIoctls.SET_DEBUGREGS, b);
        }
    }

    /** KVM_GET_FPU: the x87/SSE state. */
    public Fpu getFpu() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(Fpu.SIZE, 8);
            Posix.ioctl(fd, KvmIoctls.GET_FPU, b);
            return Fpu.decode(b);
        }
    }

    /** KVM_SET_FPU. */
    public void setFpu(Fpu fpu) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(Fpu.SIZE, 8);
            fpu.encode(b);
            Posix.ioctl(fd, KvmIoctls.SET_FPU, b);
        }
    }

    /**
     * KVM_SET_GUEST_DEBUG: {@code control} is a set of GUESTDBG_* bits (0 turns debugging off);
     * {@code debugreg} holds DR0-DR3 at 0-3 and DR7 at 7 (used with {@link #GUESTDBG_USE_HW_BP}).
     * Stays in force until the next call.
     */
    public void setGuestDebug(int control, long[] debugreg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmStructs.GUEST_DEBUG_SIZE, 8);
            b.set(JAVA_INT, 0, control);
            for (int i = 0; i < 8 && i < debugreg.length; i++) {
                b.set(JAVA_LONG, 8 + 8L * i, debugreg[i]);
            }
            Posix.ioctl(fd, KvmIoctls.SET_GUEST_DEBUG, b);
        }
    }

    /** KVM_GET_VCPU_EVENTS: the exception, interrupt and NMI in flight (layout in {@link KvmStructs}). */
    public VcpuEvents getEvents() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(KvmStructs.VCPU_EVENTS_SIZE, 8);
            Posix.ioctl(fd, KvmIoctls.GET_VCPU_EVENTS, b);
            return new VcpuEvents(b.get(JAVA_BYTE, 0) != 0, Byte.toUnsignedInt(b.get(JAVA_BYTE, 1)),
                    b.get(JAVA_BYTE, 2) != 0, b.get(JAVA_BYTE, 3) != 0, b.get(JAVA_INT, 4),
                    b.get(JAVA_BYTE, 8) != 0, Byte.toUnsignedInt(b.get(JAVA_BYTE, 9)), b.get(JAVA_BYTE, 10) != 0,
                    b.get(JAVA_BYTE, 12) != 0, b.get(JAVA_BYTE, 13) != 0, b.get(JAVA_BYTE, 14) != 0);
        }
    }

    /**
     * KVM_NMI: queues an NMI on this vCPU, as if its LINT1 pin (wired for NMI) had fired; delivered
     * at the next entry unless NMIs are blocked.
     */
    public void injectNmi() {
        Posix.ioctl(fd, KvmIoctls.NMI, 0);
    }

    /** Reads one of the vCPU's kernel structures as bytes (see {@link KvmStateBlob}). */
    public byte[] getState(KvmStateBlob blob) {
        if (blob.vmWide()) {
            throw new IllegalArgumentException(blob + " belongs to the VM");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(blob.size(), 8);
            Posix.ioctl(fd, blob.get, b);
            return b.toArray(JAVA_BYTE);
        }
    }

    /** Writes one of the vCPU's kernel structures from bytes {@link #getState} returned. */
    public void setState(KvmStateBlob blob, byte[] bytes) {
        if (blob.vmWide() || bytes.length != blob.size()) {
            throw new IllegalArgumentException(blob + " of " + bytes.length + " bytes");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment b = arena.allocate(blob.size(), 8);
            MemorySegment.copy(bytes, 0, b, JAVA_BYTE, 0, bytes.length);
            Posix.ioctl(fd, blob.set, b);
        }
    }

    /**
     * KVM_GET_MSRS for {@code indexes}: values in the same order; {@code readable[i]} is false
     * for an MSR KVM would not read for this vCPU (KVM stops a batch at the first one it
     * refuses, so the batch is retried past it).
     */
    public long[] getMsrs(int[] indexes, boolean[] readable) {
        long[] values = new long[indexes.length];
        try (Arena arena = Arena.ofConfined()) {
            int from = 0;
            while (from < indexes.length) {
                int n = indexes.length - from;
                MemorySegment buf = arena.allocate(8 + 16L * n, 8);
                buf.set(JAVA_INT, 0, n);
                for (int i = 0; i < n; i++) {
                    buf.set(JAVA_INT, 8 + 16L * i, indexes[from + i]);
                }
                int done = Posix.ioctl(fd, KvmIoctls.GET_MSRS, buf);
                for (int i = 0; i < done; i++) {
                    values[from + i] = buf.get(JAVA_LONG, 8 + 16L * i + 8);
                    readable[from + i] = true;
                }
                if (done < n) {
                    readable[from + done] = false;
                }
                from += done + 1;
            }
        }
        return values;
    }

    /**
     * KVM_SET_MSRS for each {@code indexes[i]} whose {@code use[i]} is set; returns how many KVM
     * refused (it stops a batch at the first refusal, so the batch is retried past it).
     */
    public int setMsrsWhereAccepted(int[] indexes, long[] values, boolean[] use) {
        int refused = 0;
        int n = 0;
        int[] pick = new int[indexes.length];
        for (int i = 0; i < indexes.length; i++) {
            if (use[i]) {
                pick[n++] = i;
            }
        }
        try (Arena arena = Arena.ofConfined()) {
            int from = 0;
            while (from < n) {
                int count = n - from;
                MemorySegment buf = arena.allocate(8 + 16L * count, 8);
                buf.set(JAVA_INT, 0, count);
                for (int i = 0; i < count; i++) {
                    buf.set(JAVA_INT, 8 + 16L * i, indexes[pick[from + i]]);
                    buf.set(JAVA_LONG, 8 + 16L * i + 8, values[pick[from + i]]);
                }
                int done = Posix.ioctl(fd, KvmIoctls.SET_MSRS, buf);
                if (done < count) {
                    refused++;
                }
                from += done + 1;
            }
        }
        return refused;
    }

    /** KVM_GET_STATS_FD: the binary statistics of this vCPU (see {@link VcpuStats}). */
    public VcpuStats openStats() {
        int stats = Posix.ioctl(fd, KvmIoctls.GET_STATS_FD, 0);
        return new VcpuStats(new Fd(stats, "kvm-vcpu" + id + "-stats"));
    }

    @Override
    public void close() {
        Posix.munmap(runPage);
        fd.close();
    }
}
