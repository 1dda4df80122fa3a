package org.jbhyve.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link SeccompTest}: installs the filter, then makes a thread, tries to
 * start a program and reads a file, printing one line for each. Its own JVM, because the filter
 * cannot be taken off again and the test JVM still starts processes.
 */
public final class SeccompProbe {
    private SeccompProbe() {}

    public static void main(String[] args) throws Exception {
        Seccomp.install();
        System.out.println("installed");
        Thread thread = Thread.ofPlatform().start(() -> System.out.println("thread ran"));
        thread.join();
        try {
            Process p = new ProcessBuilder("/bin/true").start();
            System.out.println("process started, exit " + p.waitFor());
        } catch (IOException e) {
            System.out.println("process refused: " + e.getMessage().lines().findFirst().orElse("")); // then advice
        }
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Seccomp:") || line.startsWith("NoNewPrivs:")) {
                System.out.println("status " + line.replaceAll("\\s+", " "));
            }
        }
    }
}
