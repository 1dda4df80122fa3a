package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.UnixSeqpacket;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/bhyve's hand-off client claims a ready process before it asks it (renames ready-PID.sock to
 * taken-PID.sock): a second bhyve started meanwhile does not queue behind the first at the same
 * process, and a process that says no is left ready for others. The ready process here is this
 * test (a socket it listens on, under its own pid), so no JVM has to warm up and no KVM is needed.
 */
@Tag("no-kvm")
class PrestartClaimIT {
    private static final long SECONDS = 300; // a usual bhyve start, slow where the CPU is emulated

    @TempDir
    Path dir;

    private final Map<Process, Path> outputs = new HashMap<>();
    /** This test plays the ready process: its socket is named after this JVM's pid. */
    private final long pid = ProcessHandle.current().pid();
    private Path ready;
    private Path taken;

    @BeforeEach
    void readyDirectory() throws Exception {
        Path prestart = Files.createDirectories(dir.resolve("run/prestart"));
        Files.setPosixFilePermissions(prestart, PosixFilePermissions.fromString("rwx------"));
        ready = prestart.resolve("ready-" + pid + ".sock");
        taken = prestart.resolve("taken-" + pid + ".sock");
    }

    @Test
    void aSecondCallerDoesNotWaitForAProcessTheFirstHasClaimedAndARefusedOneIsReadyAgain() throws Exception {
        try (UnixSeqpacket listener = UnixSeqpacket.listen(ready.toString(), 4)) {
            Process first = bhyve("first");
            awaitFile(taken, first);
            assertTrue(Files.notExists(ready), "claimed: no longer offered");

            // The first caller waits for this "process" to answer; the second must not join it.
            Process second = bhyve("second");
            assertEnded(second, "the second bhyve, while the only ready process is claimed");
            assertEquals(0, second.exitValue());
            assertTrue(output(second).startsWith("Usage: bhyve"), "a usual start served it: " + output(second));
            assertTrue(first.isAlive(), "the first still waits for its answer");

            try (UnixSeqpacket connection = listener.accept()) {
                UnixSeqpacket.Message request = connection.receive(256 * 1024);
                assertEquals(3, request.fds().length, "descriptors 0-2 came with the request");
                for (Fd fd : request.fds()) {
                    fd.close();
                }
                connection.send("no this test refuses".getBytes(StandardCharsets.US_ASCII));
            }
            assertEnded(first, "the first bhyve, once refused");
            assertEquals(0, first.exitValue());
            assertTrue(output(first).startsWith("Usage: bhyve"), "refused, it started as usual: " + output(first));
            assertTrue(Files.exists(ready) && Files.notExists(taken), "the refusing process is offered again");
        }
    }

    @Test
    void aClaimThatNeverConnectedIsOfferedAgainAfterThirtySeconds() throws Exception {
        String script = VmRun.HOME.resolve("bin/bhyve-prestart").toString();
        try (UnixSeqpacket listener = UnixSeqpacket.listen(ready.toString(), 4)) {
            Files.move(ready, taken); // as a bin/bhyve killed right after its claim leaves it
            // -s stops the ready processes it finds: a fresh claim is not one of them
            Process early = command("early", script, "-s");
            assertEnded(early, "bhyve-prestart -s");
            assertEquals(0, early.exitValue());
            assertTrue(Files.exists(taken) && Files.notExists(ready), "a fresh claim is left alone");
            Thread.sleep(31_000);
            Process late = command("late", script, "-n", "1");
            assertEnded(late, "bhyve-prestart -n 1");
            assertEquals(0, late.exitValue());
            assertTrue(output(late).contains("ready already (pid " + pid + ")"), output(late));
            assertTrue(Files.exists(ready) && Files.notExists(taken), "the abandoned claim is offered again");
        }
    }

    private Process bhyve(String name) throws Exception {
        return command(name, VmRun.HOME.resolve("bin/bhyve").toString(), "-h");
    }

    private Process command(String name, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(List.of(command))
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile());
        pb.environment().remove("JBHYVE_DEBUG");
        pb.environment().remove("JBHYVE_PRESTART");
        pb.environment().put("JBHYVE_RUNDIR", dir.resolve("run").toString());
        Process process = pb.start();
        outputs.put(process, dir.resolve(name + ".out"));
        return process;
    }

    private String output(Process process) throws Exception {
        return Files.readString(outputs.get(process), StandardCharsets.UTF_8);
    }

    private static void assertEnded(Process process, String what) throws InterruptedException {
        if (!process.waitFor(SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(what + " did not end within " + SECONDS + " s");
        }
    }

    private static void awaitFile(Path file, Process caller) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        while (Files.notExists(file)) {
            if (!caller.isAlive() || System.nanoTime() > deadline) {
                caller.destroyForcibly();
                fail("the caller never claimed the ready process (" + file + " missing)");
            }
            Thread.sleep(20);
        }
    }
}
