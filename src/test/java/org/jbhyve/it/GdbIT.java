package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bhyve -G with Debian's gdb against the PVH probe guest on two vCPUs, as a user would debug a
 * kernel: the guest waits at its entry for gdb, gdb sees two threads, stops at a software
 * breakpoint (held in a debug register while one is free, so it works on KVMs that never see
 * the guest's int3), reads the original bytes, steps one instruction and lets the guest run to
 * its normal exit.
 */
class GdbIT {
    private static final Path GDB = Path.of("/usr/bin/gdb");

    @TempDir
    Path dir;

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** The address of {@code symbol} in {@code elf}, from the ELF's symbol table (nm). */
    private static long symbol(Path elf, String symbol) throws Exception {
        Process p = new ProcessBuilder("nm", elf.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Matcher m = Pattern.compile("(?m)^([0-9a-f]+) \\w " + Pattern.quote(symbol) + "$").matcher(out);
        assertTrue(m.find(), symbol + " in " + elf + ":\n" + out);
        return Long.parseLong(m.group(1), 16);
    }

    /**
     * Whether something listens on TCP {@code port} of 127.0.0.1, read from /proc/net/tcp and
     * /proc/net/tcp6 (no connection made): where the kernel has IPv6, Java's sockets are IPv6
     * ones and 127.0.0.1 shows there as the mapped address ::ffff:127.0.0.1.
     */
    private static boolean listening(int port) throws IOException {
        List<String> locals = List.of(String.format(Locale.ROOT, "0100007F:%04X", port),
                String.format(Locale.ROOT, "0000000000000000FFFF00000100007F:%04X", port));
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path path = Path.of(table);
            if (Files.exists(path) && Files.readAllLines(path).stream().map(l -> l.trim().split("\\s+"))
                    .anyMatch(f -> f.length > 3 && locals.contains(f[1]) && f[3].equals("0A"))) {
                return true;
            }
        }
        return false;
    }

    private static String gdb(List<String> commands) throws Exception {
        assertTrue(Files.isExecutable(GDB), "Debian's gdb is needed");
        Path script = Files.createTempFile("gdb", ".cmd");
        Files.write(script, commands);
        Process p = new ProcessBuilder(GDB.toString(), "-nx", "-q", "-batch", "-x", script.toString())
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "gdb finished");
        Files.delete(script);
        return out;
    }

    /**
     * Needs a KVM whose guests trap on breakpoints (int3 or the debug registers): hardware KVM and
     * KVM nested in KVM do; a KVM that itself runs in QEMU's TCG (bin/test's emulated machine)
     * does not, so bin/test leaves this one test out there and says so.
     */
    @Test
    @Tag("guest-breakpoints")
    void waitsForGdbStopsAtABreakpointStepsAndRunsToItsExit() throws Exception {
        VmRun.requireKvm();
        Path probe = VmRun.testGuest("probe.elf");
        long entry = symbol(probe, "pvh_entry");
        long main = symbol(probe, "guest_main");
        String original = gdb(List.of("set architecture i386:x86-64", "file " + probe,
                String.format("x/4xb 0x%x", main)));
        Matcher bytes = Pattern.compile("(0x[0-9a-f]{2}\\s+0x[0-9a-f]{2}\\s+0x[0-9a-f]{2}\\s+0x[0-9a-f]{2})")
                .matcher(original);
        assertTrue(bytes.find(), original);

        int port = freePort();
        Path out = dir.resolve("vm.out");
        Path err = dir.resolve("vm.err");
        List<String> cmd = new ArrayList<>(List.of(VmRun.HOME.resolve("bin/bhyve").toString(), "-c", "2", "-m", "256M",
                "-s", "0,hostbridge", "-s", "31,lpc", "-l", "com1,stdio", "-l", "pc-testdev",
                "-G", "w127.0.0.1:" + port, "-o", "boot.kernel=" + probe, "-o", "boot.cmdline=action=exit:5", "gdbvm"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("JBHYVE_RUNDIR", dir.resolve("run").toString());
        Process vm = pb.start();
        try {
            for (int i = 0; i < 1800 && !listening(port) && vm.isAlive(); i++) {
                Thread.sleep(100);
            }
            assertTrue(listening(port), "bhyve listens on " + port + "; stderr: " + Files.readString(err));
            Thread.sleep(1500);
            assertEquals("", Files.readString(out), "the guest has not run before gdb attached");

            String session = gdb(List.of("set pagination off", "set confirm off", "set architecture i386:x86-64",
                    "set remotetimeout 120", "target remote 127.0.0.1:" + port, "info registers rip", "info threads",
                    String.format("break *0x%x", main), "continue", String.format("x/4xb 0x%x", main),
                    "stepi", "info registers rip", "delete", "continue"));
            assertTrue(session.contains(String.format("rip            0x%x", entry)), "RIP at the entry\n" + session);
            assertTrue(session.contains("Thread 1 (vCPU 0)") && session.contains("Thread 2 (vCPU 1)"), session);
            assertTrue(session.contains(String.format("Breakpoint 1, 0x%016x in ?? ()", main)), session);
            assertTrue(session.replaceAll("\\s+", " ").contains(bytes.group(1).replaceAll("\\s+", " ")),
                    "x/4xb shows the original bytes " + bytes.group(1) + "\n" + session);
            Matcher rip = Pattern.compile("(?m)^rip\\s+0x([0-9a-f]+)").matcher(session);
            assertTrue(rip.find() && rip.find(), session);
            long stepped = Long.parseLong(rip.group(1), 16);
            assertNotEquals(main, stepped, "stepi moved");
            assertTrue(stepped > main && stepped <= main + 15, "one instruction on: " + Long.toHexString(stepped));
            assertTrue(session.contains("exited with code 013"), "the exit status 11 (5 << 1 | 1, which gdb prints in "
                    + "octal) reached gdb\n" + session);
            assertTrue(vm.waitFor(60, TimeUnit.SECONDS), "bhyve exited");
            assertEquals(11, vm.exitValue(), Files.readString(err));
            assertTrue(Files.readString(out).contains("JBT exit 5"), Files.readString(out));
        } finally {
            vm.destroyForcibly();
        }
    }

    @Tag("core")
    @Test
    void aPortInUseIsOneLineAndStatusFour() throws Exception {
        VmRun.requireKvm();
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            VmRun run = VmRun.bhyve("-G", "127.0.0.1:" + taken.getLocalPort(), "-o",
                    "boot.kernel=" + VmRun.testGuest("probe.elf"), "gdbbusy");
            assertEquals(4, run.exitCode, run::toString);
            assertEquals(1, run.stderr.lines().count(), run::toString);
            assertTrue(run.stderr.startsWith("bhyve: -G 127.0.0.1:" + taken.getLocalPort() + ": cannot listen for gdb"),
                    run::toString);
        }
    }

    @Tag("no-kvm")
    @ParameterizedTest
    @ValueSource(strings = {"w127.0.0.1:99999", "wnot-a-port", "w", ":1234", "0", "-o gdb.port=0"})
    void aBadDebugServerValueIsOneLineAndStatusFour(String value) {
        List<String> args = new ArrayList<>();
        if (value.startsWith("-o ")) {
            args.addAll(List.of("-o", value.substring(3)));
        } else {
            args.addAll(List.of("-G", value));
        }
        args.add("gdbbad");
        VmRun run = VmRun.bhyve(args.toArray(String[]::new));
        assertEquals(4, run.exitCode, run::toString);
        List<String> lines = run.stderr.lines().toList();
        assertEquals(1, lines.size(), run::toString);
        assertTrue(lines.get(0).startsWith("bhyve: ") && (lines.get(0).contains("-G") || lines.get(0).contains("gdb")),
                run::toString);
    }
}
