package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jbhyve.sys.PseudoTerminal;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What bhyve's options do to the VMM process, read from /proc while a guest spins: -p pins a vCPU
 * thread, -S wires guest memory, guest memory is left out of core dumps unless -C; and stdio's
 * raw terminal mode is restored when bhyve ends.
 */
class HostResourcesIT {
    @BeforeAll
    static void kvm() {
        VmRun.requireKvm();
    }

    /** Starts a guest that spins, waits until it does, runs {@code check} on the pid, then stops it. */
    private static void whileSpinning(List<String> options, java.util.function.LongConsumer check) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(VmRun.HOME.resolve("bin/bhyve").toString(), "-m", "64M",
                "-l", "com1,stdio", "-o", "boot.kernel=" + VmRun.testGuest("probe.elf"), "-o", "boot.cmdline=action=spin"));
        cmd.addAll(options);
        cmd.add("vm");
        Process vm = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertTrue(VmRun.readUntil(vm.getInputStream(), "JBT spinning").contains("JBT spinning"));
            check.accept(vm.pid());
        } finally {
            vm.destroy();
            vm.waitFor(30, TimeUnit.SECONDS);
            vm.destroyForcibly();
        }
    }


    private static String status(long pid, String field) {
        try {
            return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith(field + ":"))
                    .findFirst().orElseThrow().substring(field.length() + 1).trim();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void pinnedVcpuThreadRunsOnlyOnItsHostCpu() throws Exception {
        whileSpinning(List.of("-p", "0:1"), pid -> {
            try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
                Path vcpu = tasks.filter(t -> read(t.resolve("comm")).trim().equals("vcpu 0")).findFirst()
                        .orElseThrow(() -> new AssertionError("no thread named 'vcpu 0'"));
                String allowed = Files.readAllLines(vcpu.resolve("status")).stream()
                        .filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow();
                assertEquals("1", allowed.split(":")[1].trim());
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    @Tag("core")
    @Test
    void wiredMemoryIsLocked() throws Exception {
        whileSpinning(List.of("-S"), pid -> {
            long lockedKb = Long.parseLong(status(pid, "VmLck").split(" ")[0]);
            assertTrue(lockedKb >= 64 * 1024, "VmLck " + lockedKb + " kB covers the 64 MiB guest");
        });
    }

    @Test
    void guestMemoryIsExcludedFromCoreDumpsUnlessAsked() throws Exception {
        // With -C the guest mapping has the same flags as its neighbours and the kernel may merge
        // them, so look at every mapping of at least the guest's size.
        whileSpinning(List.of(), pid -> assertTrue(largeMappingFlags(pid).stream().anyMatch(f -> f.contains("dd"))));
        whileSpinning(List.of("-C"), pid -> assertTrue(largeMappingFlags(pid).stream().noneMatch(f -> f.contains("dd"))));
    }

    /** VmFlags of every mapping of 64 MiB or more (guest RAM is one of them). */
    private static List<List<String>> largeMappingFlags(long pid) {
        List<String> lines = List.of(read(Path.of("/proc/" + pid + "/smaps")).split("\n"));
        List<List<String>> flags = new java.util.ArrayList<>();
        boolean large = false;
        for (String line : lines) {
            String[] range = line.split(" ")[0].split("-");
            if (range.length == 2 && range[0].matches("[0-9a-f]+") && range[1].matches("[0-9a-f]+")) {
                large = Long.parseUnsignedLong(range[1], 16) - Long.parseUnsignedLong(range[0], 16) >= 64L << 20;
            } else if (large && line.startsWith("VmFlags:")) {
                flags.add(List.of(line.substring(8).trim().split(" ")));
            }
        }
        assertTrue(!flags.isEmpty(), "no mapping of 64 MiB or more");
        return flags;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void stdioTerminalIsRawWhileRunningAndRestoredAfterwards() throws Exception {
        try (PseudoTerminal pty = PseudoTerminal.open()) {
            String tty = pty.peerPath();
            stty(tty, "sane");
            assertTrue(stty(tty, "-a").contains(" icanon"), "cooked before");
            Process vm = new ProcessBuilder(VmRun.HOME.resolve("bin/bhyve").toString(), "-m", "64M",
                    "-l", "com1,stdio", "-o", "boot.kernel=" + VmRun.testGuest("probe.elf"),
                    "-o", "boot.cmdline=action=spin", "vm")
                    .redirectInput(new File(tty)).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                assertTrue(VmRun.readUntil(vm.getInputStream(), "JBT spinning").contains("JBT spinning"));
                String during = stty(tty, "-a");
                assertTrue(during.contains("-icanon") && during.contains("-echo "), during);
                vm.destroy(); // SIGTERM: no ACPI here, so the VM stops with status 4
                assertTrue(vm.waitFor(30, TimeUnit.SECONDS));
                assertEquals(4, vm.exitValue());
            } finally {
                vm.destroyForcibly();
            }
            String after = stty(tty, "-a");
            assertTrue(after.contains(" icanon") && after.contains(" echo "), after);
        }
    }

    private static String stty(String tty, String args) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "stty " + args + " < " + tty).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
