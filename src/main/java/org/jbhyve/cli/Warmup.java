package org.jbhyve.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.jbhyve.control.RunDirectory;
import org.jbhyve.machine.MachineSpec;
import org.jbhyve.machine.VirtualMachine;

/**
 * What a pre-started process ({@link PrestartMain}) does before a command arrives, so the
 * command does not pay for it: initialise the classes of the system-call and KVM bindings (each
 * makes its downcall handles when initialised, the costliest part of a class's first use), and
 * parse a typical command line into a machine description (the option, config and device-table
 * code). Nothing here opens a device, a file of the user's or a socket; a failure only means less
 * is warm.
 */
final class Warmup {
    /** Packages whose classes only hold bindings: initialising them has no effect outside the JVM. */
    private static final List<String> BINDING_PACKAGES = List.of("org/jbhyve/sys/", "org/jbhyve/kvm/");
    private static final String[] TYPICAL_COMMAND = {"-c", "2", "-m", "256M", "-A", "-H", "-P",
        "-s", "0,hostbridge", "-s", "1,lpc", "-s", "2,virtio-blk,/dev/null", "-s", "3,virtio-net,tap0",
        "-s", "4,virtio-rnd", "-s", "5,ahci,hd:/dev/null", "-l", "com1,stdio", "warmup"};

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
        List<String> names = new ArrayList<>();
        try {
            if (Files.isDirectory(location)) {
                try (Stream<Path> files = Files.walk(location)) {
                    files.map(p -> location.relativize(p).toString()).forEach(entry -> addIfBinding(entry, names));
                }
            } else {
                try (JarFile jar = new JarFile(location.toFile())) {
                    jar.stream().forEach(entry -> addIfBinding(entry.getName(), names));
                }
            }
        } catch (IOException | UncheckedIOException | SecurityException e) {
            // no list, no warm-up of the bindings
        }
        return names;
    }

    private static void addIfBinding(String entry, List<String> names) {
        if (entry.endsWith(".class") && BINDING_PACKAGES.stream().anyMatch(entry::startsWith)
                && !entry.contains("package-info")) {
            names.add(entry.substring(0, entry.length() - ".class".length()).replace('/', '.'));
        }
    }
}
