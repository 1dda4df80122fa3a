package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Test helper: an AF_PACKET raw socket bound to one interface, to see frames from the host side
 * of a tap (what the backend wrote) and to inject frames into it (what the backend reads).
 *
 * <pre>
 * struct sockaddr_ll { u16 family; be16 protocol; int ifindex; u16 hatype; u8 pkttype; u8 halen; u8 addr[8]; }
 * </pre>
 */
public final class PacketSocket implements AutoCloseable {
    private static final int AF_PACKET = 17;
    private static final int SOCK_RAW = 3;
    private static final short ETH_P_ALL_BE = 0x0300; // htons(0x0003)
    private static final SystemCall SOCKET = new SystemCall(41); // socket(2)
    private static final SystemCall BIND = new SystemCall(49); // bind(2)

    private final Fd fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf = arena.allocate(65536);

    public PacketSocket(String ifname) {
        int s = (int) SOCKET.call(AF_PACKET,
                SOCK_RAW | Posix.O_CLOEXEC | Posix.O_NONBLOCK, (int) ETH_P_ALL_BE);
        fd = new Fd((int) LibC.check(s, "socket AF_PACKET"), "packet socket");
        MemorySegment sll = arena.allocate(20, 4);
        sll.set(JAVA_SHORT, 0, (short) AF_PACKET);
        sll.set(JAVA_SHORT, 2, ETH_P_ALL_BE);
        sll.set(JAVA_INT, 4, Tun.interfaceIndex(ifname));
        LibC.check((int) BIND.call(fd.number(), LibC.address(sll), 20), "bind");
    }

    public void send(byte[] frame) {
        MemorySegment.copy(frame, 0, buf, JAVA_BYTE, 0, frame.length);
        Posix.write(fd, buf, frame.length);
    }

    /** The next frame within {@code timeoutMillis}, or null. */
    public byte[] receive(int timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        short[] revents = new short[1];
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return null;
            }
            if (Poll.poll(new Fd[] {fd}, new short[] {Poll.POLLIN}, revents, (int) left) == 0) {
                continue;
            }
            try {
                long n = Posix.read(fd, buf, buf.byteSize());
                return buf.asSlice(0, n).toArray(JAVA_BYTE);
            } catch (SysException e) {
                if (e.errno() != Errno.EAGAIN) {
                    throw e;
                }
            }
        }
    }

    @Override
    public void close() {
        fd.close();
        arena.close();
    }
}
