package org.jbhyve.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A nice value belongs to one thread on Linux: setting it for one thread leaves the others as they were. */
class ThreadNiceTest {
    @Test
    void aThreadsNiceValueIsItsOwnAndReadsBackAsSet() throws Exception {
        int before = Posix.threadNice();
        AtomicReference<int[]> seen = new AtomicReference<>();
        // raising a nice value needs no privilege; the thread that did it then ends
        Thread other = Thread.ofPlatform().start(() -> {
            int tid = Posix.gettid();
            Posix.setThreadNice(tid, 7);
            seen.set(new int[] {Posix.threadNice(), statNice(tid)});
        });
        other.join();
        assertEquals(7, seen.get()[0], "getpriority's view");
        assertEquals(7, seen.get()[1], "the kernel's /proc view");
        assertEquals(before, Posix.threadNice(), "this thread is untouched");
    }

    private static int statNice(int tid) {
        try {
            String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
            return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
