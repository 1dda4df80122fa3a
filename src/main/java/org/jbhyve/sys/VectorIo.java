package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;

/**
 * Scatter/gather I/O: {@code struct iovec} arrays (16 bytes each: {@code void *iov_base; size_t
 * iov_len}) and preadv(2)/pwritev(2), which move a list of buffers at one file offset in one
 * call. The same arrays feed io_uring's READV/WRITEV. A call takes at most {@link #MAX_IOVECS}
 * entries (UIO_MAXIOV), and may transfer fewer bytes than asked: callers continue from where it
 * stopped.
 */
public final class VectorIo {
    public static final int IOVEC_SIZE = 16;
    public static final int MAX_IOVECS = 1024;

    private static final SystemCall PREADV = new SystemCall(295); // preadv(2)
    private static final SystemCall PWRITEV = new SystemCall(296); // pwritev(2)

    private VectorIo() {}

    /** Sets entry {@code index} of the iovec array {@code iovecs} to native memory [address, address+length). */
    public static void set(MemorySegment iovecs, int index, long address, long length) {
        // unaligned layout: no alignment test per access (iovec arrays are 8-byte aligned anyway)
        iovecs.set(JAVA_LONG_UNALIGNED, (long) IOVEC_SIZE * index, address);
        iovecs.set(JAVA_LONG_UNALIGNED, (long) IOVEC_SIZE * index + 8, length);
    }

    /** preadv: fills the {@code count} buffers of {@code iovecs} from {@code offset}; retries EINTR. */
    public static long preadv(Fd fd, MemorySegment iovecs, int count, long offset) {
        return call(PREADV, "preadv", fd, iovecs, count, offset);
    }

    /** pwritev: writes the {@code count} buffers of {@code iovecs} at {@code offset}; retries EINTR. */
    public static long pwritev(Fd fd, MemorySegment iovecs, int count, long offset) {
        return call(PWRITEV, "pwritev", fd, iovecs, count, offset);
    }

    private static long call(SystemCall function, String name, Fd fd, MemorySegment iovecs, int count, long offset) {
        if (count < 0 || count > MAX_IOVECS || (long) count * IOVEC_SIZE > iovecs.byteSize()) {
            throw new IllegalArgumentException(name + ": " + count + " iovecs");
        }
        while (true) {
            // the kernel's preadv/pwritev take the offset as two halves; on x86-64 the low
            // "half" is the whole offset and the high one (left 0) is ignored
            long n = function.call(fd.number(), LibC.address(iovecs), count, offset);
            if (n >= 0 || LibC.lastErrno() != Errno.EINTR) {
                return LibC.check(n, name);
            }
        }
    }
}
