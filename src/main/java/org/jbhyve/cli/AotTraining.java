package org.jbhyve.cli;

import java.util.function.IntSupplier;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.PseudoTerminal;
import org.jbhyve.sys.Seccomp;
import org.jbhyve.vcpu.ExitStatus;

/**
 * The start-up cache's training run (bin/lib/launch.sh runs it once after a build, with
 * -XX:AOTCacheOutput): the JVM records the classes, linked call sites and lambdas that this run
 * uses, and every later bhyve finds them in the cache instead of loading them from the jar and
 * generating them. Whatever a VM's start does that training did not is paid at every start.
 *
 * <p>So it boots the demo guest twice, in the two shapes a start commonly takes: with ACPI
 * tables and two vCPUs (-A -c 2), and without ACPI and with one (the loader's MP-table path and
 * the checks -A skips). The first reads its console input from /dev/null, as a script's bhyve
 * does; the second from a terminal, as a user's does: standard input is then a pseudo-terminal of
 * the run's own, which the console puts in raw mode and restores (the terminal code is otherwise
 * the only part of an interactive start missing from the cache, and a class missing from it costs
 * a start the jar's opening on top of the class). It cannot confine itself, since the JVM writes the cache through a second
 * JVM it starts at exit, so it builds the seccomp filter without installing it.
 *
 * <p>Usage: {@code AotTraining DEMO_KERNEL}. The VMs' console is this process's standard output;
 * the exit status is bhyve's error status (4) when either boot failed, else the second's.
 */
final class AotTraining {
    private static final int STDIN = 0;

    private AotTraining() {}

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: AotTraining DEMO_KERNEL");
            BhyveMain.exit(ExitStatus.ERROR.code());
        }
        String kernel = "boot.kernel=" + args[0];
        int withAcpi = boot("-A", "-c", "2", "-m", "64M", "-s", "0,hostbridge", "-s", "1,lpc", "-l", "com1,stdio",
                "-l", "pc-testdev", "-o", kernel, "-o", "security.seccomp=false", "aot-training");
        int withoutAcpi = onTerminal(() -> boot("-c", "1", "-m", "64M", "-s", "0,hostbridge", "-s", "1,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", kernel, "-o", "security.seccomp=false", "aot-training"));
        Seccomp.buildWithoutInstalling();
        int error = ExitStatus.ERROR.code();
        BhyveMain.exit(withAcpi == error ? error : withoutAcpi);
    }

    /**
     * Runs {@code boot} with standard input on the peer side of a new pseudo-terminal, then puts
     * /dev/null there (as bin/lib/launch.sh starts the training). Without a pseudo-terminal (no
     * /dev/ptmx) it boots on the standard input it has.
     */
    private static int onTerminal(IntSupplier boot) {
        PseudoTerminal terminal;
        try {
            terminal = PseudoTerminal.open();
        } catch (RuntimeException e) {
            return boot.getAsInt();
        }
        try (terminal; Fd peer = Posix.open(terminal.peerPath(), Posix.O_RDWR | Posix.O_NOCTTY | Posix.O_CLOEXEC, 0)) {
            Posix.dup2(peer, STDIN);
            return boot.getAsInt();
        } finally {
            try (Fd devNull = Posix.open("/dev/null", Posix.O_RDONLY | Posix.O_CLOEXEC, 0)) {
                Posix.dup2(devNull, STDIN);
            }
        }
    }

    private static int boot(String... args) {
        return BhyveMain.runCommand(args);
    }
}
