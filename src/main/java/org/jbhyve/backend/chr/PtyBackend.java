package org.jbhyve.backend.chr;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.EventFd;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Inotify;
import org.jbhyve.sys.Poll;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.PseudoTerminal;
import org.jbhyve.sys.SysException;

/**
 * A null-modem console: FreeBSD's {@code /dev/nmdm0A}-style values (and the literal {@code pty})
 * become a Linux pseudo-terminal pair. The VMM keeps the master; users attach to the peer
 * ({@code /dev/pts/N}, or {@code /dev/nmdm0B} linked to it: {@link NmdmLink}) with {@code cu} or
 * {@code screen}, detach ({@code ~.}) and come back while the guest runs on. The peer path is
 * printed once on standard error: {@code com1: /dev/nmdm0B -> /dev/pts/5}, or {@code com1:
 * /dev/pts/5} when there is no link.
 *
 * <p><b>No output is lost across detach and re-attach.</b> {@link PseudoTerminal} holds the peer
 * open itself (otherwise the master reads EIO and polls POLLHUP once nobody has it open), so the
 * master never tells whether a user is there. Bytes written while nobody is would wait in the
 * kernel's tty queue, and {@code cu} and {@code screen} both flush that queue
 * ({@code tcflush}) right after they open the line. So guest output goes to the master only while
 * a user is attached; otherwise it waits in a {@link ConsoleBacklog} (64 KiB, the oldest bytes
 * give way and are counted as dropped). Whether a user is attached comes from inotify's open and
 * close events on the peer node (other processes' opens: this backend's own descriptors were
 * opened before the watch). Output starts {@value #SETTLE_MILLIS} ms after the last open, once
 * the client has flushed and set its modes. When the last user closes, whatever the kernel still
 * queues unread is read back through a descriptor of our own on the peer and put back in front
 * of the backlog.
 *
 * <p>Three platform daemon threads: the reader (master to device), the writer (device to backlog
 * to master) and the watcher (inotify events). Host input needs no such care: the master reads
 * only what users type.
 */
public final class PtyBackend extends BufferedCharBackend {
    static final long SETTLE_MILLIS = 200;
    private static final int CHUNK = 1024;
    private static final int POLL_MILLIS = 100;
    private static final long FLUSH_ON_CLOSE_MILLIS = 200;

    private final PseudoTerminal pty;
    private final Fd master;
    private final Fd peer;
    private final Inotify opens;
    private final EventFd wake = new EventFd();
    private final NmdmLink link;
    private final ConsoleBacklog backlog = new ConsoleBacklog(OUTPUT_CAPACITY);
    private final byte[] chunk = new byte[CHUNK];
    private volatile int users;
    private volatile long lastOpenNanos;
    private volatile boolean takeBack;
    private Thread reader;
    private Thread writer;
    private Thread watcher;

    private PtyBackend(String device, PseudoTerminal pty, Fd peer, Inotify opens, NmdmLink link) {
        super(device);
        this.pty = pty;
        this.master = pty.master();
        this.peer = peer;
        this.opens = opens;
        this.link = link;
    }

    /** A pair without nmdm link, announced on {@code announce} (null: stay quiet). */
    public static PtyBackend open(String device, PrintStream announce) {
        return open(device, null, announce);
    }

    /**
     * A pair whose peer is also reachable at {@code nmdmLink} when that link can be made (null:
     * no link). The peer path, and the link or why there is none, are announced on
     * {@code announce} (null: stay quiet).
     */
    public static PtyBackend open(String device, Path nmdmLink, PrintStream announce) {
        PseudoTerminal pty = PseudoTerminal.open();
        Fd peer = null;
        Inotify opens = null;
        try {
            peer = Posix.open(pty.peerPath(), Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_NONBLOCK | Posix.O_CLOEXEC, 0);
            opens = Inotify.open();
            opens.watch(pty.peerPath(), Inotify.IN_OPEN | Inotify.IN_CLOSE);
        } catch (RuntimeException e) {
            if (opens != null) {
                opens.close();
            }
            if (peer != null) {
                peer.close();
            }
            pty.close();
            throw e;
        }
        NmdmLink.Outcome linked = nmdmLink == null ? new NmdmLink.Outcome(null, pty.peerPath())
                : NmdmLink.create(nmdmLink, pty.peerPath());
        PtyBackend b = new PtyBackend(device, pty, peer, opens, linked.link());
        b.reader = b.startThread("input", b::readLoop);
        b.writer = b.startThread("output", b::writeLoop);
        b.watcher = b.startThread("attach", b::watchLoop);
        if (announce != null) {
            announce.println(device + ": " + linked.note());
            announce.flush();
        }
        return b;
    }

    /** Where a user attaches, e.g. {@code /dev/pts/5}. */
    public String peerPath() {
        return pty.peerPath();
    }

    /** The nmdm link to the peer, or null when there is none. */
    public Path linkPath() {
        return link == null ? null : link.path();
    }

    /** Whether some other process has the peer open (a user is attached). */
    public boolean attached() {
        return users > 0;
    }

    private boolean ready() {
        return users > 0 && System.nanoTime() - lastOpenNanos >= SETTLE_MILLIS * 1_000_000;
    }

