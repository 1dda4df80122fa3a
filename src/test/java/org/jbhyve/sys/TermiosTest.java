package org.jbhyve.sys;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class TermiosTest {
    @Test
    void ptyPeerIsATerminalInRawModeAndDevNullIsNot() {
        try (PseudoTerminal pty = PseudoTerminal.open();
                Fd peer = Posix.open(pty.peerPath(), Posix.O_RDWR | Posix.O_NOCTTY, 0);
                Fd devNull = Posix.open("/dev/null", Posix.O_RDONLY, 0)) {
            assertTrue(pty.peerPath().startsWith("/dev/pts/"), pty.peerPath());
            assertTrue(Termios.isatty(peer));
            assertTrue(Termios.isatty(pty.master()));
            assertFalse(Termios.isatty(devNull));
            Termios.Attributes a = Termios.get(peer);
            assertEquals(0, a.lflag() & (Termios.ECHO | Termios.ICANON | Termios.ISIG));
            assertEquals(0, a.oflag() & Termios.OPOST);
            assertEquals(Termios.CLOCAL, a.cflag() & Termios.CLOCAL);
            SysException e = assertThrows(SysException.class, () -> Termios.get(devNull));
            assertEquals(Errno.ENOTTY, e.errno());
        }
    }

    @Test
    void setAndGetRoundTripAndRawClearsLineDiscipline() {
        try (PseudoTerminal pty = PseudoTerminal.open();
                Fd peer = Posix.open(pty.peerPath(), Posix.O_RDWR | Posix.O_NOCTTY, 0)) {
            Termios.Attributes raw = Termios.get(peer);
            // Build a "cooked" image by hand: raw plus ECHO|ICANON in c_lflag via cflag API is
            // not available, so check raw() is idempotent and that a changed cflag sticks.
            Termios.Attributes changed = raw.withCflag(raw.cflag() & ~Termios.CLOCAL);
            Termios.set(peer, Termios.TCSANOW, changed);
            assertEquals(0, Termios.get(peer).cflag() & Termios.CLOCAL);
            Termios.Attributes before = Termios.makeRaw(peer);
            assertEquals(changed.cflag(), before.cflag(), "makeRaw returns the previous attributes");
            assertEquals(Termios.CLOCAL, Termios.get(peer).cflag() & Termios.CLOCAL);
            assertEquals(raw.raw(), raw.raw().raw(), "cfmakeraw is idempotent");
        }
    }

    /**
     * raw() changes what the C library's cfmakeraw changes, on a new terminal's cooked defaults:
     * glibc's struct begins with the kernel's (flags, c_line, then c_cc, of which it has more).
     */
    @Test
    void rawAgreesWithTheCLibrarysCfmakeraw() {
        try (Fd master = Posix.open("/dev/ptmx", Posix.O_RDWR | Posix.O_NOCTTY, 0);
                java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment number = arena.allocate(4);
            Posix.ioctl(master, 0x40045431, number); // TIOCSPTLCK: unlock
            Posix.ioctl(master, 0x80045430, number); // TIOCGPTN
            try (Fd peer = Posix.open("/dev/pts/" + number.get(java.lang.foreign.ValueLayout.JAVA_INT, 0),
                    Posix.O_RDWR | Posix.O_NOCTTY, 0)) {
                Termios.Attributes cooked = Termios.get(peer);
                assertNotEquals(0, cooked.lflag() & Termios.ICANON, "a new terminal is cooked");
                java.lang.foreign.MemorySegment glibc = arena.allocate(60, 4);
                java.lang.foreign.MemorySegment.copy(cooked.bytes(), 0, glibc, java.lang.foreign.ValueLayout.JAVA_BYTE, 0,
                        Termios.SIZE);
                LibC.intFunction("cfmakeraw").call(LibC.address(glibc));
                assertArrayEquals(glibc.asSlice(0, Termios.SIZE).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        cooked.raw().bytes());
            }
        }
    }

    @Test
    void pollSeesDataOnThePtyMaster() throws Exception {
        try (PseudoTerminal pty = PseudoTerminal.open();
                Fd peer = Posix.open(pty.peerPath(), Posix.O_RDWR | Posix.O_NOCTTY, 0);
                java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Fd[] fds = {pty.master()};
            short[] ev = {Poll.POLLIN};
            short[] rev = new short[1];
            assertEquals(0, Poll.poll(fds, ev, rev, 50), "nothing yet");
            Posix.write(peer, arena.allocateFrom("x"), 1);
            assertEquals(1, Poll.poll(fds, ev, rev, 2000));
            assertEquals(Poll.POLLIN, rev[0] & Poll.POLLIN);
        }
    }
}
