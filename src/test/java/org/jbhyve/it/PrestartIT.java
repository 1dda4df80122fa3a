package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/bhyve-prestart and bin/bhyve's hand-off, with commands that end before a VM is made (no
 * /dev/kvm needed): the ready process runs the command in the caller's working directory, with
 * its output, error line and exit status, a successor becomes ready, and a caller whose
 * environment differs is served by a usual start instead.
 */
@Tag("no-kvm")
class PrestartIT {
    private static final long READY_SECONDS = 300; // a JVM start, slow where the CPU is emulated

    @TempDir
    Path dir;

    @BeforeEach
    void startOne() throws Exception {
        Result started = run(dir, Map.of(), VmRun.HOME.resolve("bin/bhyve-prestart").toString());
        assertEquals(0, started.status, started::toString);
        assertTrue(started.stdout.contains("ready (pid " + readyPid() + ")"), started::toString);
    }

    @AfterEach
    void stopAll() throws Exception {
        awaitReady(); // a successor still starting would outlive the stop
        Result stopped = run(dir, Map.of(), VmRun.HOME.resolve("bin/bhyve-prestart").toString(), "-s");
        assertEquals(0, stopped.status, stopped::toString);
        assertTrue(ReadyProcesses.pids(dir.resolve("run")).isEmpty(), "no ready process is left");
    }

    @Test
    void theReadyProcessRunsTheCommandInTheCallersDirectoryThenASuccessorIsReady() throws Exception {
        long ready = readyPid();
        Path work = Files.createDirectory(dir.resolve("work"));
        Files.write(work.resolve("odd.rom"), new byte[5000]);
        Result run = run(work, Map.of(), bhyve(), "-l", "bootrom,odd.rom", "vm1");
        assertEquals(4, run.status, run::toString);
        assertTrue(run.stderr.contains("odd.rom") && run.stderr.contains("is not a multiple of 4 KiB")
                && run.stderr.lines().count() == 1, "found odd.rom in the caller's directory: " + run);
        Optional<ProcessHandle> served = ProcessHandle.of(ready);
        if (served.isPresent()) {
            served.get().onExit().get(60, TimeUnit.SECONDS); // it ends right after reporting the status
        }
        assertFalse(ReadyProcesses.pids(dir.resolve("run")).contains(ready), "the ready process took it");
        long successor = awaitReady();
        assertNotEquals(ready, successor, "a successor is ready");
        assertEquals(Set.of(ReadyProcesses.successorNice()), Set.copyOf(ReadyProcesses.threadNices(successor)),
                "a successor waits at the lowest priority where it may take the normal one back");
        assertEquals(ReadyProcesses.successorNice(), ReadyProcesses.sessionNice(successor, ReadyProcesses.successorNice()),
                "and so does its session, against which the scheduler weighs the VMs' sessions");

        Result help = run(work, Map.of(), bhyve(), "-h");
        assertEquals(0, help.status, help::toString);
        assertTrue(help.stdout.startsWith("Usage: bhyve"), help::toString);
        Result dump = run(work, Map.of(), bhyve(), "-s", "0,hostbridge", "-o", "config.dump=1", "vm1");
        assertEquals(1, dump.status, "bhyve's status after a dump: " + dump);
        assertTrue(dump.stdout.contains("pci.0.0.0.device=hostbridge"), dump::toString);
    }

    @Test
    void theReadyProcessHeedsSigintAndSigquitThoughStartedInTheBackground() throws Exception {
        // bhyve's SIGINT stops the VM: a ready process must not have inherited "ignore" for it
        long ignored = Files.readAllLines(Path.of("/proc/" + readyPid() + "/status")).stream()
                .filter(l -> l.startsWith("SigIgn:")).mapToLong(l -> Long.parseUnsignedLong(l.substring(7).strip(), 16))
                .findFirst().orElseThrow();
        assertEquals(0, ignored & ((1L << (2 - 1)) | (1L << (3 - 1))), "SIGINT (2) and SIGQUIT (3) not ignored");
    }

    @Test
    void aCallerWithAnotherEnvironmentStartsAsUsualAndTheReadyProcessStaysReady() throws Exception {
        long ready = readyPid();
        Result run = run(dir, Map.of("JBHYVE_DEBUG", "1"), bhyve(), "-h");
        assertEquals(0, run.status, run::toString);
        assertTrue(run.stdout.startsWith("Usage: bhyve"), run::toString);
        assertEquals(ready, readyPid(), "not handed over");
        Result off = run(dir, Map.of("JBHYVE_PRESTART", "off"), bhyve(), "-h");
        assertEquals(0, off.status, off::toString);
        assertEquals(ready, readyPid(), "JBHYVE_PRESTART=off does not hand over");
    }

    @Test
    void startingWhenOneIsReadyKeepsOneAndBadOptionsAreOneLine() throws Exception {
        long ready = readyPid();
        Result again = run(dir, Map.of(), VmRun.HOME.resolve("bin/bhyve-prestart").toString());
        assertEquals(0, again.status, again::toString);
        assertTrue(again.stdout.contains("ready already (pid " + ready + ")"), again::toString);
        Result bad = run(dir, Map.of(), VmRun.HOME.resolve("bin/bhyve-prestart").toString(), "-x");
        assertEquals(4, bad.status, bad::toString);
        assertEquals("bhyve-prestart: unknown option -x; usage: bhyve-prestart [-n count] [-q] [-s]", bad.stderr.strip());
        Result badCount = run(dir, Map.of(), VmRun.HOME.resolve("bin/bhyve-prestart").toString(), "-n", "0");
        assertEquals(4, badCount.status, badCount::toString);
        assertEquals("bhyve-prestart: -n 0: a count from 1 to 64", badCount.stderr.strip());
    }

    private static String bhyve() {
        return VmRun.HOME.resolve("bin/bhyve").toString();
    }

    private long readyPid() throws IOException {
        List<Long> ready = ReadyProcesses.pids(dir.resolve("run"));
        assertEquals(1, ready.size(), "one ready process: " + ready);
        return ready.get(0);
    }

    private long awaitReady() throws Exception {
        return ReadyProcesses.await(dir.resolve("run"), READY_SECONDS);
    }

    private record Result(int status, String stdout, String stderr) {}

    /** Runs a command in {@code directory} with this test's JBHYVE_RUNDIR and {@code environment}. */
    private Result run(Path directory, Map<String, String> environment, String... command) throws Exception {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(directory.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("JBHYVE_DEBUG");
        pb.environment().remove("JBHYVE_PRESTART");
        pb.environment().put("JBHYVE_RUNDIR", dir.resolve("run").toString());
        pb.environment().putAll(environment);
        Process p = pb.start();
        if (!p.waitFor(READY_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(List.of(command) + " did not end within " + READY_SECONDS + " s");
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }
}
