package org.jbhyve.machine;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jbhyve.vcpu.ExitStatus;
import org.jbhyve.vcpu.VcpuLoop;
import org.jbhyve.vcpu.VmControl;

/**
 * Decides when and how the VM ends. The first exit request wins (a reset racing a power-off
 * keeps whichever came first); every vCPU is then kicked out of KVM_RUN.
 *
 * <p>It also finds guests that can never run again: the in-kernel LAPIC sleeps a vCPU in HLT
 * inside KVM, so user space never sees it. {@link #awaitExit} therefore watches each vCPU's
 * {@code blocking} statistic and, once all are blocked, probes them; if every one sits in HLT
 * with interrupts off (or waits for a SIPI that nobody will send), the VM exits with
 * {@link ExitStatus#HALT}, as bhyve does.
 */
final class VmLifecycle implements VmControl {
    /** The outcome: bhyve's status, the process exit code, and an optional one-line message. */
    record Outcome(ExitStatus status, int code, String message) {}

    interface BlockedProbe {
        /** Whether every vCPU is currently blocked inside KVM (sleeping in HLT or waiting for SIPI). */
        boolean allBlocked();
    }

    private final AtomicReference<Outcome> outcome = new AtomicReference<>();
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile List<VcpuLoop> vcpus = List.of();
    private final boolean[] probeAnswers;
    private int probeAnswered;

    VmLifecycle(int vcpuCount) {
        this.probeAnswers = new boolean[vcpuCount];
    }

    void setVcpus(List<VcpuLoop> loops) {
        this.vcpus = List.copyOf(loops);
    }

    @Override
    public boolean stopRequested() {
        return outcome.get() != null;
    }

    @Override
    public void requestExit(ExitStatus status, int code, String message) {
        if (outcome.compareAndSet(null, new Outcome(status, code, message))) {
            for (VcpuLoop v : vcpus) {
                v.kick();
            }
            done.countDown();
        }
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
        while (!done.await(pollMillis, TimeUnit.MILLISECONDS)) {
            if (probe != null && probe.allBlocked() && allHaltedForGood()) {
                requestExit(ExitStatus.HALT, ExitStatus.HALT.code(), null);
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
