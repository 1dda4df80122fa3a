package org.jbhyve.sys;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;

/**
 * A Unix-domain stream socket (unix(7), {@code SOCK_STREAM}) made with plain system calls, as a
 * blocking {@link ByteChannel}: what a VM's control socket needs, without the JDK's socket
 * channels. Those cost a VMM's start about 40 ms of CPU for one listening socket (their first
 * use initialises a SecureRandom for temporary socket names and looks up the selector provider
 * through the service loader, which opens and indexes the application's jar) and keep their
 * classes resident.
 *
 * <p>Threads: one thread reads or accepts at a time; any thread may call {@link #shutdown()},
 * which wakes a thread blocked in {@link #accept()} or {@link #read} (Linux: accept then fails
 * with EINVAL, read returns end of stream). {@link #close()} releases the descriptor; call it
 * once no thread uses the socket any more (closing alone does not wake a blocked call).
 */
public final class UnixStreamSocket implements ByteChannel {
    private static final int SHUT_RDWR = 2;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final SystemCall SHUTDOWN = new SystemCall(48); // shutdown(2)
    private static final SystemCall SEND = new SystemCall(44); // sendto(2)

    private final Fd fd;

    private UnixStreamSocket(Fd fd) {
        this.fd = fd;
    }

    /** A socket bound to {@code path} (which must not exist) and listening. */
    public static UnixStreamSocket listen(String path, int backlog) {
        return new UnixStreamSocket(UnixSockets.listen(UnixSockets.SOCK_STREAM, path, backlog));
    }

    /**
     * A socket connected to the listening socket at {@code path}.
     *
     * @throws SysException ECONNREFUSED when nothing listens there, ENOENT when it does not exist
     */
    public static UnixStreamSocket connect(String path) {
        return new UnixStreamSocket(UnixSockets.connect(UnixSockets.SOCK_STREAM, path));
    }

    /**
     * Waits for the next connection.
     *
     * @throws SysException EINVAL once the socket has been shut down
     */
    public UnixStreamSocket accept() {
        return new UnixStreamSocket(UnixSockets.accept(fd));
    }

    /** Reads what has arrived (waiting for at least one byte); -1 at end of stream. */
    @Override
    public int read(ByteBuffer destination) throws IOException {
        int wanted = destination.remaining();
        if (wanted == 0) {
            return 0;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(wanted);
            long n = Posix.read(openFd(), buffer, wanted);
            if (n == 0) {
                return -1;
            }
            destination.put(buffer.asSlice(0, n).asByteBuffer());
            return (int) n;
        } catch (SysException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /**
     * Writes all of {@code source} (a peer that has gone fails with EPIPE as an IOException;
     * no SIGPIPE).
     */
    @Override
    public int write(ByteBuffer source) throws IOException {
        int length = source.remaining();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(Math.max(1, length));
            buffer.asByteBuffer().put(source);
            int socket = openFd().number();
            long done = 0;
            while (done < length) {
                long offset = done;
                done += Posix.restartable("send",
                        () -> SEND.call(socket, LibC.address(buffer) + offset, length - offset, MSG_NOSIGNAL));
            }
            return length;
        } catch (SysException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private Fd openFd() throws ClosedChannelException {
        if (!fd.isOpen()) {
            throw new ClosedChannelException();
        }
        return fd;
    }

    /** Ends both directions: wakes a blocked accept or read (see the class comment). */
    public void shutdown() {
        try {
            SHUTDOWN.call(fd.number(), SHUT_RDWR); // ENOTCONN for an unconnected socket: nothing to end
        } catch (IllegalStateException closed) {
            // already closed: nothing left to wake
        }
    }

    @Override
    public boolean isOpen() {
        return fd.isOpen();
    }

    @Override
    public void close() {
        fd.close();
    }
}
