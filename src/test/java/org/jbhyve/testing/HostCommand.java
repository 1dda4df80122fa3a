package org.jbhyve.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Runs host commands for tests (ip, ping...): output captured, exit status optionally checked. */
public final class HostCommand {
    private HostCommand() {}

    /**
     * Runs {@code command} and returns what it printed (stdout and stderr); with {@code check},
     * a non-zero exit status fails the test with that output.
     */
    public static String run(boolean check, String... command) {
        List<String> cmd = List.of(command);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int rc = p.waitFor();
            if (check) {
                assertEquals(0, rc, cmd + ": " + out);
            }
            return out;
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(cmd.toString(), e);
        }
    }

    /** {@code ip ARGS...} (iproute2). */
    public static String ip(boolean check, String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip"));
        cmd.addAll(List.of(args));
        return run(check, cmd.toArray(String[]::new));
    }
}
