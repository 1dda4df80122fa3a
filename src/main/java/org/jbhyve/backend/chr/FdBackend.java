package org.jbhyve.backend.chr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Poll;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/**
 * A backend over host file descriptors (a terminal, a pty master, stdin/stdout).
 *
 * <p>Two pump threads: the reader polls the input descriptor together with a wake-up eventfd,
 * reads what is there and {@link #deliver}s it (blocking while the device's side is full); the
 * writer takes queued guest output and writes it, polling for POLLOUT on non-blocking
 * descriptors. {@link #close()} lets the writer drain for a moment, then writes the eventfd so
 * both threads leave their poll, and closes the descriptors this backend owns.
 */
class FdBackend extends BufferedCharBackend {
    private static final int CHUNK = 1024;
    private static final long FLUSH_ON_CLOSE_MILLIS = 200;

    private final Fd in;
    private final Fd out;
    private final boolean ownsFds;
    private final Fd wake = Posix.eventfd(0, Posix.EFD_CLOEXEC);
    private Thread reader;
    private Thread writer;

    /**
     * @param in      read for host input, or null for none
     * @param out     written with guest output
     * @param ownsFds whether {@link #close()} closes {@code in} and {@code out}
     */
    FdBackend(String device, Fd in, Fd out, boolean ownsFds) {
        super(device);
        this.in = in;
        this.out = out;
        this.ownsFds = ownsFds;
    }

    /** Starts the pump threads; call once the subclass is fully set up. */
    final void start() {
        if (in != null) {
            reader = startThread("input", this::readLoop);
        }
        writer = startThread("output", this::writeLoop);
    }

    private void readLoop() {
        Fd[] fds = {in, wake};
        short[] events = {Poll.POLLIN, Poll.POLLIN};
        short[] revents = new short[2];
        byte[] chunk = new byte[CHUNK];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(CHUNK);
            while (!isClosed()) {
                if (Poll.poll(fds, events, revents, -1) == 0) {
                    continue;
                }
                if (revents[1] != 0 || (revents[0] & Poll.POLLNVAL) != 0) {
                    return;
                }
                long n;
                try {
                    n = Posix.read(in, seg, CHUNK);
                } catch (SysException e) {
                    if (e.errno() == Errno.EAGAIN) {
                        continue;
                    }
                    throw e;
                }
                if (n == 0) {
                    return; // end of file: no more input, output keeps working
                }
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, chunk, 0, (int) n);
                if (!deliver(chunk, (int) n)) {
                    return;
                }
            }
        }
    }

    private void writeLoop() {
        Fd[] fds = {out, wake};
        short[] events = {Poll.POLLOUT, Poll.POLLIN};
        short[] revents = new short[2];
        byte[] chunk = new byte[CHUNK];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(CHUNK);
            while (true) {
                int n = awaitOutput(chunk, 1000);
                if (n < 0) {
                    return;
                }
                MemorySegment.copy(chunk, 0, seg, ValueLayout.JAVA_BYTE, 0, n);
                long done = 0;
                while (done < n) {
                    Poll.poll(fds, events, revents, -1);
                    if (revents[1] != 0) {
                        return;
                    }
                    if ((revents[0] & (Poll.POLLERR | Poll.POLLNVAL)) != 0) {
                        countDropped(n - done);
                        break;
                    }
                    if ((revents[0] & Poll.POLLOUT) == 0) {
                        continue;
                    }
                    try {
                        done += Posix.write(out, seg.asSlice(done), n - done);
                    } catch (SysException e) {
                        if (e.errno() != Errno.EAGAIN) {
                            countDropped(n - done); // e.g. EIO: the terminal went away
                            break;
                        }
                    }
                }
            }
        }
    }

    @Override
    protected void closeHost() {
        joinBriefly(writer); // the output ring is closed: the writer drains what is left, then ends
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 1L);
            Posix.write(wake, one, 8);
        }
        releaseHost();
        if (ownsFds) {
            // The pump threads may still be inside poll; they leave on the eventfd before
            // touching the descriptors again, and a closed Fd fails fast instead of reusing
            // a recycled number.
            if (in != null) {
                in.close();
            }
            out.close();
        }
        joinBriefly(reader);
        joinBriefly(writer);
        if (!alive(reader) && !alive(writer)) {
            wake.close();
        }
    }

    private static boolean alive(Thread t) {
        return t != null && t.isAlive();
    }

    private static void joinBriefly(Thread t) {
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(FLUSH_ON_CLOSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Subclass hook run at close before the descriptors are released (restore modes, etc.). */
    protected void releaseHost() {}
}
