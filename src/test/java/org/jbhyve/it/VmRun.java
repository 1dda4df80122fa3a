package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code bin/bhyve} as a user would (a separate process, stdin at /dev/null unless given)
 * and captures what it printed and how it exited. KVM tests call {@link #requireKvm()} first:
 * without a usable /dev/kvm they fail, never skip.
 */
final class VmRun {
    /** How long one VM may take: hosts that emulate KVM are slow. */
    static final int TIMEOUT_SECONDS = 300;
    static final Path HOME = Path.of(System.getProperty("jbhyve.home", "."));
    static final Path TEST_GUESTS = Path.of(System.getProperty("jbhyve.testGuests", "target/test-guest"));
    static final Path GUESTS = Path.of(System.getProperty("jbhyve.guests", "target/guest"));

    final int exitCode;
    final String stdout;
    final String stderr;

    private VmRun(int exitCode, String stdout, String stderr) {
        this.exitCode = exitCode;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    static void requireKvm() {
        Path kvm = Path.of("/dev/kvm");
        assertTrue(Files.isReadable(kvm) && Files.isWritable(kvm),
                "these tests boot guests and need a usable /dev/kvm (read/write access)");
    }

    /**
     * Asserts that bhyve refused its input the way every refusal looks: status 4 and exactly one
     * line on stderr, starting "bhyve: ", containing {@code expectedFragment}, no stack trace.
     */
    static void assertOneLineError(VmRun run, String expectedFragment) {
        assertEquals(4, run.exitCode, run::toString);
        List<String> lines = run.stderr.lines().toList();
        assertEquals(1, lines.size(), "exactly one line on stderr:\n" + run.stderr);
        assertTrue(lines.get(0).startsWith("bhyve: "), run::toString);
        assertTrue(lines.get(0).contains(expectedFragment), "expected '" + expectedFragment + "' in " + lines.get(0));
        assertFalse(run.stderr.contains("\tat "), "no stack trace");
    }

    static Path testGuest(String name) {
        Path p = TEST_GUESTS.resolve(name);
        assertTrue(Files.isRegularFile(p), "test guest " + p + " was not built");
        return p;
    }

    static VmRun bhyve(String... args) {
        return bhyveWithInput(null, args);
    }

    /** Runs bhyve with {@code input} on stdin (null: /dev/null), 300 s at most (hosts that emulate KVM are slow). */
    static VmRun bhyveWithInput(byte[] input, String... args) {
        return bhyveVia(List.of(), Map.of(), input, args);
    }

    /**
     * Runs bhyve through {@code prefix} (a command that runs the rest, as another user for
     * instance) with {@code environment} added, as {@link #bhyveWithInput} does.
     */
    static VmRun bhyveVia(List<String> prefix, Map<String, String> environment, byte[] input, String... args) {
        List<String> command = new ArrayList<>(prefix);
        command.add(HOME.resolve("bin/bhyve").toString());
        command.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("bhyve", ".out");
            Path err = Files.createTempFile("bhyve", ".err");
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(environment);
            if (input == null) {
                pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            }
            Process p = pb.start();
            if (input != null) {
                p.getOutputStream().write(input);
                p.getOutputStream().close();
            }
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("bhyve did not exit within " + TIMEOUT_SECONDS + " s: " + command + "\n" + Files.readString(out));
            }
            VmRun run = new VmRun(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            return run;
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Reads {@code in} until {@code marker} has been seen or the stream ends; returns what was
     * read (check it contains the marker).
     */
    static String readUntil(java.io.InputStream in, String marker) throws IOException {
        StringBuilder seen = new StringBuilder();
        int b;
        while (seen.indexOf(marker) < 0 && (b = in.read()) != -1) {
            seen.append((char) b);
        }
        return seen.toString();
    }

    /** The probe guest's "JBT ..." lines, without the prefix. */
    List<String> probeLines() {
        return stdout.lines().filter(l -> l.startsWith("JBT ")).map(l -> l.substring(4)).toList();
    }

    List<String> probeLines(String kind) {
        return probeLines().stream().filter(l -> l.startsWith(kind + " ")).map(l -> l.substring(kind.length() + 1))
                .toList();
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
    }
}
