package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * What the Unix-domain socket classes share (unix(7)): making a socket, naming a path in a
 * {@code struct sockaddr_un} (a 16-bit family and 108 path bytes, NUL-terminated), binding and
 * listening, connecting, accepting. Every socket made here is close-on-exec.
 */
final class UnixSockets {
    static final int AF_UNIX = 1;
    static final int SOCK_STREAM = 1;
    static final int SOCK_SEQPACKET = 5;
    private static final int SOCK_CLOEXEC = Posix.O_CLOEXEC;
    private static final int SUN_PATH = 108;

    private static final SystemCall BIND = new SystemCall(49); // bind(2)
    private static final SystemCall LISTEN = new SystemCall(50); // listen(2)
    private static final SystemCall ACCEPT4 = new SystemCall(288); // accept4(2)
    private static final SystemCall CONNECT = new SystemCall(42); // connect(2)

    private UnixSockets() {}

    /** A new socket of {@code type} bound to {@code path} (which must not exist) and listening. */
    static Fd listen(int type, String path, int backlog) {
        Fd fd = create(type, path);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment address = address(arena, path);
            LibC.check((int) BIND.call(fd.number(), LibC.address(address), address.byteSize()), "bind " + path);
            LibC.check((int) LISTEN.call(fd.number(), backlog), "listen " + path);
            return fd;
        } catch (Throwable t) {
            fd.close();
            throw LibC.rethrow(t);
        }
    }

    /** A new socket of {@code type} connected to the listening socket at {@code path}. */
    static Fd connect(int type, String path) {
        Fd fd = create(type, path);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment address = address(arena, path);
            LibC.check((int) CONNECT.call(fd.number(), LibC.address(address), address.byteSize()),
                    "connect " + path);
            return fd;
        } catch (Throwable t) {
            fd.close();
            throw LibC.rethrow(t);
        }
    }

    /** The next connection on the listening socket {@code listener} (EINTR retried). */
    static Fd accept(Fd listener) {
        long n = Posix.restartable("accept", () -> (int) ACCEPT4.call(listener.number(), 0, 0, SOCK_CLOEXEC));
        return new Fd((int) n, "unix connection");
    }

    private static Fd create(int type, String path) {
        if (path.getBytes(StandardCharsets.UTF_8).length >= SUN_PATH) {
            throw new SysException("socket path longer than " + (SUN_PATH - 1) + " bytes: " + path, Errno.ENAMETOOLONG);
        }
        int n = (int) Posix.SOCKET.call(AF_UNIX, type | SOCK_CLOEXEC, 0);
        return new Fd((int) LibC.check(n, "socket"), "unix socket " + path);
    }

    private static MemorySegment address(Arena arena, String path) {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        MemorySegment address = arena.allocate(2 + SUN_PATH, 2);
        address.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(bytes, 0, address, JAVA_BYTE, 2, bytes.length); // the rest is zero
        return address;
    }
}
