package org.jbhyve.backend.block;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.FileIo;
import org.jbhyve.sys.IoUring;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;
import org.jbhyve.sys.VectorIo;

/**
 * The io_uring engine of a block backend: one ring and one thread that owns it.
 *
 * <p>Any thread queues requests ({@link #enqueue}); the ring thread moves them into SQEs (one
 * READ/WRITE for a single buffer, READV/WRITEV for several, FSYNC with DATASYNC for FLUSH,
 * FALLOCATE for discard and write-zeroes), submits everything it has in one io_uring_enter that
 * also waits for completions, and runs the completions. A sleeping ring thread is woken through
 * an eventfd it always has a READ posted on; submitters write it only when the thread said it
 * is about to sleep, and not at all inside a plug ({@link #plug}), so a burst of requests costs
 * one wake-up and one io_uring_enter.
 *
 * <p>Being the only thread that enters the ring lets it be set up SINGLE_ISSUER|DEFER_TASKRUN
 * (Linux 6.1+): the kernel runs completion work only when this thread waits, instead of
 * interrupting whichever thread submitted (a vCPU thread would be thrown out of KVM_RUN).
 *
 * <p>At most {@code sq entries - 1} requests are in flight (one SQE stays for the wake-up read),
 * so neither ring can overflow; the rest wait in order in a queue. A short transfer is resumed
 * from the request's cursor in the same slot; transient errors (EAGAIN, EINTR) are retried.
 */
final class UringEngine implements AutoCloseable {
    static final int DEFAULT_ENTRIES = 128;
    private static final long WAKE = -1L;
    private static final int IOVECS_PER_SLOT = 128;
    private static final int MAX_RETRIES = 16;
    private static final int[] SETUP_ATTEMPTS = {
        IoUring.SETUP_SINGLE_ISSUER | IoUring.SETUP_DEFER_TASKRUN | IoUring.SETUP_SUBMIT_ALL,
        IoUring.SETUP_COOP_TASKRUN | IoUring.SETUP_SUBMIT_ALL,
        0,
    };
    private static final int[] NEEDED_OPS = {IoUring.OP_READ, IoUring.OP_WRITE, IoUring.OP_READV, IoUring.OP_WRITEV,
        IoUring.OP_FSYNC, IoUring.OP_FALLOCATE};
    private static final ThreadLocal<MemorySegment> ONE = ThreadLocal.withInitial(() -> {
        MemorySegment s = Arena.global().allocate(ValueLayout.JAVA_LONG);
        s.set(ValueLayout.JAVA_LONG, 0, 1L);
        return s;
    });

    /** io_uring cannot be used here; the message says why (for the log line). */
    static final class Unavailable extends Exception {
        Unavailable(String message) {
            super(message, null, false, false);
        }
    }

    private final String path;
    private final Fd file;
    private final SyncIo sync;
    private final Executor workers;
    private final Runnable afterBatch;
    private final Thread thread;
    private final ConcurrentLinkedQueue<IoRequest> incoming = new ConcurrentLinkedQueue<>();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final AtomicBoolean sleeping = new AtomicBoolean();
    private final ThreadLocal<int[]> plugs = ThreadLocal.withInitial(() -> new int[1]);
    private final Fd wakeFd;
    private final int entries;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final Object endLock = new Object();
    private volatile boolean closing;
    private volatile boolean ended;
    private volatile String setupProblem;

    // Owned by the ring thread.
    private IoUring ring;
    private Arena arena;
    private MemorySegment iovecs;
    private MemorySegment wakeBuf;
    private IoRequest[] slots;
    private int[] free;
    private int freeCount;
    private int delivered;
    private final ArrayDeque<IoRequest> waiting = new ArrayDeque<>();

    private UringEngine(String path, Fd file, SyncIo sync, Executor workers, Runnable afterBatch, Fd wakeFd,
                        int entries) {
        this.path = path;
        this.entries = entries;
        this.file = file;
        this.sync = sync;
        this.workers = workers;
        this.afterBatch = afterBatch;
        this.wakeFd = wakeFd;
        this.thread = Thread.ofPlatform().name("blk-uring-" + Path.of(path).getFileName()).daemon(true)
                .unstarted(this::run);
    }

