package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.IntConsumer;

/**
 * inotify(7): the kernel reports what happens to watched files as events read from a descriptor.
 *
 * <p>Each event is a {@code struct inotify_event}: {@code int wd} (the watch), {@code uint32_t
 * mask} (what happened), {@code uint32_t cookie} (pairs renames), {@code uint32_t len} and then
 * {@code len} bytes of NUL-padded name (only for watched directories). One read returns whole
 * events only. Opens and closes are reported for any file, device nodes included: the
 * pseudo-terminal backend watches its {@code /dev/pts/N} to learn when a user attaches.
 *
 * <p>The descriptor is non-blocking and close-on-exec; wait for it with {@link Poll}.
 */
public final class Inotify implements AutoCloseable {
    public static final int IN_CLOSE_WRITE = 0x0008;
    public static final int IN_CLOSE_NOWRITE = 0x0010;
    public static final int IN_OPEN = 0x0020;
    public static final int IN_Q_OVERFLOW = 0x4000;
    public static final int IN_IGNORED = 0x8000;
    public static final int IN_CLOSE = IN_CLOSE_WRITE | IN_CLOSE_NOWRITE;

    private static final int IN_NONBLOCK = Posix.O_NONBLOCK;
    private static final int IN_CLOEXEC = Posix.O_CLOEXEC;
    private static final int HEADER = 16;
    private static final int BUFFER = 4096;

    private static final SystemCall INIT1 = new SystemCall(294); // inotify_init1(2)
    private static final SystemCall ADD_WATCH = new SystemCall(254); // inotify_add_watch(2)

    private final Fd fd;
    private final MemorySegment buffer = Arena.ofAuto().allocate(BUFFER, 8);

    private Inotify(Fd fd) {
        this.fd = fd;
    }

    /** A new inotify instance with no watches. */
    public static Inotify open() {
        int n = (int) INIT1.call(IN_NONBLOCK | IN_CLOEXEC);
        return new Inotify(new Fd((int) LibC.check(n, "inotify_init1"), "inotify"));
    }

    /** Watches {@code path} for the events in {@code mask}; returns the watch descriptor. */
    public int watch(String path, int mask) {
        try (Arena arena = Arena.ofConfined()) {
            int wd = (int) ADD_WATCH.call(fd.number(), LibC.address(arena.allocateFrom(path)), mask);
            return (int) LibC.check(wd, "inotify_add_watch " + path);
        }
    }

    /** For {@link Poll}. */
    public Fd fd() {
        return fd;
    }

    /**
     * Reads the events waiting now and hands each one's mask to {@code sink}, in order; returns
     * how many there were (0 when none was waiting). Only one thread may read.
     */
    public int drain(IntConsumer sink) {
        int events = 0;
        while (true) {
            long n;
            try {
                n = Posix.read(fd, buffer, BUFFER);
            } catch (SysException e) {
                if (e.errno() == Errno.EAGAIN) {
                    return events;
                }
                throw e;
            }
            for (long off = 0; off + HEADER <= n; events++) {
                sink.accept(buffer.get(ValueLayout.JAVA_INT, off + 4));
                off += HEADER + Integer.toUnsignedLong(buffer.get(ValueLayout.JAVA_INT, off + 12));
            }
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
