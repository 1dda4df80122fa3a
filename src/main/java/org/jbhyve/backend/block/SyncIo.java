package org.jbhyve.backend.block;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.FileIo;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;
import org.jbhyve.sys.VectorIo;

/**
 * Requests done with blocking system calls on the calling thread: the worker-pool engine (when
 * io_uring is unavailable), and the cases io_uring does not cover here: buffers that need a
 * bounce under O_DIRECT, discard on block devices (BLKDISCARD/BLKZEROOUT ioctls), write-zeroes
 * on file systems without FALLOC_FL_ZERO_RANGE.
 *
 * <p>Transfers are preadv/pwritev of all the request's buffers at once. Under {@code nocache}
 * (O_DIRECT) every buffer must be aligned in address and length to the host sector; one that is
 * not goes through an aligned per-thread bounce buffer, the rest straight to the kernel.
 * Thread-safe: positional I/O on one descriptor, per-thread buffers.
 */
final class SyncIo implements AutoCloseable {
    static final int EROFS = 30;
    static final int EOPNOTSUPP = 95;
    private static final int BOUNCE_SIZE = 1 << 20;

    private final Fd fd;
    private final boolean noCache;
    private final boolean blockDevice;
    private final int dioAlign;
    private final Arena arena = Arena.ofShared();
    private final ThreadLocal<MemorySegment> bounce;
    private final ThreadLocal<MemorySegment> iovecs;

    SyncIo(Fd fd, boolean noCache, boolean blockDevice, int dioAlign) {
        this.fd = fd;
        this.noCache = noCache;
        this.blockDevice = blockDevice;
        this.dioAlign = dioAlign;
        this.bounce = ThreadLocal.withInitial(() -> arena.allocate(BOUNCE_SIZE, 4096));
        this.iovecs = ThreadLocal.withInitial(() -> arena.allocate((long) VectorIo.IOVEC_SIZE * VectorIo.MAX_IOVECS, 8));
    }

    /** Whether {@code r} must run here rather than on io_uring (bounce buffers, block-device ioctls). */
    boolean needsThread(IoRequest r) {
        return switch (r.op) {
            case IoRequest.READ, IoRequest.WRITE -> needsBounce(r);
            case IoRequest.DISCARD, IoRequest.ZERO -> blockDevice;
            default -> false;
        };
    }

    private boolean needsBounce(IoRequest r) {
        if (!noCache) {
            return false;
        }
        for (int i = 0; i < r.count; i++) {
            if (!aligned(r.bufs[i])) {
                return true;
            }
        }
        return false;
    }

    private boolean aligned(MemorySegment b) {
        return b.address() % dioAlign == 0 && b.byteSize() % dioAlign == 0;
    }

    /** Runs {@code r} to the end; returns what its completion reports (bytes or 0, or -errno). */
    long run(IoRequest r) {
        if (r.empty()) {
            return 0;
        }
        try {
            switch (r.op) {
                case IoRequest.READ, IoRequest.WRITE -> {
                    if (needsBounce(r)) {
                        bounced(r);
                    } else {
                        vectored(r);
                    }
                }
                case IoRequest.FLUSH -> Posix.fdatasync(fd);
                default -> discard(r.offset, r.length, r.op == IoRequest.ZERO);
            }
            return r.successResult();
        } catch (SysException e) {
            return -e.errno();
        }
    }

    /** preadv/pwritev from the request's cursor until it is done. */
    private void vectored(IoRequest r) {
        MemorySegment iov = iovecs.get();
        boolean write = r.op == IoRequest.WRITE;
        while (!r.complete()) {
            int n = r.fillIovecs(iov, VectorIo.MAX_IOVECS);
            long got = write ? VectorIo.pwritev(fd, iov, n, r.position()) : VectorIo.preadv(fd, iov, n, r.position());
            if (got == 0) {
                if (write) {
                    throw new SysException("pwritev", Errno.EIO);
                }
                r.zeroRest(); // past the end of a file that shrank: the rest reads as zeros
                return;
            }
            r.advance(got);
        }
    }

    /** Buffer by buffer: aligned ones directly, the others through the bounce buffer. */
    private void bounced(IoRequest r) {
        boolean write = r.op == IoRequest.WRITE;
        long at = r.offset;
        for (int i = 0; i < r.count; i++) {
            MemorySegment b = r.bufs[i];
            if (aligned(b)) {
                full(at, b, write);
            } else {
                if (b.byteSize() % dioAlign != 0 || at % dioAlign != 0) {
                    throw new SysException("unaligned direct I/O of " + b.byteSize() + " bytes at " + at, Errno.EINVAL);
                }
                MemorySegment buf = bounce.get();
                for (long done = 0; done < b.byteSize(); done += BOUNCE_SIZE) {
                    long n = Math.min(BOUNCE_SIZE, b.byteSize() - done);
                    MemorySegment window = buf.asSlice(0, n);
                    if (write) {
                        window.copyFrom(b.asSlice(done, n));
                        full(at + done, window, true);
                    } else {
                        full(at + done, window, false);
                        b.asSlice(done, n).copyFrom(window);
                    }
                }
            }
            at += b.byteSize();
        }
    }

    /** Moves all of {@code b} at {@code offset}; a read past the end of the file fills zeros. */
    private void full(long offset, MemorySegment b, boolean write) {
        long len = b.byteSize();
        for (long done = 0; done < len; ) {
            MemorySegment rest = b.asSlice(done);
            long n = write ? Posix.pwrite(fd, rest, len - done, offset + done)
                    : Posix.pread(fd, rest, len - done, offset + done);
            if (n <= 0) {
                if (!write) {
                    rest.fill((byte) 0);
                    return;
                }
                throw new SysException("pwrite", Errno.EIO);
            }
            done += n;
        }
    }

    /** Deallocates (discard) or zeroes [offset, offset+length). */
    void discard(long offset, long length, boolean zero) {
        try {
            if (blockDevice) {
                FileIo.blockDiscard(fd, offset, length, zero);
            } else {
                FileIo.fallocate(fd, FileIo.FALLOC_FL_KEEP_SIZE
                        | (zero ? FileIo.FALLOC_FL_ZERO_RANGE : FileIo.FALLOC_FL_PUNCH_HOLE), offset, length);
            }
        } catch (SysException e) {
            if (!zero || e.errno() != EOPNOTSUPP) {
                throw e;
            }
            zeroByWriting(offset, length);
        }
    }

    private void zeroByWriting(long offset, long length) {
        MemorySegment zeros = bounce.get();
        zeros.fill((byte) 0);
        for (long done = 0; done < length; done += BOUNCE_SIZE) {
            full(offset + done, zeros.asSlice(0, Math.min(BOUNCE_SIZE, length - done)), true);
        }
    }

    @Override
    public void close() {
        arena.close();
    }
}