    private void watchLoop() {
        Fd[] fds = {opens.fd(), wake.fd()};
        short[] events = {Poll.POLLIN, Poll.POLLIN};
        short[] revents = new short[2];
        boolean[] gone = {false};
        while (!isClosed() && !gone[0]) {
            Poll.poll(fds, events, revents, -1);
            if (revents[1] != 0) {
                return;
            }
            opens.drain(mask -> {
                if ((mask & Inotify.IN_OPEN) != 0) {
                    lastOpenNanos = System.nanoTime();
                    users++;
                } else if ((mask & Inotify.IN_CLOSE) != 0 && users > 0) {
                    if (--users == 0) {
                        takeBack = true;
                    }
                } else if ((mask & Inotify.IN_Q_OVERFLOW) != 0) {
                    users = Math.max(users, 1); // events lost: deliver rather than hold back
                } else if ((mask & Inotify.IN_IGNORED) != 0) {
                    gone[0] = true; // the node went away
                }
            });
        }
    }

    private void writeLoop() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(CHUNK);
            while (true) {
                int n = awaitOutput(chunk, POLL_MILLIS);
                if (n > 0) {
                    countDropped(backlog.append(chunk, 0, n));
                }
                if (takeBack && users == 0) {
                    takeBack = false;
                    takeBackUnread(seg);
                }
                if (n < 0) {
                    flushBacklog(seg, System.nanoTime() + FLUSH_ON_CLOSE_MILLIS * 1_000_000);
                    return;
                }
                if (ready()) {
                    flushBacklog(seg, Long.MAX_VALUE);
                }
            }
        }
    }

    /** Writes the backlog to the master while a user stays attached (or until {@code deadline}). */
    private void flushBacklog(MemorySegment seg, long deadline) {
        Fd[] fds = {master, wake.fd()};
        short[] events = {Poll.POLLOUT, Poll.POLLIN};
        short[] revents = new short[2];
        while (backlog.size() > 0 && ready() && System.nanoTime() < deadline) {
            int n = backlog.peek(chunk, 0, CHUNK);
            MemorySegment.copy(chunk, 0, seg, ValueLayout.JAVA_BYTE, 0, n);
            try {
                backlog.consume((int) Posix.write(master, seg, n));
                continue;
            } catch (SysException e) {
                if (e.errno() != Errno.EAGAIN) {
                    countDropped(backlog.size()); // the master itself failed: nothing can be delivered
                    backlog.consume(backlog.size());
                    return;
                }
            }
            // The user's side is full (a client that stopped reading): wait, but keep watching.
            Poll.poll(fds, events, revents, POLL_MILLIS);
            if (revents[1] != 0) {
                return;
            }
        }
    }

    /** Reads back what the last user left unread in the tty queue and puts it before the backlog. */
    private void takeBackUnread(MemorySegment seg) {
        java.io.ByteArrayOutputStream unread = new java.io.ByteArrayOutputStream();
        while (unread.size() < OUTPUT_CAPACITY) {
            long n;
            try {
                n = Posix.read(peer, seg, CHUNK);
            } catch (SysException e) {
                break; // EAGAIN: nothing (more) queued
            }
            if (n <= 0) {
                break;
            }
            unread.write(seg.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), 0, (int) n);
        }
        byte[] bytes = unread.toByteArray();
        countDropped(backlog.prepend(bytes, 0, bytes.length));
    }

    private void readLoop() {
        Fd[] fds = {master, wake.fd()};
        short[] events = {Poll.POLLIN, Poll.POLLIN};
        short[] revents = new short[2];
        byte[] buf = new byte[CHUNK];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(CHUNK);
            while (!isClosed()) {
                Poll.poll(fds, events, revents, -1);
                if (revents[1] != 0 || (revents[0] & Poll.POLLNVAL) != 0) {
                    return;
                }
                if ((revents[0] & Poll.POLLIN) == 0) {
                    // POLLHUP/POLLERR without data (not expected while the peer is held): do not spin.
                    Poll.poll(new Fd[] {wake.fd()}, new short[] {Poll.POLLIN}, new short[1], POLL_MILLIS);
                    continue;
                }
                long n;
                try {
                    n = Posix.read(master, seg, CHUNK);
                } catch (SysException e) {
                    if (e.errno() == Errno.EAGAIN || e.errno() == Errno.EIO) {
                        continue;
                    }
                    throw e;
                }
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, 0, buf, 0, (int) n);
                if (n > 0 && !deliver(buf, (int) n)) {
                    return;
                }
            }
        }
    }

    @Override
    protected void closeHost() {
        join(writer, FLUSH_ON_CLOSE_MILLIS * 2); // the ring is closed: the writer delivers what it can, then ends
        wake.signal();
        join(reader, FLUSH_ON_CLOSE_MILLIS);
        join(watcher, FLUSH_ON_CLOSE_MILLIS);
        join(writer, FLUSH_ON_CLOSE_MILLIS);
        if (link != null) {
            link.close();
        }
        // Threads still alive (stuck in a poll) leave on the eventfd before touching a descriptor
        // again, and a closed Fd fails fast instead of reusing a recycled number.
        opens.close();
        peer.close();
        pty.close();
        if (!alive(reader) && !alive(writer) && !alive(watcher)) {
            wake.close();
        }
    }

    private static boolean alive(Thread t) {
        return t != null && t.isAlive();
    }

    private static void join(Thread t, long millis) {
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
