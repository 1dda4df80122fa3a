package org.jbhyve.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A Unix98 pseudo-terminal pair: the VMM keeps the master ({@code /dev/ptmx}), a user attaches
 * to the peer ({@code /dev/pts/N}) with {@code cu}, {@code screen} or {@code minicom}. This is
 * Linux's stand-in for FreeBSD's nmdm(4) null-modem pair.
 *
 * <p>Set-up is {@code posix_openpt(O_RDWR|O_NOCTTY)}, {@code grantpt}, {@code unlockpt},
 * {@code ptsname_r}. The pair also holds the peer side open itself: on Linux, once no process
 * has the peer open, reads on the master fail with EIO and poll reports POLLHUP for ever, which
 * would make a reader spin. Holding it keeps the master quiet until a real user attaches and
 * lets a user detach ({@code ~.}) and re-attach without the VMM noticing. Both sides are put in
 * raw mode so bytes pass unchanged (no echo, no CR/LF translation).
 */
public final class PseudoTerminal implements AutoCloseable {
    private static final NativeFunction POSIX_OPENPT = LibC.intFunction("posix_openpt");
    private static final NativeFunction GRANTPT = LibC.intFunction("grantpt");
    private static final NativeFunction UNLOCKPT = LibC.intFunction("unlockpt");
    // int ptsname_r(int fd, char *buf, size_t buflen): returns 0 or an errno value.
    private static final NativeFunction PTSNAME_R = LibC.intFunction("ptsname_r");
    private static final int PATH_MAX = 4096;

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
            int fd = (int) POSIX_OPENPT.call(
                    Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC);
            master = new Fd((int) LibC.check(fd, "posix_openpt"), "pty master");
            LibC.check((int) GRANTPT.call(master.number()), "grantpt");
            LibC.check((int) UNLOCKPT.call(master.number()), "unlockpt");
            String path;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(PATH_MAX);
                int r = (int) PTSNAME_R.call(master.number(), LibC.address(buf), PATH_MAX);
                if (r != 0) {
                    throw new SysException("ptsname_r", r);
                }
                path = buf.getString(0);
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
