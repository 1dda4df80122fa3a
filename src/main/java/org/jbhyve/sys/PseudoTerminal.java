package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A Unix98 pseudo-terminal pair: the VMM keeps the master ({@code /dev/ptmx}), a user attaches
 * to the peer ({@code /dev/pts/N}) with {@code cu}, {@code screen} or {@code minicom}. This is
 * Linux's stand-in for FreeBSD's nmdm(4) null-modem pair.
 *
 * <p>Set-up is what {@code posix_openpt(O_RDWR|O_NOCTTY)}, {@code grantpt}, {@code unlockpt}
 * and {@code ptsname_r} do on Linux: open {@code /dev/ptmx}, unlock the peer (TIOCSPTLCK with 0)
 * and ask its number N (TIOCGPTN); grantpt has nothing to do where devpts already gives the
 * peer to the opening user. The pair also holds the peer side open itself: on Linux, once no process
 * has the peer open, reads on the master fail with EIO and poll reports POLLHUP for ever, which
 * would make a reader spin. Holding it keeps the master quiet until a real user attaches and
 * lets a user detach ({@code ~.}) and re-attach without the VMM noticing. Both sides are put in
 * raw mode so bytes pass unchanged (no echo, no CR/LF translation).
 */
public final class PseudoTerminal implements AutoCloseable {
    private static final long TIOCGPTN = 0x80045430;
    private static final long TIOCSPTLCK = 0x40045431;

    private final Fd master;
    private final Fd heldPeer;
    private final String peerPath;

    private PseudoTerminal(Fd master, Fd heldPeer, String peerPath) {
        this.master = master;
        this.heldPeer = heldPeer;
        this.peerPath = peerPath;
    }

    /** Opens a new pair; the master is non-blocking and close-on-exec. */
    public static PseudoTerminal open() {
        Fd master = null;
        try {
            master = Posix.open("/dev/ptmx", Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC, 0);
            String path;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment number = arena.allocate(JAVA_INT);
                Posix.ioctl(master, TIOCSPTLCK, number); // 0: unlocked
                Posix.ioctl(master, TIOCGPTN, number);
                path = "/dev/pts/" + number.get(JAVA_INT, 0);
            }
            Fd peer = Posix.open(path, Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC, 0);
            try {
                Termios.makeRaw(peer);
                Poll.setNonBlocking(master, true);
            } catch (RuntimeException e) {
                peer.close();
                throw e;
            }
            return new PseudoTerminal(master, peer, path);
        } catch (Throwable t) {
            if (master != null) {
                master.close();
            }
            throw LibC.rethrow(t);
        }
    }

    /** The VMM's side. */
    public Fd master() {
        return master;
    }

    /** Where a user attaches, e.g. {@code /dev/pts/5}. */
    public String peerPath() {
        return peerPath;
    }

    @Override
    public void close() {
        heldPeer.close();
        master.close();
    }
}