    /**
     * Starts the ring thread, which sets the ring up itself (so that it is the ring's single
     * issuer); throws {@link Unavailable} when io_uring is missing, forbidden (ENOSYS, EPERM:
     * kernel.io_uring_disabled or seccomp) or lacks an operation this engine uses.
     */
    static UringEngine start(String path, Fd file, SyncIo sync, Executor workers, Runnable afterBatch, int entries)
            throws Unavailable {
        Fd wake = Posix.eventfd(0, Posix.EFD_CLOEXEC); // blocking: io_uring would fail a non-blocking read with EAGAIN
        UringEngine e = new UringEngine(path, file, sync, workers, afterBatch, wake, entries);
        e.thread.start();
        try {
            e.ready.await();
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            e.setupProblem = "interrupted";
        }
        if (e.setupProblem != null) {
            wake.close();
            throw new Unavailable(e.setupProblem);
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
     */
    void enqueue(IoRequest r) {
        admitOne();
        if (sync.needsThread(r)) {
            workers.execute(() -> finish(r, sync.run(r)));
            return;
        }
        incoming.offer(r);
        if (plugs.get()[0] == 0) {
            wake();
        }
    }

    /** Completes {@code r} with {@code result} on the ring thread (a request refused up front). */
    void reject(IoRequest r, long result) {
        admitOne();
        finish(r, result);
    }

    private void admitOne() {
        outstanding.incrementAndGet();
        if (closing) {
            outstanding.decrementAndGet();
            forceWake();
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
                if (plugs.get()[0] == 0) {
                    wake();
                }
                return;
            }
        }
        deliver(r, result); // the ring thread is gone (it broke): complete here
        runAfterBatch();
    }

    /** Holds back wake-ups from this thread until the matching {@link #unplug}. */
    void plug() {
        plugs.get()[0]++;
    }

    void unplug() {
        int[] depth = plugs.get();
        if (depth[0] > 0 && --depth[0] == 0) {
            wake();
        }
    }

    private void wake() {
        if (sleeping.get() && sleeping.compareAndSet(true, false)) {
            forceWake();
        }
    }

    private void forceWake() {
        try {
            Posix.write(wakeFd, ONE.get(), 8);
        } catch (SysException | IllegalStateException e) {
            // closed: the ring thread has ended, nothing to wake
        }
    }

    // ---- the ring thread ----

    private void run() {
        try {
            ring = setupRing();
        } catch (Unavailable u) {
            setupProblem = u.getMessage();
            ready.countDown();
            return;
        }
        arena = Arena.ofConfined();
        int capacity = ring.sqEntries() - 1;
        slots = new IoRequest[capacity];
        free = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            free[freeCount++] = capacity - 1 - i;
        }
        iovecs = arena.allocate((long) capacity * IOVECS_PER_SLOT * VectorIo.IOVEC_SIZE, 8);
        wakeBuf = arena.allocate(ValueLayout.JAVA_LONG);
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
            wakeFd.close();
            arena.close();
        }
    }

    private IoUring setupRing() throws Unavailable {
        IoUring r = null;
        SysException last = null;
        for (int flags : SETUP_ATTEMPTS) {
            try {
                r = IoUring.setup(entries, flags);
                break;
            } catch (SysException e) {
                last = e;
                if (e.errno() != Errno.EINVAL) {
                    break; // ENOSYS, EPERM, ENOMEM: no other flags will help
                }
            }
        }
        if (r == null) {
            throw new Unavailable(last.getMessage());
        }
        int needed = IoUring.FEAT_NODROP | IoUring.FEAT_SUBMIT_STABLE;
        if ((r.features() & needed) != needed) {
            r.close();
            throw new Unavailable("io_uring too old (features 0x" + Integer.toHexString(r.features()) + ")");
        }
        for (int op : NEEDED_OPS) {
            if (!r.supports(op)) {
                r.close();
                throw new Unavailable("io_uring lacks operation " + op);
            }
        }
        return r;
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
            sleeping.set(true);
            if (!incoming.isEmpty()) { // queued after admit() looked: take it before sleeping
                sleeping.set(false);
                continue;
            }
            ring.submitAndWait(1); // negative (EINTR, EAGAIN, EBUSY): go round, reap, retry
            sleeping.set(false);
        }
    }

    /** Moves waiting and newly queued requests into free slots, and delivers finished ones. */
    private void admit() {
        IoRequest r;
        while (freeCount > 0 && (r = waiting.poll()) != null) {
            issue(r);
        }
        while ((r = incoming.poll()) != null) {
            if (r.finished) {
                deliver(r, r.finishedResult);
            } else if (freeCount == 0 || !waiting.isEmpty()) {
                waiting.add(r);
            } else {
                issue(r);
            }
        }
    }

    private void issue(IoRequest r) {
        if (r.isTransfer() && r.complete()) {
            deliver(r, 0); // nothing to move
            return;
        }
        int s = free[--freeCount];
        slots[s] = r;
        r.slot = s;
        prepare(r);
    }

    /** Writes the SQE for what is left of {@code r}. There is always room: see the class comment. */
    private void prepare(IoRequest r) {
        long ud = r.slot;
        boolean ok;
        switch (r.op) {
            case IoRequest.READ, IoRequest.WRITE -> {
                MemorySegment one = r.single();
                if (one != null) {
                    ok = r.op == IoRequest.READ ? ring.prepRead(file, one, r.position(), ud)
                            : ring.prepWrite(file, one, r.position(), ud);
                } else {
                    MemorySegment iov = iovecs.asSlice((long) r.slot * IOVECS_PER_SLOT * VectorIo.IOVEC_SIZE,
                            (long) IOVECS_PER_SLOT * VectorIo.IOVEC_SIZE);
                    int n = r.fillIovecs(iov, IOVECS_PER_SLOT);
                    ok = r.op == IoRequest.READ ? ring.prepReadv(file, iov, n, r.position(), ud)
                            : ring.prepWritev(file, iov, n, r.position(), ud);
                }
            }
            case IoRequest.FLUSH -> ok = ring.prepFsync(file, true, ud);
            default -> ok = ring.prepFallocate(file, FileIo.FALLOC_FL_KEEP_SIZE | (r.op == IoRequest.ZERO
                    ? FileIo.FALLOC_FL_ZERO_RANGE : FileIo.FALLOC_FL_PUNCH_HOLE), r.offset, r.length, ud);
        }
        if (!ok) {
            throw new IllegalStateException("io_uring submission queue full with " + freeCount + " free slots");
        }
    }

    private void armWake() {
        if (!ring.prepRead(wakeFd, wakeBuf, 0, WAKE)) {
            throw new IllegalStateException("no SQE for the wake-up read");
        }
    }

    /** One CQE: finish, continue or retry its request. */
    private void completed(long userData, int res, int flags) {
        if (userData == WAKE) {
            armWake();
            return;
        }
        IoRequest r = slots[(int) userData];
        if (res < 0) {
            if ((res == -Errno.EAGAIN || res == -Errno.EINTR) && r.retries++ < MAX_RETRIES) {
                prepare(r);
            } else if (r.op == IoRequest.ZERO && res == -SyncIo.EOPNOTSUPP) {
                release(r);
                workers.execute(() -> finish(r, sync.run(r))); // no ZERO_RANGE here: write zeros instead
            } else {
                release(r);
                deliver(r, res);
            }
            return;
        }
        if (r.isTransfer()) {
            if (res == 0) {
                if (r.op == IoRequest.WRITE) {
                    release(r);
                    deliver(r, -Errno.EIO);
                    return;
                }
                r.zeroRest(); // end of file: the rest reads as zeros
            } else {
                r.advance(res);
            }
            if (!r.complete()) {
                prepare(r); // short transfer, or more buffers than one SQE takes
                return;
            }
        }
        release(r);
        deliver(r, r.successResult());
    }

    private void release(IoRequest r) {
        slots[r.slot] = null;
        free[freeCount++] = r.slot;
        r.slot = -1;
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

    /** The ring broke (a bug or a kernel refusing enter): every request still held fails with EIO. */
    private void failEverything() {
        closing = true;
        for (int s = 0; s < slots.length; s++) {
            if (slots[s] != null) {
                deliver(slots[s], -Errno.EIO);
                slots[s] = null;
            }
        }
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

    /**
     * Refuses new requests, lets the ones accepted finish (up to {@code timeoutMillis}), then
     * ends the ring thread, which closes the ring.
     */
    void close(long timeoutMillis) {
        closing = true;
        forceWake();
        try {
            thread.join(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            System.err.println("jbhyve: " + path + ": " + outstanding.get() + " requests still running at close");
        }
    }

    @Override
    public void close() {
        close(10_000);
    }
}
