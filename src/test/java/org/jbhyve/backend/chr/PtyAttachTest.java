package org.jbhyve.backend.chr;

import static org.jbhyve.backend.chr.BackendTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Poll;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A console user comes and goes: guest output is held while nobody is attached, survives the
 * input flush that cu and screen do right after opening the line, and what a user left unread
 * when detaching comes back on the next attach. Also the nmdm link's life.
 */
class PtyAttachTest {
    private static final long TCFLSH = 0x540B;
    private static final long TCIFLUSH = 0;

    @TempDir
    Path dir;

    /** Opens the line as cu does: non-blocking, then TCIFLUSH at once. */
    private static Fd attachLikeCu(String path) {
        Fd fd = Posix.open(path, Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_NONBLOCK, 0);
        Posix.ioctl(fd, TCFLSH, TCIFLUSH);
        return fd;
    }

    @Test
    void outputWhileDetachedSurvivesTheClientsFlushOnAttach() throws Exception {
        try (PtyBackend pty = PtyBackend.open("com1", null)) {
            SerialLine line = new SerialLine(pty);
            line.send("boot messages\r\nlogin: ");
            Thread.sleep(300); // long enough for anything written to the master to be in the tty queue
            assertFalse(pty.attached());
            try (Fd user = attachLikeCu(pty.peerPath())) {
                assertTrue(eventually(pty::attached));
                assertEquals("boot messages\r\nlogin: ", readFd(user, 22));
            }
        }
    }

    @Test
    void whatAUserLeftUnreadComesBackOnTheNextAttach() throws Exception {
        try (PtyBackend pty = PtyBackend.open("com1", null)) {
            SerialLine line = new SerialLine(pty);
            Fd first = attachLikeCu(pty.peerPath());
            Thread.sleep(PtyBackend.SETTLE_MILLIS + 100);
            line.send("unread");
            assertTrue(readable(first), "delivered to the attached user's queue");
            first.close(); // detach without reading
            assertTrue(eventually(() -> !pty.attached()));
            line.send(" then more");
            Thread.sleep(300);
            try (Fd second = attachLikeCu(pty.peerPath())) {
                assertEquals("unread then more", readFd(second, 16), "taken back, in order, nothing lost");
            }
            assertEquals(0, pty.droppedBytes());
        }
    }

    @Test
    void heldOutputIsBoundedKeepingTheNewestAndEveryByteIsAccounted() throws Exception {
        try (PtyBackend pty = PtyBackend.open("com1", null)) {
            byte[] piece = new byte[4096];
            int total = 0;
            for (int i = 0; i < 256; i++) { // 1 MiB: byte k is k % 251
                for (int j = 0; j < piece.length; j++) {
                    piece[j] = (byte) ((total + j) % 251);
                }
                pty.write(piece, 0, piece.length);
                total += piece.length;
                Thread.sleep(1); // let the writer thread move it out of the ring
            }
            Thread.sleep(300);
            long dropped = pty.droppedBytes();
            assertTrue(dropped >= total - 2 * BufferedCharBackend.OUTPUT_CAPACITY, "bounded: dropped " + dropped);
            try (Fd user = attachLikeCu(pty.peerPath())) {
                byte[] got = readAll(user, total - (int) dropped);
                assertEquals(total - dropped, got.length, "each byte is delivered or counted as dropped");
                for (int k = 0; k < got.length; k++) {
                    assertEquals((byte) ((dropped + k) % 251), got[k], "the newest bytes, in order, at " + k);
                }
            }
        }
    }

    @Test
    void nmdmLinkPointsAtThePeerWhileTheVmRunsAndGoesAfter() throws Exception {
        Path link = dir.resolve("nmdm0B");
        Path stale = Files.createSymbolicLink(link, dir.resolve("gone"));
        String peer;
        try (PtyBackend pty = PtyBackend.open("com1", link, null)) {
            peer = pty.peerPath();
            assertEquals(link, pty.linkPath());
            assertEquals(Path.of(peer), Files.readSymbolicLink(stale), "a stale link is replaced");
            SerialLine line = new SerialLine(pty);
            try (Fd user = attachLikeCu(link.toString())) {
                line.send("via the link");
                assertEquals("via the link", readFd(user, 12));
            }
        }
        assertFalse(Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS), "removed when the VM ends");
    }

    private static boolean readable(Fd fd) {
        short[] rev = new short[1];
        return Poll.poll(new Fd[] {fd}, new short[] {Poll.POLLIN}, rev, 5000) == 1 && (rev[0] & Poll.POLLIN) != 0;
    }

    /** Reads until {@code want} bytes or 2 s of silence. */
    private static byte[] readAll(Fd fd, int want) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(4096);
            while (got.size() < want + 1) {
                if (!readableWithin(fd, 2000)) {
                    break;
                }
                long n;
                try {
                    n = Posix.read(fd, buf, 4096);
                } catch (SysException e) {
                    if (e.errno() == Errno.EAGAIN) {
                        continue;
                    }
                    throw e;
                }
                got.write(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), 0, (int) n);
            }
        }
        return got.toByteArray();
    }

    private static boolean readableWithin(Fd fd, int millis) {
        short[] rev = new short[1];
        return Poll.poll(new Fd[] {fd}, new short[] {Poll.POLLIN}, rev, millis) == 1;
    }
}
