package org.jbhyve.gdb;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jbhyve.kvm.SpecialRegisters;
import org.jbhyve.kvm.VcpuExit;
import org.jbhyve.kvm.VcpuFd;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.vcpu.ExitStatus;
import org.jbhyve.vcpu.VcpuDebugHook;
import org.jbhyve.vcpu.VcpuLoop;
import org.jbhyve.vcpu.VcpuRequest;
import org.jbhyve.vcpu.VmControl;

/**
 * {@link DebugTarget} over KVM: vCPUs are stopped with {@link VcpuLoop#hold()} and reached with
 * {@link VcpuLoop#submit} (KVM's vCPU ioctls belong to the vCPU's thread); guest debugging is
 * KVM_SET_GUEST_DEBUG, set on every vCPU before it is let go: int3 interception
 * (USE_SW_BP) while software breakpoints are planted, the debugger's DR0-DR3/DR7 (USE_HW_BP:
 * hardware breakpoints, watchpoints, and software breakpoints held in slots), and SINGLESTEP for a step, with BLOCKIRQ so the step does not land in an interrupt handler
 * (kernels before 5.16 refuse BLOCKIRQ; the step is then taken without it).
 *
 * <p>As the vCPU loops' {@link VcpuDebugHook} it turns debug exits and emulation failures into
 * {@link Trap}s: the vCPU is held first, then the listener decides. An intercepted #BP that is
 * not the debugger's goes back to the guest (KVM_GUESTDBG_INJECT_BP; KVM injects it as a
 * software exception, so the handler sees RIP past the int3); an emulation failure that is not
 * a breakpoint stays fatal.
 */
public final class KvmDebugTarget implements DebugTarget, VcpuDebugHook {
    private static final long TIMEOUT_MILLIS = 5000;

    private final List<VcpuLoop> loops;
    private final GuestMemory memory;
    private final VmControl control;
    private final int[] controls;
    private final long[][] debugRegs;
    private volatile StopListener listener;
    private volatile boolean blockIrq = true;

    /** @param control how {@link #kill} ends the VM */
    public KvmDebugTarget(List<VcpuLoop> loops, GuestMemory memory, VmControl control) {
        this.loops = List.copyOf(loops);
        this.memory = memory;
        this.control = control;
        this.controls = new int[loops.size()];
        this.debugRegs = new long[loops.size()][8];
    }

