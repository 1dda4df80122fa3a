package org.jbhyve.cli;

import java.util.ArrayList;
import java.util.List;
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
 * tables, two vCPUs (-A -c 2), a disk (virtio-blk on DISK) and a network card (virtio-net, no
 * backend), as the demo VM has; and without ACPI, with one vCPU and no PCI device but the
 * hostbridge and the LPC bridge (the loader's MP-table path and the checks -A skips). A device
 * class left out of the cache costs more than its own loading: the first such class opens the
 * jar (the zip library, its directory) and brings the JDK classes the device uses; a VM with a
 * disk and a network card paid that at every start (190 classes, a fifth of the start's CPU).
 *
 * <p>The first boot reads its console input from /dev/null, as a script's bhyve does; the
 * second from a terminal, as a user's does: standard input is then a pseudo-terminal of the
 * run's own, which the console puts in raw mode and restores (without it, the terminal's two
 * classes made every interactive start open the jar).
 *
 * <p>A tap cannot be trained so: attaching needs an existing tap interface, which a build should
 * not create on its host. A third start asks for a tap that does not exist and is refused, as a
 * mistyped name is; that loads the tap's classes, so a start with a tap does not open the jar
 * (its frames' first passage may still load a class from it).
 *
 * <p>It cannot confine itself, since the JVM writes the cache through a second JVM it starts at
 * exit, so it builds the seccomp filter without installing it.
 *
 * <p>Usage: {@code AotTraining DEMO_KERNEL [DISK]}. The VMs' console is this process's standard
 * output; the exit status is bhyve's error status (4) when either boot failed, else the second's.
 * DISK is any file of at least 512 bytes that the run may open read and write; without it the
 * first boot has no disk.
 */
final class AotTraining {
    private static final int STDIN = 0;
    /** A tap interface name no host has (so the start that asks for it is refused). */
    private static final String MISSING_TAP = "jbhyve-notap";

    private AotTraining() {}

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: AotTraining DEMO_KERNEL [DISK]");
            BhyveMain.exit(ExitStatus.ERROR.code());
        }
        String kernel = "boot.kernel=" + args[0];
        List<String> demoShape = new ArrayList<>(List.of("-A", "-c", "2", "-m", "64M", "-s", "0,hostbridge",
                "-s", "1,lpc", "-s", "3,virtio-net", "-l", "com1,stdio", "-l", "pc-testdev", "-o", kernel,
                "-o", "security.seccomp=false", "aot-training"));
        if (args.length == 2) {
            demoShape.addAll(0, List.of("-s", "2,virtio-blk," + args[1]));
        }
        int withAcpi = boot(demoShape.toArray(String[]::new));
        int withoutAcpi = onTerminal(() -> boot("-c", "1", "-m", "64M", "-s", "0,hostbridge", "-s", "1,lpc",
                "-l", "com1,stdio", "-l", "pc-testdev", "-o", kernel, "-o", "security.seccomp=false", "aot-training"));
        boot("-m", "64M", "-s", "0,hostbridge", "-s", "1,lpc", "-s", "3,virtio-net," + MISSING_TAP,
                "-l", "com1,stdio", "-o", kernel, "-o", "security.seccomp=false", "aot-training"); // refused
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
