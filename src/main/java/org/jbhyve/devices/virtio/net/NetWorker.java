package org.jbhyve.devices.virtio.net;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import org.jbhyve.log.LazyLogger;

/**
 * One platform daemon thread that runs a batch task whenever it is signalled. The task returns
 * true when it stopped with work left (a full batch), and is then run again without waiting.
 * Signals that arrive while the task runs are not lost: they leave {@code pending} set, so the
 * task runs once more afterwards. Signalling an already signalled worker costs one atomic.
 */
final class NetWorker implements AutoCloseable {
    private static final LazyLogger LOG = new LazyLogger(NetWorker.class);

    private final AtomicBoolean pending = new AtomicBoolean();
    private final BooleanSupplier task;
    private final Thread thread;
    private volatile boolean closed;
    private volatile boolean running;
    private volatile long failures;

    NetWorker(String name, BooleanSupplier task) {
        this.task = task;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this::loop);
        thread.start();
    }

    /** Asks for one more run of the task (from any thread, never blocks). */
    void signal() {
        if (!pending.getAndSet(true)) {
            LockSupport.unpark(thread);
        }
    }

    private void loop() {
        while (!closed) {
            if (!pending.getAndSet(false)) {
                LockSupport.park(this);
                continue;
            }
            running = true;
            try {
                while (task.getAsBoolean() && !closed) {
                    Thread.onSpinWait(); // a full batch: go on, the lock was released in between
                }
            } catch (RuntimeException e) {
                failures++; // a bug, not a guest mistake: those are dropped and counted by the task
                LOG.get().log(Level.WARNING, thread.getName() + ": batch failed", e);
            } finally {
                running = false;
            }
        }
    }

    /** No run in progress and none asked for (tests: wait for the device to settle). */
    boolean idle() {
        return !running && !pending.get();
    }

    /** Runs that ended with an unexpected exception. */
    long failures() {
        return failures;
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        if (thread != Thread.currentThread()) {
            try {
                thread.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