    @Override
    public int vcpuCount() {
        return loops.size();
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public void listen(StopListener l) {
        this.listener = l;
    }

    @Override
    public void stopAll() {
        for (VcpuLoop loop : loops) {
            loop.hold();
        }
        for (VcpuLoop loop : loops) {
            if (!loop.retired()) {
                try {
                    await(loop.index(), loop.submit(fd -> null));
                } catch (TargetException e) {
                    if (!loop.retired()) {
                        throw e;
                    }
                }
            }
        }
    }

    @Override
    public CpuState read(int vcpu) {
        return onVcpu(vcpu, fd -> new CpuState(fd.getRegisters(), fd.getSpecialRegisters(), fd.getFpu()));
    }

    @Override
    public void write(int vcpu, CpuState state, Set<CpuState.Part> parts) {
        onVcpu(vcpu, fd -> {
            if (parts.contains(CpuState.Part.GENERAL)) {
                fd.setRegisters(state.regs);
            }
            if (parts.contains(CpuState.Part.SPECIAL)) {
                fd.setSpecialRegisters(state.sregs);
            }
            if (parts.contains(CpuState.Part.FPU)) {
                fd.setFpu(state.fpu);
            }
            return null;
        });
    }

    @Override
    public void resume(GuestDebug debug, Map<Integer, Boolean> run) {
        long[] regs = new long[8];
        long[] addresses = debug.addresses();
        System.arraycopy(addresses, 0, regs, 0, 4);
        regs[7] = debug.dr7();
        for (int v = 0; v < loops.size(); v++) {
            int c = 0;
            if (debug.softwareBreakpoints()) {
                c |= VcpuFd.GUESTDBG_ENABLE | VcpuFd.GUESTDBG_USE_SW_BP;
            }
            if (debug.hardware()) {
                c |= VcpuFd.GUESTDBG_ENABLE | VcpuFd.GUESTDBG_USE_HW_BP;
            }
            if (Boolean.TRUE.equals(run.get(v))) {
                c |= VcpuFd.GUESTDBG_ENABLE | VcpuFd.GUESTDBG_SINGLESTEP;
            }
            int index = v;
            int wanted = c;
            onVcpu(v, fd -> {
                setGuestDebug(fd, index, wanted, regs);
                return null;
            });
        }
        for (Map.Entry<Integer, Boolean> e : run.entrySet()) {
            loops.get(e.getKey()).release();
        }
    }

    @Override
    public void kill() {
        control.requestExit(ExitStatus.POWEROFF, ExitStatus.POWEROFF.code(), "stopped by the debugger");
    }

    @Override
    public void debugExit(int index, VcpuFd vcpu, VcpuExit.Debug exit) {
        SpecialRegisters s = vcpu.getSpecialRegisters();
        boolean breakpoint = exit.exception() == VcpuExit.Debug.BP;
        Trap trap = new Trap(breakpoint ? Trap.Kind.BREAKPOINT : Trap.Kind.DEBUG, exit.pc(), exit.dr6(), Paging.of(s));
        if (claim(index, trap)) {
            return;
        }
        if (breakpoint) {
            // The guest's own int3: KVM queues the #BP as the software exception it is, with the
            // instruction length it saved at the exit, so the guest's handler sees RIP past it.
            vcpu.setGuestDebug(controls[index] | VcpuFd.GUESTDBG_INJECT_BP, debugRegs[index]);
        }
    }

    @Override
    public boolean internalError(int index, VcpuFd vcpu, VcpuExit.InternalError error) {
        if (error.suberror() != VcpuExit.InternalError.EMULATION || listener == null) {
            return false;
        }
        CpuState state = new CpuState(vcpu.getRegisters(), vcpu.getSpecialRegisters(), null);
        return claim(index, new Trap(Trap.Kind.EMULATION_FAILURE, state.linearPc(), 0, state.paging()));
    }

    /** Holds the vCPU and asks the listener; lets it go again when the trap is not the debugger's. */
    private boolean claim(int index, Trap trap) {
        VcpuLoop loop = loops.get(index);
        loop.hold();
        StopListener l = listener;
        if (l != null && l.trapped(index, trap)) {
            return true;
        }
        loop.release();
        return false;
    }

    private void setGuestDebug(VcpuFd fd, int index, int wanted, long[] regs) {
        int c = wanted;
        if ((c & VcpuFd.GUESTDBG_SINGLESTEP) != 0 && blockIrq) {
            try {
                fd.setGuestDebug(c | VcpuFd.GUESTDBG_BLOCKIRQ, regs);
                controls[index] = c | VcpuFd.GUESTDBG_BLOCKIRQ;
                debugRegs[index] = regs.clone();
                return;
            } catch (RuntimeException e) {
                blockIrq = false; // an older kernel: step without it
            }
        }
        fd.setGuestDebug(c, regs);
        controls[index] = c;
        debugRegs[index] = regs.clone();
    }

    private <T> T onVcpu(int vcpu, VcpuRequest<T> request) {
        if (vcpu < 0 || vcpu >= loops.size()) {
            throw new TargetException("no vCPU " + vcpu);
        }
        return await(vcpu, loops.get(vcpu).submit(request));
    }

    private static <T> T await(int vcpu, CompletableFuture<T> answer) {
        try {
            return answer.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            answer.cancel(false);
            throw new TargetException("vcpu " + vcpu + " did not stop within " + TIMEOUT_MILLIS + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TargetException("interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new TargetException("vcpu " + vcpu + ": " + (cause.getMessage() == null ? cause : cause.getMessage()));
        }
    }
}
