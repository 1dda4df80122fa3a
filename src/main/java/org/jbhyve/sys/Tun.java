package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Linux TUN/TAP ({@code /dev/net/tun}, include/uapi/linux/if_tun.h) and the interface ioctls a
 * network backend needs.
 *
 * <pre>
 * struct ifreq {                 // 40 bytes
 *     char ifr_name[IFNAMSIZ];   // offset 0, 16 bytes, NUL-terminated
 *     union {                    // offset 16
 *         short ifr_flags;       //   TUNSETIFF: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR ...
 *         int   ifr_mtu;         //   SIOCGIFMTU / SIOCSIFMTU
 *         ...                    //   (24 bytes in all)
 *     };
 * };
 * </pre>
 *
 * Opening a tap is {@code open("/dev/net/tun")} then {@code TUNSETIFF} with the interface name.
 * TUNSETIFF on a name that does not exist <em>creates</em> a transient interface; callers that
 * must attach to an existing one check {@link #interfaceIndex} first. With {@code IFF_VNET_HDR}
 * every frame read or written is preceded by a {@code struct virtio_net_hdr} of
 * {@link #setVnetHeaderSize} bytes (10 by default); {@link #setOffload} tells the kernel which
 * offloads (partial checksums, TSO, UFO) the reader can take.
 */
public final class Tun {
    public static final int IFNAMSIZ = 16;
    public static final short IFF_TUN = 0x0001;
    public static final short IFF_TAP = 0x0002;
    public static final short IFF_MULTI_QUEUE = 0x0100;
    public static final short IFF_NO_PI = 0x1000;
    public static final short IFF_VNET_HDR = 0x4000;

    public static final int TUN_F_CSUM = 0x01;
    public static final int TUN_F_TSO4 = 0x02;
    public static final int TUN_F_TSO6 = 0x04;
    public static final int TUN_F_TSO_ECN = 0x08;
    public static final int TUN_F_UFO = 0x10;

    private static final long IFREQ_SIZE = 40;
    private static final long TUNSETIFF = Ioctl.iow('T', 202, 4);
    private static final long TUNSETOFFLOAD = Ioctl.iow('T', 208, 4);
    private static final long TUNSETVNETHDRSZ = Ioctl.iow('T', 216, 4);
    private static final long SIOCGIFMTU = 0x8921;
    private static final long SIOCSIFMTU = 0x8922;
    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = Posix.O_CLOEXEC;
    private static final long IOVEC_SIZE = 16;

    private static final LibraryFunction IF_NAMETOINDEX = LibC.intFunction("if_nametoindex");
    private static final SystemCall WRITEV = new SystemCall(20); // writev(2)
    private static final SystemCall READV = new SystemCall(19); // readv(2)

    private Tun() {}

    /** Whether {@code name} fits in an ifreq and contains nothing the kernel refuses. */
    public static boolean isValidInterfaceName(String name) {
        if (name.isEmpty() || name.getBytes(StandardCharsets.UTF_8).length >= IFNAMSIZ
                || name.equals(".") || name.equals("..")) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c == '/' || c == ':' || c >= 0x7F) {
                return false;
            }
        }
        return true;
    }

    /** The interface's index, or 0 when no interface has that name (in this network namespace). */
    public static int interfaceIndex(String name) {
        try (Arena arena = Arena.ofConfined()) {
            return (int) IF_NAMETOINDEX.call(LibC.address(arena.allocateFrom(name)));
        }
    }

    /**
     * Opens {@code /dev/net/tun} and attaches it to interface {@code name} with {@code flags}
     * (e.g. IFF_TAP|IFF_NO_PI|IFF_VNET_HDR). The descriptor is close-on-exec and non-blocking.
     * Throws {@link SysException} with the call's errno (ENOENT: no tun driver; EBUSY: attached
     * elsewhere; EINVAL: the interface is not a tap of that kind; EPERM: not its owner).
     */
    public static Fd attach(String name, short flags) {
        Fd fd = Posix.open("/dev/net/tun", Posix.O_RDWR | Posix.O_NONBLOCK | Posix.O_CLOEXEC, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(arena, name);
            ifr.set(JAVA_SHORT, IFNAMSIZ, flags);
            Posix.ioctl(fd, TUNSETIFF, ifr);
            return fd;
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /** TUNSETVNETHDRSZ: the size of the virtio-net header before each frame (10 or 12). */
    public static void setVnetHeaderSize(Fd tap, int size) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, size);
            Posix.ioctl(tap, TUNSETVNETHDRSZ, v);
        }
    }

    /** TUNSETOFFLOAD with TUN_F_* bits (passed by value, as the kernel reads it). */
    public static void setOffload(Fd tap, int tunFlags) {
        Posix.ioctl(tap, TUNSETOFFLOAD, tunFlags);
    }

    /** The interface's MTU (SIOCGIFMTU on an AF_INET datagram socket). */
    public static int mtu(String name) {
        try (Fd sock = inetSocket(); Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(arena, name);
            Posix.ioctl(sock, SIOCGIFMTU, ifr);
            return ifr.get(JAVA_INT, IFNAMSIZ);
        }
    }

    /** Sets the interface's MTU (SIOCSIFMTU; needs CAP_NET_ADMIN). */
    public static void setMtu(String name, int mtu) {
        try (Fd sock = inetSocket(); Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = ifreq(arena, name);
            ifr.set(JAVA_INT, IFNAMSIZ, mtu);
            Posix.ioctl(sock, SIOCSIFMTU, ifr);
        }
    }

    /**
     * writev(2) of native segments as one frame, retrying EINTR; returns the bytes written.
     * {@code iov} is caller-provided scratch of at least {@code 16 * parts.length} bytes.
     */
    public static long writev(Fd fd, MemorySegment[] parts, int count, MemorySegment iov) {
        for (int i = 0; i < count; i++) {
            iov.set(ADDRESS, i * IOVEC_SIZE, parts[i]);
            iov.set(JAVA_LONG, i * IOVEC_SIZE + 8, parts[i].byteSize());
        }
        while (true) {
            long n = WRITEV.call(fd.number(), LibC.address(iov), count);
            if (n >= 0 || LibC.lastErrno() != Errno.EINTR) {
                return LibC.check(n, "writev");
            }
        }
    }

    /**
     * readv(2) of one frame into {@code first} then {@code second} (native segments), retrying
     * EINTR; returns the bytes read, or -1 when nothing is ready (EAGAIN) without throwing, as
     * a non-blocking reader meets that once per burst. {@code iov} is scratch of 32 bytes.
     */
    public static long readv(Fd fd, MemorySegment first, MemorySegment second, MemorySegment iov) {
        iov.set(ADDRESS, 0, first);
        iov.set(JAVA_LONG, 8, first.byteSize());
        iov.set(ADDRESS, IOVEC_SIZE, second);
        iov.set(JAVA_LONG, IOVEC_SIZE + 8, second.byteSize());
        while (true) {
            long n = READV.call(fd.number(), LibC.address(iov), 2);
            if (n >= 0) {
                return n;
            }
            int errno = LibC.lastErrno();
            if (errno == Errno.EAGAIN) {
                return -1;
            }
            if (errno != Errno.EINTR) {
                throw new SysException("readv", errno);
            }
        }
    }

    /** Bytes of iovec scratch {@link #writev} needs for {@code count} parts. */
    public static long iovecBytes(int count) {
        return IOVEC_SIZE * count;
    }

    private static Fd inetSocket() {
        int fd = (int) Posix.SOCKET.call(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        return new Fd((int) LibC.check(fd, "socket"), "inet socket");
    }

    private static MemorySegment ifreq(Arena arena, String name) {
        if (!isValidInterfaceName(name)) {
            throw new IllegalArgumentException("not an interface name: " + name);
        }
        MemorySegment ifr = arena.allocate(IFREQ_SIZE, 8);
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(bytes, 0, ifr, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, bytes.length);
        return ifr;
    }
}
