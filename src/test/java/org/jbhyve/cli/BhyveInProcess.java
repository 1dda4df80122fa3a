package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.jbhyve.control.Registry;

/**
 * bhyve run inside the test's JVM the way {@code main} runs it ({@link BhyveMain#execute}), with
 * a private VM registry: its status, standard output and every line written to standard error
 * (the error line as well as notices printed while the VM is built).
 */
final class BhyveInProcess {
    /** What one run left behind. */
    record Outcome(int status, String out, List<String> err) {
        @Override
        public String toString() {
            return "status " + status + ", stderr " + err + ", stdout " + out;
        }
    }

    private BhyveInProcess() {}

    static Outcome run(Path rundir, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        PrintStream saved = System.err;
        System.setErr(errStream);
        int status;
        try {
            status = BhyveMain.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8), errStream,
                    () -> Registry.at(rundir));
        } finally {
            System.setErr(saved);
        }
        return new Outcome(status, out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8).lines().toList());
    }

    /**
     * Asserts bhyve's failure: status 4 and, as the only line on stderr, {@code bhyve: } and then
     * {@code message}; no stack trace.
     */
    static void assertOneLineError(Outcome o, String message) {
        assertEquals(4, o.status(), o::toString);
        assertEquals(List.of("bhyve: " + message), o.err(), o::toString);
        assertNoStackTrace(o);
    }

    /** Asserts status 4 and one {@code bhyve: } line on stderr that contains every one of {@code parts}. */
    static String assertOneLineErrorContaining(Outcome o, String... parts) {
        assertEquals(4, o.status(), o::toString);
        assertEquals(1, o.err().size(), o::toString);
        String line = o.err().getFirst();
        assertTrue(line.startsWith("bhyve: "), line);
        for (String part : parts) {
            assertTrue(line.contains(part), "'" + line + "' should contain '" + part + "'");
        }
        assertNoStackTrace(o);
        return line;
    }

    static void assertNoStackTrace(Outcome o) {
        for (String line : o.err()) {
            assertFalse(line.startsWith("\tat ") || line.contains("Exception") || line.contains("internal error"),
                    o::toString);
        }
    }
}
