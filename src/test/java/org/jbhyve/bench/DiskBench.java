package org.jbhyve.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;

/**
 * What the disk-controller benchmarks share: an access pattern, a measured result, the offsets a
 * pattern visits, and the host baseline — {@code depth} threads doing positional reads or writes
 * on the same file with the same open flags — that a device model is compared with.
 */
final class DiskBench {
    private DiskBench() {}

    record Pattern(String name, int blockSize, boolean random, boolean write) {}

    record Result(double mbPerSec, double iops, double p50us, double p99us) {}

    static long offset(Pattern p, long size, AtomicLong cursor) {
        long blocks = size / p.blockSize();
        long b = p.random() ? ThreadLocalRandom.current().nextLong(blocks) : cursor.getAndIncrement() % blocks;
        return b * p.blockSize();
    }

    static Result host(Path file, long size, Pattern p, int depth, int seconds, boolean noCache)
            throws Exception {
        int flags = (p.write() ? Posix.O_RDWR : Posix.O_RDONLY) | (noCache ? Posix.O_DIRECT : 0);
        try (Fd fd = Posix.open(file.toString(), flags, 0); Arena arena = Arena.ofShared()) {
            AtomicLong cursor = new AtomicLong();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            long[][] lats = new long[depth][];
            int[] counts = new int[depth];
            Thread[] threads = new Thread[depth];
            for (int t = 0; t < depth; t++) {
                int id = t;
                MemorySegment buf = arena.allocate(p.blockSize(), 4096);
                threads[t] = Thread.ofPlatform().start(() -> {
                    long[] lat = new long[1 << 18];
                    int n = 0;
                    while (System.nanoTime() < end) {
                        long off = offset(p, size, cursor);
                        long t0 = System.nanoTime();
                        long r = p.write() ? Posix.pwrite(fd, buf, p.blockSize(), off)
                                : Posix.pread(fd, buf, p.blockSize(), off);
                        if (r != p.blockSize()) {
                            throw new IllegalStateException("short transfer");
                        }
                        if (n < lat.length) {
                            lat[n++] = System.nanoTime() - t0;
                        }
                    }
                    lats[id] = lat;
                    counts[id] = n;
                });
            }
            for (Thread t : threads) {
                t.join();
            }
            int total = Arrays.stream(counts).sum();
            long[] all = new long[total];
            int at = 0;
            for (int t = 0; t < depth; t++) {
                System.arraycopy(lats[t], 0, all, at, counts[t]);
                at += counts[t];
            }
            return result((long) total * p.blockSize(), total, all, seconds);
        }
    }

    static Result result(long bytes, int n, long[] lat, int seconds) {
        long[] sorted = Arrays.copyOf(lat, n);
        Arrays.sort(sorted);
        double p50 = n == 0 ? 0 : sorted[n / 2] / 1000.0;
        double p99 = n == 0 ? 0 : sorted[Math.min(n - 1, (int) (n * 0.99))] / 1000.0;
        return new Result(bytes / 1e6 / seconds, (double) n / seconds, p50, p99);
    }
}
