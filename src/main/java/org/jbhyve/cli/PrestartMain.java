package org.jbhyve.cli;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.jbhyve.backend.chr.StdioBackend;
import org.jbhyve.control.Registry;
import org.jbhyve.control.RunDirectory;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;
import org.jbhyve.sys.UnixSeqpacket;
import org.jbhyve.vcpu.ExitStatus;

/**
 * A pre-started bhyve process ({@code bin/bhyve-prestart}): a JVM that has started, loaded and
 * linked bhyve's classes, made its system-call bindings and booted a small guest once ({@link
 * Warmup}), and waits for one command line.
 *
 * <p>It listens on {@code DIRECTORY/ready-PID.sock} (a sequenced-packet socket, the directory mode
 * 0700). {@code bin/bhyve} finds the socket, claims it by renaming it {@code taken-PID.sock} (so
 * that callers started together take one process each), and hands over its arguments, working
 * directory, environment and descriptors 0-2 ({@link Handoff}); this process checks the caller is
 * the same user and shares the environment that decides where VMs are registered and how the JVM
 * runs, answers {@code "ok PID"}, takes the descriptors and the directory as its own, and runs the
 * command exactly as {@link BhyveMain} would. It sends {@code "started"} once the vCPUs run; the
 * caller then starts the next pre-started process (so one is ready for the next VM; not this
 * process, whose system-call filter forbids making processes). That one must not compete with this
 * VM's start or those of VMs started with it: it warms up at nice 19 and returns to nice 0 when it
 * takes a VM, where it may (root, or an RLIMIT_NICE of 20: an unprivileged process cannot lower its
 * nice value by default), and starts two seconds later elsewhere. At the end it sends {@code
 * "status N"} and exits with N; the caller exits with the same status. One process per VM, as
 * without it: the VM's threads, memory and failures stay in their own process.
 *
 * <p>A request it cannot serve (another user, another environment, a jar rebuilt since this
 * process started, a malformed message) gets {@code "no REASON"}, and the caller starts bhyve
 * the usual way; a process whose jar is stale then starts a fresh successor and ends.
 */
public final class PrestartMain {
    private static final int MESSAGE_LIMIT = 256 * 1024;
    private static final long REQUEST_TIMEOUT_MILLIS = 10_000;
    /**
     * Warm-up boots: after two, fewer of the methods a VM's start runs still cross the JIT's
     * threshold during the hand-off (see {@link Warmup}); a third bought nothing measurable.
     */
    private static final int WARMUP_BOOTS = 2;
    /** The status of a process killed by SIGKILL, as a shell reports it (nobody waits for this one). */
    private static final int KILLED_STATUS = 128 + 9;

    private PrestartMain() {}

