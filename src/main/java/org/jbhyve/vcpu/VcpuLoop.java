package org.jbhyve.vcpu;

import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.jbhyve.bus.IoBus;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.kvm.KvmRun;
import org.jbhyve.kvm.Registers;
import org.jbhyve.kvm.VcpuExit;
import org.jbhyve.kvm.VcpuFd;
import org.jbhyve.sys.Signals;

/**
 * One vCPU's thread body: KVM_RUN, decode the exit, dispatch it to the port or MMIO bus, repeat,
 * until the VM is told to stop. Runs on its own platform thread (KVM_RUN blocks in native code).
 *
 * <p>Other threads reach it only through {@link #kick()} (a signal that makes KVM_RUN return;
 * see {@link Signals}), the idle-probe flag and {@link #submit} (a request run on this thread).
 *
 * <p>Requests ({@link VcpuRequest}) are how the outside reads and changes the vCPU: submit
 * queues the request and kicks; KVM_RUN then returns EINTR, after KVM has completed any port or
 * MMIO access still in flight (api.rst: "the kernel side will first finish incomplete
 * operations and then check for pending signals"), so registers are consistent; the loop runs
 * every queued request and re-enters the guest. That is the pause of one vCPU: it lasts as
 * long as its requests, and the other vCPUs keep running. Requests also run before the first
 * KVM_RUN. Once the loop has ended, requests fail at once.
 *
 * <p>A debugger stops a vCPU for longer with {@link #hold()}: the loop then stays out of
 * KVM_RUN, still running requests as they come (so registers can be read and written), until
 * {@link #release()}. A vCPU can be held before its thread starts (it then never runs a guest
 * instruction until released). Debug exits and emulation failures go to the
 * {@link VcpuDebugHook}, when one is set.
 */
public final class VcpuLoop implements Runnable {
    private static final int MP_STATE_UNINITIALIZED = 1;
    private static final int MP_STATE_INIT_RECEIVED = 2;

    private final int index;
    private final VcpuFd vcpu;
    private final IoBus ports;
    private final IoBus mmio;
    private final VmControl control;
    private volatile int tid;
    private volatile boolean idleProbeRequested;
    private static final long HOLD_POLL_MILLIS = 100;

    private final Object started = new Object();
    private volatile boolean holdRequested;
    private boolean held; // guarded by started
    private volatile VcpuDebugHook debugHook;
    private volatile Thread thread;
    private final Queue<Pending<?>> requests = new ConcurrentLinkedQueue<>();
    private final ExitCounters counters = new ExitCounters();

    private final boolean ignoreUnknownMsrs;

    /**
     * @param ignoreUnknownMsrs bhyve's -w: MSRs KVM does not know read as 0 and ignore writes;
     *                          otherwise the guest gets #GP, as on bhyve
     */
    public VcpuLoop(int index, VcpuFd vcpu, IoBus ports, IoBus mmio, VmControl control, boolean ignoreUnknownMsrs) {
        this.ignoreUnknownMsrs = ignoreUnknownMsrs;
        this.index = index;
        this.vcpu = vcpu;
        this.ports = ports;
        this.mmio = mmio;
        this.control = control;
    }

    public int index() {
        return index;
    }

    /** Blocks until the thread has set up its signal mask (so it can be kicked), or has ended without. */
    public void awaitStarted() throws InterruptedException {
        synchronized (started) {
            while (tid == 0) { // -1 once retired
                started.wait();
            }
        }
    }

    /** Makes the vCPU leave KVM_RUN soon (at once if it is in the guest), or wakes it while held. */
    public void kick() {
        synchronized (started) {
            if (signalNeeded()) {
                Signals.kick(tid);
            }
            started.notifyAll();
        }
    }

    /**
     * Whether a kick must be a signal: not for the thread itself, and not while it is held (it
     * is out of KVM_RUN and waits on the monitor; real-time signals queue, and a vCPU held for a
     * long debugging session would otherwise collect one per request). Caller holds started.
     */
    private boolean signalNeeded() {
        return tid > 0 && !held && Thread.currentThread() != thread;
    }

    /** Sends debug exits and emulation failures to {@code hook} (null: none). */
    public void setDebugHook(VcpuDebugHook hook) {
        this.debugHook = hook;
    }

    /**
     * Keeps the vCPU out of the guest from its next stop out of KVM_RUN (at once if it is in the
     * guest: it is kicked) until {@link #release()}. Requests still run while it is held. Returns
     * without waiting; a request submitted afterwards completes only once the vCPU is out.
     */
    public void hold() {
        holdRequested = true;
        kick();
    }

    /** Lets a held vCPU enter the guest again. */
    public void release() {
        synchronized (started) {
            holdRequested = false;
            started.notifyAll();
        }
    }

