package org.jbhyve.backend.block;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.IoUring;

/**
 * The io_uring engine of a block backend: one ring, and one thread that owns it.
 *
 * <p>Any thread queues requests ({@link #enqueue}); the ring thread turns them into SQEs
 * ({@link RingSlots}), submits all it has with the same io_uring_enter that waits for
 * completions, and runs the completions. Submitters wake it through a {@link RingDoorbell}
 * only when it sleeps, and not inside a plug ({@link #plug}), so a burst of requests costs one
 * wake-up and one io_uring_enter.
 *
 * <p>Being the only thread that enters the ring lets it be set up SINGLE_ISSUER|DEFER_TASKRUN
 * (Linux 6.1+; older kernels get plainer rings): the kernel does completion work only when this
 * thread waits, instead of interrupting whichever thread submitted (a vCPU thread would be
 * thrown out of KVM_RUN).
 *
 * <p>Completion coalescing: with {@value #COALESCE_DEPTH} or more requests in flight the thread
 * waits for a quarter of them to finish, or {@link #COALESCE_NANOS} at most, before it wakes;
 * then it runs the completions together, and the device raises one interrupt for them. On a
 * machine short of CPU this cuts the cost per request at depth by a third or more; a request
 * finishes at most that much later, and requests queued meanwhile are submitted at most that
 * much later (a wait for several completions cannot be ended by the doorbell). Where windows
 * keep catching fewer than two completions (large or slow requests) coalescing pauses.
 *
 * <p>At most {@code sq entries - 1} requests are in flight (one SQE stays for the wake-up read),
 * so neither ring can overflow; more wait in order in a queue. A short transfer resumes from the
 * request's cursor in the same slot; transient errors (EAGAIN, EINTR) are retried.
 */
final class UringEngine implements AutoCloseable {
    static final int DEFAULT_ENTRIES = 128;
    /** Completion coalescing window; system property {@code jbhyve.block.coalesce-us}, 0 turns it off. */
    static final long COALESCE_NANOS = Long.getLong("jbhyve.block.coalesce-us", 50) * 1000;
    static final int COALESCE_DEPTH = 8;
    private static final int COALESCE_MISSES = 4, COALESCE_BACKOFF = 64;
    private static final long WAKE = -1L;
    private static final int MAX_RETRIES = 16;

    private final String path;
    private final Fd file;
    private final SyncIo sync;
    private final Executor workers;
    private final Runnable afterBatch;
    private final int entries;
    private final RingDoorbell doorbell;
    private final Thread thread;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final ConcurrentLinkedQueue<IoRequest> incoming = new ConcurrentLinkedQueue<>();
    /** Requests accepted and not yet completed, wherever they are (queue, ring, a worker). */
    private final AtomicInteger outstanding = new AtomicInteger();
    private final Object endLock = new Object();
    private volatile boolean closing;
    private volatile boolean ended;
    private volatile String setupProblem;

    // Owned by the ring thread.
    private IoUring ring;
    private RingSlots slots;
    private MemorySegment wakeBuf;
    private boolean coalesce;
    private int coalesceMisses;
    private int coalesceBackoff;
    private int delivered;
    private final ArrayDeque<IoRequest> waiting = new ArrayDeque<>();

    private UringEngine(String path, Fd file, SyncIo sync, Executor workers, Runnable afterBatch, int entries,
                        RingDoorbell doorbell) {
        this.path = path;
        this.file = file;
        this.sync = sync;
        this.workers = workers;
        this.afterBatch = afterBatch;
        this.entries = entries;
        this.doorbell = doorbell;
        this.thread = Thread.ofPlatform().name("blk-uring-" + Path.of(path).getFileName()).daemon(true)
                .unstarted(this::run);
    }

    /**
     * Starts the ring thread, which sets the ring up itself (so that it is the ring's single
     * issuer); throws {@link RingSetup.Unavailable} when that fails.
     */
    static UringEngine start(String path, Fd file, SyncIo sync, Executor workers, Runnable afterBatch, int entries)
            throws RingSetup.Unavailable {
        RingDoorbell doorbell = new RingDoorbell();
        UringEngine e = new UringEngine(path, file, sync, workers, afterBatch, entries, doorbell);
        e.thread.start();
        try {
            e.ready.await();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            e.closing = true;
            doorbell.force();
            throw new RingSetup.Unavailable("interrupted while setting up");
        }
        if (e.setupProblem != null) {
            doorbell.close();
            throw new RingSetup.Unavailable(e.setupProblem);
        }
        return e;
    }

