package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Unix-domain sequenced-packet sockets (unix(7), {@code SOCK_SEQPACKET}) that carry descriptors:
 * what the JDK's own channels cannot do (no {@code SCM_RIGHTS}, no {@code SO_PEERCRED}).
 *
 * <p>A sequenced-packet socket keeps message boundaries: one {@code sendmsg} arrives as one
 * {@code recvmsg}, and descriptors passed as {@code SCM_RIGHTS} ancillary data arrive with the
 * message they were sent with. Received descriptors are close-on-exec ({@code
 * MSG_CMSG_CLOEXEC}), as are the sockets made here.
 *
 * <p>Layouts (x86-64): {@code struct sockaddr_un} is a 16-bit family and 108 path bytes; {@code
 * struct msghdr} is name pointer, name length, iovec pointer, iovec count, control pointer,
 * control length, flags (56 bytes); {@code struct cmsghdr} is a 64-bit length, level and type
 * (16 bytes) followed by the data; {@code struct ucred} is pid, uid, gid.
 */
public final class UnixSeqpacket implements AutoCloseable {
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int SO_PEERCRED = 17;
    private static final int SO_RCVTIMEO = 20;
    private static final int MSG_TRUNC = 0x20;
    private static final int MSG_CTRUNC = 0x08;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int CMSG_HEADER = 16;
    /** Room for this many descriptors in one message; more truncates the message (refused). */
    public static final int MAX_FDS = 8;

    private static final SystemCall SENDMSG = new SystemCall(46); // sendmsg(2)
    private static final SystemCall RECVMSG = new SystemCall(47); // recvmsg(2)
    private static final SystemCall GETSOCKOPT = new SystemCall(55); // getsockopt(2)
    private static final SystemCall SETSOCKOPT = new SystemCall(54); // setsockopt(2)

    private final Fd fd;

    private UnixSeqpacket(Fd fd) {
        this.fd = fd;
    }

    /** A socket bound to {@code path} (which must not exist) and listening. */
    public static UnixSeqpacket listen(String path, int backlog) {
        return new UnixSeqpacket(UnixSockets.listen(UnixSockets.SOCK_SEQPACKET, path, backlog));
    }

    /** A socket connected to the listening socket at {@code path}. */
    public static UnixSeqpacket connect(String path) {
        return new UnixSeqpacket(UnixSockets.connect(UnixSockets.SOCK_SEQPACKET, path));
    }

    /** Waits for the next connection (EINTR retried). */
    public UnixSeqpacket accept() {
        return new UnixSeqpacket(UnixSockets.accept(fd));
    }

    /** Makes {@link #receive} fail with EAGAIN when nothing arrives within {@code millis}. */
    public void receiveTimeout(long millis) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment timeval = arena.allocate(16, 8);
            timeval.set(JAVA_LONG, 0, millis / 1000);
            timeval.set(JAVA_LONG, 8, millis % 1000 * 1000);
            LibC.check((int) SETSOCKOPT.call(fd.number(), SOL_SOCKET, SO_RCVTIMEO, LibC.address(timeval), 16),
                    "setsockopt SO_RCVTIMEO");
        }
    }

    /** The user id of the process at the other end, as the kernel recorded it at connect. */
    public int peerUid() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment credentials = arena.allocate(12, 4);
            MemorySegment length = arena.allocate(JAVA_INT);
            length.set(JAVA_INT, 0, 12);
            LibC.check((int) GETSOCKOPT.call(fd.number(), SOL_SOCKET, SO_PEERCRED,
                    LibC.address(credentials), LibC.address(length)), "getsockopt SO_PEERCRED");
            return credentials.get(JAVA_INT, 4);
        }
    }

    /** One message and the descriptors that came with it. */
    public record Message(byte[] data, Fd[] fds) {}

    /**
     * Receives one message of at most {@code limit} bytes. A message that was longer, or that
     * carried more than {@link #MAX_FDS} descriptors, fails (its descriptors closed). An empty
     * message with no descriptors means the other end closed.
     */
    public Message receive(int limit) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(limit);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, limit);
            long controlLength = CMSG_HEADER + 4L * MAX_FDS;
            MemorySegment control = arena.allocate(controlLength, 8);
            MemorySegment header = messageHeader(arena, iov, control, controlLength);
            long n = Posix.restartable("recvmsg",
                    () -> RECVMSG.call(fd.number(), LibC.address(header), MSG_CMSG_CLOEXEC));
            Fd[] fds = receivedFds(header, control);
            int flags = header.get(JAVA_INT, 48);
            if ((flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
                Arrays.stream(fds).forEach(Fd::close);
                throw new SysException("recvmsg: message too long", Errno.EMSGSIZE);
            }
            return new Message(data.asSlice(0, n).toArray(JAVA_BYTE), fds);
        }
    }

    private static Fd[] receivedFds(MemorySegment header, MemorySegment control) {
        long used = header.get(JAVA_LONG, 40);
        if (used < CMSG_HEADER || control.get(JAVA_INT, 8) != SOL_SOCKET || control.get(JAVA_INT, 12) != SCM_RIGHTS) {
            return new Fd[0];
        }
        int count = (int) ((control.get(JAVA_LONG, 0) - CMSG_HEADER) / 4);
        Fd[] fds = new Fd[count];
        for (int i = 0; i < count; i++) {
            fds[i] = new Fd(control.get(JAVA_INT, CMSG_HEADER + 4L * i), "received descriptor");
        }
        return fds;
    }

    /** Sends {@code data} as one message with {@code fds} (descriptor numbers) attached. */
    public void send(byte[] data, int... fds) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocateFrom(JAVA_BYTE, data);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ADDRESS, 0, buffer);
            iov.set(JAVA_LONG, 8, data.length);
            MemorySegment control = MemorySegment.NULL;
            long controlLength = 0;
            if (fds.length > 0) {
                controlLength = CMSG_HEADER + 4L * fds.length;
                control = arena.allocate((controlLength + 7) & ~7L, 8);
                control.set(JAVA_LONG, 0, controlLength);
                control.set(JAVA_INT, 8, SOL_SOCKET);
                control.set(JAVA_INT, 12, SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    control.set(JAVA_INT, CMSG_HEADER + 4L * i, fds[i]);
                }
                controlLength = control.byteSize();
            }
            MemorySegment header = messageHeader(arena, iov, control, controlLength);
            Posix.restartable("sendmsg",
                    () -> SENDMSG.call(fd.number(), LibC.address(header), MSG_NOSIGNAL));
        }
    }

    private static MemorySegment messageHeader(Arena arena, MemorySegment iov, MemorySegment control, long controlLength) {
        MemorySegment header = arena.allocate(56, 8);
        header.set(ADDRESS, 16, iov);
        header.set(JAVA_LONG, 24, 1);
        header.set(ADDRESS, 32, control);
        header.set(JAVA_LONG, 40, controlLength);
        return header;
    }

    @Override
    public void close() {
        fd.close();
    }
}
