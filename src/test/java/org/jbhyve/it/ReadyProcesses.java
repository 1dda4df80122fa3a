package org.jbhyve.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.jbhyve.control.RunDirectory;

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

    /** The nice value of each thread of process {@code pid} (field 19 of /proc/PID/task/TID/stat). */
    static List<Integer> threadNices(long pid) throws IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            return tasks.map(task -> {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
                } catch (IOException ended) {
                    return 0; // a thread that ended meanwhile
                }
            }).toList();
        }
    }

    /** The nice value of process {@code pid}'s session (its autogroup), or {@code expected} without autogroups. */
    static int sessionNice(long pid, int expected) throws IOException {
        Path autogroup = Path.of("/proc/" + pid + "/autogroup"); // "/autogroup-N nice V"
        return Files.exists(autogroup) ? Integer.parseInt(Files.readString(autogroup).strip().replaceAll(".* nice ", "")) : expected;
    }

    /**
     * The nice value a successor (bin/bhyve-prestart -q) waits at: the lowest, 19, where it may
     * take the normal one back for its VM (root, or an RLIMIT_NICE of at least 20), else 0.
     */
    static int successorNice() throws IOException {
        String limit = Files.readAllLines(Path.of("/proc/self/limits")).stream()
                .filter(l -> l.startsWith("Max nice priority")).findFirst().orElseThrow()
                .substring("Max nice priority".length()).strip().split("\\s+")[0];
        boolean mayRaise = RunDirectory.uid() == 0 || limit.equals("unlimited") || Integer.parseInt(limit) >= 20;
        return mayRaise ? 19 : 0;
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
