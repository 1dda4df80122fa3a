package org.jbhyve.vcpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.jbhyve.bus.IoBus;
import org.junit.jupiter.api.Test;

/**
 * A vCPU thread whose set-up fails (pinning to a CPU it may not use, say) ends the VM with one
 * line and lets the starter go on: it never waits for a vCPU that will not start. The set-up
 * fails before the vCPU's KVM descriptor is touched, so none is needed here.
 */
class VcpuLoopStartTest {
    /** The one exit request the loop makes. */
    private static final class Control implements VmControl {
        final AtomicReference<String> exit = new AtomicReference<>();
        volatile ExitStatus status;

        @Override
        public boolean stopRequested() {
            return exit.get() != null;
        }

        @Override
        public void requestExit(ExitStatus s, int code, String message) {
            if (exit.compareAndSet(null, message)) {
                status = s;
            }
        }

        @Override
        public void idleProbed(int vcpu, boolean haltedForGood) {
        }
    }

    @Test
    void aFailedSetUpEndsTheVmWithOneLineAndNeverHangsTheStart() throws Exception {
        Control control = new Control();
        VcpuLoop loop = new VcpuLoop(3, null, new IoBus("ports"), new IoBus("mmio"), control, false);
        Thread t = Thread.ofPlatform().name("vcpu 3").start(() -> loop.run(() -> {
            throw new IllegalStateException("cannot pin to host CPUs [999]: sched_setaffinity: Invalid argument");
        }));
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), loop::awaitStarted);
        t.join(10_000);
        assertTrue(loop.retired());
        assertEquals(ExitStatus.ERROR, control.status);
        assertEquals("vcpu 3: cannot pin to host CPUs [999]: sched_setaffinity: Invalid argument", control.exit.get());
        assertTrue(loop.submit(vcpu -> 1).isCompletedExceptionally(), "requests fail once the loop has ended");
    }

    @Test
    void anErrorInTheSetUpIsCaughtToo() throws Exception {
        Control control = new Control();
        VcpuLoop loop = new VcpuLoop(0, null, new IoBus("ports"), new IoBus("mmio"), control, false);
        Thread t = Thread.ofPlatform().start(() -> loop.run(() -> {
            throw new StackOverflowError();
        }));
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(10), loop::awaitStarted);
        t.join(10_000);
        assertEquals("vcpu 0: java.lang.StackOverflowError", control.exit.get());
    }
}