    /** Whether the vCPU sits out of the guest because of {@link #hold()} right now. */
    public boolean held() {
        synchronized (started) {
            return held;
        }
    }

    /** True from the moment the thread can take requests until the loop has ended. */
    public boolean running() {
        synchronized (started) {
            return tid > 0;
        }
    }

    /** True once the loop has ended (the VM is stopping or stopped). */
    public boolean retired() {
        synchronized (started) {
            return tid < 0;
        }
    }

    public ExitCounters counters() {
        return counters;
    }

    /**
     * Runs {@code request} on this vCPU's thread at its next stop out of KVM_RUN (see the class
     * comment) and completes the future with its answer or its exception. The future fails with
     * {@link IllegalStateException} when the loop ends before the request ran.
     */
    public <T> CompletableFuture<T> submit(VcpuRequest<T> request) {
        Pending<T> pending = new Pending<>(request, new CompletableFuture<>());
        synchronized (started) {
            if (tid < 0) {
                pending.fail(index);
                return pending.answer();
            }
            requests.add(pending);
            if (signalNeeded()) {
                Signals.kick(tid);
            }
            started.notifyAll(); // a held vCPU waits on this monitor
        }
        return pending.answer();
    }

    /** A queued request and the future its caller waits on. */
    private record Pending<T>(VcpuRequest<T> request, CompletableFuture<T> answer) {
        void run(VcpuFd vcpu) {
            try {
                answer.complete(request.run(vcpu));
            } catch (RuntimeException | Error e) {
                answer.completeExceptionally(e);
            }
        }

        void fail(int index) {
            answer.completeExceptionally(new IllegalStateException("vcpu " + index + " has stopped"));
        }
    }

    /** Asks the vCPU to report (via {@link VmControl#idleProbed}) whether it is halted for good. */
    public void requestIdleProbe() {
        idleProbeRequested = true;
        kick();
    }

    @Override
    public void run() {
        run(() -> { });
    }

