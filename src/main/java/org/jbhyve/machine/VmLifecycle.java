package org.jbhyve.machine;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jbhyve.vcpu.ExitStatus;
import org.jbhyve.vcpu.VcpuLoop;
import org.jbhyve.vcpu.VmControl;

/**
 * Owns the VM's life cycle ({@link VmState}) and decides when and how the VM ends. The first
 * exit request wins (a reset racing a power-off keeps whichever came first); every vCPU is then
 * kicked out of KVM_RUN.
 *
 * <p>{@link #pause} is the one primitive for work that needs the whole guest stopped: each vCPU
 * thread is handed a request that parks it outside KVM_RUN until the pause is closed (or the VM
 * stops). One pause at a time; the vCPUs' in-flight port and MMIO accesses are completed by KVM
 * before they park.
 *
 * <p>It also finds guests that can never run again: the in-kernel LAPIC sleeps a vCPU in HLT
 * inside KVM, so user space never sees it. {@link #awaitExit} therefore watches each vCPU's
 * {@code blocking} statistic and, once all are blocked, probes them; if every one sits in HLT
 * with interrupts off (or waits for a SIPI that nobody will send) on every probe for a second,
 * the VM exits with {@link ExitStatus#HALT}, as bhyve does. The second matters: a nested guest
 * (or a kernel between two steps) may sit in HLT with interrupts off briefly and be woken by
 * something the probe cannot see, such as a VMX preemption timer.
 */
final class VmLifecycle implements VmControl {
    private static final long HALT_CONFIRM_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** The outcome: bhyve's status, the process exit code, and an optional one-line message. */
    record Outcome(ExitStatus status, int code, String message) {}

    interface BlockedProbe {
        /** Whether every vCPU is currently blocked inside KVM (sleeping in HLT or waiting for SIPI). */
        boolean allBlocked();
    }

    /** A pause in force; closing it lets the vCPUs run again. */
    interface Pause extends AutoCloseable {
        @Override
        void close();
    }

    private static final long PARK_POLL_MILLIS = 100;

    private final AtomicReference<Outcome> outcome = new AtomicReference<>();
    private final CountDownLatch done = new CountDownLatch(1);
    private final Object stateLock = new Object();
    private final Semaphore pauseLock = new Semaphore(1);
    private VmState state = VmState.CREATED;
    private volatile List<VcpuLoop> vcpus = List.of();
    private final boolean[] probeAnswers;
    private int probeAnswered;

    VmLifecycle(int vcpuCount) {
        this.probeAnswers = new boolean[vcpuCount];
    }

    void setVcpus(List<VcpuLoop> loops) {
        this.vcpus = List.copyOf(loops);
    }

    /** The vCPU loops once they exist (empty before). */
    List<VcpuLoop> vcpus() {
        return vcpus;
    }

    VmState state() {
        synchronized (stateLock) {
            return state;
        }
    }

    /** CREATED → RUNNING once every vCPU thread has started (a stop requested meanwhile wins). */
    void started() {
        move(VmState.CREATED, VmState.RUNNING);
    }

    /** Any state → ENDED once the vCPU threads are gone. */
    void ended() {
        synchronized (stateLock) {
            state = VmState.ENDED;
        }
    }

    private boolean move(VmState from, VmState to) {
        synchronized (stateLock) {
            if (state != from) {
                return false;
            }
            state = to;
            return true;
        }
    }

    @Override
    public boolean stopRequested() {
        return outcome.get() != null;
    }

    @Override
    public void requestExit(ExitStatus status, int code, String message) {
        if (outcome.compareAndSet(null, new Outcome(status, code, message))) {
            synchronized (stateLock) {
                if (state != VmState.ENDED) {
                    state = VmState.STOPPING;
                }
            }
            for (VcpuLoop v : vcpus) {
                v.kick();
            }
            done.countDown();
        }
    }

    /**
     * RUNNING → PAUSED: parks every vCPU outside KVM_RUN. Waits at most {@code timeoutMillis}
     * for another pause to end and as long again for the vCPUs to park.
     *
     * @throws VmRequestException EBUSY when the VM is not running, ETIMEDOUT when a vCPU did not
     *                            stop in time (the pause is then undone)
     */
    Pause pause(long timeoutMillis) throws InterruptedException {
        if (!pauseLock.tryAcquire(timeoutMillis, TimeUnit.MILLISECONDS)) {
            throw new VmRequestException(VmRequestException.EBUSY, "another request holds the VM paused");
        }
        CountDownLatch gate = new CountDownLatch(1);
        AtomicBoolean closed = new AtomicBoolean();
        Pause pause = () -> {
            if (closed.getAndSet(true)) {
                return;
            }
            gate.countDown();
            move(VmState.PAUSED, VmState.RUNNING);
            pauseLock.release();
        };
        if (!move(VmState.RUNNING, VmState.PAUSED)) {
            VmState now = state();
            pauseLock.release();
            throw new VmRequestException(VmRequestException.EBUSY, "the VM is " + now.label());
        }
        List<VcpuLoop> loops = vcpus;
        CountDownLatch parked = new CountDownLatch(loops.size());
        for (VcpuLoop loop : loops) {
            loop.submit(vcpu -> {
                parked.countDown();
                try {
                    while (!stopRequested() && !gate.await(PARK_POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                        // parked: the guest does not run on this vCPU until the pause ends
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return null;
            }).whenComplete((ok, failed) -> {
                if (failed != null) {
                    parked.countDown(); // that vCPU has stopped: it is not running either
                }
            });
        }
        if (!parked.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
            pause.close();
            throw new VmRequestException(VmRequestException.ETIMEDOUT,
                    "the vCPUs did not stop within " + timeoutMillis + " ms");
        }
        return pause;
    }

    @Override
    public synchronized void idleProbed(int vcpu, boolean haltedForGood) {
        probeAnswers[vcpu] = haltedForGood;
        probeAnswered++;
        notifyAll();
    }

    /**
     * Waits for the VM to end, probing for a permanently halted guest every {@code pollMillis}
     * when {@code probe} is given.
     */
    Outcome awaitExit(BlockedProbe probe, long pollMillis) throws InterruptedException {
        long haltedSince = -1;
        while (!done.await(pollMillis, TimeUnit.MILLISECONDS)) {
            if (probe != null && probe.allBlocked() && allHaltedForGood()) {
                long now = System.nanoTime();
                if (haltedSince < 0) {
                    haltedSince = now;
                } else if (now - haltedSince >= HALT_CONFIRM_NANOS) {
                    requestExit(ExitStatus.HALT, ExitStatus.HALT.code(), null);
                }
            } else {
                haltedSince = -1;
            }
        }
        return outcome.get();
    }

    private synchronized boolean allHaltedForGood() throws InterruptedException {
        probeAnswered = 0;
        for (VcpuLoop v : vcpus) {
            v.requestIdleProbe();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (probeAnswered < vcpus.size() && !stopRequested()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        if (stopRequested()) {
            return false;
        }
        for (int i = 0; i < vcpus.size(); i++) {
            if (!probeAnswers[i]) {
                return false;
            }
        }
        return true;
    }
}
