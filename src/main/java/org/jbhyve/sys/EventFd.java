package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An eventfd(2) counter used as a doorbell: {@link #signal} adds one (waking a reader, or KVM
 * for an irqfd), {@link #drain} reads and resets the count. Non-blocking, close-on-exec. The
 * 8-byte transfer buffer is per thread, so signalling allocates nothing.
 */
public final class EventFd implements AutoCloseable {
    private static final ThreadLocal<MemorySegment> BUFFER =
            ThreadLocal.withInitial(() -> Arena.global().allocate(JAVA_LONG));

    private final Fd fd;

    public EventFd() {
        this.fd = Posix.eventfd(0, Posix.EFD_CLOEXEC | Posix.EFD_NONBLOCK);
    }

    public Fd fd() {
        return fd;
    }

    /** Adds one to the counter. A full counter (EAGAIN) already means "signalled". */
    public void signal() {
        MemorySegment b = BUFFER.get();
        b.set(JAVA_LONG, 0, 1L);
        try {
            Posix.write(fd, b, 8);
        } catch (SysException e) {
            if (e.errno() != Errno.EAGAIN) {
                throw e;
            }
        }
    }

    /** Reads and clears the counter; returns 0 if it was not signalled. */
    public long drain() {
        MemorySegment b = BUFFER.get();
        try {
            return Posix.read(fd, b, 8) == 8 ? b.get(JAVA_LONG, 0) : 0;
        } catch (SysException e) {
            if (e.errno() == Errno.EAGAIN) {
                return 0;
            }
            throw e;
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
