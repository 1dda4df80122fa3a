package org.jbhyve.cli;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.jbhyve.control.Registry;
import org.jbhyve.control.RunDirectory;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;
import org.jbhyve.sys.UnixSeqpacket;

/**
 * A pre-started bhyve process ({@code bin/bhyve-prestart}): a JVM that has started, loaded and
 * linked bhyve's classes and made its system-call bindings, and waits for one command line.
 *
 * <p>It listens on {@code DIRECTORY/ready-PID.sock} (a sequenced-packet socket, the directory
 * mode 0700). {@code bin/bhyve} finds the socket and hands over its arguments, working directory,
 * environment and descriptors 0-2 ({@link Handoff}); this process checks the caller is the same
 * user and shares the environment that decides where VMs are registered and how the JVM runs,
 * answers {@code "ok PID"}, takes the descriptors and the directory as its own, and runs the
 * command exactly as {@link BhyveMain} would. The caller starts the next pre-started process (so
 * one is ready for the next VM): not this one, since the VM's system-call filter forbids making
 * processes soon after, and starting one costs this process time the VM is waiting for. At the end it sends {@code "status N"} and exits with N; the caller exits
 * with the same status. One process per VM, as without it: the VM's threads, memory and
 * failures stay in their own process.
 *
 * <p>A request it cannot serve (another user, another environment, a jar rebuilt since this
 * process started, a malformed message) gets {@code "no REASON"}, and the caller starts bhyve
 * the usual way; a process whose jar is stale then starts a fresh successor and ends.
 */
public final class PrestartMain {
    private static final int MESSAGE_LIMIT = 256 * 1024;
    private static final long REQUEST_TIMEOUT_MILLIS = 10_000;

    private PrestartMain() {}

    /** {@code PrestartMain DIRECTORY SUCCESSOR-COMMAND}: the socket directory, what starts the next one. */
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: PrestartMain directory successor-command");
            System.exit(4);
        }
        Path directory = Path.of(args[0]);
        String successor = args[1];
        Path jar = ownJar();
        long jarStamp = stamp(jar);
        Warmup.run();
        int pid = Posix.getpid();
        Path socketPath = directory.resolve("ready-" + pid + ".sock");
        UnixSeqpacket caller;
        Handoff handoff;
        Fd[] stdio;
        try (UnixSeqpacket listener = UnixSeqpacket.listen(socketPath.toString(), 8)) {
            while (true) {
                UnixSeqpacket connection = listener.accept();
                Request request = read(connection, jar, jarStamp);
                if (request.refusal() == null) {
                    caller = connection;
                    handoff = request.handoff();
                    stdio = request.fds();
                    break;
                }
                refuse(connection, request);
                if (request.stale()) {
                    Files.deleteIfExists(socketPath);
                    startSuccessor(successor);
                    return;
                }
            }
            Files.deleteIfExists(socketPath);
        }
        for (int target = 0; target < 3; target++) {
            Posix.dup2(stdio[target], target);
            stdio[target].close();
        }
        Posix.chdir(handoff.directory());
        caller.send(("ok " + pid).getBytes(StandardCharsets.US_ASCII));
        BhyveMain.beforeExit(status -> report(caller, status));
        int status = BhyveMain.execute(handoff.args().toArray(String[]::new), System.out, System.err, Registry::open);
        BhyveMain.exit(status);
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

    private static void report(UnixSeqpacket caller, int status) {
        try {
            caller.send(("status " + status).getBytes(StandardCharsets.US_ASCII));
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

    private static Path ownJar() throws URISyntaxException {
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
