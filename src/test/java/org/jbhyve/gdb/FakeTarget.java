package org.jbhyve.gdb;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;
import java.util.concurrent.locks.LockSupport;
import org.jbhyve.kvm.Fpu;
import org.jbhyve.kvm.Registers;
import org.jbhyve.kvm.Segment;
import org.jbhyve.kvm.SpecialRegisters;
import org.jbhyve.memory.GuestMemory;

/**
 * A VM without KVM behind {@link DebugTarget}: heap guest RAM with 4-level page tables
 * (identity for the first 4 MiB, and the same RAM again at 0xffffffff80000000), and one thread
 * per vCPU interpreting a handful of real x86-64 instructions, so the real gdb sees a guest it
 * can disassemble, break, step and watch:
 *
 * <pre>
 * 90                     nop
 * c6 04 25 d32 imm8      mov byte [disp32], imm8   (write watchpoints fire after it)
 * eb rel8                jmp short
 * f4                     hlt: the VM ends, exit status 1 (a power-off)
 * cc                     int3: an emulation failure (as on the nested KVM) or an intercepted
 *                        #BP ({@link #int3Intercepted}); either way RIP stays at the int3
 * </pre>
 * Anything else ends the VM with status 4, as an emulation failure would. Traps follow the
 * KVM target's rule: the vCPU is held, then the listener decides. Single steps and
 * debug-register hits raise #DB with DR6 set as the hardware would: an instruction breakpoint
 * before its instruction runs (RIP at it), unless RFLAGS.RF is set, which, as on the
 * processor, suppresses it for one instruction and is cleared when that instruction completes.
 */
final class FakeTarget implements DebugTarget {
    static final int RAM = 4 << 20;
    static final long HIGH_ALIAS = 0xFFFF_FFFF_8000_0000L;
    static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PDPT_HIGH = 0x4000;