    /** Whether the caller is the ring thread (where a blocking wait for the ring would deadlock). */
    boolean onRingThread() {
        return Thread.currentThread() == thread;
    }

    /**
     * Queues {@code r}; its completion runs on the ring thread. Requests the ring does not do
     * (see {@link SyncIo#needsThread}) run on a worker and complete on the ring thread too.
     * Throws IllegalStateException once the backend is closing.
     */
    void enqueue(IoRequest r) {
        accept();
        if (sync.needsThread(r)) {
            workers.execute(() -> finish(r, sync.run(r)));
            return;
        }
        incoming.offer(r);
        doorbell.ring();
    }

    /** Completes {@code r} with {@code result} on the ring thread (a request refused up front). */
    void reject(IoRequest r, long result) {
        accept();
        finish(r, result);
    }

    private void accept() {
        outstanding.incrementAndGet();
        if (closing) {
            outstanding.decrementAndGet();
            doorbell.force(); // the ring thread may be waiting for outstanding to reach zero
            throw new IllegalStateException("block backend " + path + " is closed");
        }
    }

    /** Hands a request decided off the ring back to the ring thread, which runs its completion. */
    private void finish(IoRequest r, long result) {
        r.finishedResult = result;
        r.finished = true;
        synchronized (endLock) {
            if (!ended) {
                incoming.offer(r);
                doorbell.ring();
                return;
            }
        }
        deliver(r, result); // the ring thread is gone (it broke): complete here
        runAfterBatch();
    }

    /** Holds back wake-ups from this thread until the matching {@link #unplug}. */
    void plug() {
        doorbell.plug();
    }

    void unplug() {
        doorbell.unplug();
    }

