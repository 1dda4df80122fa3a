package org.jbhyve.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.jbhyve.control.Claim;
import org.jbhyve.control.Registry;
import org.jbhyve.control.RunDirectory;
import org.jbhyve.machine.MachineSpec;
import org.jbhyve.machine.VirtualMachine;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.UnixSeqpacket;
import org.jbhyve.sys.UnixStreamSocket;

/**
 * What a pre-started process ({@link PrestartMain}) does before a command arrives, so the
 * command does not pay for it: initialise the classes of the system-call and KVM bindings (each
 * makes its downcall handles when initialised, the costliest part of a class's first use), and
 * parse a typical command line into a machine description (the option, config and device-table
 * code), boot a small guest, take a VM name in a registry of its own and a hand-off from itself.
 * Nothing here opens a device or a file of the user's; the registry and the socket are its own, in
 * the ready processes' directory, and removed at once. A failure only means less is warm.
 *
 * <p>What is warm matters most when several VMs start at once: their hand-offs then share the
 * CPUs, and whatever a hand-off does for the first time in its process (spinning method-handle
 * forms for a downcall's first call, loading classes, compiling methods whose call counts cross
 * the JIT's threshold) is paid by every VM. Measured on a translated CPU, one hand-off to the
 * first guest byte took 1.0-1.5 s of CPU after one warm-up boot; 0.8 s after two boots and a
 * hand-off round trip.
 */
final class Warmup {
    /** Packages whose classes only hold bindings: initialising them has no effect outside the JVM. */
    private static final List<String> BINDING_PACKAGES = List.of("org/jbhyve/sys/", "org/jbhyve/kvm/");
    private static final String[] TYPICAL_COMMAND = {"-c", "2", "-m", "256M", "-A", "-H", "-P",
        "-s", "0,hostbridge", "-s", "1,lpc", "-s", "2,virtio-blk,/dev/null", "-s", "3,virtio-net,tap0",
        "-s", "4,virtio-rnd", "-s", "5,ahci,hd:/dev/null", "-l", "com1,stdio", "warmup"};

    /** A warm-up hand-off that takes longer than this has gone wrong (it is all in this process). */
    private static final long HANDOFF_TIMEOUT_MILLIS = 10_000;

    private Warmup() {}

    /**
     * Boots {@code kernel} once in a small VM of this process and lets it run to its end, so the
     * code that builds, runs and tears down a VM has run once before a command arrives. Its
     * console is this process's standard output (bin/bhyve-prestart makes it /dev/null).
     */
    static void bootOnce(Path kernel) {
        try {
            if (BhyveCommandLine.parse("-A", "-c", "1", "-m", "32M", "-s", "0,hostbridge", "-s", "1,lpc",
                    "-l", "com1,stdio", "-o", "boot.kernel=" + kernel, "-o", "security.seccomp=false", "warmup")
                    instanceof ParsedCommand.Run run) {
                try (VirtualMachine vm = new VirtualMachine(MachineSpec.from(run.tree()))) {
                    vm.run();
                }
            }
        } catch (RuntimeException | InterruptedException e) {
            System.err.println("bhyve-prestart: warm-up boot: " + e.getMessage());
        }
    }

