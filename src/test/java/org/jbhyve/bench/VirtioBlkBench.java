package org.jbhyve.bench;

import static org.jbhyve.bench.DiskBench.prepare;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.bench.BlkBenchSides.Pattern;
import org.jbhyve.bench.BlkBenchSides.Run;

/**
 * virtio-blk throughput from the driver side without a guest CPU, against the same I/O done
 * directly on the host: same file, same depth, same open flags (O_DIRECT unless --cached), same
 * buffers (the mock guest's RAM). See
 * {@link BlkBenchSides} for the three sides: device, host with {@code depth} pread threads, host
 * with one thread and io_uring at {@code depth}.
 *
 * <p>Fairness on a shared machine: each side's {@code seconds} are cut into {@code rounds}
 * slices, and the slices of the three sides alternate (forwards, then backwards), so a change
 * in background load lands on all of them alike. Throughput is requests over measured wall
 * time. The host baseline is the better of the two host sides; the last line is
 * {@code ratio=<device / host MB/s>} for 4 KiB random reads.
 *
 * <p>Usage: VirtioBlkBench [--dir DIR] [--size-gib N] [--seconds S] [--rounds R] [--depth D]
 * [--cached] [--engine io_uring|workers] [--patterns 4k-randread,1m-seqread,1m-seqwrite]
 * [--sides device,threads,io_uring] (fewer sides: for profiling one of them)
 */
public final class VirtioBlkBench {
    private static final Pattern[] PATTERNS = {
        new Pattern("4k-randread", 4096, true, false),
        new Pattern("1m-seqread", 1 << 20, false, false),
        new Pattern("1m-seqwrite", 1 << 20, false, true),
    };

    /** A side's runs added up. */
    private static final class Total {
        long ios;
        long nanos;
        long cpu;
        final List<long[]> lats = new ArrayList<>();
        final List<Integer> counts = new ArrayList<>();

        void add(Run r) {
            ios += r.ios();
            nanos += r.nanos();
            cpu += r.cpuNanos();
            lats.add(r.lat());
            counts.add(r.n());
        }

        double mbPerSec(Pattern p) {
            return ios * (double) p.blockSize() / 1e6 / (nanos / 1e9);
        }

        double percentileMicros(double q) {
            int n = counts.stream().mapToInt(Integer::intValue).sum();
            long[] all = new long[n];
            int at = 0;
            for (int i = 0; i < lats.size(); i++) {
                System.arraycopy(lats.get(i), 0, all, at, counts.get(i));
                at += counts.get(i);
            }
            Arrays.sort(all);
            return n == 0 ? 0 : all[Math.min(n - 1, (int) (n * q))] / 1000.0;
        }
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("/var/tmp");
        long sizeGib = 1;
        int seconds = 5;
        int rounds = 5;
        int depth = 32;
        boolean noCache = true;
        BlockBackend.Engine engine = BlockBackend.Engine.IO_URING;
        List<Pattern> patterns = List.of(PATTERNS);
        List<String> sides = List.of("device", "threads", "io_uring");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--size-gib" -> sizeGib = Long.parseLong(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Math.max(1, Integer.parseInt(args[++i]));
                case "--depth" -> depth = Integer.parseInt(args[++i]);
                case "--cached" -> noCache = false;
                case "--engine" -> engine = switch (args[++i]) {
                    case "io_uring" -> BlockBackend.Engine.IO_URING;
                    case "workers" -> BlockBackend.Engine.WORKERS;
                    default -> throw new IllegalArgumentException("--engine io_uring|workers");
                };
                case "--sides" -> sides = List.of(args[++i].split(","));
                case "--patterns" -> {
                    List<String> names = List.of(args[++i].split(","));
                    patterns = Arrays.stream(PATTERNS).filter(p -> names.contains(p.name())).toList();
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path file = dir.resolve("jbhyve-bench-virtio-blk.img");
        long size = sizeGib << 30;
        prepare(file, size);
        String f = file.toString();
        long slice = TimeUnit.SECONDS.toNanos(seconds) / rounds;
        System.out.printf("file %s, %d GiB, %s, depth %d, %d s per side in %d alternating slices%n", file, sizeGib,
                noCache ? "nocache (O_DIRECT)" : "page cache", depth, seconds, rounds);
        System.out.printf("%-12s %-13s %10s %10s %10s %10s %10s%n", "pattern", "side", "MB/s", "IOPS", "p50 us",
                "p99 us", "cpu us/io");
        double ratio = 0;
        boolean warm = false;
        for (Pattern p : patterns) {
            try (BlkBenchSides.Device dev = new BlkBenchSides.Device(f, size, p, depth, noCache, engine)) {
                MemorySegment[] bufs = dev.dataBuffers(); // the host sides use the device's buffers
                if (!warm) { // JIT (the device has much more code to compile), page tables, caches
                    if (sides.contains("device")) {
                        dev.run(TimeUnit.SECONDS.toNanos(4));
                    }
                    if (sides.contains("threads")) {
                        BlkBenchSides.threads(f, size, p, bufs, noCache, TimeUnit.SECONDS.toNanos(2));
                    }
                    if (sides.contains("io_uring")) {
                        BlkBenchSides.uring(f, size, p, bufs, noCache, TimeUnit.SECONDS.toNanos(2));
                    }
                    warm = true;
                }
                Total device = new Total(), threads = new Total(), uring = new Total();
                for (int r = 0; r < rounds; r++) {
                    for (int k = 0; k < 3; k++) {
                        int side = r % 2 == 0 ? k : 2 - k;
                        if (side == 0 && sides.contains("device")) {
                            device.add(dev.run(slice));
                        } else if (side == 1 && sides.contains("threads")) {
                            threads.add(BlkBenchSides.threads(f, size, p, bufs, noCache, slice));
                        } else if (side == 2 && sides.contains("io_uring")) {
                            uring.add(BlkBenchSides.uring(f, size, p, bufs, noCache, slice));
                        }
                    }
                }
                String engineName = dev.engine == BlockBackend.Engine.IO_URING ? "io_uring" : "workers";
                print(p, "device/" + engineName, device);
                print(p, "host/threads", threads);
                print(p, "host/io_uring", uring);
                if (p.name().equals("4k-randread")) {
                    double best = Math.max(threads.mbPerSec(p), uring.mbPerSec(p));
                    System.out.printf("4k-randread device/host-threads=%.3f device/host-io_uring=%.3f%n",
                            device.mbPerSec(p) / threads.mbPerSec(p), device.mbPerSec(p) / uring.mbPerSec(p));
                    ratio = device.mbPerSec(p) / best;
                }
            }
        }
        System.out.printf("ratio=%.3f%n", ratio);
    }

    private static void print(Pattern p, String side, Total t) {
        System.out.printf("%-12s %-13s %10.1f %10.0f %10.1f %10.1f %10.1f%n", p.name(), side, t.mbPerSec(p),
                t.ios / (t.nanos / 1e9), t.percentileMicros(0.5), t.percentileMicros(0.99),
                t.ios == 0 ? 0 : t.cpu / 1000.0 / t.ios);
    }

}
