package org.jbhyve.backend.block;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.FileIo;
import org.jbhyve.sys.IoUring;
import org.jbhyve.sys.VectorIo;

/**
 * The requests in flight on one ring, and how each becomes an SQE. A request holds a slot from
 * its first SQE to its completion (through any resubmissions); the slot number is the SQE's
 * user_data and indexes a fixed area of {@value #IOVECS_PER_SLOT} iovecs, so READV/WRITEV need
 * no allocation and the kernel can read the iovecs until the request completes.
 *
 * <p>SQE per request: one buffer left is a READ/WRITE on it; several are a READV/WRITEV of up
 * to {@value #IOVECS_PER_SLOT} (the rest goes in later SQEs from the request's cursor); FLUSH is
 * FSYNC with DATASYNC; DISCARD and ZERO are FALLOCATE with KEEP_SIZE and PUNCH_HOLE or
 * ZERO_RANGE. Confined to the ring thread.
 */
final class RingSlots {
    static final int IOVECS_PER_SLOT = 128;
    private static final long IOVEC_AREA = (long) IOVECS_PER_SLOT * VectorIo.IOVEC_SIZE;

    private final IoUring ring;
    private final Fd file;
    private final IoRequest[] slots;
    private final int[] free;
    private int freeCount;
    private final MemorySegment iovecs;

    RingSlots(IoUring ring, Fd file, Arena arena, int capacity) {
        this.ring = ring;
        this.file = file;
        this.slots = new IoRequest[capacity];
        this.free = new int[capacity];
        for (int i = capacity - 1; i >= 0; i--) {
            free[freeCount++] = i;
        }
        this.iovecs = arena.allocate(capacity * IOVEC_AREA, 8);
    }

    boolean hasFree() {
        return freeCount > 0;
    }

    int inFlight() {
        return slots.length - freeCount;
    }

    /** Gives {@code r} a slot and writes its first SQE; the caller checked {@link #hasFree}. */
    void issue(IoRequest r) {
        int s = free[--freeCount];
        slots[s] = r;
        r.slot = s;
        prepare(r);
    }

    /**
     * Writes the SQE for what is left of {@code r}. The SQ has room: it has one entry more than
     * there are slots (the spare is the wake-up read's), and a slot has at most one SQE queued.
     */
    void prepare(IoRequest r) {
        long ud = r.slot;
        boolean ok;
        switch (r.op) {
            case IoRequest.READ, IoRequest.WRITE -> {
                MemorySegment one = r.single();
                if (one != null) {
                    ok = r.op == IoRequest.READ ? ring.prepRead(file, one, r.position(), ud)
                            : ring.prepWrite(file, one, r.position(), ud);
                } else {
                    MemorySegment iov = iovecs.asSlice(r.slot * IOVEC_AREA, IOVEC_AREA);
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
            throw new IllegalStateException("io_uring submission queue full with " + inFlight() + " in flight");
        }
    }

    /** The request whose SQE carried {@code userData}. */
    IoRequest get(long userData) {
        IoRequest r = userData >= 0 && userData < slots.length ? slots[(int) userData] : null;
        if (r == null) {
            throw new IllegalStateException("completion for free slot " + userData);
        }
        return r;
    }

    void release(IoRequest r) {
        slots[r.slot] = null;
        free[freeCount++] = r.slot;
        r.slot = -1;
    }

    /** Releases every slot, handing each request to {@code action} (when the ring breaks). */
    void drain(Consumer<IoRequest> action) {
        for (IoRequest r : slots) {
            if (r != null) {
                release(r);
                action.accept(r);
            }
        }
    }
}
