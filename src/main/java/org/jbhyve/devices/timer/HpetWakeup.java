package org.jbhyve.devices.timer;

import java.util.OptionalLong;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The HPET's one wake-up: the clock time of its next comparator match worth waking for, and,
 * for a device with a thread, the task pending on a single daemon platform thread ("hpet") that
 * runs the device's due timers then. Setting the same time again leaves the pending task alone,
 * so the counter reads a guest does all the time cost no scheduling. Callers hold the device's
 * lock; {@link #close()} is the only method that may block.
 */
final class HpetWakeup {
    private final ScheduledThreadPoolExecutor executor;
    private final Runnable task;
    private ScheduledFuture<?> pending;
    private boolean set;
    private long at;
    private boolean closed;

    /** @param task what to run at the wake-up time, or null for a device without a thread */
    HpetWakeup(Runnable task) {
        this.task = task;
        if (task == null) {
            executor = null;
        } else {
            executor = new ScheduledThreadPoolExecutor(1, r -> Thread.ofPlatform().name("hpet").daemon().unstarted(r));
            executor.setRemoveOnCancelPolicy(true);
        }
    }

    /** Wake at clock time {@code now + wait} ({@code wait >= 0}); nothing changes if that is already set. */
    void at(long now, long wait) {
        if (set && at == now + wait) {
            return;
        }
        set = true;
        at = now + wait;
        cancel();
        if (executor != null && !closed) {
            try {
                pending = executor.schedule(task, wait, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                // closing
            }
        }
    }

    /** No wake-up wanted. */
    void none() {
        set = false;
        cancel();
    }

    /**
     * Forgets the current wake-up (it is running), so the next {@link #at} schedules anew even
     * for the same time; a task still pending from a race with {@link #at} is cancelled then.
     */
    void fired() {
        set = false;
    }

    private void cancel() {
        if (pending != null) {
            pending.cancel(false);
            pending = null;
        }
    }

    OptionalLong next() {
        return set ? OptionalLong.of(at) : OptionalLong.empty();
    }

    /** Marks the wake-up closed and cancels it; call under the device lock, then {@link #stop()} outside it. */
    void close() {
        closed = true;
        none();
    }

    /** Stops the thread and waits up to a second for a running task (which must not need the caller's locks). */
    void stop() {
        if (executor != null) {
            executor.shutdownNow();
            try {
                executor.awaitTermination(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
