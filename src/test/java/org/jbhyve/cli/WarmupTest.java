package org.jbhyve.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a pre-started process does before its command arrives (no KVM needed for these parts). */
class WarmupTest {
    @TempDir
    Path directory;

    @Test
    void theWarmUpHandOffCompletesAndLeavesNothingInTheDirectory() throws IOException {
        AtomicBoolean completed = new AtomicBoolean();
        String complaints = stderrOf(() -> completed.set(Warmup.handoffOnce(directory, 256 * 1024)));
        assertEquals("", complaints);
        assertTrue(completed.get(), "the request went through and the reply came back");
        try (Stream<Path> left = Files.list(directory)) {
            assertEquals(0, left.count());
        }
    }

    @Test
    void theWarmUpClaimTakesANameAndLeavesNothingInTheDirectory() throws IOException {
        AtomicBoolean claimed = new AtomicBoolean();
        String complaints = stderrOf(() -> claimed.set(Warmup.registryOnce(directory)));
        assertEquals("", complaints);
        assertTrue(claimed.get(), "the name was taken and given back");
        try (Stream<Path> left = Files.list(directory)) {
            assertEquals(0, left.count());
        }
    }

    @Test
    void aWarmUpHandOffThatCannotListenSaysWhyAndReturns() {
        AtomicBoolean completed = new AtomicBoolean(true);
        String complaints = stderrOf(() -> completed.set(Warmup.handoffOnce(directory.resolve("missing"), 256 * 1024)));
        assertFalse(completed.get());
        assertTrue(complaints.startsWith("bhyve-prestart: warm-up hand-off: "), complaints);
    }

    private static String stderrOf(Runnable action) {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
