package org.jbhyve.backend.chr;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Termios;

/**
 * Terminals this process put in raw mode, with the attributes to put back. A terminal left raw
 * after the VMM exits is unusable (no echo, no line editing), so restoring happens on every
 * exit path: the backend's close(), a JVM shutdown hook (normal exit, SIGTERM, SIGINT), and
 * {@link #restoreAll()} which signal handlers and fatal-error paths call directly.
 */
final class TerminalModes {
    private static final Map<Fd, Termios.Attributes> SAVED = new LinkedHashMap<>();
    private static boolean hookInstalled;

    private TerminalModes() {}

    /** Makes {@code fd} raw (bhyve: cfmakeraw + CLOCAL) and remembers how it was. */
    static synchronized void makeRaw(Fd fd) {
        Termios.Attributes original = Termios.makeRaw(fd);
        SAVED.putIfAbsent(fd, original);
        if (!hookInstalled) {
            hookInstalled = true;
            Runtime.getRuntime().addShutdownHook(
                    Thread.ofPlatform().name("terminal-restore").unstarted(TerminalModes::restoreAll));
        }
    }

    /** Puts {@code fd} back as it was, if this class changed it. */
    static synchronized void restore(Fd fd) {
        Termios.Attributes original = SAVED.remove(fd);
        if (original != null && fd.isOpen()) {
            try {
                Termios.set(fd, Termios.TCSANOW, original);
            } catch (RuntimeException e) {
                // The terminal is gone (hang-up): nothing left to restore.
            }
        }
    }

    /** Restores every terminal still raw. Safe to call more than once and from any thread. */
    static synchronized void restoreAll() {
        for (Fd fd : SAVED.keySet().toArray(Fd[]::new)) {
            restore(fd);
        }
    }

    static synchronized boolean isRaw(Fd fd) {
        return SAVED.containsKey(fd);
    }
}
