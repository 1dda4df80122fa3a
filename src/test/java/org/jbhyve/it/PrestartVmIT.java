package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.ThrowingSupplier;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VM started through bin/bhyve-prestart's ready process: its console is bin/bhyve's standard
 * input and output, its exit status and signals pass through bin/bhyve, and SIGKILL to bin/bhyve
 * (which cannot be passed on) ends the VM too. {@link PrestartIT} covers the hand-off itself.
 */
// Every wait has a limit, and one that runs out fails the test with the processes then running
// and the ready processes' log: once, in the emulated machine, this test waited without end.
@Tag("core")
@Timeout(value = 15, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PrestartVmIT {
    private static final long SECONDS = 300;

    @TempDir
    Path dir;

    @BeforeAll
    static void kvm() {
        VmRun.requireKvm();
    }

    @BeforeEach
    void startOne() throws Exception {
        Process p = command(VmRun.HOME.resolve("bin/bhyve-prestart").toString()).start();
        assertTrue(p.waitFor(SECONDS, TimeUnit.SECONDS) && p.exitValue() == 0, "bhyve-prestart is ready");
    }

    @AfterEach
    void stopAll() throws Exception {
        // A successor whose JVM is not up yet has no mark to be found by: stop until none is left.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        do {
            command(VmRun.HOME.resolve("bin/bhyve-prestart").toString(), "-s").start().waitFor(SECONDS, TimeUnit.SECONDS);
            Thread.sleep(500);
        } while (!prestartedProcesses().isEmpty() && System.nanoTime() < deadline);
        assertEquals(List.of(), prestartedProcesses(), "pre-started processes left: " + situation());
    }

    /** This test's pre-started processes still alive (a VM's among them while it runs). */
    private List<Long> prestartedProcesses() {
        String mark = "PrestartMain " + dir.resolve("run/prestart") + " ";
        return ProcessHandle.allProcesses().filter(p -> {
            try {
                return commandLine(p.pid()).contains(mark);
            } catch (IOException | RuntimeException gone) {
                return false;
            }
        }).map(ProcessHandle::pid).toList();
    }

    @Test
    void theConsoleStatusAndSignalsGoThroughBhyve() throws Exception {
        long ready = readyPid();
        Process vm = bhyve("action=echo").start();
        try {
            assertTrue(readUntil(vm, "echo-ready").contains("JBT hello"));
            assertTrue(isAlive(ready) && commandLine(ready).contains("PrestartMain"), "the VM runs in the ready process");
            vm.getOutputStream().write("hello q".getBytes(StandardCharsets.US_ASCII));
            vm.getOutputStream().flush();
            assertTrue(readUntil(vm, "hello q").endsWith("hello q"));
            assertTrue(vm.waitFor(SECONDS, TimeUnit.SECONDS), "VM exits after 'q'");
            assertEquals(1, vm.exitValue(), "the guest powered off: bhyve's status 1, from the VM's process");
        } finally {
            vm.destroyForcibly();
        }

        long next = readyPid();
        Process stopped = bhyve("action=spin").redirectErrorStream(true).start();
        try {
            assertTrue(readUntil(stopped, "JBT spinning").contains("JBT spinning"));
            assertEquals(Set.of(0), Set.copyOf(ReadyProcesses.threadNices(next)),
                    "the VM in a successor (which waited at nice " + ReadyProcesses.successorNice() + ") runs at nice 0");
            assertEquals(0, ReadyProcesses.sessionNice(next, 0), "and so does its session");
            new ProcessBuilder("kill", "-INT", Long.toString(stopped.pid())).start().waitFor();
            String rest = within(() -> new String(stopped.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                    "the output's end after SIGINT");
            assertTrue(stopped.waitFor(SECONDS, TimeUnit.SECONDS));
            assertEquals(4, stopped.exitValue(), rest);
            assertTrue(rest.contains("stopped by SIGINT"), "SIGINT reached the VM's process " + next + ": " + rest);
        } finally {
            stopped.destroyForcibly();
        }
    }

    @Test
    void killingBhyveEndsItsVm() throws Exception {
        long ready = readyPid();
        Process vm = bhyve("action=spin").start();
        try {
            assertTrue(readUntil(vm, "JBT spinning").contains("JBT spinning"));
            vm.destroyForcibly().waitFor(SECONDS, TimeUnit.SECONDS);
            ProcessHandle.of(ready).ifPresent(h -> h.onExit().orTimeout(60, TimeUnit.SECONDS).join());
            assertFalse(isAlive(ready), "the VM's process ended with bin/bhyve");
        } finally {
            vm.destroyForcibly();
        }
    }

    @Test
    void stoppingEndsASuccessorStillWarmingUpButNotTheRunningVm() throws Exception {
        long ready = readyPid();
        Process vm = bhyve("action=spin").start();
        try {
            assertTrue(readUntil(vm, "JBT spinning").contains("JBT spinning"));
            Path prestart = dir.resolve("run/prestart");
            long successor = within(() -> awaitStartingMarker(prestart), "a successor marked as warming up");
            Process stop = command(VmRun.HOME.resolve("bin/bhyve-prestart").toString(), "-s")
                    .redirectErrorStream(true).start();
            String said = within(() -> new String(stop.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                    "bhyve-prestart -s's output");
            assertTrue(stop.waitFor(SECONDS, TimeUnit.SECONDS) && stop.exitValue() == 0, said);
            ProcessHandle.of(successor).ifPresent(h -> h.onExit().orTimeout(60, TimeUnit.SECONDS).join());
            assertFalse(isAlive(successor), "the successor " + successor + " was stopped: " + said);
            assertTrue(isAlive(ready) && vm.isAlive(), "the VM running in " + ready + " was not touched: " + said);
        } finally {
            vm.destroyForcibly();
        }
    }

    /** The pid of a pre-started process that marked itself as warming up in {@code prestart}. */
    private static long awaitStartingMarker(Path prestart) throws IOException, InterruptedException {
        while (true) {
            try (var files = Files.list(prestart)) {
                var marker = files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("starting-")).findFirst();
                if (marker.isPresent()) {
                    return Long.parseLong(marker.get().substring("starting-".length()));
                }
            }
            Thread.sleep(20);
        }
    }

    /** The VM's output up to {@code marker}, read for {@link #SECONDS} at most. */
    private String readUntil(Process vm, String marker) {
        return within(() -> VmRun.readUntil(vm.getInputStream(), marker), "'" + marker + "'");
    }

    /** {@code read}'s result, or a failure naming what was awaited and what ran then. */
    private <T> T within(ThrowingSupplier<T> read, String awaited) {
        return assertTimeoutPreemptively(Duration.ofSeconds(SECONDS), read,
                () -> "no " + awaited + " within " + SECONDS + " s; " + situation());
    }

    /** The processes running now and the ready processes' log: what a wait that ran out leaves to go on. */
    private String situation() {
        try {
            Process ps = new ProcessBuilder("ps", "-eo", "etimes,pid,stat,args").redirectErrorStream(true).start();
            String processes = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            Path log = dir.resolve("run/prestart/log");
            return "processes:\n" + processes + "prestart log:\n" + (Files.exists(log) ? Files.readString(log) : "(none)");
        } catch (IOException e) {
            return "(no process listing: " + e + ")";
        }
    }

    private ProcessBuilder bhyve(String action) {
        return command(VmRun.HOME.resolve("bin/bhyve").toString(), "-s", "0,hostbridge", "-l", "com1,stdio",
                "-l", "pc-testdev", "-o", "boot.kernel=" + VmRun.testGuest("probe.elf"), "-o", "boot.cmdline=" + action,
                "prestarted");
    }

    private ProcessBuilder command(String... command) {
        ProcessBuilder pb = new ProcessBuilder(List.of(command));
        pb.environment().remove("JBHYVE_PRESTART");
        pb.environment().remove("JBHYVE_DEBUG");
        pb.environment().put("JBHYVE_RUNDIR", dir.resolve("run").toString());
        return pb;
    }

    private long readyPid() throws Exception {
        return ReadyProcesses.await(dir.resolve("run"), SECONDS);
    }

    private static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static String commandLine(long pid) throws IOException {
        return Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
    }
}