    // ---- the ring thread ----

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            try {
                ring = RingSetup.open(entries);
                slots = new RingSlots(ring, file, arena, ring.sqEntries() - 1);
                wakeBuf = arena.allocate(ValueLayout.JAVA_LONG);
                coalesce = COALESCE_NANOS > 0 && (ring.features() & IoUring.FEAT_EXT_ARG) != 0;
            } catch (RingSetup.Unavailable | RuntimeException e) {
                setupProblem = e instanceof RingSetup.Unavailable ? e.getMessage() : e.toString();
                if (ring != null) {
                    ring.close();
                }
                ready.countDown();
                return;
            }
            ready.countDown();
            try {
                armWake();
                loop();
            } catch (Throwable t) {
                System.err.println("jbhyve: " + path + ": io_uring failed, failing its requests: " + t);
                failEverything();
            } finally {
                synchronized (endLock) {
                    ended = true;
                }
                drainAfterEnd();
                ring.close();
                doorbell.close();
            }
        }
    }

    private void loop() {
        boolean deferredTaskRun = (ring.flags() & IoUring.SETUP_DEFER_TASKRUN) != 0;
        while (true) {
            admit();
            ring.reap(this::completed);
            if (delivered > 0) {
                delivered = 0;
                runAfterBatch();
                if (!deferredTaskRun && ring.pending() > 0) {
                    ring.submit(); // completions may keep coming in this mode: do not hold back new work
                }
                continue; // the completions may have queued more work
            }
            if (closing && outstanding.get() == 0) {
                return;
            }
            doorbell.sleeping();
            if (!incoming.isEmpty()) { // queued after admit() looked: take it before sleeping
                doorbell.awake();
                continue;
            }
            // Negative results (EINTR, EAGAIN, EBUSY, ETIME) all mean: go round, reap, try again.
            if (!coalesceNow()) {
                ring.submitAndWait(1);
            }
            doorbell.awake();
        }
    }

    /**
     * One coalescing wait, if it is worth it: enough requests in flight, and recent windows
     * caught at least two completions. When they keep catching fewer (large or slow requests,
     * which only lose time waiting) coalescing stops for a while. Returns false when the
     * caller should do a plain wait instead; true when the CQ has something to reap.
     */
    private boolean coalesceNow() {
        int inFlight = slots.inFlight();
        if (!coalesce || inFlight < COALESCE_DEPTH) {
            return false;
        }
        if (coalesceBackoff > 0) {
            coalesceBackoff--;
            return false;
        }
        ring.submitAndWait(inFlight / 4, COALESCE_NANOS);
        int caught = ring.cqReady();
        if (caught >= 2) {
            coalesceMisses = 0;
        } else if (++coalesceMisses >= COALESCE_MISSES) {
            coalesceMisses = 0;
            coalesceBackoff = COALESCE_BACKOFF;
        }
        return caught > 0; // nothing finished in the window: the caller just waits
    }

    /** Moves waiting and newly queued requests into free slots, and delivers finished ones. */
    private void admit() {
        IoRequest r;
        while (slots.hasFree() && (r = waiting.poll()) != null) {
            issue(r);
        }
        while ((r = incoming.poll()) != null) {
            if (r.finished) {
                deliver(r, r.finishedResult);
            } else if (!slots.hasFree() || !waiting.isEmpty()) {
                waiting.add(r);
            } else {
                issue(r);
            }
        }
    }

    private void issue(IoRequest r) {
        if (r.empty()) {
            deliver(r, 0); // nothing to do
        } else {
            slots.issue(r);
        }
    }

    private void armWake() {
        if (!ring.prepRead(doorbell.fd(), wakeBuf, 0, WAKE)) {
            throw new IllegalStateException("no SQE for the wake-up read");
        }
    }

    /** One CQE: finish, continue or retry its request. */
    private void completed(long userData, int res, int flags) {
        if (userData == WAKE) {
            armWake();
            return;
        }
        IoRequest r = slots.get(userData);
        if (res < 0) {
            if ((res == -Errno.EAGAIN || res == -Errno.EINTR) && r.retries++ < MAX_RETRIES) {
                slots.prepare(r);
            } else if (r.op == IoRequest.ZERO && res == -SyncIo.EOPNOTSUPP) {
                slots.release(r);
                workers.execute(() -> finish(r, sync.run(r))); // no ZERO_RANGE here: write zeros instead
            } else {
                slots.release(r);
                deliver(r, res);
            }
            return;
        }
        if (r.isTransfer()) {
            if (res == 0) {
                if (r.op == IoRequest.WRITE) {
                    slots.release(r);
                    deliver(r, -Errno.EIO);
                    return;
                }
                r.zeroRest(); // end of file: the rest reads as zeros
            } else {
                r.advance(res);
            }
            if (!r.complete()) {
                slots.prepare(r); // short transfer, or more buffers than one SQE takes
                return;
            }
        }
        slots.release(r);
        deliver(r, r.successResult());
    }

    private void deliver(IoRequest r, long result) {
        delivered++;
        outstanding.decrementAndGet();
        try {
            r.done.completed(result);
        } catch (RuntimeException e) {
            System.err.println("jbhyve: " + path + ": completion failed: " + e);
        }
    }

    private void runAfterBatch() {
        try {
            afterBatch.run();
        } catch (RuntimeException e) {
            System.err.println("jbhyve: " + path + ": completion listener failed: " + e);
        }
    }

    /** The ring broke (a bug, or the kernel refusing enter): every request held fails with EIO. */
    private void failEverything() {
        closing = true;
        slots.drain(r -> deliver(r, -Errno.EIO));
        IoRequest r;
        while ((r = waiting.poll()) != null) {
            deliver(r, -Errno.EIO);
        }
        runAfterBatch();
    }

    /** Completes what was queued before the thread ended (only after a failure can there be any). */
    private void drainAfterEnd() {
        IoRequest r;
        boolean any = false;
        while ((r = incoming.poll()) != null) {
            deliver(r, r.finished ? r.finishedResult : -Errno.EIO);
            any = true;
        }
        if (any) {
            runAfterBatch();
        }
    }

    /** Refuses new requests, lets the accepted ones finish, then ends the ring thread (it closes the ring). */
    @Override
    public void close() {
        closing = true;
        doorbell.force();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            System.err.println("jbhyve: " + path + ": " + outstanding.get() + " requests still running at close");
        }
    }
}
