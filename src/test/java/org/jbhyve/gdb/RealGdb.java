package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's gdb ({@code /usr/bin/gdb}, package gdb) in batch mode: a script of commands, its
 * output (stdout and stderr together) and exit status. The gdb tests need it and fail without
 * it, as the KVM tests fail without /dev/kvm.
 */
final class RealGdb {
    static final Path GDB = Path.of(System.getProperty("jbhyve.gdb", "/usr/bin/gdb"));

    final String output;
    final int status;

    private RealGdb(String output, int status) {
        this.output = output;
        this.status = status;
    }

    static void require() {
        assertTrue(Files.isExecutable(GDB), GDB + " is needed for the gdb tests (Debian package gdb)");
    }

    /** Runs gdb with {@code commands}, one per line of a script; 60 s at most. */
    static RealGdb run(List<String> commands) {
        return run(commands, 0);
    }

    /**
     * Runs gdb with {@code commands}; when {@code interruptAfterMillis} is positive, sends gdb
     * SIGINT that long after it started (what Ctrl-C at its terminal does).
     */
    static RealGdb run(List<String> commands, long interruptAfterMillis) {
        require();
        try {
            Path script = Files.createTempFile("gdb", ".cmd");
            Files.write(script, commands);
            List<String> argv = new ArrayList<>(List.of(GDB.toString(), "-nx", "-q", "-batch", "-x", script.toString()));
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (interruptAfterMillis > 0) {
                Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(interruptAfterMillis);
                        new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
                    } catch (IOException | InterruptedException e) {
                        // the test sees gdb not stopping
                    }
                });
            }
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("gdb did not finish within 60 s:\n" + new String(out, StandardCharsets.UTF_8));
            }
            Files.delete(script);
            return new RealGdb(new String(out, StandardCharsets.UTF_8), p.exitValue());
        } catch (IOException e) {
            throw new AssertionError("cannot run " + GDB, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The first output line that contains {@code text}, or null. */
    String line(String text) {
        return output.lines().filter(l -> l.contains(text)).findFirst().orElse(null);
    }

    @Override
    public String toString() {
        return "gdb exit " + status + ":\n" + output;
    }
}
