package org.jbhyve.backend.chr;

import java.util.concurrent.atomic.AtomicBoolean;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Termios;

/**
 * The {@code stdio} backend: guest output to standard output, standard input to the guest.
 *
 * <p>Like bhyve, only one device per process may use stdio (two would fight over the keyboard),
 * and when standard input is a terminal it goes into raw mode ({@code cfmakeraw} plus
 * {@code CLOCAL}: no echo, no line editing, Ctrl-C goes to the guest, and no output
 * post-processing, so the guest's own CR LF reaches the screen unchanged). The original mode is
 * restored by {@link #close()}, by a shutdown hook, and by {@link #restoreAll()}.
 *
 * <p>When standard input is not a terminal (a pipe, a file, {@code /dev/null}) it is read as
 * is; at end of file the input thread ends and output keeps working. Standard input and output
 * are never made non-blocking, since that flag would leak to the shell sharing them; writes are
 * done by the output thread, so a slow terminal delays that thread only, never a vCPU.
 */
public final class StdioBackend extends FdBackend {
    private static final AtomicBoolean IN_USE = new AtomicBoolean();

    private final Fd in;
    private final AtomicBoolean released = new AtomicBoolean();

    private StdioBackend(String device, Fd in, Fd out) {
        super(device, in, out, false);
        this.in = in;
    }

    /** The process's stdin (fd 0) and stdout (fd 1) for {@code device}. */
    public static StdioBackend open(String device) {
        return open(device, new Fd(0, "stdin"), new Fd(1, "stdout"));
    }

    /**
     * stdio over the given descriptors (which the caller keeps owning), for embedding and tests.
     * Claims the process-wide stdio slot just the same.
     */
    static StdioBackend open(String device, Fd in, Fd out) {
        if (!IN_USE.compareAndSet(false, true)) {
            throw new CharBackendException(device, "stdio", "stdio is already used by another device");
        }
        try {
            StdioBackend b = new StdioBackend(device, in, out);
            if (Termios.isatty(in)) {
                TerminalModes.makeRaw(in);
            }
            b.start();
            return b;
        } catch (RuntimeException e) {
            IN_USE.set(false);
            throw e;
        }
    }

    /** Whether this backend switched its input terminal to raw mode. */
    public boolean isRawTerminal() {
        return TerminalModes.isRaw(in);
    }

    /** Restores every terminal this process put in raw mode; for signal and fatal-error paths. */
    public static void restoreAll() {
        TerminalModes.restoreAll();
    }

    @Override
    protected void releaseHost() {
        TerminalModes.restore(in);
        if (released.compareAndSet(false, true)) {
            IN_USE.set(false);
        }
    }
}
