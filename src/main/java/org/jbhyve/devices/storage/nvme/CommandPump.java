package org.jbhyve.devices.storage.nvme;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.logging.Level;
import org.jbhyve.log.LazyLogger;

/**
 * Moves commands from submission queues to their handlers and completions back to completion
 * queues.
 *
 * <ul>
 *   <li>A tail doorbell (vCPU thread) stores the new tail and fetches: each command first gets a
 *       reserved completion slot and, on an I/O queue, one of the controller's {@code ioslots};
 *       without either the queue stops and is resumed when a head doorbell frees room or an I/O
 *       slot is released, so a guest can never make the controller queue unbounded work.</li>
 *   <li>Admin commands run on the fetching thread; I/O commands are checked there and handed to
 *       the storage's worker threads, which complete them.</li>
 *   <li>Completions made while fetching, and completions racing with them, raise the queue's
 *       interrupt once per batch ({@link CompletionQueue#begin}).</li>
 *   <li>Doorbells for queues that do not exist or with values outside the queue are ignored and
 *       reported as asynchronous error events (Invalid Doorbell Register / Write Value).</li>
 * </ul>
 * Nothing here throws at the guest: a handler that fails unexpectedly completes its command
 * with Internal Error.
 */
final class CommandPump {
    private static final LazyLogger LOG = new LazyLogger(CommandPump.class);

    /** Executes one fetched command: completes it now, later, or (AER) when an event comes. */
    interface Handler {
        void execute(Request r, NvmeCommand c);
    }

    /** What the controller does when completions are posted or consumed and when I/O drains. */
    interface Signals {
        void completionsPosted(CompletionQueue cq);

        void headMoved(CompletionQueue cq);

        void drained();
    }

    private final NvmeQueues queues;
    private final AsyncEvents events;
    private final Signals signals;
    private final Consumer<Runnable> background;
    private final Consumer<String> guestError;
    private final AtomicInteger inflight = new AtomicInteger();
    private final List<SubmissionQueue> slotWaiters = new ArrayList<>();
    private int freeSlots;
    private Handler admin;
    private Handler io;
    private volatile boolean paused;

    /** {@code guestError} logs a guest mistake (rate-limited by the caller). */
    CommandPump(NvmeQueues queues, AsyncEvents events, int ioSlots, Signals signals, Consumer<Runnable> background,
                Consumer<String> guestError) {
        this.queues = queues;
        this.events = events;
        this.freeSlots = ioSlots;
        this.signals = signals;
        this.background = background;
        this.guestError = guestError;
    }

    void handlers(Handler admin, Handler io) {
        this.admin = admin;
        this.io = io;
    }

    /** SQyTDBL: the host queued commands up to {@code value}. */
    void tailDoorbell(int qid, int value) {
        SubmissionQueue sq = queues.sq(qid);
        if (sq == null || sq.dead) {
            guestError.accept("tail doorbell of submission queue " + qid + ", which does not exist");
            events.post(AsyncEvents.TYPE_ERROR, AsyncEvents.INVALID_DOORBELL);
            return;
        }
        if (value < 0 || value >= sq.size) {
            guestError.accept("tail " + Integer.toUnsignedString(value) + " for submission queue " + qid + " of "
                    + sq.size + " entries");
            events.post(AsyncEvents.TYPE_ERROR, AsyncEvents.INVALID_DOORBELL_VALUE);
            return;
        }
        sq.tail = value;
        drain(sq);
    }

    /** CQyHDBL: the host consumed completions up to {@code value}. */
    void headDoorbell(int qid, int value) {
        CompletionQueue cq = queues.cq(qid);
        if (cq == null) {
            guestError.accept("head doorbell of completion queue " + qid + ", which does not exist");
            events.post(AsyncEvents.TYPE_ERROR, AsyncEvents.INVALID_DOORBELL);
            return;
        }
        List<SubmissionQueue> resume = cq.updateHead(value);
        if (resume == null) {
            guestError.accept("head " + Integer.toUnsignedString(value) + " for completion queue " + qid
                    + " is not between its head and tail");
            events.post(AsyncEvents.TYPE_ERROR, AsyncEvents.INVALID_DOORBELL_VALUE);
            return;
        }
        signals.headMoved(cq);
        resume.forEach(this::drain);
    }

