package org.jbhyve.backend.chr;

import static org.jbhyve.backend.chr.BackendTestSupport.eventually;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.PseudoTerminal;
import org.jbhyve.sys.Termios;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** stdio over substitute descriptors: surefire talks to this JVM over the real stdin. */
class StdioBackendTest {
    @TempDir
    Path dir;

    private Fd openRead(Path p) {
        return Posix.open(p.toString(), Posix.O_RDONLY, 0);
    }

    private Fd openWrite(Path p) {
        return Posix.open(p.toString(), Posix.O_WRONLY | Posix.O_CREAT | Posix.O_TRUNC, 0600);
    }

    @Test
    void stdinFromAFileIsDeliveredInOrderThenEofLeavesOutputWorking() throws Exception {
        String text = "y".repeat(10_000) + "!"; // more than the input ring: the reader must wait
        Files.writeString(dir.resolve("in"), text);
        Path outPath = dir.resolve("out");
        try (Fd in = openRead(dir.resolve("in")); Fd out = openWrite(outPath)) {
            StdioBackend stdio = StdioBackend.open("com1", in, out);
            try {
                assertFalse(stdio.isRawTerminal(), "a file is not a terminal");
                SerialLine line = new SerialLine(stdio);
                String got = line.receive(text.length());
                assertEquals(text.length(), got.length(), "all input delivered");
                assertTrue(got.equals(text), "in order");
                line.send("after eof\r\n");
            } finally {
                stdio.close();
            }
            assertEquals("after eof\r\n", Files.readString(outPath), "close() flushes queued output");
        }
    }

    @Test
    void devNullStdinGivesNoInput() throws Exception {
        Path outPath = dir.resolve("out");
        try (Fd in = Posix.open("/dev/null", Posix.O_RDONLY, 0); Fd out = openWrite(outPath);
                StdioBackend stdio = StdioBackend.open("com1", in, out)) {
            byte[] buf = new byte[8];
            Thread.sleep(100);
            assertEquals(0, stdio.readAvailable(buf, 0, buf.length));
            stdio.write('k');
            assertTrue(eventually(() -> {
                try {
                    return Files.readString(outPath).equals("k");
                } catch (java.io.IOException e) {
                    return false;
                }
            }));
        }
    }

    @Test
    void onlyOneStdioPerProcess() throws Exception {
        try (Fd in = Posix.open("/dev/null", Posix.O_RDONLY, 0); Fd out = openWrite(dir.resolve("o"))) {
            StdioBackend first = StdioBackend.open("com1", in, out);
            CharBackendException e = assertThrows(CharBackendException.class,
                    () -> StdioBackend.open("com2", in, out));
            assertTrue(e.getMessage().startsWith("com2: "), e.getMessage());
            assertTrue(e.getMessage().contains("stdio"), e.getMessage());
            first.close();
            first.close(); // idempotent
            StdioBackend.open("com2", in, out).close();
        }
    }

    @Test
    void terminalStdinIsRawUntilCloseOrRestoreAll() throws Exception {
        try (PseudoTerminal pty = PseudoTerminal.open();
                Fd term = Posix.open(pty.peerPath(), Posix.O_RDWR | Posix.O_NOCTTY, 0)) {
            Termios.Attributes raw = Termios.get(term);
            Termios.Attributes cooked = raw.withCflag(raw.cflag() & ~Termios.CLOCAL);
            Termios.set(term, Termios.TCSANOW, cooked);

            StdioBackend stdio = StdioBackend.open("com1", term, term);
            assertTrue(stdio.isRawTerminal());
            assertEquals(Termios.CLOCAL, Termios.get(term).cflag() & Termios.CLOCAL);
            stdio.close();
            assertEquals(cooked, Termios.get(term), "close() restores every byte");

            stdio = StdioBackend.open("com1", term, term);
            assertNotEquals(cooked, Termios.get(term));
            StdioBackend.restoreAll();
            assertEquals(cooked, Termios.get(term), "restoreAll() for the signal path");
            stdio.close();
            assertEquals(cooked, Termios.get(term));
        }
    }
}