    /**
     * The thread body: {@code setUp} first (what must happen on this thread before the guest
     * runs, such as pinning it to host CPUs), then the loop. Whatever fails, in the set-up or
     * the loop, ends the VM with one line naming this vCPU, and {@link #awaitStarted} returns:
     * a vCPU that could not start never leaves the VM waiting for it.
     */
    public void run(Runnable setUp) {
        try {
            setUp.run();
            long kvmMask = Signals.blockKickInThisThread();
            vcpu.setSignalMask(kvmMask);
            synchronized (started) {
                thread = Thread.currentThread();
                tid = org.jbhyve.sys.Posix.gettid();
                started.notifyAll();
            }
            runRequests();
            while (!control.stopRequested()) {
                if (holdRequested) {
                    waitWhileHeld();
                    continue;
                }
                VcpuExit exit = vcpu.run();
                handle(exit);
            }
        } catch (RuntimeException | Error e) {
            control.requestExit(ExitStatus.ERROR, ExitStatus.ERROR.code(),
                    "vcpu " + index + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        } finally {
            retire();
        }
    }

    /**
     * Stops further kicks and requests, fails the requests still queued, then drains the kicks
     * already sent (see {@link Signals#consumeKicks}). Wakes {@link #awaitStarted}, also when the
     * thread retires before it ever started.
     */
    private void retire() {
        synchronized (started) {
            tid = -1;
            started.notifyAll();
        }
        Pending<?> p;
        while ((p = requests.poll()) != null) {
            p.fail(index);
        }
        Signals.consumeKicks();
    }

    /** Stays out of the guest while held: runs requests, answers idle probes, until released or stopped. */
    private void waitWhileHeld() {
        synchronized (started) {
            held = true;
        }
        try {
            while (holdRequested && !control.stopRequested()) {
                runRequests();
                if (idleProbeRequested) {
                    idleProbeRequested = false;
                    control.idleProbed(index, false); // a held vCPU is not halted: it will run again
                }
                synchronized (started) {
                    if (holdRequested && requests.isEmpty() && !idleProbeRequested && !control.stopRequested()) {
                        started.wait(HOLD_POLL_MILLIS);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while held by the debugger");
        } finally {
            synchronized (started) {
                held = false;
            }
        }
        runRequests(); // submitted while held (so without a kick) just before the release
    }

    private void runRequests() {
        Pending<?> p;
        while ((p = requests.poll()) != null) {
            counters.count(ExitCounters.Kind.REQUESTS);
            p.run(vcpu);
        }
    }

    private void handle(VcpuExit exit) {
        // Port and MMIO exits are nearly all exits: they skip the two type switches below (with
        // the client compiler each is a call costing about as much as the rest of the dispatch).
        if (exit instanceof VcpuExit.Io io) {
            counters.count(ExitCounters.Kind.IO);
            handlePortIo(io);
            return;
        }
        if (exit instanceof VcpuExit.Mmio m) {
            counters.count(ExitCounters.Kind.MMIO);
            handleMmio(m);
            return;
        }
        counters.count(kind(exit));
        switch (exit) {
            case VcpuExit.Io io -> handlePortIo(io);
            case VcpuExit.Mmio m -> handleMmio(m);
            case VcpuExit.Interrupted i -> {
                Signals.consumeKicks();
                if (idleProbeRequested) {
                    idleProbeRequested = false;
                    control.idleProbed(index, haltedForGood());
                }
                runRequests();
            }
            case VcpuExit.Shutdown s -> control.requestExit(ExitStatus.TRIPLE_FAULT, ExitStatus.TRIPLE_FAULT.code(),
                    null);
            case VcpuExit.SystemEvent e -> {
                switch (e.type()) {
                    case VcpuExit.SystemEvent.RESET -> control.requestExit(ExitStatus.RESET, 0, null);
                    case VcpuExit.SystemEvent.SHUTDOWN -> control.requestExit(ExitStatus.POWEROFF, 1, null);
                    default -> control.requestExit(ExitStatus.ERROR, 4,
                            "vcpu " + index + ": guest crash (system event " + e.type() + ")");
                }
            }
            case VcpuExit.Halt h -> control.idleProbed(index, !vcpu.kvmRun().interruptsEnabled());
            case VcpuExit.FailEntry f -> control.requestExit(ExitStatus.ERROR, 4,
                    String.format("vcpu %d: VM entry failed (hardware reason 0x%x)", index, f.reason()));
            case VcpuExit.InternalError e -> {
                VcpuDebugHook hook = debugHook;
                if (hook == null || !hook.internalError(index, vcpu, e)) {
                    control.requestExit(ExitStatus.ERROR, 4,
                            EmulationFailure.describe(index, e, vcpu.getRegisters(), vcpu.getSpecialRegisters()));
                }
            }
            case VcpuExit.Debug d -> {
                VcpuDebugHook hook = debugHook;
                if (hook != null) {
                    hook.debugExit(index, vcpu, d);
                } // without a debugger guest debugging is off: a stray debug exit is ignored
            }
            case VcpuExit.Msr m -> vcpu.kvmRun().setMsrResult(0, !ignoreUnknownMsrs);
            case VcpuExit.Other o -> control.requestExit(ExitStatus.ERROR, 4,
                    "vcpu " + index + ": unhandled VM exit reason " + o.reason());
        }
    }

    private static ExitCounters.Kind kind(VcpuExit exit) {
        return switch (exit) {
            case VcpuExit.Io io -> ExitCounters.Kind.IO;
            case VcpuExit.Mmio m -> ExitCounters.Kind.MMIO;
            case VcpuExit.Interrupted i -> ExitCounters.Kind.INTERRUPTED;
            case VcpuExit.Msr m -> ExitCounters.Kind.MSR;
            case VcpuExit.Halt h -> ExitCounters.Kind.HALT;
            case VcpuExit.SystemEvent e -> ExitCounters.Kind.SYSTEM_EVENT;
            case VcpuExit.Shutdown s -> ExitCounters.Kind.SHUTDOWN;
            case VcpuExit.FailEntry f -> ExitCounters.Kind.ERROR;
            case VcpuExit.InternalError e -> ExitCounters.Kind.ERROR;
            case VcpuExit.Debug d -> ExitCounters.Kind.DEBUG;
            case VcpuExit.Other o -> ExitCounters.Kind.OTHER;
        };
    }

    private void handlePortIo(VcpuExit.Io io) {
        KvmRun run = vcpu.kvmRun();
        for (int i = 0; i < io.count(); i++) {
            if (io.write()) {
                ports.write(io.port(), io.size(), run.ioValue(io, i));
            } else {
                run.setIoValue(io, i, ports.read(io.port(), io.size()));
            }
        }
    }

    private void handleMmio(VcpuExit.Mmio m) {
        if (m.write()) {
            mmio.write(m.address(), m.length(), m.data() & IoHandler.mask(m.length()));
        } else {
            vcpu.kvmRun().setMmioReadData(mmio.read(m.address(), m.length()));
        }
    }

    /** HLT (or waiting for INIT/SIPI, for an AP) with RFLAGS.IF clear: nothing will wake it. */
    private boolean haltedForGood() {
        int state = vcpu.getMpState();
        if (state == MP_STATE_UNINITIALIZED || state == MP_STATE_INIT_RECEIVED) {
            return true;
        }
        return state == VcpuFd.MP_STATE_HALTED
                && (vcpu.getRegisters().get(Registers.RFLAGS) & Registers.RFLAGS_IF) == 0;
    }
}
