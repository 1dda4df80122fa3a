package org.jbhyve.backend.chr;

import static org.jbhyve.backend.chr.BackendTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.Termios;
import org.junit.jupiter.api.Test;

class PtyBackendTest {
    @Test
    void nmdmValueBecomesAPtyWhosePeerCarriesTheLine() throws Exception {
        ByteArrayOutputStream announced = new ByteArrayOutputStream();
        String a = "/dev/nmdmjbt" + ProcessHandle.current().pid() + "A";
        try (CharBackend b = CharBackends.open(a, "com1", new PrintStream(announced, true))) {
            PtyBackend pty = assertInstanceOf(PtyBackend.class, b);
            String note = pty.linkPath() != null ? pty.linkPath() + " -> " + pty.peerPath()
                    : pty.peerPath() + " (no " + a.replace("A", "B") + " link: only root can create it)";
            assertEquals("com1: " + note + System.lineSeparator(), announced.toString());
            SerialLine line = new SerialLine(pty);
            line.send("early "); // nobody attached yet: must not block
            try (Fd peer = Posix.open(pty.peerPath(), Posix.O_RDWR | Posix.O_NOCTTY, 0)) {
                assertTrue(Termios.isatty(peer));
                assertEquals("early ", readFd(peer, 6), "kept while detached");
                line.send("guest says hi\r\n");
                assertEquals("guest says hi\r\n", readFd(peer, 15), "raw: CR LF unchanged");
                writeFd(peer, "typed\n");
                assertEquals("typed\n", line.receive(6), "raw: LF not turned into CR");
            }
            // Detach and re-attach, as cu ~. does.
            try (Fd again = Posix.open(pty.peerPath(), Posix.O_RDWR | Posix.O_NOCTTY, 0)) {
                line.send("still here");
                assertEquals("still here", readFd(again, 10));
            }
        }
    }

    @Test
    void outputWithNobodyReadingIsDroppedWithoutBlocking() throws Exception {
        try (PtyBackend pty = PtyBackend.open("com1", null)) {
            byte[] chunk = new byte[4096];
            long start = System.nanoTime();
            for (int i = 0; i < 256; i++) { // 1 MiB
                pty.write(chunk, 0, chunk.length);
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertTrue(millis < 2000, "writes must not wait for a reader, took " + millis + " ms");
            assertTrue(eventually(() -> pty.droppedBytes() > 0), "overflow is counted");
        }
    }

    @Test
    void literalPtyValue() {
        try (CharBackend b = CharBackends.open("pty", "com3", null)) {
            assertTrue(((PtyBackend) b).peerPath().startsWith("/dev/pts/"));
        }
    }

    @Test
    void existingTerminalPathIsOpenedAndRestoredOnClose() throws Exception {
        try (PtyBackend host = PtyBackend.open("other", null);
                Fd probe = Posix.open(host.peerPath(), Posix.O_RDWR | Posix.O_NOCTTY, 0)) {
            // Give the terminal a non-raw setting the backend must put back.
            Termios.Attributes raw = Termios.get(probe);
            Termios.Attributes noClocal = raw.withCflag(raw.cflag() & ~Termios.CLOCAL);
            Termios.set(probe, Termios.TCSANOW, noClocal);
            try (CharBackend tty = CharBackends.open(host.peerPath(), "com2", null)) {
                assertInstanceOf(TtyBackend.class, tty);
                assertEquals(Termios.CLOCAL, Termios.get(probe).cflag() & Termios.CLOCAL, "raw + CLOCAL");
                SerialLine line = new SerialLine(tty);
                line.send("ping");
                // The peer's output arrives on the master side of the host pair.
                SerialLine far = new SerialLine(host);
                assertEquals("ping", far.receive(4));
                far.send("pong");
                assertEquals("pong", line.receive(4));
            }
            assertEquals(0, Termios.get(probe).cflag() & Termios.CLOCAL, "mode restored by close()");
        }
    }
}
