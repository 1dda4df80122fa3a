package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Readiness-based I/O: {@code poll(2)} and the {@code O_NONBLOCK} file status flag.
 *
 * <pre>
 * struct pollfd {        // 8 bytes
 *     int   fd;          // offset 0
 *     short events;      // offset 4: what the caller waits for
 *     short revents;     // offset 6: what happened (POLLERR/POLLHUP/POLLNVAL always reported)
 * };
 * </pre>
 *
 * A thread that must be stoppable while it waits for a descriptor polls it together with an
 * eventfd; writing to the eventfd wakes it (closing a descriptor does not wake a thread blocked
 * on it in Linux).
 */
public final class Poll {
    public static final short POLLIN = 0x001;
    public static final short POLLPRI = 0x002;
    public static final short POLLOUT = 0x004;
    public static final short POLLERR = 0x008;
    public static final short POLLHUP = 0x010;
    public static final short POLLNVAL = 0x020;

    private static final long POLLFD_SIZE = 8;
    private static final int F_GETFL = 3;
    private static final int F_SETFL = 4;

    private static final SystemCall POLL = new SystemCall(7); // poll(2)

    private Poll() {}

    /**
     * Waits until one of {@code fds[i]} reports one of {@code events[i]} (or an error/hang-up),
     * or {@code timeoutMillis} passes (-1: no limit). Fills {@code revents}; returns how many
     * descriptors are ready, 0 on timeout or when a signal interrupted the wait (callers loop).
     */
    public static int poll(Fd[] fds, short[] events, short[] revents, int timeoutMillis) {
        if (fds.length != events.length || fds.length != revents.length) {
            throw new IllegalArgumentException("poll: array lengths differ");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(POLLFD_SIZE * fds.length, 4);
            for (int i = 0; i < fds.length; i++) {
                set.set(JAVA_INT, i * POLLFD_SIZE, fds[i].number());
                set.set(JAVA_SHORT, i * POLLFD_SIZE + 4, events[i]);
            }
            int n = (int) POLL.call(LibC.address(set), fds.length, timeoutMillis);
            if (n == -1 && LibC.lastErrno() == Errno.EINTR) {
                n = 0;
            }
            LibC.check(n, "poll");
            for (int i = 0; i < fds.length; i++) {
                revents[i] = n == 0 ? 0 : set.get(JAVA_SHORT, i * POLLFD_SIZE + 6);
            }
            return n;
        }
    }

    /** Sets or clears {@code O_NONBLOCK} on {@code fd} (shared by every duplicate of it). */
    public static void setNonBlocking(Fd fd, boolean nonBlocking) {
        int flags = (int) Posix.FCNTL.call(fd.number(), F_GETFL, 0);
        LibC.check(flags, "fcntl F_GETFL");
        int wanted = nonBlocking ? flags | Posix.O_NONBLOCK : flags & ~Posix.O_NONBLOCK;
        if (wanted != flags) {
            LibC.check((int) Posix.FCNTL.call(fd.number(), F_SETFL, wanted),
                    "fcntl F_SETFL");
        }
    }
}