    /**
     * Takes one hand-off from itself, through a socket of its own in {@code directory}: the
     * downcalls and classes a real one uses (listen, accept, peer credentials, a receive timeout,
     * a message with descriptors 0-2 attached, the reply) have run once. True when they did.
     */
    static boolean handoffOnce(Path directory, int messageLimit) {
        Path socket = directory.resolve("warmup-" + Posix.getpid() + ".sock");
        try (UnixSeqpacket listener = UnixSeqpacket.listen(socket.toString(), 1);
                UnixSeqpacket client = UnixSeqpacket.connect(socket.toString());
                UnixSeqpacket server = listener.accept()) {
            server.receiveTimeout(HANDOFF_TIMEOUT_MILLIS);
            client.receiveTimeout(HANDOFF_TIMEOUT_MILLIS);
            server.peerUid();
            client.send(new Handoff("/", List.of(TYPICAL_COMMAND), System.getenv()).encode(), 0, 1, 2);
            UnixSeqpacket.Message message = server.receive(messageLimit);
            Handoff.decode(message.data()).mismatch(System.getenv());
            Arrays.stream(message.fds()).forEach(Fd::close);
            server.receiveTimeout(0);
            server.send("ok 0".getBytes(StandardCharsets.US_ASCII));
            return new String(client.receive(messageLimit).data(), StandardCharsets.US_ASCII).equals("ok 0");
        } catch (RuntimeException e) {
            System.err.println("bhyve-prestart: warm-up hand-off: " + e.getMessage());
            return false;
        } finally {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                // the directory went away: nothing is left in it either
            }
        }
    }

    /**
     * Takes a VM name in a registry of its own (under {@code directory}, removed after) and gives
     * it back, then again over a stale entry. The first claim in a process loads the classes for
     * sockets, JSON and process handles: 0.3-1 s on a translated CPU, paid in every hand-off
     * otherwise (and, before {@link Registry#claim} did that work outside its lock, by every VM
     * started at the same moment, one after the other). True when both claims went through.
     */
    static boolean registryOnce(Path directory) {
        Path rundir = directory.resolve("warmup-" + Posix.getpid());
        try {
            Registry registry = Registry.at(rundir);
            try (Claim claim = registry.claim("warmup")) {
                registry.inspect("warmup"); // a running VM's entry: run info read, socket answering
                claim.release(true);
            }
            // The entry of a VM killed before it gave its name back (kill -9): a socket that
            // refuses connections. The next claim of the name finds it stale and replaces it.
            UnixStreamSocket.listen(registry.directory().resolve("warmup").toString(), 1).close();
            try (Claim claim = registry.claim("warmup")) {
                claim.release(true);
            }
            return true;
        } catch (RuntimeException e) {
            System.err.println("bhyve-prestart: warm-up registry: " + e.getMessage());
            return false;
        } finally {
            try (Stream<Path> files = Files.walk(rundir)) {
                for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(file);
                }
            } catch (IOException | UncheckedIOException e) {
                // made nothing, or something is left in our own directory: harmless
            }
        }
    }

    /** Warms up from {@code location}, this program's jar (or class directory, under tests). */
    static void run(Path location) {
        for (String name : bindingClasses(location)) {
            try {
                Class.forName(name, true, Warmup.class.getClassLoader());
            } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
                // not warm, still usable: the command initialises it when it needs it
            }
        }
        try {
            if (BhyveCommandLine.parse(TYPICAL_COMMAND) instanceof ParsedCommand.Run run) {
                MachineSpec.from(run.tree());
            }
            // the checks a hand-off goes through before its command runs
            Handoff.decode(new Handoff("/", List.of(TYPICAL_COMMAND), System.getenv()).encode()).mismatch(System.getenv());
            RunDirectory.uid();
        } catch (RuntimeException e) {
            // same: only less is warm
        }
    }

    /** The binding classes in the jar (or class directory) at {@code location}. */
    static List<String> bindingClasses(Path location) {
        return classesIn(location, BINDING_PACKAGES);
    }

    /**
     * The classes in the jar (or class directory) at {@code location} whose entries start with one
     * of {@code packages} ("org/jbhyve/sys/": that package and the ones below it). Empty when the
     * location cannot be read.
     */
    static List<String> classesIn(Path location, List<String> packages) {
        List<String> names = new ArrayList<>();
        try {
            if (Files.isDirectory(location)) {
                try (Stream<Path> files = Files.walk(location)) {
                    files.map(p -> location.relativize(p).toString()).forEach(entry -> addIfIn(entry, packages, names));
                }
            } else {
                try (JarFile jar = new JarFile(location.toFile())) {
                    jar.stream().forEach(entry -> addIfIn(entry.getName(), packages, names));
                }
            }
        } catch (IOException | UncheckedIOException | SecurityException e) {
            // no list: nothing is loaded ahead
        }
        return names;
    }

    private static void addIfIn(String entry, List<String> packages, List<String> names) {
        if (entry.endsWith(".class") && packages.stream().anyMatch(entry::startsWith) && !entry.contains("package-info")) {
            names.add(entry.substring(0, entry.length() - ".class".length()).replace('/', '.'));
        }
    }
}
