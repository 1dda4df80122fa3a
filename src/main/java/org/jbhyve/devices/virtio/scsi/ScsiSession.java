package org.jbhyve.devices.virtio.scsi;

import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.virtio.DescriptorChain;
import org.jbhyve.virtio.VirtioTransport;
import org.jbhyve.virtio.Virtqueue;
import org.jbhyve.virtio.VirtqueueException;

/**
 * What one driver session (DRIVER_OK to reset) of virtio-scsi owns: the transport, the task set,
 * a completion batch per queue, and the request-queue loop.
 *
 * <p>A kick on request queue q pops at most one ring's worth of chains (more continues on a
 * backend worker, so one busy queue cannot hold the event loop), parses each, answers requests
 * for other targets with BAD_TARGET, and hands the command to the target: non-I/O commands end
 * at once, block I/O on the LUN's backend workers. Each completion writes the response structure
 * and joins the queue's batch. Popping and registering in the task set happen under one lock
 * per queue, so a TMF that first drains the request queues sees every command the driver queued
 * before it.
 *
 * <p>After {@link #close} (device reset) nothing more is published: late completions of the old
 * session are dropped, as the driver has forgotten those chains.
 *
 * <p>Every pass over a queue, command and completion counts in the device's {@link Activity};
 * while it is paused (a snapshot) kicks take nothing and passes stop taking chains, which stay
 * on the rings until {@link #serveAll} after the pause.
 */
final class ScsiSession {
    private final VirtioTransport transport;
    private final ScsiTarget target;
    private final VirtioScsiConfig config;
    private final int queueCount;
    private final UsedBatch[] batches;
    private final Object[] popLocks;
    private final TaskSet tasks = new TaskSet();
    private final ScsiControlQueue control;
    private final AtomicInteger failures;
    private final Activity activity;
    private boolean closed;

    ScsiSession(VirtioTransport transport, ScsiTarget target, VirtioScsiConfig config, int queueCount,
                AtomicInteger failures, Activity activity) {
        this.transport = transport;
        this.target = target;
        this.config = config;
        this.queueCount = queueCount;
        this.failures = failures;
        this.activity = activity;
        this.batches = new UsedBatch[queueCount];
        this.popLocks = new Object[queueCount];
        for (int q = 0; q < queueCount; q++) {
            int queue = q;
            batches[q] = new UsedBatch((heads, lengths, n) -> publish(queue, heads, lengths, n), activity);
            popLocks[q] = new Object();
        }
        this.control = new ScsiControlQueue(this, target, tasks);
    }

    void close() {
        synchronized (this) {
            closed = true;
        }
    }

    synchronized boolean isClosed() {
        return closed;
    }

    VirtioTransport transport() {
        return transport;
    }

    UsedBatch batch(int q) {
        return batches[q];
    }

    TaskSet tasks() {
        return tasks;
    }

    /** Whether a pass should stop taking chains: the session ended or a snapshot paused the device. */
    boolean stopped() {
        return isClosed() || activity.paused();
    }

    /**
     * Runs {@code pass} again on a backend worker (a queue with more chains than one pass takes),
     * counted before the current pass ends.
     */
    void continueLater(Runnable pass) {
        activity.enter(1);
        target.executor().execute(() -> {
            try {
                pass.run();
            } finally {
                activity.exit(1);
            }
        });
    }

    /** Serves every queue, as after a kick of each (chains left on the rings while paused). */
    void serveAll() {
        for (int q = 0; q < queueCount; q++) {
            notified(q);
        }
    }

    void failed(String what, RuntimeException e) {
        failures.incrementAndGet();
        System.err.println("jbhyve: virtio-scsi: " + what + ": " + e);
    }

    private void publish(int q, int[] heads, int[] lengths, int n) {
        Virtqueue vq = transport.queue(q);
        synchronized (this) { // reset waits for a publish in progress; none starts after it
            if (closed) {
                return;
            }
            vq.addUsed(heads, lengths, n);
        }
        transport.notifyUsed(vq);
    }

    /** The driver kicked queue {@code q}. */
    void notified(int q) {
        if (!activity.tryEnter()) {
            return;                    // paused: served after the snapshot
        }
        try {
            if (q == VirtioScsi.CONTROL) {
                control.serve();
            } else if (q >= VirtioScsi.FIRST_REQUEST && q < queueCount) {
                serveRequests(q);
            }
            // The event queue keeps its buffers: no event is ever reported (no hotplug, no changes).
        } finally {
            activity.exit(1);
        }
    }

    /** Starts everything available on every request queue (before a TMF looks at the task set). */
    void drainRequests() {
        for (int q = VirtioScsi.FIRST_REQUEST; q < queueCount; q++) {
            serveRequests(q);
        }
    }

    void serveRequests(int q) {
        Virtqueue vq = transport.queue(q);
        UsedBatch batch = batches[q];
        batch.hold();
        try {
            synchronized (popLocks[q]) {
                for (int budget = vq.size(); budget > 0; budget--) {
                    if (stopped()) {
                        return;
                    }
                    DescriptorChain c = vq.pop();
                    if (c == null) {
                        return;
                    }
                    start(q, c);
                }
            }
            continueLater(() -> serveRequests(q)); // more left: continue off this thread
        } catch (VirtqueueException e) {
            transport.queueBroken(vq, e);
        } finally {
            batch.release();
        }
    }

    private void start(int q, DescriptorChain c) {
        UsedBatch batch = batches[q];
        VirtioScsiRequest r;
        try {
            r = VirtioScsiRequest.parse(c, config.cdbSize(), config.senseSize());
        } catch (RuntimeException e) {
            failed("request parse", e);
            batch.complete(c.head(), 0, null);
            return;
        }
        if (r.malformed()) {
            batch.complete(c.head(), r.respond(VirtioScsi.S_FAILURE), null);
            return;
        }
        if (!r.addresses(VirtioScsi.TARGET)) {
            batch.complete(c.head(), r.respond(VirtioScsi.S_BAD_TARGET), null);
            return;
        }
        int lun = r.lun();
        long tag = r.tag();
        ScsiCommand command = r.command();
        tasks.started(lun, tag);
        activity.enter(1);
        target.execute(lun, command, () -> {
            int written;
            try {
                written = isClosed() ? 0 : r.respond(command);
            } catch (RuntimeException e) {
                failed("response", e);
                written = 0;
            }
            batch.complete(c.head(), written, () -> tasks.finished(lun, tag));
            activity.exit(1);
        });
    }
}
