package org.jbhyve.backend.chr;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.io.ByteArrayOutputStream;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Poll;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/** Helpers shared by the backend tests. */
final class BackendTestSupport {
    private BackendTestSupport() {}

    /** Polls until {@code check} holds or 5 s pass. */
    static boolean eventually(java.util.function.BooleanSupplier check) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (check.getAsBoolean()) {
                return true;
            }
            Thread.sleep(5);
        }
        return check.getAsBoolean();
    }

    /** Reads from {@code fd} until {@code want} bytes arrived or 5 s pass. */
    static String readFd(Fd fd, int want) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + 5_000_000_000L;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            Fd[] fds = {fd};
            short[] ev = {Poll.POLLIN};
            short[] rev = new short[1];
            while (got.size() < want && System.nanoTime() < deadline) {
                if (Poll.poll(fds, ev, rev, 100) == 0) {
                    continue;
                }
                long n;
                try {
                    n = Posix.read(fd, buf, 256);
                } catch (SysException e) {
                    if (e.errno() == Errno.EAGAIN) {
                        continue;
                    }
                    throw e;
                }
                got.write(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), 0, (int) n);
            }
        }
        return got.toString();
    }

    static void writeFd(Fd fd, String s) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocateFrom(s);
            Posix.write(fd, seg, s.length());
        }
    }
}
