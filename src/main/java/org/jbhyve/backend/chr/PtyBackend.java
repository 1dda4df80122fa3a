package org.jbhyve.backend.chr;

import java.io.PrintStream;
import org.jbhyve.sys.PseudoTerminal;

/**
 * A null-modem console: FreeBSD's {@code /dev/nmdm0A}-style values (and the literal
 * {@code pty}) become a fresh Linux pseudo-terminal pair. The VMM keeps the master; the peer
 * path is printed once on standard error as {@code <device>: <peer path>} (for example
 * {@code com1: /dev/pts/5}) so a user can {@code cu -l /dev/pts/5} or {@code screen /dev/pts/5},
 * detach, and come back while the guest runs on. No symlink is created at the nmdm path: on
 * Linux that name has no meaning, and the printed path is what scripts should use.
 *
 * <p>The pair holds its own peer descriptor open (see {@link PseudoTerminal}), so guest output
 * written while nobody is attached piles up in the kernel's tty buffer; once that is full the
 * non-blocking master refuses more, the output ring fills and further output is dropped and
 * counted. The VMM never blocks on it.
 */
public final class PtyBackend extends FdBackend {
    private final PseudoTerminal pty;

    private PtyBackend(String device, PseudoTerminal pty) {
        super(device, pty.master(), pty.master(), false);
        this.pty = pty;
    }

    /** Creates the pair and announces the peer path on {@code announce} (null: stay quiet). */
    public static PtyBackend open(String device, PrintStream announce) {
        PseudoTerminal pty = PseudoTerminal.open();
        PtyBackend b = new PtyBackend(device, pty);
        b.start();
        if (announce != null) {
            announce.println(device + ": " + pty.peerPath());
            announce.flush();
        }
        return b;
    }

    /** Where a user attaches, e.g. {@code /dev/pts/5}. */
    public String peerPath() {
        return pty.peerPath();
    }

    @Override
    protected void releaseHost() {
        pty.close();
    }
}
