package org.jbhyve.backend.chr;

import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Poll;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;
import org.jbhyve.sys.Termios;

/**
 * An existing host terminal device given by path ({@code /dev/ttyS1}, {@code /dev/ttyUSB0}, a
 * pts someone else created): opened {@code O_RDWR|O_NOCTTY|O_NONBLOCK} so it never becomes the
 * VMM's controlling terminal, checked with {@code isatty} as bhyve does, put in raw mode and
 * restored at close.
 */
public final class TtyBackend extends FdBackend {
    private final Fd fd;

    private TtyBackend(String device, Fd fd) {
        super(device, fd, fd, true);
        this.fd = fd;
    }

    public static TtyBackend open(String device, String path) {
        Fd fd;
        try {
            fd = Posix.open(path, Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_NONBLOCK | Posix.O_CLOEXEC, 0);
        } catch (SysException e) {
            throw new CharBackendException(device, path + ": " + e.reason());
        }
        try {
            if (!Termios.isatty(fd)) {
                throw new CharBackendException(device, path + " is not a terminal");
            }
            Poll.setNonBlocking(fd, true);
            TerminalModes.makeRaw(fd);
            TtyBackend b = new TtyBackend(device, fd);
            b.start();
            return b;
        } catch (RuntimeException e) {
            TerminalModes.restore(fd);
            fd.close();
            throw e;
        }
    }

    @Override
    protected void releaseHost() {
        TerminalModes.restore(fd);
    }
}