    /**
     * {@code PrestartMain DIRECTORY SUCCESSOR-COMMAND [WARM-UP-KERNEL]}: the socket directory, what
     * starts a fresh process in place of a stale one, and a guest to boot once while warming up.
     */
    public static void main(String[] args) {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: PrestartMain directory successor-command [warm-up-kernel]");
            System.exit(ExitStatus.ERROR.code());
        }
        Accepted accepted;
        try {
            accepted = awaitCommand(Path.of(args[0]), args[1], args.length > 2 ? Path.of(args[2]) : null);
        } catch (IOException | URISyntaxException | RuntimeException e) {
            System.err.println("bhyve-prestart: " + e.getMessage()); // to the log of bin/bhyve-prestart
            System.exit(ExitStatus.ERROR.code());
            return;
        }
        if (accepted == null) {
            return; // stale: a fresh one was started instead
        }
        run(accepted);
    }

    /** A caller whose command this process runs, with its hand-off and descriptors 0-2. */
    private record Accepted(UnixSeqpacket caller, Handoff handoff, Fd[] stdio) {}

    /**
     * Warms up, listens, and serves the first caller it can: its descriptors and working
     * directory are this process's when this returns. Null when this process's jar was replaced
     * (a fresh process has been started in its place).
     */
    private static Accepted awaitCommand(Path directory, String successor, Path warmupKernel)
            throws IOException, URISyntaxException {
        Path jar = ownJar();
        long jarStamp = stamp(jar);
        // Until the socket is there, this marker lets bin/bhyve-prestart -s find the process.
        Path starting = directory.resolve("starting-" + Posix.getpid());
        Files.deleteIfExists(starting);
        Files.createFile(starting);
        Warmup.run(jar);
        if (warmupKernel != null) {
            for (int boot = 0; boot < WARMUP_BOOTS; boot++) {
                Warmup.bootOnce(warmupKernel);
            }
        }
        Warmup.registryOnce(directory);
        Warmup.handoffOnce(directory, MESSAGE_LIMIT);
        // What the warm-up left is garbage: a full collection lets the heap shrink back before
        // the process waits, possibly for long, and before the VM it will run adds its own.
        System.gc();
        Path socketPath = directory.resolve("ready-" + Posix.getpid() + ".sock");
        Path claimedPath = directory.resolve("taken-" + Posix.getpid() + ".sock"); // as a caller renames it
        try (UnixSeqpacket listener = UnixSeqpacket.listen(socketPath.toString(), 8)) {
            Files.deleteIfExists(starting);
            while (true) {
                UnixSeqpacket connection = listener.accept();
                Request request = read(connection, jar, jarStamp);
                if (request.refusal() == null) {
                    removeNames(socketPath, claimedPath);
                    return new Accepted(connection, request.handoff(), request.fds());
                }
                refuse(connection, request);
                if (request.stale()) {
                    removeNames(socketPath, claimedPath);
                    startSuccessor(successor);
                    return null;
                }
            }
        }
    }

    /** The listening socket's names, as it was made ({@code ready-PID.sock}) and as a caller claims it. */
    private static void removeNames(Path ready, Path claimed) throws IOException {
        Files.deleteIfExists(ready);
        Files.deleteIfExists(claimed);
    }

    /** Takes the caller's descriptors and runs its command as {@link BhyveMain#main} would. */
    private static void run(Accepted accepted) {
        UnixSeqpacket caller = accepted.caller();
        normalPriority();
        for (int target = 0; target < 3; target++) {
            Posix.dup2(accepted.stdio()[target], target);
            accepted.stdio()[target].close();
        }
        AtomicBoolean exiting = new AtomicBoolean();
        try {
            caller.receiveTimeout(0);
            caller.send(("ok " + Posix.getpid()).getBytes(StandardCharsets.US_ASCII));
        } catch (SysException gone) {
            Runtime.getRuntime().halt(KILLED_STATUS); // the caller died in between: nobody to run it for
        }
        BhyveMain.beforeExit(status -> {
            exiting.set(true);
            tell(caller, "status " + status);
        });
        BhyveMain.whenVmStarted(() -> tell(caller, "started"));
        Thread.ofPlatform().daemon().name("caller watch").start(() -> dieWithCaller(caller, exiting));
        String[] args = accepted.handoff().args().toArray(String[]::new);
        BhyveMain.exit(BhyveMain.execute(args, System.out, System.err, Registry::open));
    }

    /**
     * A successor warms up at the lowest priority (bin/bhyve-prestart -q, where the process may
     * take the normal one back): the VM it now runs gets the normal one, every thread back to
     * nice 0 (threads made later inherit it from their creators).
     */
    private static void normalPriority() {
        if (Posix.threadNice() <= 0) {
            return;
        }
        setSessionNice(0);
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            tasks.forEach(task -> {
                try {
                    Posix.setThreadNice(Integer.parseInt(task.getFileName().toString()), 0);
                } catch (SysException e) {
                    if (e.errno() != Errno.ESRCH) { // a thread that ended meanwhile needs nothing
                        throw e;
                    }
                }
            });
        } catch (IOException | SysException e) {
            System.err.println("bhyve: this VM runs at a lower priority than usual: " + e.getMessage());
        }
    }

    /**
     * With Linux's autogroups (the default where processes stay in the root cgroup) the scheduler
     * shares the CPUs between sessions first, and nice values count only within one: a ready
     * process is a session of its own (setsid), and bin/bhyve-prestart -q lowers that session's
     * nice value before the JVM starts; this raises it back. Where there is no autogroup file,
     * or it does not apply, threads' nice values do that alone.
     */
    private static void setSessionNice(int nice) {
        Path autogroup = Path.of("/proc/self/autogroup");
        try {
            if (Files.exists(autogroup)) {
                Files.write(autogroup, Integer.toString(nice).getBytes(StandardCharsets.US_ASCII), StandardOpenOption.WRITE);
            }
        } catch (IOException e) {
            System.err.println("bhyve: cannot set this session's nice value to " + nice + ": " + e.getMessage());
        }
    }

    /** What a connection asked for: a hand-off to run, or why not (with the descriptors it sent). */
    private record Request(Handoff handoff, Fd[] fds, String refusal, boolean stale) {}

    private static Request read(UnixSeqpacket connection, Path jar, long jarStamp) {
        Fd[] fds = new Fd[0];
        try {
            connection.receiveTimeout(REQUEST_TIMEOUT_MILLIS);
            if (connection.peerUid() != RunDirectory.uid()) {
                return new Request(null, fds, "another user's pre-started process", false);
            }
            UnixSeqpacket.Message message = connection.receive(MESSAGE_LIMIT);
            fds = message.fds();
            Handoff handoff = Handoff.decode(message.data());
            if (fds.length != 3) {
                return new Request(null, fds, "expected descriptors 0, 1 and 2, got " + fds.length, false);
            }
            if (stamp(jar) != jarStamp) {
                return new Request(null, fds, "jbhyve was rebuilt after this process started", true);
            }
            String mismatch = handoff.mismatch(System.getenv());
            if (mismatch == null) {
                Posix.chdir(handoff.directory()); // the caller's directory, for its relative paths
            }
            return new Request(handoff, fds, mismatch, false);
        } catch (SysException | IllegalArgumentException e) {
            return new Request(null, fds, e.getMessage(), false);
        }
    }

    private static void refuse(UnixSeqpacket connection, Request request) {
        Arrays.stream(request.fds()).forEach(Fd::close);
        try (connection) {
            connection.send(("no " + request.refusal()).getBytes(StandardCharsets.UTF_8));
        } catch (SysException gone) {
            // the caller left already; it starts bhyve itself either way
        }
    }

    /**
     * Waits for the caller to hang up (it sends nothing after its request, so the next receive
     * returns only when it has gone) and, unless this VM is exiting anyway, ends the VM the way
     * SIGKILL ends a bhyve: at once. Without this, killing bin/bhyve with SIGKILL (which cannot be
     * passed on) would leave its VM running with nobody to report to.
     */
    private static void dieWithCaller(UnixSeqpacket caller, AtomicBoolean exiting) {
        try {
            caller.receive(16);
        } catch (SysException e) {
            // a broken connection is a caller gone too
        }
        if (!exiting.get()) {
            StdioBackend.restoreAll();
            Runtime.getRuntime().halt(KILLED_STATUS);
        }
    }

    private static void tell(UnixSeqpacket caller, String news) {
        try {
            caller.send(news.getBytes(StandardCharsets.US_ASCII));
        } catch (SysException gone) {
            // the caller was killed: nobody is waiting for the status
        }
    }

    /** Starts a fresh pre-started process in place of this stale one (bin/bhyve-prestart detaches it). */
    private static void startSuccessor(String command) {
        try {
            new ProcessBuilder(command, "-q")
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            System.err.println("bhyve: cannot start the next pre-started process: " + e.getMessage());
        }
    }

    /** This program's jar (or class directory, under tests). */
    static Path ownJar() throws URISyntaxException {
        return Path.of(PrestartMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** The jar's modification time and size: a rebuilt jar changes it. */
    private static long stamp(Path jar) {
        try {
            return Files.getLastModifiedTime(jar).toMillis() * 31 + Files.size(jar);
        } catch (IOException e) {
            return -1;
        }
    }

}
