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
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.FileIo;
import org.jbhyve.sys.Posix;

/**
 * Snapshot save and restore throughput against dd moving the same number of bytes to and from
 * the same file system: {@code dd if=/dev/zero bs=16M conv=fsync} for saving (a snapshot is
 * flushed to disk too) and {@code dd of=/dev/null bs=16M} for restoring, the latter twice: from
 * the disk (both files dropped from the page cache first, as after a reboot) and from the page
 * cache (both files just read). The guest memory is filled with non-zero data, so every page is
 * written (the sparse case only gets faster). Each restore goes into fresh guest-RAM-like memory
 * the way {@code bhyve -r} does it (the file mapped copy-on-write and its checksum checked) and
 * is compared with the saved memory afterwards. Rounds alternate between the sides; each round
 * is printed on stderr, the table shows medians. Last lines: save_ratio=, restore_ratio= (the
 * smaller of the two restores), ratio= (the smallest).
 */
public final class SnapshotBench {
    public static void main(String[] args) throws Exception {
        long mib = 1024;
        Path dir = Path.of("target");
        int rounds = 5;
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--size-mib" -> mib = Long.parseLong(args[++i]);
                    case "--dir" -> dir = Path.of(args[++i]);
                    case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                    default -> throw new IllegalArgumentException(args[i]);
                }
            }
        } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
            rounds = 0; // reported below
        }
        if (rounds < 1 || mib < 16 || mib % 16 != 0 || mib > 1 << 20 || !Files.isDirectory(dir)) {
            System.err.println("usage: bench/snapshot [--size-mib N (a multiple of 16)] [--dir DIR (exists)] [--rounds R (1 or more)]");
            System.exit(4);
        }
        long bytes = mib << 20;
        long ddBlocks = mib / 16;
        Path file = dir.resolve("bench-snapshot.ckp");
        Path ddFile = dir.resolve("bench-snapshot.dd");
        List<Double> save = new ArrayList<>(), ddWrite = new ArrayList<>();
        List<Double> coldRestore = new ArrayList<>(), coldRead = new ArrayList<>();
        List<Double> hotRestore = new ArrayList<>(), hotRead = new ArrayList<>();
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
                // Each side starts from no file (replacing an old one would time its deletion),
                // and the sides take turns going first, so neither always meets the disk still
                // busy with the other's data.
                Files.deleteIfExists(file);
                Files.deleteIfExists(ddFile);
                settle();
                boolean ddFirst = r % 2 == 1;
                inTurn(ddFirst, () -> save.add(save(file, guest)),
                        () -> ddWrite.add(dd(bytes, "if=/dev/zero", "of=" + ddFile, "conv=fsync", "count=" + ddBlocks)));
                // A file's first read after it was written is slow or fast depending on what the
                // disk below (here a virtual disk with the host's cache) still holds; both files
                // are read once before the timed reads, which all start with nothing in this
                // system's page cache.
                readOnce(file);
                readOnce(ddFile);
                inTurn(ddFirst, () -> {
                    dropFromPageCache(file);
                    coldRestore.add(restore(file, guest));
                }, () -> {
                    dropFromPageCache(ddFile);
                    coldRead.add(dd(bytes, "if=" + ddFile, "of=/dev/null"));
                });
                // Both files are in the page cache now (the restore's check read all of ours).
                inTurn(ddFirst, () -> hotRestore.add(restore(file, guest)),
                        () -> hotRead.add(dd(bytes, "if=" + ddFile, "of=/dev/null")));
                System.err.printf("round %d: save %.0f dd %.0f | cold restore %.0f dd %.0f | hot restore %.0f dd %.0f MB/s%n",
                        r + 1, save.getLast(), ddWrite.getLast(), coldRestore.getLast(), coldRead.getLast(),
                        hotRestore.getLast(), hotRead.getLast());
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(ddFile);
        }
        double s = median(save), dw = median(ddWrite);
        double rc = median(coldRestore), dc = median(coldRead), rh = median(hotRestore), dh = median(hotRead);
        System.out.printf("%-14s %8s %12s %12s %7s%n", "direction", "MiB", "jbhyve MB/s", "dd MB/s", "ratio");
        System.out.printf("%-14s %8d %12.0f %12.0f %7.2f%n", "save", mib, s, dw, s / dw);
        System.out.printf("%-14s %8d %12.0f %12.0f %7.2f%n", "restore cold", mib, rc, dc, rc / dc);
        System.out.printf("%-14s %8d %12.0f %12.0f %7.2f%n", "restore cached", mib, rh, dh, rh / dh);
        double restoreRatio = Math.min(rc / dc, rh / dh);
        System.out.printf("save_ratio=%.2f%nrestore_ratio=%.2f%nratio=%.2f%n", s / dw, restoreRatio,
                Math.min(s / dw, restoreRatio));
    }

    private interface Step {
        void run() throws IOException, InterruptedException;
    }

    private static void inTurn(boolean secondFirst, Step first, Step second) throws IOException, InterruptedException {
        (secondFirst ? second : first).run();
        (secondFirst ? first : second).run();
    }

    /** Saves {@code guest} as {@code bhyvectl --suspend} does; returns MB/s. */
    private static double save(Path file, MemorySegment guest) {
        long t0 = System.nanoTime();
        SnapshotWriter.write(file, List.of(), List.of(new MemoryRegion("ram@0x0", guest)), null);
        return rate(guest.byteSize(), t0);
    }

    /** Restores {@code file} the way {@code bhyve -r} does and checks it gave back {@code expected}; returns MB/s. */
    private static double restore(Path file, MemorySegment expected) {
        long bytes = expected.byteSize();
        MemorySegment target = Posix.mmap(bytes, Posix.PROT_READ | Posix.PROT_WRITE,
                Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_NORESERVE, null, 0);
        try (SnapshotImage image = SnapshotImage.open(file)) {
            long t0 = System.nanoTime();
            image.restoreMemory(List.of(new MemoryRegion("ram@0x0", target)), null, m -> SnapshotImage.MemoryLoad.MAP);
            double rate = rate(bytes, t0);
            if (target.mismatch(expected) != -1) {
                throw new IllegalStateException("restored memory differs");
            }
            return rate;
        } finally {
            Posix.munmap(target);
        }
    }

    /** Lets the file system finish freeing the last round's files before anything is timed. */
    private static void settle() throws IOException, InterruptedException {
        if (new ProcessBuilder("sync").inheritIO().start().waitFor() != 0) {
            throw new IOException("sync failed");
        }
    }

    private static void readOnce(Path file) throws IOException, InterruptedException {
        dropFromPageCache(file);
        dd(0, "if=" + file, "of=/dev/null");
    }

    /** Makes the next read of {@code file} come from the disk (its pages are clean: both writers flushed). */
    private static void dropFromPageCache(Path file) {
        try (Fd fd = Posix.open(file.toString(), Posix.O_RDONLY | Posix.O_CLOEXEC, 0)) {
            FileIo.fadvise(fd, 0, 0, FileIo.POSIX_FADV_DONTNEED);
        }
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
