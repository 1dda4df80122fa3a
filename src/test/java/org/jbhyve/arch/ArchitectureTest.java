package org.jbhyve.arch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of DESIGN.md, checked on the sources' import lines (ArchUnit 1.3 cannot
 * read class files compiled for JDK 25, so the rules are checked where they are written):
 *
 * <ul>
 *   <li>only {@code sys} holds downcalls (java.lang.foreign.Linker);</li>
 *   <li>{@code sys} depends on no other project package; {@code kvm} only on {@code sys};</li>
 *   <li>device models ({@code devices..}) never import {@code kvm} or {@code sys}: interrupts,
 *       guest memory and backends are handed to them;</li>
 *   <li>nothing below {@code cli} imports {@code cli};</li>
 *   <li>{@code control} (registry and control socket) sits between {@code cli} and
 *       {@code machine}: only {@code cli} imports it, and it reaches vCPUs only through
 *       {@code machine}'s {@code MachineControl}, never through {@code kvm}; from {@code sys} it
 *       takes only the Unix stream socket it listens on (the JDK's socket channels cost 40 ms of
 *       CPU at their first use: a SecureRandom and the selector provider's service loader).</li>
 *   <li>{@code gdb} (the debug server) sits below {@code machine}, which starts it with the VM:
 *       only {@code machine} imports it, and it reaches the VM through {@code vcpu},
 *       {@code kvm} (register structs, guest-debug ioctls inside vCPU requests) and
 *       {@code memory} alone: never {@code sys}, {@code machine}, devices or the layers above.</li>
 * </ul>
 */
class ArchitectureTest {
    private static final Path SOURCES = Path.of(System.getProperty("jbhyve.home", ".")).resolve("src/main/java");
    /** What {@code control} may take from {@code sys}: the Unix stream socket and its error. */
    private static final Set<String> CONTROL_SYS_CLASSES = Set.of("UnixStreamSocket", "SysException");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?(org\\.jbhyve\\.[a-z0-9_.]+?)\\.[A-Z]",
            Pattern.MULTILINE);

    private record Source(String pkg, Path file, String text) {
        List<String> importedPackages() {
            List<String> out = new ArrayList<>();
            Matcher m = IMPORT.matcher(text);
            while (m.find()) {
                out.add(m.group(1));
            }
            return out;
        }
    }

    private static List<Source> sources() {
        try (Stream<Path> files = Files.walk(SOURCES)) {
            return files.filter(p -> p.toString().endsWith(".java")).map(p -> {
                try {
                    String pkg = SOURCES.relativize(p.getParent()).toString().replace('/', '.');
                    return new Source(pkg, p, Files.readString(p));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean in(String pkg, String root) {
        return pkg.equals(root) || pkg.startsWith(root + ".");
    }

    private static List<String> violations(java.util.function.Predicate<Source> scope,
                                           java.util.function.Predicate<String> forbidden) {
        List<String> bad = new ArrayList<>();
        for (Source s : sources()) {
            if (scope.test(s)) {
                for (String imported : s.importedPackages()) {
                    if (forbidden.test(imported)) {
                        bad.add(SOURCES.relativize(s.file()) + " imports " + imported);
                    }
                }
            }
        }
        return bad;
    }

    @Test
    void sourcesAreFound() {
        assertTrue(sources().size() > 50, "scanned " + SOURCES.toAbsolutePath());
    }

    @Test
    void onlySysLinksNativeCode() {
        List<String> bad = sources().stream()
                .filter(s -> !in(s.pkg(), "org.jbhyve.sys") && s.text().contains("java.lang.foreign.Linker"))
                .map(s -> s.file().toString()).toList();
        assertEquals(List.of(), bad);
    }

    @Test
    void sysDependsOnNothingElse() {
        assertEquals(List.of(), violations(s -> in(s.pkg(), "org.jbhyve.sys"), imp -> !in(imp, "org.jbhyve.sys")));
    }

    @Test
    void kvmDependsOnlyOnSys() {
        assertEquals(List.of(), violations(s -> in(s.pkg(), "org.jbhyve.kvm"),
                imp -> !in(imp, "org.jbhyve.kvm") && !in(imp, "org.jbhyve.sys")));
    }

    @Test
    void deviceModelsNeverTouchKvmOrSys() {
        assertEquals(List.of(), violations(s -> in(s.pkg(), "org.jbhyve.devices"),
                imp -> in(imp, "org.jbhyve.kvm") || in(imp, "org.jbhyve.sys")));
    }

    @Test
    void onlyCliImportsControl() {
        assertEquals(List.of(), violations(s -> !in(s.pkg(), "org.jbhyve.cli") && !in(s.pkg(), "org.jbhyve.control"),
                imp -> in(imp, "org.jbhyve.control")));
    }

    /**
     * bhyve ends by halting the JVM once it has run the shutdown work itself (BhyveMain.exit):
     * the terminals' restore and the registry's release, registered in these two files. A hook
     * added anywhere else would silently not run at a normal end.
     */
    @Test
    void shutdownHooksOnlyWhereBhyveMainExitRunsThem() {
        List<String> bad = sources().stream()
                .filter(s -> s.text().contains("addShutdownHook("))
                .map(s -> SOURCES.relativize(s.file()).toString())
                .filter(f -> !f.equals("org/jbhyve/backend/chr/TerminalModes.java")
                        && !f.equals("org/jbhyve/cli/BhyveMain.java"))
                .toList();
        assertEquals(List.of(), bad);
    }

    @Test
    void controlNeverTouchesKvm() {
        assertEquals(List.of(), violations(s -> in(s.pkg(), "org.jbhyve.control"), imp -> in(imp, "org.jbhyve.kvm")));
    }

    @Test
    void controlTakesOnlyTheSocketFromSys() {
        Pattern sysImport = Pattern.compile("^import (?:static )?org\\.jbhyve\\.sys\\.([A-Za-z0-9_]+)", Pattern.MULTILINE);
        List<String> bad = new ArrayList<>();
        for (Source s : sources()) {
            if (in(s.pkg(), "org.jbhyve.control")) {
                Matcher m = sysImport.matcher(s.text());
                while (m.find()) {
                    if (!CONTROL_SYS_CLASSES.contains(m.group(1))) {
                        bad.add(SOURCES.relativize(s.file()) + " imports sys." + m.group(1));
                    }
                }
            }
        }
        assertEquals(List.of(), bad);
    }

    @Test
    void onlyCliImportsCli() {
        assertEquals(List.of(), violations(s -> !in(s.pkg(), "org.jbhyve.cli"), imp -> in(imp, "org.jbhyve.cli")));
    }

    @Test
    void onlyMachineImportsGdb() {
        assertEquals(List.of(), violations(s -> !in(s.pkg(), "org.jbhyve.machine") && !in(s.pkg(), "org.jbhyve.gdb"),
                imp -> in(imp, "org.jbhyve.gdb")));
    }

    @Test
    void gdbReachesTheVmOnlyThroughVcpuKvmAndMemory() {
        assertEquals(List.of(), violations(s -> in(s.pkg(), "org.jbhyve.gdb"),
                imp -> !in(imp, "org.jbhyve.gdb") && !in(imp, "org.jbhyve.vcpu") && !in(imp, "org.jbhyve.kvm")
                        && !in(imp, "org.jbhyve.memory") && !in(imp, "org.jbhyve.log")));
    }

    @Test
    void logDependsOnNothingElse() {
        assertEquals(List.of(), violations(s -> in(s.pkg(), "org.jbhyve.log"), imp -> in(imp, "org.jbhyve")
                && !in(imp, "org.jbhyve.log")));
    }
}
