package org.jbhyve.cli;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * tables, two vCPUs (-A -c 2), a disk (virtio-blk) and a network card (virtio-net, no
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
 * (its frames' first passage may still load a class from it). A fourth start boots a ROM
 * ({@code -l bootrom}, the firmware path) whose first instruction ends the VM. Last, the device
 * packages' classes that only moving data uses are loaded ({@link #loadDataPathClasses}).
 *
 * <p>It cannot confine itself, since the JVM writes the cache through a second JVM it starts at
 * exit, so it builds the seccomp filter without installing it.
 *
 * <p>Usage: {@code AotTraining DEMO_KERNEL [SCRATCH_DIRECTORY]}. The VMs' console is this
 * process's standard output; the exit status is bhyve's error status (4) when either boot of the
 * demo guest failed, else the second's. In SCRATCH_DIRECTORY the run makes the first boot's disk
 * and the boot ROM of a fourth start (without it, neither is trained).
 */
final class AotTraining {
    private static final int STDIN = 0;
    /** A tap interface name no host has (so the start that asks for it is refused). */
    private static final String MISSING_TAP = "jbhyve-notap";
    private static final int DISK_BYTES = 1 << 20;
    private static final int ROM_BYTES = 4096;
    /** Packages whose classes the training loads whether or not its guests use them (jar paths). */
    private static final List<String> DATA_PATH_PACKAGES = List.of("org/jbhyve/virtio/",
            "org/jbhyve/devices/virtio/block/", "org/jbhyve/devices/virtio/net/", "org/jbhyve/backend/block/",
            "org/jbhyve/backend/net/", "org/jbhyve/devices/input/");

    private AotTraining() {}

    public static void main(String[] args) {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: AotTraining DEMO_KERNEL [SCRATCH_DIRECTORY]");
            BhyveMain.exit(ExitStatus.ERROR.code());
        }
        String kernel = "boot.kernel=" + args[0];
        Path scratch = args.length == 2 ? Path.of(args[1]) : null;
        List<String> demoShape = new ArrayList<>(List.of("-A", "-c", "2", "-s", "3,virtio-net", "-l", "pc-testdev",
                "-o", kernel));
        Path disk = scratch == null ? null : write(scratch.resolve("disk.img"), new byte[DISK_BYTES]);
        if (disk != null) {
            demoShape.addAll(List.of("-s", "2,virtio-blk," + disk));
        }
        int withAcpi = boot(demoShape.toArray(String[]::new));
        int withoutAcpi = onTerminal(() -> boot("-c", "1", "-l", "pc-testdev", "-o", kernel));
        boot("-s", "3,virtio-net," + MISSING_TAP, "-o", kernel); // refused
        Path rom = scratch == null ? null : write(scratch.resolve("reset.rom"), exitingRom());
        if (rom != null) {
            boot("-l", "pc-testdev", "-l", "bootrom," + rom);
        }
        loadDataPathClasses();
        Seccomp.buildWithoutInstalling();
        int error = ExitStatus.ERROR.code();
        BhyveMain.exit(withAcpi == error ? error : withoutAcpi);
    }

    /**
     * The smallest boot ROM: 4 KiB, mapped just below 4 GiB, whose reset vector (the ROM's last 16
     * bytes, where a CPU starts) writes 0 to the test device's exit port 0xF4: the VM ends at its
     * first instructions, after the firmware's start path has run.
     */
    static byte[] exitingRom() {
        byte[] rom = new byte[ROM_BYTES];
        byte[] resetVector = {
            (byte) 0xb0, 0x00,       // mov al, 0
            (byte) 0xe6, (byte) 0xf4, // out 0xf4, al
            (byte) 0xf4,             // hlt
        };
        System.arraycopy(resetVector, 0, rom, ROM_BYTES - 16, resetVector.length);
        return rom;
    }

    /**
     * Loads, without running them, the classes of the demo VM's devices that only their data
     * paths use (descriptor chains, block requests, a tap's send batches) and the PS/2 keyboard's
     * scan-code map (which firmware reaches when it sets up the keyboard): the demo guest reads
     * its devices' configuration and moves no data, and the first class missing from the cache
     * would open the jar in the middle of a VM's first disk or network I/O.
     */
    private static void loadDataPathClasses() {
        try {
            for (String name : Warmup.classesIn(PrestartMain.ownJar(), DATA_PATH_PACKAGES)) {
                Class.forName(name, false, AotTraining.class.getClassLoader());
            }
        } catch (URISyntaxException | ReflectiveOperationException | LinkageError | RuntimeException e) {
            System.err.println("AotTraining: data-path classes: " + e);
        }
    }

    /** Writes {@code content} to {@code file}; null (and a message) when it cannot. */
    private static Path write(Path file, byte[] content) {
        try {
            return Files.write(file, content);
        } catch (IOException e) {
            System.err.println("AotTraining: " + file + ": " + e.getMessage());
            return null;
        }
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

    /**
     * Runs bhyve with {@code shape} added to what every training VM has: 64 MiB, the hostbridge
     * and the LPC bridge, COM1 on standard input and output, no seccomp filter, and its name.
     */
    private static int boot(String... shape) {
        List<String> args = new ArrayList<>(List.of("-m", "64M", "-s", "0,hostbridge", "-s", "1,lpc",
                "-l", "com1,stdio", "-o", "security.seccomp=false"));
        args.addAll(List.of(shape));
        args.add("aot-training");
        return BhyveMain.runCommand(args.toArray(String[]::new));
    }
}