    final byte[] ram = new byte[RAM];
    final GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, MemorySegment.ofArray(ram))));
    final List<Cpu> cpus = new ArrayList<>();
    volatile boolean int3Intercepted;
    volatile IntConsumer onEnd = s -> { };
    volatile StopListener listener;
    private volatile GuestDebug debug = GuestDebug.OFF;
    private volatile boolean ended;
    volatile int endStatus = -1;

    /** One simulated vCPU. */
    final class Cpu {
        final int index;
        final CpuState state;
        boolean held = true;  // guarded by FakeTarget.this
        boolean parked;
        boolean step;
        final Thread thread;

        Cpu(int index, long entry) {
            this.index = index;
            Registers r = new Registers();
            r.set(Registers.RIP, entry).set(Registers.RFLAGS, 2).set(Registers.RSP, 0x80000 + index * 0x1000L);
            SpecialRegisters s = new SpecialRegisters();
            s.cs = Segment.flatCode(8, true);
            s.setDataSegments(Segment.flatData(16));
            s.tr = Segment.busyTss(0x18, 0, 0x67);
            s.ldt = new Segment(0, 0, 0, 2, false, 0, false, false, false, false, true);
            s.cr0 = Paging.CR0_PE | Paging.CR0_PG | SpecialRegisters.CR0_ET;
            s.cr3 = PML4;
            s.cr4 = Paging.CR4_PAE;
            s.efer = Paging.EFER_LME | Paging.EFER_LMA;
            this.state = new CpuState(r, s, Fpu.reset());
            this.thread = Thread.ofPlatform().daemon(true).name("fake vcpu " + index).unstarted(this::loop);
        }

        private void loop() {
            while (true) {
                synchronized (FakeTarget.this) {
                    while (held && !ended) {
                        parked = true;
                        FakeTarget.this.notifyAll();
                        try {
                            FakeTarget.this.wait();
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                    parked = false;
                    if (ended) {
                        parked = true;
                        FakeTarget.this.notifyAll();
                        return;
                    }
                }
                execute(this);
                LockSupport.parkNanos(100_000);
            }
        }
    }

    /** A target with vCPUs entering at {@code entries}, held until resumed (as with -G w). */
    FakeTarget(long... entries) {
        buildPageTables();
        for (int i = 0; i < entries.length; i++) {
            cpus.add(new Cpu(i, entries[i]));
        }
        cpus.forEach(c -> c.thread.start());
    }

    private void buildPageTables() {
        long rw = 3;
        memory.putLong(PML4, PDPT | rw);
        memory.putLong(PML4 + 511 * 8, PDPT_HIGH | rw);
        memory.putLong(PDPT, PD | rw);
        memory.putLong(PDPT_HIGH + 510 * 8, PD | rw);
        memory.putLong(PD, 0x000000 | rw | 0x80);
        memory.putLong(PD + 8, 0x200000 | rw | 0x80);
    }

    /** Puts {@code bytes} at physical {@code address}. */
    void load(long address, int... bytes) {
        for (int i = 0; i < bytes.length; i++) {
            ram[(int) address + i] = (byte) bytes[i];
        }
    }

    @Override
    public int vcpuCount() {
        return cpus.size();
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public void listen(StopListener l) {
        listener = l;
    }

    @Override
    public synchronized void stopAll() {
        for (Cpu c : cpus) {
            c.held = true;
        }
        notifyAll();
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (Cpu c : cpus) {
            while (!c.parked) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TargetException("vcpu " + c.index + " did not stop");
                }
                try {
                    wait(left / 1_000_000 + 1);
                } catch (InterruptedException e) {
                    throw new TargetException("interrupted");
                }
            }
        }
    }

    @Override
    public synchronized CpuState read(int vcpu) {
        Cpu c = cpu(vcpu);
        if (!c.parked) {
            throw new IllegalStateException("vcpu " + vcpu + " read while running");
        }
        return c.state;
    }

    @Override
    public synchronized void write(int vcpu, CpuState state, Set<CpuState.Part> parts) {
        if (state != cpu(vcpu).state) {
            throw new IllegalStateException("a state that is not the vCPU's");
        }
    }

    @Override
    public synchronized void resume(GuestDebug d, Map<Integer, Boolean> run) {
        if (ended) {
            throw new TargetException("the VM has ended");
        }
        debug = d;
        for (Map.Entry<Integer, Boolean> e : run.entrySet()) {
            Cpu c = cpu(e.getKey());
            c.step = e.getValue();
            c.held = false;
        }
        notifyAll();
    }

    @Override
    public void kill() {
        end(1);
    }

    /** Whether every vCPU is parked (held or ended). */
    synchronized boolean allParked() {
        return cpus.stream().allMatch(c -> c.parked);
    }

    synchronized boolean ended() {
        return ended;
    }

    private Cpu cpu(int vcpu) {
        if (vcpu < 0 || vcpu >= cpus.size()) {
            throw new TargetException("no vcpu " + vcpu);
        }
        return cpus.get(vcpu);
    }

    void end(int status) {
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
            endStatus = status;
            notifyAll();
        }
        onEnd.accept(status);
    }

    /** Holds the vCPU and lets the listener decide, as {@link KvmDebugTarget} does. */
    private boolean trap(Cpu c, Trap trap) {
        synchronized (this) {
            c.held = true;
        }
        StopListener l = listener;
        if (l != null && l.trapped(c.index, trap)) {
            return true;
        }
        synchronized (this) {
            c.held = false;
        }
        return false;
    }

    private void execute(Cpu c) {
        CpuState s = c.state;
        GuestDebug d = debug;
        long pc = s.linearPc();
        boolean resumeFlag = (s.regs.get(Registers.RFLAGS) & GdbSession.RFLAGS_RF) != 0;
        int hit = resumeFlag ? -1 : slotHit(d, pc, 0b00);
        if (hit >= 0) {
            trap(c, new Trap(Trap.Kind.DEBUG, pc, 0xFFFF0FF0L | (1L << hit), s.paging()));
            return;
        }
        byte[] insn;
        try {
            insn = memory.read(PageWalker.translate(memory, s.paging(), pc), 8);
        } catch (RuntimeException e) {
            end(4);
            return;
        }
        int op = insn[0] & 0xFF;
        long next;
        long dr6 = 0xFFFF0FF0L;
        switch (op) {
            case 0x90 -> next = pc + 1;
            case 0xEB -> next = pc + 2 + insn[1];
            case 0xF4 -> {
                end(1);
                return;
            }
            case 0xCC -> {
                Trap.Kind kind = int3Intercepted ? Trap.Kind.BREAKPOINT : Trap.Kind.EMULATION_FAILURE;
                if (!trap(c, new Trap(kind, pc, 0, s.paging()))) {
                    end(4); // the emulation failure is fatal when it is not a breakpoint
                }
                return;
            }
            case 0xC6 -> {
                long target = Integer.toUnsignedLong((insn[3] & 0xFF) | (insn[4] & 0xFF) << 8 | (insn[5] & 0xFF) << 16
                        | (insn[6] & 0xFF) << 24);
                memory.putByte(PageWalker.translate(memory, s.paging(), target), insn[7]);
                next = pc + 8;
                int w = watchHit(d, target);
                if (w >= 0) {
                    dr6 |= 1L << w;
                }
            }
            default -> {
                end(4);
                return;
            }
        }
        s.regs.set(Registers.RIP, next);
        s.regs.set(Registers.RFLAGS, s.regs.get(Registers.RFLAGS) & ~GdbSession.RFLAGS_RF);
        if (c.step) {
            dr6 |= Trap.DR6_SINGLE_STEP;
        }
        if (dr6 != 0xFFFF0FF0L) {
            trap(c, new Trap(Trap.Kind.DEBUG, next, dr6, s.paging()));
        }
    }

    /** The enabled slot whose R/W bits are {@code rw} and address is {@code at}, or -1. */
    private static int slotHit(GuestDebug d, long at, int rw) {
        if (!d.hardware()) {
            return -1;
        }
        for (int i = 0; i < 4; i++) {
            boolean on = (d.dr7() & (3L << (2 * i))) != 0;
            if (on && ((d.dr7() >>> (16 + 4 * i)) & 3) == rw && d.addresses()[i] == at) {
                return i;
            }
        }
        return -1;
    }

    /** The enabled write or read/write slot whose range covers {@code at}, or -1. */
    private static int watchHit(GuestDebug d, long at) {
        if (!d.hardware()) {
            return -1;
        }
        for (int i = 0; i < 4; i++) {
            boolean on = (d.dr7() & (3L << (2 * i))) != 0;
            int rw = (int) ((d.dr7() >>> (16 + 4 * i)) & 3);
            int len = switch ((int) ((d.dr7() >>> (18 + 4 * i)) & 3)) {
                case 0 -> 1;
                case 1 -> 2;
                case 2 -> 8;
                default -> 4;
            };
            long base = d.addresses()[i];
            if (on && (rw == 1 || rw == 3) && at >= base && at < base + len) {
                return i;
            }
        }
        return -1;
    }
}
