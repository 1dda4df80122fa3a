package org.jbhyve.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
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

    /** The patterns each disk benchmark runs; the first is the one its ratio is about. */
    static final Pattern[] PATTERNS = {
        new Pattern("4k-randread", 4096, true, false),
        new Pattern("1m-seqread", 1 << 20, false, false),
        new Pattern("1m-seqwrite", 1 << 20, false, true),
    };

    /** One timed run of the device model for a pattern. */
    @FunctionalInterface
    interface DeviceRun {
        Result run(Pattern p, int seconds) throws Exception;
    }

    /**
     * The comparison every disk benchmark prints: a warm-up (JIT, page tables, caches), then each
     * pattern on the device and on the host, a table row each, and last {@code ratio=} device/host
     * throughput for the first pattern.
     */
    static void compare(Path file, long size, int depth, int seconds, boolean noCache, DeviceRun device)
            throws Exception {
        System.out.printf("%-12s %-7s %10s %10s %10s %10s%n", "pattern", "side", "MB/s", "IOPS", "p50 us", "p99 us");
        device.run(PATTERNS[0], 2);
        host(file, size, PATTERNS[0], depth, 1, noCache);
        double ratio = 0;
        for (Pattern p : PATTERNS) {
            Result dev = device.run(p, seconds);
            Result host = host(file, size, p, depth, seconds, noCache);
            print(p, "device", dev);
            print(p, "host", host);
            if (p == PATTERNS[0]) {
                ratio = dev.mbPerSec() / host.mbPerSec();
            }
        }
        System.out.printf("ratio=%.3f%n", ratio);
    }

    private static void print(Pattern p, String side, Result r) {
        System.out.printf("%-12s %-7s %10.1f %10.0f %10.1f %10.1f%n", p.name(), side, r.mbPerSec(), r.iops(),
                r.p50us(), r.p99us());
    }

    /** Fills the file with non-zero data once (no sparse holes), 1 MiB at a time. */
    static void prepare(Path file, long size) throws Exception {
        if (Files.exists(file) && Files.size(file) == size) {
            return;
        }
        System.out.println("creating " + file + " (" + (size >> 20) + " MiB)...");
        try (Arena arena = Arena.ofConfined();
             Fd fd = Posix.open(file.toString(), Posix.O_RDWR | Posix.O_CREAT | Posix.O_TRUNC, 0644)) {
            MemorySegment buf = arena.allocate(1 << 20, 4096);
            for (long at = 0; at < size; at += 1 << 20) {
                for (long i = 0; i < buf.byteSize(); i += 8) {
                    buf.set(ValueLayout.JAVA_LONG, i, at ^ i * 0x9E3779B97F4A7C15L);
                }
                Posix.pwrite(fd, buf, buf.byteSize(), at);
            }
            Posix.fdatasync(fd);
        }
    }

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
