package org.jbhyve.fuzz;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The fuzzing loop shared by the targets in this package. Every input is a byte array: either
 * random bytes or one of the target's valid inputs (its seeds) mutated a few times (bits
 * flipped, fields of 1, 2, 4 or 8 bytes set to extremes in either byte order, truncated,
 * ranges deleted, duplicated or overwritten, spliced with another seed). Input {@code i} of a
 * run is drawn from {@code new Random(mix(seed, i))}, so a run is reproducible from its seed.
 *
 * <p>A crash is: the target's {@link Target#run} throwing (it catches its parser's documented
 * error itself), an input not finishing within {@link #TIMEOUT_SECONDS} (a hang), an uncaught
 * exception on any thread, a log record carrying a RuntimeException or Error (a device or
 * server that caught a bug of its own and went on), or a "request failed" line on stderr (the
 * block backend's workers report escaped exceptions that way).
 *
 * <p>Properties: {@code fuzz.tries} (inputs per target; the normal test run uses each
 * target's default of a few thousand), {@code fuzz.seed} (the run's seed),
 * {@code fuzz.replay=<hex>} (run only that input, as printed in a failure).
 */
final class Fuzz {
    static final int TIMEOUT_SECONDS = 20;
    private static final long DEFAULT_SEED = 0x6A62687976654655L;
    private static final int KEEP_CRASHES = 3;

    /** One parser and its harness. */
    interface Target extends AutoCloseable {
        /** Valid inputs the mutations start from (at least one). */
        List<byte[]> seeds();

        /** The longest random (unmutated) input. */
        default int maxRandomLength() {
            return 512;
        }

        /**
         * Feeds {@code input} to the parser and checks the device or server still works
         * afterwards. Returns normally when the input was accepted or refused with the parser's
         * documented error; anything thrown is a crash.
         */
        void run(byte[] input) throws Exception;

        @Override
        default void close() throws java.io.IOException {
        }
    }

    /** What a run found. */
    record Report(String target, int inputs, int crashes, double seconds, List<String> details) {
        String summary() {
            return target + ": " + inputs + " inputs, " + crashes + " crashes" + (details.isEmpty() ? ""
                    : "\n" + String.join("\n", details));
        }
    }

    private Fuzz() {
    }

    /** Inputs per target: {@code fuzz.tries}, else {@code normal}. */
    static int tries(int normal) {
        return Integer.getInteger("fuzz.tries", normal);
    }

    /** Runs {@code target} for {@link #tries}({@code normal}) inputs and fails the test on any crash. */
    static void check(String name, int normal, Target target) throws Exception {
        Report r = run(name, tries(normal), target);
        if (r.crashes() > 0) {
            fail(r.summary());
        }
    }

    /** Runs {@code tries} inputs through {@code target} (then closes it); never throws for a crash. */
    static Report run(String name, int tries, Target target) throws Exception {
        long seed = Long.getLong("fuzz.seed", DEFAULT_SEED);
        String replay = System.getProperty("fuzz.replay");
        List<String> details = new ArrayList<>();
        int crashes = 0;
        int done = 0;
        long start = System.nanoTime();
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon(true)
                .name("fuzz " + name).unstarted(r));
        try (Watch watch = Watch.install(); target) {
            List<byte[]> seeds = target.seeds();
            for (int i = 0; i < (replay != null ? 1 : tries); i++) {
                byte[] input = replay != null ? HexFormat.of().parseHex(replay)
                        : generate(new Random(mix(seed, i)), seeds, target.maxRandomLength());
                int before = watch.count();
                String problem = null;
                Future<?> f = worker.submit(() -> {
                    target.run(input);
                    return null;
                });
                try {
                    f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    problem = describe(e.getCause());
                } catch (TimeoutException e) {
                    problem = "hang: no result after " + TIMEOUT_SECONDS + " s";
                }
                done++;
                if (problem == null && watch.count() != before) {
                    problem = watch.last();
                }
                if (problem != null) {
                    crashes++;
                    if (details.size() < KEEP_CRASHES) {
                        details.add("  seed " + seed + " input #" + i + " (replay: -Dfuzz.replay="
                                + HexFormat.of().formatHex(input) + "): " + problem);
                    }
                    if (problem.startsWith("hang")) {
                        break; // the worker is stuck: the harness is gone
                    }
                }
            }
        } finally {
            worker.shutdownNow();
        }
        return new Report(name, done, crashes, (System.nanoTime() - start) / 1e9, details);
    }

    private static String describe(Throwable t) {
        StringBuilder s = new StringBuilder(t.toString());
        int shown = 0;
        for (StackTraceElement e : t.getStackTrace()) {
            if (shown < 10 && !e.getClassName().startsWith("jdk.internal.")) {
                s.append("\n      at ").append(e);
                shown++;
            }
        }
        return s.toString();
    }

    /** SplitMix64 of the run's seed and the input's index. */
    static long mix(long seed, long i) {
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A quarter random bytes, the rest mutated seeds. */
    static byte[] generate(Random r, List<byte[]> seeds, int maxRandom) {
        if (r.nextInt(4) == 0) {
            byte[] b = new byte[r.nextInt(4) == 0 ? r.nextInt(maxRandom + 1) : r.nextInt(Math.min(64, maxRandom) + 1)];
            r.nextBytes(b);
            return b;
        }
        byte[] b = seeds.get(r.nextInt(seeds.size())).clone();
        int rounds = 1 + (r.nextInt(3) == 0 ? r.nextInt(8) : r.nextInt(2));
        for (int k = 0; k < rounds; k++) {
            b = mutate(r, b, seeds);
        }
        return b;
    }

    private static final long[] EXTREMES = {0, 1, -1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFFL,
        0x8000_0000L, 0xFFFF_FFFFL, Long.MAX_VALUE, Long.MIN_VALUE, 0x1000, 0xFFF, 0x10_0000, 0x1_0000_0000L};

    /** One mutation of {@code b}. */
    static byte[] mutate(Random r, byte[] b, List<byte[]> seeds) {
        int n = b.length;
        switch (r.nextInt(n == 0 ? 1 : 10)) {
            case 0 -> { // insert random bytes
                byte[] extra = new byte[1 + r.nextInt(16)];
                r.nextBytes(extra);
                int at = r.nextInt(n + 1);
                return concat(slice(b, 0, at), extra, slice(b, at, n));
            }
            case 1 -> b[r.nextInt(n)] ^= (byte) (1 << r.nextInt(8));
            case 2 -> b[r.nextInt(n)] = (byte) new int[] {0, 1, 0x7F, 0x80, 0xFF, 0x20, 0x0A, 0x2C, 0x3D}[r.nextInt(9)];
            case 3, 4 -> { // a field set to an extreme or random value, either byte order
                int width = new int[] {2, 4, 8, 1}[r.nextInt(4)];
                if (n >= width) {
                    int at = r.nextInt(n - width + 1);
                    long v = r.nextInt(3) == 0 ? r.nextLong() : EXTREMES[r.nextInt(EXTREMES.length)];
                    if (r.nextInt(8) == 0) {
                        v += r.nextInt(9) - 4;
                    }
                    boolean big = r.nextInt(3) == 0;
                    for (int j = 0; j < width; j++) {
                        b[at + (big ? width - 1 - j : j)] = (byte) (v >>> (8 * j));
                    }
                }
            }
            case 5 -> { // truncate
                return slice(b, 0, r.nextInt(n));
            }
            case 6 -> { // delete a range
                int at = r.nextInt(n);
                int len = 1 + r.nextInt(Math.min(32, n - at));
                return concat(slice(b, 0, at), slice(b, at + len, n));
            }
            case 7 -> { // duplicate a range
                int at = r.nextInt(n);
                int len = 1 + r.nextInt(Math.min(64, n - at));
                int to = r.nextInt(n + 1);
                return concat(slice(b, 0, to), slice(b, at, at + len), slice(b, to, n));
            }
            case 8 -> { // overwrite a range with random bytes
                int at = r.nextInt(n);
                int len = 1 + r.nextInt(Math.min(16, n - at));
                for (int j = 0; j < len; j++) {
                    b[at + j] = (byte) r.nextInt();
                }
            }
            default -> { // splice with another seed
                byte[] other = seeds.get(r.nextInt(seeds.size()));
                int at = r.nextInt(n + 1);
                int from = other.length == 0 ? 0 : r.nextInt(other.length);
                return concat(slice(b, 0, at), slice(other, from, other.length));
            }
        }
        return b;
    }

    static byte[] slice(byte[] b, int from, int to) {
        return java.util.Arrays.copyOfRange(b, from, to);
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] all = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /**
     * A temporary file for inputs that are files, in /dev/shm when there is one: targets write
     * one per input, and a disk's open(2) and write(2) would be most of their time.
     */
    static java.nio.file.Path tempFile(String suffix) throws java.io.IOException {
        java.nio.file.Path shm = java.nio.file.Path.of("/dev/shm");
        return java.nio.file.Files.isDirectory(shm) && java.nio.file.Files.isWritable(shm)
                ? java.nio.file.Files.createTempFile(shm, "jbhyve-fuzz", suffix)
                : java.nio.file.Files.createTempFile("jbhyve-fuzz", suffix);
    }

    /** Bytes padded with zeros (or cut) to {@code length}. */
    static byte[] fit(byte[] b, int length) {
        return java.util.Arrays.copyOf(b, length);
    }

    /** {@code values} as little-endian 32-bit words. */
    static byte[] le32(int... values) {
        byte[] b = new byte[4 * values.length];
        for (int i = 0; i < values.length; i++) {
            for (int j = 0; j < 4; j++) {
                b[4 * i + j] = (byte) (values[i] >>> (8 * j));
            }
        }
        return b;
    }

    /**
     * Crash signals from outside the fuzzing thread: uncaught exceptions, log records carrying
     * a RuntimeException or Error, and "request failed" lines on stderr. While installed, the
     * console log handlers and stderr are muted (a hostile guest makes devices log a lot).
     */
    static final class Watch extends Handler implements AutoCloseable {
        private final AtomicInteger count = new AtomicInteger();
        private volatile String last = "";
        private final Thread.UncaughtExceptionHandler previousUncaught;
        private final PrintStream previousErr;
        private final List<Level> previousLevels = new ArrayList<>();
        private final Handler[] rootHandlers;

        private Watch() {
            Logger root = Logger.getLogger("");
            rootHandlers = root.getHandlers();
            for (Handler h : rootHandlers) {
                previousLevels.add(h.getLevel());
                h.setLevel(Level.OFF);
            }
            root.addHandler(this);
            previousUncaught = Thread.getDefaultUncaughtExceptionHandler();
            Thread.setDefaultUncaughtExceptionHandler((t, e) -> crash("uncaught on " + t.getName() + ": " + describe(e)));
            previousErr = System.err;
            System.setErr(new PrintStream(new LineSink(), true, StandardCharsets.UTF_8));
        }

        static Watch install() {
            return new Watch();
        }

        private void crash(String what) {
            last = what;
            count.incrementAndGet();
        }

        int count() {
            return count.get();
        }

        String last() {
            return last;
        }

        @Override
        public void publish(LogRecord record) {
            Throwable t = record.getThrown();
            if (t instanceof RuntimeException || t instanceof Error) {
                crash("logged by " + record.getLoggerName() + ": " + record.getMessage() + ": " + describe(t));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            Logger root = Logger.getLogger("");
            root.removeHandler(this);
            for (int i = 0; i < rootHandlers.length; i++) {
                rootHandlers[i].setLevel(previousLevels.get(i));
            }
            Thread.setDefaultUncaughtExceptionHandler(previousUncaught);
            System.setErr(previousErr);
        }

        /** Collects stderr lines, reporting those that say a request failed. */
        private final class LineSink extends OutputStream {
            private final StringBuilder line = new StringBuilder();

            @Override
            public synchronized void write(int b) {
                if (b == '\n') {
                    String l = line.toString();
                    line.setLength(0);
                    if (l.contains("request failed")) {
                        crash("stderr: " + l);
                    }
                } else if (line.length() < 4096) {
                    line.append((char) b);
                }
            }
        }
    }
}
