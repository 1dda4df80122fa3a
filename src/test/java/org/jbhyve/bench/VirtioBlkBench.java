package org.jbhyve.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.devices.virtio.block.VirtioBlock;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.Posix;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPciFunction;

/**
 * virtio-blk throughput from the driver side without a guest CPU: a mock driver keeps
 * {@code depth} requests in flight on the device's queue (MSI-X completions, EVENT_IDX), and
 * the same pattern runs directly on the host file with {@code depth} threads doing pread/pwrite
 * with the same open flags. Prints a table and, last, the 4 KiB random read throughput ratio.
 *
 * <p>Usage: VirtioBlkBench [--dir DIR] [--size-gib N] [--seconds S] [--depth D] [--cached]
 */
public final class VirtioBlkBench {
    private record Pattern(String name, int blockSize, boolean random, boolean write) {}

    private record Result(double mbPerSec, double iops, double p50us, double p99us) {}

    private static final Pattern[] PATTERNS = {
        new Pattern("4k-randread", 4096, true, false),
        new Pattern("1m-seqread", 1 << 20, false, false),
        new Pattern("1m-seqwrite", 1 << 20, false, true),
    };

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("/var/tmp");
        long sizeGib = 1;
        int seconds = 5;
        int depth = 32;
        boolean noCache = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--size-gib" -> sizeGib = Long.parseLong(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--depth" -> depth = Integer.parseInt(args[++i]);
                case "--cached" -> noCache = false;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path file = dir.resolve("jbhyve-bench-virtio-blk.img");
        long size = sizeGib << 30;
        prepare(file, size);
        System.out.printf("file %s, %d GiB, %s, depth %d, %d s per run%n", file, sizeGib,
                noCache ? "nocache (O_DIRECT)" : "page cache", depth, seconds);
        System.out.printf("%-12s %-7s %10s %10s %10s %10s%n", "pattern", "side", "MB/s", "IOPS", "p50 us", "p99 us");
        device(file, size, PATTERNS[0], depth, 2, noCache); // warm-up: JIT, page tables, caches
        host(file, size, PATTERNS[0], depth, 1, noCache);
        double ratio = 0;
        for (Pattern p : PATTERNS) {
            Result dev = device(file, size, p, depth, seconds, noCache);
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
    private static void prepare(Path file, long size) throws Exception {
        if (Files.exists(file) && Files.size(file) == size) {
            return;
        }
        System.out.println("creating " + file + " (" + (size >> 20) + " MiB)...");
        try (Arena arena = Arena.ofConfined();
             Fd fd = Posix.open(file.toString(), Posix.O_RDWR | Posix.O_CREAT | Posix.O_TRUNC, 0644)) {
            MemorySegment buf = arena.allocate(1 << 20, 4096);
            for (long at = 0; at < size; at += 1 << 20) {
                for (long i = 0; i < buf.byteSize(); i += 8) {
                    buf.set(java.lang.foreign.ValueLayout.JAVA_LONG, i, at ^ i * 0x9E3779B97F4A7C15L);
                }
                Posix.pwrite(fd, buf, buf.byteSize(), at);
            }
            Posix.fdatasync(fd);
        }
    }

    private static long offset(Pattern p, long size, AtomicLong cursor) {
        long blocks = size / p.blockSize();
        long b = p.random() ? ThreadLocalRandom.current().nextLong(blocks) : cursor.getAndIncrement() % blocks;
        return b * p.blockSize();
    }

    private static Result device(Path file, long size, Pattern p, int depth, int seconds, boolean noCache)
            throws Exception {
        long ramSize = (long) depth * p.blockSize() + (16L << 20);
        try (MockGuest guest = new MockGuest(ramSize)) {
            BlockBackend disk = BlockBackend.open(new BlockOptions(file.toString(), false, noCache, false, 0, 0,
                    true, BlockOptions.DEFAULT_WORKERS));
            VirtioPciFunction f = new VirtioPciFunction(new VirtioBlock(disk, null), guest.memory, guest,
                    GuestDoorbells.NONE, true);
            try {
                MockDriver driver = new MockDriver(f, guest);
                driver.startModern(-1L, VirtioBlock.QUEUE_SIZE, true);
                MockQueue q = driver.queues[0];
                long[] header = new long[VirtioBlock.QUEUE_SIZE];
                long[] data = new long[VirtioBlock.QUEUE_SIZE];
                long[] status = new long[VirtioBlock.QUEUE_SIZE];
                long[] started = new long[VirtioBlock.QUEUE_SIZE];
                long[] slotOfHead = new long[VirtioBlock.QUEUE_SIZE];
                for (int i = 0; i < depth; i++) {
                    header[i] = guest.alloc(16, 16);
                    status[i] = guest.alloc(1, 1);
                    data[i] = guest.alloc(p.blockSize(), 4096);
                }
                AtomicLong cursor = new AtomicLong();
                long[] lat = new long[1 << 22];
                int nlat = 0;
                long bytes = 0;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
                for (int i = 0; i < depth; i++) {
                    int head = submit(guest, q, p, size, cursor, header[i], data[i], status[i]);
                    slotOfHead[head] = i;
                    started[head] = System.nanoTime();
                }
                driver.kick(0);
                int inFlight = depth;
                boolean stopping = false;
                while (inFlight > 0) {
                    guest.msis.tryAcquire(100, TimeUnit.MILLISECONDS);
                    MockQueue.Used u;
                    boolean added = false;
                    while ((u = q.poll()) != null) {
                        long now = System.nanoTime();
                        inFlight--;
                        if (guest.memory.getByte(status[(int) slotOfHead[u.head()]]) != 0) {
                            throw new IllegalStateException("request failed");
                        }
                        if (nlat < lat.length) {
                            lat[nlat++] = now - started[u.head()];
                        }
                        bytes += p.blockSize();
                        stopping |= now >= end;
                        if (!stopping) {
                            int slot = (int) slotOfHead[u.head()];
                            int head = submit(guest, q, p, size, cursor, header[slot], data[slot], status[slot]);
                            slotOfHead[head] = slot;
                            started[head] = System.nanoTime();
                            inFlight++;
                            added = true;
                        }
                    }
                    if (added) {
                        driver.kick(0);
                    }
                }
                return result(bytes, nlat, lat, seconds);
            } finally {
                f.close();
            }
        }
    }

    private static int submit(MockGuest guest, MockQueue q, Pattern p, long size, AtomicLong cursor, long header,
                              long data, long status) {
        guest.memory.putInt(header, p.write() ? VirtioBlock.T_OUT : VirtioBlock.T_IN);
        guest.memory.putLong(header + 8, offset(p, size, cursor) >> 9);
        guest.memory.putByte(status, (byte) 0xFF);
        return q.add(new MockQueue.Buf(header, 16, false), new MockQueue.Buf(data, p.blockSize(), !p.write()),
                new MockQueue.Buf(status, 1, true));
    }

    private static Result host(Path file, long size, Pattern p, int depth, int seconds, boolean noCache)
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

    private static Result result(long bytes, int n, long[] lat, int seconds) {
        long[] sorted = Arrays.copyOf(lat, n);
        Arrays.sort(sorted);
        double p50 = n == 0 ? 0 : sorted[n / 2] / 1000.0;
        double p99 = n == 0 ? 0 : sorted[Math.min(n - 1, (int) (n * 0.99))] / 1000.0;
        return new Result(bytes / 1e6 / seconds, (double) n / seconds, p50, p99);
    }
}
