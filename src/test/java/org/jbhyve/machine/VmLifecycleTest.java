package org.jbhyve.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jbhyve.vcpu.ExitStatus;
import org.junit.jupiter.api.Test;

/** The life-cycle states and the pause primitive (vCPU loops need KVM; these run without vCPUs). */
class VmLifecycleTest {
    private final VmLifecycle life = new VmLifecycle(0);

    @Test
    void createdRunningStoppingEnded() throws Exception {
        assertEquals(VmState.CREATED, life.state());
        life.started();
        assertEquals(VmState.RUNNING, life.state());
        life.requestExit(ExitStatus.POWEROFF, 1, null);
        assertEquals(VmState.STOPPING, life.state());
        life.started();
        assertEquals(VmState.STOPPING, life.state(), "nothing leaves STOPPING but the end");
        assertEquals(new VmLifecycle.Outcome(ExitStatus.POWEROFF, 1, null), life.awaitExit(null, 10));
        life.ended();
        assertEquals(VmState.ENDED, life.state());
    }

    @Test
    void theFirstExitRequestWins() throws Exception {
        life.requestExit(ExitStatus.RESET, 0, null);
        life.requestExit(ExitStatus.ERROR, 4, "destroyed by bhyvectl --destroy");
        assertEquals(ExitStatus.RESET, life.awaitExit(null, 10).status());
    }

    @Test
    void aStopBeforeTheStartWins() {
        life.requestExit(ExitStatus.ERROR, 4, "stopped by SIGINT");
        life.started();
        assertEquals(VmState.STOPPING, life.state());
    }

    @Test
    void pauseNeedsARunningVm() {
        VmRequestException e = assertThrows(VmRequestException.class, () -> life.pause(100));
        assertEquals(VmRequestException.EBUSY, e.errno());
        assertEquals("the VM is created", e.getMessage());
    }

    @Test
    void pausedThenRunningAgainAndOnePauseAtATime() throws Exception {
        life.setVcpus(List.of());
        life.started();
        VmLifecycle.Pause pause = life.pause(100);
        assertEquals(VmState.PAUSED, life.state());
        CompletableFuture<VmLifecycle.Pause> second = CompletableFuture.supplyAsync(() -> {
            try {
                return life.pause(5000);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(100);
        assertTrue(!second.isDone(), "the second pause waits for the first");
        pause.close();
        pause.close(); // closing twice is harmless
        VmLifecycle.Pause p2 = second.get(5, TimeUnit.SECONDS);
        assertEquals(VmState.PAUSED, life.state());
        p2.close();
        assertEquals(VmState.RUNNING, life.state());
        VmLifecycle.Pause p3 = life.pause(100);
        VmRequestException busy = assertThrows(VmRequestException.class, () -> life.pause(50));
        assertEquals("another request holds the VM paused", busy.getMessage());
        p3.close();
    }

    @Test
    void aStopDuringAPauseIsNotUndoneByResuming() throws Exception {
        life.started();
        VmLifecycle.Pause pause = life.pause(100);
        life.requestExit(ExitStatus.POWEROFF, 1, null);
        pause.close();
        assertEquals(VmState.STOPPING, life.state());
    }
}
