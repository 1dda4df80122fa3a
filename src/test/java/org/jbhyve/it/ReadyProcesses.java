package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** bin/bhyve-prestart's ready processes under a run directory: their sockets RUNDIR/prestart/ready-PID.sock. */
final class ReadyProcesses {
    private ReadyProcesses() {}

    /** The pids of the ready processes, by their sockets (none when the directory is missing). */
    static List<Long> pids(Path runDirectory) throws IOException {
        Path prestart = runDirectory.resolve("prestart");
        if (!Files.isDirectory(prestart)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(prestart)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.matches("ready-\\d+\\.sock"))
                    .map(n -> Long.parseLong(n.replaceAll("\\D", ""))).sorted().toList();
        }
    }

    /** Waits until one is ready (a successor starts after each hand-off) and returns its pid. */
    static long await(Path runDirectory, long seconds) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            List<Long> ready = pids(runDirectory);
            if (!ready.isEmpty()) {
                return ready.get(0);
            }
            if (System.nanoTime() > deadline) {
                Path log = runDirectory.resolve("prestart/log");
                return fail("no ready process within " + seconds + " s; log: "
                        + (Files.exists(log) ? Files.readString(log) : "(none)"));
            }
            Thread.sleep(100);
        }
    }
}
