package org.jbhyve.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * kill -9 in the middle of guest writes: each round boots the virtio test guest in
 * {@code blk=churn:N} mode (write a numbered sector, flush, report "JBT vblk durable SEQ", for
 * ever), lets it run until a random number of writes have been reported durable, SIGKILLs the
 * VMM, and then reads the disk image: every write whose flush the guest saw complete must be
 * there (its sector holds that write or a later one). A write missing is counted in
 * {@code lost}; the last line is {@code lost=N}.
 *
 * <p>This is the VMM's durability contract under test: a virtio-blk FLUSH completes only after
 * the image file's data reached stable storage (fdatasync), so nothing the guest wrote and
 * flushed depends on the VMM process surviving.
 */
public final class DurabilityBench {
    private static final int SECTOR = 512;

    public static void main(String[] args) throws Exception {
        int rounds = 100;
        int sectors = 64;
        long seed = System.nanoTime();
        Path home = Path.of(".");
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                    case "--sectors" -> sectors = Integer.parseInt(args[++i]);
                    case "--seed" -> seed = Long.parseLong(args[++i]);
                    case "--home" -> home = Path.of(args[++i]);
                    default -> usage();
                }
            }
        } catch (RuntimeException e) { // a missing or non-numeric value
            usage();
        }
        Random random = new Random(seed);
        Path disk = Files.createTempFile("durability", ".img");
        long checked = 0;
        int lost = 0;
        int killed = 0;
        System.out.printf("seed=%d rounds=%d sectors=%d%n", seed, rounds, sectors);
        System.out.printf("%5s %10s %12s %8s%n", "round", "kill after", "last durable", "lost");
        try {
            for (int round = 1; round <= rounds; round++) {
                try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "rw")) {
                    f.setLength(0);
                    f.setLength((long) (sectors + 1) * SECTOR);
                }
                int killAfter = 1 + random.nextInt(4 * sectors);
                Round r = runRound(home, disk, sectors, killAfter);
                killed += r.killed ? 1 : 0;
                int roundLost = verify(disk, sectors, r.lastDurable);
                checked += r.lastDurable;
                lost += roundLost;
                System.out.printf("%5d %10d %12d %8d%s%n", round, killAfter, r.lastDurable, roundLost,
                        r.killed ? "" : "  (not killed as planned: " + r.tail + ")");
                System.out.flush();
            }
        } finally {
            Files.deleteIfExists(disk);
        }
        System.out.printf("rounds=%d killed=%d durable_writes_checked=%d%n", rounds, killed, checked);
        System.out.println("lost=" + lost);
        System.exit(lost == 0 && killed == rounds ? 0 : 1);
    }

    private record Round(long lastDurable, boolean killed, String tail) {}

    /** No line from the VM for this long ends the round as stalled (its last lines shown). */
    private static final long STALL_SECONDS = 120;
    private static final String END = new String("end of output");

    /** Runs the churning guest until {@code killAfter} writes are durable, then SIGKILLs it. */
    private static Round runRound(Path home, Path disk, int sectors, int killAfter) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/bhyve").toString(), "-m", "128M",
                "-s", "0,hostbridge", "-s", "1,lpc", "-s", "2,virtio-blk," + disk, "-l", "com1,stdio",
                "-o", "boot.kernel=" + home.resolve("target/test-guest/virtio.elf"),
                "-o", "boot.cmdline=blk=churn:" + sectors, "durability")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true);
        pb.environment().put("JBHYVE_NO_BUILD", "1");
        Process vm = pb.start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(vm.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(output unreadable: " + e.getMessage() + ")");
            }
            lines.add(END);
        });
        long lastDurable = 0;
        boolean killed = false;
        Deque<String> tail = new ArrayDeque<>();
        try {
            while (true) {
                String line = lines.poll(STALL_SECONDS, TimeUnit.SECONDS);
                if (line == null) {
                    vm.toHandle().destroyForcibly();
                    return new Round(lastDurable, false, "stalled " + STALL_SECONDS + " s after: " + tail);
                }
                if (line == END) {
                    break;
                }
                tail.addLast(line);
                if (tail.size() > 4) {
                    tail.removeFirst();
                }
                if (line.startsWith("JBT vblk durable ")) {
                    lastDurable = Long.parseLong(line.substring("JBT vblk durable ".length()).trim());
                    if (!killed && lastDurable >= killAfter) {
                        // SIGKILL in the middle of the next write or flush. Through the handle: the
                        // Process's own destroy closes its streams, and the lines the guest printed
                        // before it died are still to be read.
                        vm.toHandle().destroyForcibly();
                        killed = true;
                    }
                }
            }
        } finally {
            vm.toHandle().destroyForcibly();
            if (!vm.waitFor(60, TimeUnit.SECONDS)) {
                throw new IOException("bhyve did not end after SIGKILL");
            }
            reader.join(10_000);
        }
        return new Round(lastDurable, killed, tail.toString());
    }

    /**
     * Counts the durable writes not found on the disk: for each sector, the last durable write
     * aimed at it (write SEQ goes to sector 1 + (SEQ - 1) % N) must be there or a later one.
     */
    static int verify(Path disk, int sectors, long lastDurable) throws IOException {
        byte[] image = Files.readAllBytes(disk);
        int lost = 0;
        for (int s = 1; s <= sectors; s++) {
            long expected = lastDurable - Math.floorMod(lastDurable - s, sectors); // largest SEQ <= last, aimed at s
            if (expected < 1) {
                continue;
            }
            long found = sequenceIn(image, s);
            if (found < expected) {
                lost++;
            }
        }
        return lost;
    }

    /** The SEQ a sector holds ("JBD" and 10 digits), 0 for an unwritten or unreadable sector. */
    private static long sequenceIn(byte[] image, int sector) {
        int at = sector * SECTOR;
        if (image.length < at + 13 || image[at] != 'J' || image[at + 1] != 'B' || image[at + 2] != 'D') {
            return 0;
        }
        String digits = new String(image, at + 3, 10, StandardCharsets.US_ASCII);
        return digits.chars().allMatch(Character::isDigit) ? Long.parseLong(digits) : 0;
    }

    private static void usage() {
        System.err.println("usage: bench/durability [--rounds R] [--sectors N] [--seed S]");
        System.exit(4);
    }

    private DurabilityBench() {}
}
