package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * epoll(7): one instance watching many descriptors, each tagged with a 64-bit cookie.
 *
 * <pre>
 * struct epoll_event {   // 12 bytes on x86-64 (packed)
 *     uint32_t events;   // offset 0: EPOLLIN...
 *     uint64_t data;     // offset 4: the cookie given at EPOLL_CTL_ADD
 * };
 * </pre>
 * {@link #wait} fills a caller-owned buffer so the loop allocates nothing per wake-up.
 */
public final class Epoll implements AutoCloseable {
    public static final int EPOLLIN = 0x001;
    public static final int EPOLLERR = 0x008;
    public static final int EPOLLHUP = 0x010;
    public static final long EVENT_SIZE = 12;

    private static final int EPOLL_CLOEXEC = Posix.O_CLOEXEC;
    private static final int CTL_ADD = 1;
    private static final int CTL_DEL = 2;

    private static final SystemCall CREATE = new SystemCall(291); // epoll_create1(2)
    private static final SystemCall CTL = new SystemCall(233); // epoll_ctl(2)
    private static final SystemCall WAIT = new SystemCall(232); // epoll_wait(2)

    private final Fd fd;

    public Epoll() {
        int n = (int) CREATE.call(EPOLL_CLOEXEC);
        this.fd = new Fd((int) LibC.check(n, "epoll_create1"), "epoll");
    }

    /** Watches {@code target} for {@code events}; {@code cookie} comes back from {@link #wait}. */
    public void add(Fd target, int events, long cookie) {
        ctl(CTL_ADD, target, events, cookie);
    }

    public void remove(Fd target) {
        ctl(CTL_DEL, target, 0, 0);
    }

    private void ctl(int op, Fd target, int events, long cookie) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ev = arena.allocate(EVENT_SIZE, 8);
            ev.set(JAVA_INT_UNALIGNED, 0, events);
            ev.set(JAVA_LONG_UNALIGNED, 4, cookie);
            int r = (int) CTL.call(fd.number(), op, target.number(), LibC.address(ev));
            LibC.check(r, "epoll_ctl");
        }
    }

    /** A buffer for {@code max} events, to pass to {@link #wait}. */
    public static MemorySegment eventBuffer(Arena arena, int max) {
        return arena.allocate(EVENT_SIZE * max, 8);
    }

    /** Waits up to {@code timeoutMillis} (-1: forever); returns the number of events, 0 on EINTR. */
    public int wait(MemorySegment events, int timeoutMillis) {
        int n = (int) WAIT.call(fd.number(), LibC.address(events),
                (int) (events.byteSize() / EVENT_SIZE), timeoutMillis);
        if (n == -1 && LibC.lastErrno() == Errno.EINTR) {
            return 0;
        }
        return (int) LibC.check(n, "epoll_wait");
    }

    public static int eventFlags(MemorySegment events, int i) {
        return events.get(JAVA_INT_UNALIGNED, i * EVENT_SIZE);
    }

    public static long eventCookie(MemorySegment events, int i) {
        return events.get(JAVA_LONG_UNALIGNED, i * EVENT_SIZE + 4);
    }

    @Override
    public void close() {
        fd.close();
    }
}
