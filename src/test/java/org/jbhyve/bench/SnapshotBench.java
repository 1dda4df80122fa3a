package org.jbhyve.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.snapshot.MemoryRegion;
import org.jbhyve.snapshot.SnapshotImage;
import org.jbhyve.snapshot.SnapshotWriter;
import org.jbhyve.sys.Posix;

/**
 * Snapshot save and restore throughput against dd moving the same number of bytes to and from
 * the same file system: {@code dd if=/dev/zero bs=16M conv=fsync} for saving (a snapshot is
 * flushed to disk too) and {@code dd of=/dev/null bs=16M} for restoring. The guest memory is
 * filled with non-zero data, so every page is written (the sparse case only gets faster). Each
 * restore goes into fresh guest-RAM-like memory the way {@code bhyve -r} does it (the file mapped
 * copy-on-write, its checksum read through the mapping). Rounds alternate between the sides;
 * the table shows medians. Last lines: save_ratio=, restore_ratio=, ratio= (the smaller).
 */
public final class SnapshotBench {
    public static void main(String[] args) throws Exception {
        long mib = 1024;
        Path dir = Path.of("target");
        int rounds = 3;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--size-mib" -> mib = Long.parseLong(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: bench/snapshot [--size-mib N] [--dir DIR] [--rounds R]");
                    System.exit(4);
                }
            }
        }
        long bytes = mib << 20;
        Path file = dir.resolve("bench-snapshot.ckp");
        Path ddFile = dir.resolve("bench-snapshot.dd");
        List<Double> save = new ArrayList<>(), restore = new ArrayList<>(), ddWrite = new ArrayList<>(), ddRead = new ArrayList<>();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment guest = arena.allocate(bytes, 4096);
            long x = 0x9E3779B97F4A7C15L;
            for (long at = 0; at < bytes; at += 8) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                guest.set(ValueLayout.JAVA_LONG_UNALIGNED, at, x | 1);
            }
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                SnapshotWriter.write(file, List.of(), List.of(new MemoryRegion("ram@0x0", guest)), null);
                save.add(rate(bytes, t0));
                ddWrite.add(dd(bytes, "if=/dev/zero", "of=" + ddFile, "conv=fsync", "count=" + (mib / 16)));
                MemorySegment target = Posix.mmap(bytes, Posix.PROT_READ | Posix.PROT_WRITE,
                        Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_NORESERVE, null, 0);
                try (SnapshotImage image = SnapshotImage.open(file)) {
                    long t1 = System.nanoTime();
                    image.restoreMemory(List.of(new MemoryRegion("ram@0x0", target)), null, m -> SnapshotImage.MemoryLoad.MAP);
                    restore.add(rate(bytes, t1));
                    if (target.mismatch(guest) != -1) {
                        throw new IllegalStateException("restored memory differs");
                    }
                } finally {
                    Posix.munmap(target);
                }
                ddRead.add(dd(bytes, "if=" + ddFile, "of=/dev/null"));
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(ddFile);
        }
        double s = median(save), r = median(restore), dw = median(ddWrite), dr = median(ddRead);
        System.out.printf("%-10s %8s %12s %12s %7s%n", "direction", "MiB", "jbhyve MB/s", "dd MB/s", "ratio");
        System.out.printf("%-10s %8d %12.0f %12.0f %7.2f%n", "save", mib, s, dw, s / dw);
        System.out.printf("%-10s %8d %12.0f %12.0f %7.2f%n", "restore", mib, r, dr, r / dr);
        System.out.printf("save_ratio=%.2f%nrestore_ratio=%.2f%nratio=%.2f%n", s / dw, r / dr, Math.min(s / dw, r / dr));
    }

    private static double rate(long bytes, long startNanos) {
        return bytes / 1e6 / ((System.nanoTime() - startNanos) / 1e9);
    }

    private static double dd(long bytes, String... operands) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("dd", "bs=16M", "status=none"));
        cmd.addAll(List.of(operands));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("dd failed: " + cmd);
        }
        return rate(bytes, t0);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