    /** Fetches from {@code sq} until it is empty or blocked; at most one thread fetches a queue at a time. */
    void drain(SubmissionQueue sq) {
        sq.kick.set(true);
        if (sq.lock.isHeldByCurrentThread()) {
            return; // the fetch loop below this frame looks again before it leaves
        }
        while (sq.kick.get() && sq.lock.tryLock()) {
            try {
                sq.kick.set(false);
                fetch(sq);
            } finally {
                sq.lock.unlock();
            }
        }
    }

    private void fetch(SubmissionQueue sq) {
        if (sq.dead || paused) {
            return;
        }
        CompletionQueue cq = sq.cq;
        boolean ioQueue = sq.id != 0;
        cq.begin();
        try {
            for (int n = 0; n < sq.size && sq.head != sq.tail && !sq.dead; n++) { // a ring's worth at most
                if (!cq.tryReserve(sq)) {
                    break;
                }
                if (ioQueue && !takeSlot(sq)) {
                    cq.unreserve();
                    break;
                }
                NvmeCommand c = NvmeCommand.read(sq.ring, (long) sq.head * NvmeCommand.SIZE);
                sq.head = (sq.head + 1) % sq.size;
                Request r = new Request(sq, c.cid(), c.opcode(), ioQueue);
                try {
                    (ioQueue ? io : admin).execute(r, c);
                } catch (RuntimeException e) {
                    LOG.get().log(Level.WARNING, "nvme: command " + c.opcode() + " on queue " + sq.id + " failed", e);
                    complete(r, NvmeStatus.INTERNAL_ERROR, 0);
                }
            }
        } finally {
            if (cq.end()) {
                signals.completionsPosted(cq);
            }
        }
    }

    /** Posts {@code r}'s completion (once) and gives back its I/O slot. */
    void complete(Request r, int status, int cdw0) {
        if (!r.markDone()) {
            return;
        }
        CompletionQueue cq = r.cq;
        cq.begin();
        try {
            cq.post(cdw0, r.sq.head, r.sq.id, r.cid, status);
        } finally {
            if (cq.end()) {
                signals.completionsPosted(cq);
            }
        }
        if (r.usesSlot) {
            releaseSlot();
        }
    }

    /** {@code r} goes to a worker thread (it may DMA until {@link #finishAsync}). */
    void startAsync(Request r) {
        inflight.incrementAndGet();
    }

    /** Completes a request started with {@link #startAsync}. */
    void finishAsync(Request r, int status, int cdw0) {
        try {
            complete(r, status, cdw0);
        } finally {
            if (inflight.decrementAndGet() == 0) {
                signals.drained();
            }
        }
    }

    /** Requests handed to workers and not finished (the controller is not ready while any remain). */
    int inflight() {
        return inflight.get();
    }

    /**
     * Stops fetching (for a snapshot): returns once no fetch is in progress; commands already
     * fetched still complete. Doorbells keep recording tails.
     */
    void pause() {
        paused = true;
        for (int id = 0; id < queues.capacity(); id++) {
            SubmissionQueue sq = queues.sq(id);
            if (sq != null) {
                sq.lock.lock();     // a fetch that started before the pause ends first
                sq.lock.unlock();
            }
        }
    }

    /** Fetches again, from every queue the guest filled meanwhile (or that a restore brought back). */
    void resume() {
        paused = false;
        for (int id = 0; id < queues.capacity(); id++) {
            SubmissionQueue sq = queues.sq(id);
            if (sq != null && sq.hasWork()) {
                drain(sq);
            }
        }
    }

    /** Runs {@code task} on a worker thread. */
    void background(Runnable task) {
        background.accept(task);
    }

    /** Controller reset: forget queues waiting for slots (slots in use come back as their requests end). */
    void reset() {
        synchronized (slotWaiters) {
            slotWaiters.forEach(q -> q.waitingForSlot = false);
            slotWaiters.clear();
        }
    }

    private boolean takeSlot(SubmissionQueue sq) {
        synchronized (slotWaiters) {
            if (freeSlots > 0) {
                freeSlots--;
                return true;
            }
            if (!sq.waitingForSlot) {
                sq.waitingForSlot = true;
                slotWaiters.add(sq);
            }
            return false;
        }
    }

    private void releaseSlot() {
        List<SubmissionQueue> wake;
        synchronized (slotWaiters) {
            freeSlots++;
            if (slotWaiters.isEmpty()) {
                return;
            }
            wake = new ArrayList<>(slotWaiters);
            slotWaiters.forEach(q -> q.waitingForSlot = false);
            slotWaiters.clear();
        }
        for (SubmissionQueue q : wake) {
            background.accept(() -> drain(q)); // not on this stack: it may be inside another fetch
        }
    }
}
