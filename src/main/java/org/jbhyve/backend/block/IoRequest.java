package org.jbhyve.backend.block;

import java.lang.foreign.MemorySegment;
import org.jbhyve.sys.VectorIo;

/**
 * One request on its way through the backend: the operation, the caller's buffers, the
 * completion, and a cursor saying how far the transfer has got.
 *
 * <p>The kernel may move fewer bytes than asked (a signal, the end of the file, a device that
 * splits the transfer, more than {@link VectorIo#MAX_IOVECS} buffers), so a transfer is a loop:
 * describe the rest from the cursor ({@link #fillIovecs}), issue it, {@link #advance} by what was
 * done. Both engines (io_uring and the worker pool) use this one cursor. Owned by one thread at
 * a time: the submitter until it is queued, then the engine.
 */
final class IoRequest {
    static final int READ = 0, WRITE = 1, FLUSH = 2, DISCARD = 3, ZERO = 4;

    final int op;
    final long offset;
    /** Bytes to transfer, or the range length of DISCARD/ZERO. */
    final long length;
    final MemorySegment[] bufs;
    final int count;
    final BlockBackend.Completion done;
    long transferred;
    private int seg;
    private long segDone;
    /** Engine bookkeeping: the io_uring slot, retries of transient errors, a result decided off the ring. */
    int slot = -1;
    int retries;
    long finishedResult;
    boolean finished;

    private IoRequest(int op, long offset, long length, MemorySegment[] bufs, int count, BlockBackend.Completion done) {
        this.op = op;
        this.offset = offset;
        this.length = length;
        this.bufs = bufs;
        this.count = count;
        this.done = done;
    }

    /**
     * A READ or WRITE of {@code bufs[0..count)}, which must be native memory (guest RAM slices),
     * writable for a read; a caller passing anything else has a bug and gets an exception.
     */
    static IoRequest transfer(int op, long offset, MemorySegment[] bufs, int count, BlockBackend.Completion done) {
        if (done == null || count < 0 || count > bufs.length) {
            throw new IllegalArgumentException("bad request: " + count + " of " + bufs.length + " buffers");
        }
        long total = 0;
        for (int i = 0; i < count; i++) {
            MemorySegment b = bufs[i];
            if (!b.isNative() || (op == READ && b.isReadOnly())) {
                throw new IllegalArgumentException("block I/O needs native, writable buffers: " + b);
            }
            total += b.byteSize();
        }
        return new IoRequest(op, offset, total, bufs, count, done);
    }

    /** FLUSH (offset and length 0), DISCARD or ZERO of [offset, offset+length). */
    static IoRequest control(int op, long offset, long length, BlockBackend.Completion done) {
        if (done == null) {
            throw new IllegalArgumentException("no completion");
        }
        return new IoRequest(op, offset, length, new MemorySegment[0], 0, done);
    }

    boolean isTransfer() {
        return op == READ || op == WRITE;
    }

    /** Whether offset and length make sense (not negative, no overflow past Long.MAX_VALUE). */
    boolean rangeValid() {
        return offset >= 0 && length >= 0 && offset <= Long.MAX_VALUE - length;
    }

    /** What the completion reports on success: the bytes of a transfer, 0 otherwise. */
    long successResult() {
        return isTransfer() ? length : 0;
    }

    boolean complete() {
        return transferred >= length;
    }

    /** A transfer of no bytes or a discard of an empty range: done before it starts. */
    boolean empty() {
        return op != FLUSH && length == 0;
    }

    /** File offset of the next byte to move. */
    long position() {
        return offset + transferred;
    }

    /** The rest of the transfer if it lies in one buffer (then one READ/WRITE does it), else null. */
    MemorySegment single() {
        skipEmpty();
        if (seg >= count) {
            return null;
        }
        MemorySegment b = bufs[seg];
        if (b.byteSize() - segDone != length - transferred) {
            return null;
        }
        return segDone == 0 ? b : b.asSlice(segDone);
    }

    /** Describes the rest of the transfer in at most {@code max} iovecs of {@code iovecs}; returns how many. */
    int fillIovecs(MemorySegment iovecs, int max) {
        skipEmpty();
        int n = 0;
        long skip = segDone;
        for (int i = seg; i < count && n < max; i++) {
            MemorySegment b = bufs[i];
            long len = b.byteSize() - skip;
            if (len > 0) {
                VectorIo.set(iovecs, n++, b.address() + skip, len);
            }
            skip = 0;
        }
        return n;
    }

    /** Moves the cursor {@code n} bytes on (n no larger than what is left). */
    void advance(long n) {
        transferred += n;
        while (n > 0 && seg < count) {
            long left = bufs[seg].byteSize() - segDone;
            if (n < left) {
                segDone += n;
                return;
            }
            n -= left;
            seg++;
            segDone = 0;
        }
    }

    /** A read hit the end of the file: the rest reads as zeros, and the request is done. */
    void zeroRest() {
        skipEmpty();
        for (int i = seg; i < count; i++) {
            MemorySegment b = bufs[i];
            (i == seg ? b.asSlice(segDone) : b).fill((byte) 0);
        }
        transferred = length;
        seg = count;
        segDone = 0;
    }

    private void skipEmpty() {
        while (seg < count && bufs[seg].byteSize() - segDone <= 0) {
            seg++;
            segDone = 0;
        }
    }
}
