package org.jbhyve.backend.net;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.IoUring;
import org.jbhyve.sys.SysException;
import org.jbhyve.sys.VectorIo;

/**
 * Frames for a tap handed to the kernel together: each queued frame is one io_uring WRITEV
 * (gathered from its parts, guest memory included), and {@link #flush} submits them all with one
 * io_uring_enter and waits until the kernel took every one. One system call per batch instead of
 * one per frame: the tap's own work per frame stays, the cost of entering the kernel is shared
 * (on a host where system calls are dear this is most of a small frame's cost).
 *
 * <p>A queued frame's parts must stay unchanged until {@link #flush} returns; the caller flushes
 * before it tells the guest the frames were sent. Not thread-safe: the backend serialises.
 */
final class TapSendBatch implements AutoCloseable {
    /** Frames per batch (and io_uring SQ slots). */
    static final int FRAMES = 64;

    private final IoUring ring;
    private final Fd tap;
    private final int maxParts;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment iovecs;
    private int queued;
    private int failed;
    private int firstError;

    private TapSendBatch(IoUring ring, Fd tap, int maxParts) {
        this.ring = ring;
        this.tap = tap;
        this.maxParts = maxParts;
        this.iovecs = arena.allocate((long) FRAMES * maxParts * VectorIo.IOVEC_SIZE, 8);
    }

    /** A batch for {@code tap}, or null where io_uring cannot be used (old kernel, disabled, seccomp). */
    static TapSendBatch open(Fd tap, int maxParts) {
        try {
            IoUring ring = IoUring.setup(FRAMES, 0);
            if (!ring.supports(IoUring.OP_WRITEV) || ring.sqEntries() < FRAMES) {
                ring.close();
                return null;
            }
            return new TapSendBatch(ring, tap, maxParts);
        } catch (SysException e) {
            return null;
        }
    }

    boolean full() {
        return queued == FRAMES;
    }

    /** Queues the non-empty ones of {@code parts[0..count)} (at most maxParts) as one frame; the caller flushes a full batch first. */
    void add(MemorySegment[] parts, int count) {
        MemorySegment vector = iovecs.asSlice((long) queued * maxParts * VectorIo.IOVEC_SIZE,
                (long) maxParts * VectorIo.IOVEC_SIZE);
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (parts[i].byteSize() > 0) {
                VectorIo.set(vector, n++, parts[i].address(), parts[i].byteSize());
            }
        }
        if (!ring.prepWritev(tap, vector, n, 0, queued)) {
            throw new IllegalStateException("io_uring SQ full with " + queued + " frames queued");
        }
        queued++;
    }

    /** Sends the queued frames and waits for all; returns how many failed (the first errno in {@link #firstError}). */
    int flush() {
        failed = 0;
        firstError = 0;
        int done = 0;
        while (done < queued) {
            ring.submitAndWait(queued - done); // a transient -errno: reap what came, enter again
            done += ring.reap((frame, result, flags) -> {
                if (result < 0) {
                    if (failed++ == 0) {
                        firstError = -result;
                    }
                }
            });
        }
        queued = 0;
        return failed;
    }

    int queued() {
        return queued;
    }

    /** errno of the first frame that failed in the last flush. */
    int firstError() {
        return firstError;
    }

    @Override
    public void close() {
        ring.close();
        arena.close();
    }
}
