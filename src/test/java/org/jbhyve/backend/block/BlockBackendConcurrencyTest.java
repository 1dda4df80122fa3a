package org.jbhyve.backend.block;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.backend.block.BlockBackend.Engine;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Many requests from many threads at once, on a ring far smaller than the load (3 slots), so
 * requests queue for slots; and random request sequences checked against a byte-array model.
 */
class BlockBackendConcurrencyTest {
    private static final int SECTORS = 2048;
    @TempDir
    Path dir;

    private BlockBackend open(Engine engine, Path img) {
        return BlockBackend.open(new BlockOptions(img.toString(), false, false, false, 0, 0, false, 4), engine, 4);
    }

    private Path zeros() throws Exception {
        Path p = dir.resolve("disk.img");
        Files.write(p, new byte[SECTORS * 512]);
        return p;
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void eightThreadsOfAsyncWritesThenReadsOnATinyRing(Engine engine) throws Exception {
        Path img = zeros();
        int threads = 8;
        int perThread = SECTORS / threads;
        try (Arena arena = Arena.ofShared(); BlockBackend disk = open(engine, img)) {
            List<CompletableFuture<Long>> writes = new ArrayList<>();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> submitters = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t * perThread;
                List<CompletableFuture<Long>> mine = new ArrayList<>();
                submitters.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int s = first; s < first + perThread; s++) {
                        MemorySegment b = arena.allocate(512, 512);
                        b.fill((byte) (s * 31 + 7));
                        CompletableFuture<Long> f = new CompletableFuture<>();
                        synchronized (mine) {
                            mine.add(f);
                        }
                        disk.writeAsync(512L * s, new MemorySegment[] {b}, 1, f::complete);
                    }
                    synchronized (writes) {
                        writes.addAll(mine);
                    }
                }));
            }
            start.countDown();
            for (Thread t : submitters) {
                t.join(10_000);
            }
            assertEquals(SECTORS, writes.size());
            for (CompletableFuture<Long> f : writes) {
                assertEquals(512, f.get(10, TimeUnit.SECONDS));
            }
            disk.flush();
            // Read everything back: 2048 async reads of two half-sector buffers each.
            MemorySegment all = arena.allocate(SECTORS * 512L, 4096);
            AtomicInteger bad = new AtomicInteger();
            CountDownLatch reads = new CountDownLatch(SECTORS);
            for (int s = 0; s < SECTORS; s++) {
                MemorySegment sector = all.asSlice(512L * s, 512);
                disk.readAsync(512L * s, new MemorySegment[] {sector.asSlice(0, 256), sector.asSlice(256)}, 2, r -> {
                    if (r != 512) {
                        bad.incrementAndGet();
                    }
                    reads.countDown();
                });
            }
            assertTrue(reads.await(10, TimeUnit.SECONDS));
            assertEquals(0, bad.get());
            for (int s = 0; s < SECTORS; s++) {
                assertEquals((byte) (s * 31 + 7), all.get(JAVA_BYTE, 512L * s + 300), "sector " + s);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void closeWaitsForWhatWasAccepted(Engine engine) throws Exception {
        Path img = zeros();
        AtomicInteger done = new AtomicInteger();
        int n = 500;
        try (Arena arena = Arena.ofShared()) {
            BlockBackend disk = open(engine, img);
            for (int i = 0; i < n; i++) {
                disk.readAsync(512L * (i % SECTORS), new MemorySegment[] {arena.allocate(512, 512)}, 1,
                        r -> done.incrementAndGet());
            }
            disk.close();
            assertEquals(n, done.get(), "every accepted request completed before close returned");
            if (engine == Engine.IO_URING && disk.engine() == Engine.IO_URING) {
                assertThrows(IllegalStateException.class, () -> disk.flushAsync(r -> {}));
            }
        }
    }

    /** Random writes, zeroing and reads with random buffer splits, against a model of the disk. */
    @ParameterizedTest
    @EnumSource(Engine.class)
    void randomRequestsMatchAModel(Engine engine) throws Exception {
        Path img = zeros();
        byte[] model = new byte[SECTORS * 512];
        for (long seed = 1; seed <= 5; seed++) {
            Random rnd = new Random(seed);
            try (Arena arena = Arena.ofShared(); BlockBackend disk = open(engine, img)) {
                for (int op = 0; op < 200; op++) {
                    int sector = rnd.nextInt(SECTORS - 16);
                    int bytes = 512 * (1 + rnd.nextInt(16));
                    int kind = rnd.nextInt(4);
                    if (kind == 3) {
                        CompletableFuture<Long> f = new CompletableFuture<>();
                        disk.discardAsync(512L * sector, bytes, true, f::complete);
                        assertEquals(0, f.get(10, TimeUnit.SECONDS));
                        java.util.Arrays.fill(model, 512 * sector, 512 * sector + bytes, (byte) 0);
                        continue;
                    }
                    MemorySegment[] parts = split(arena, rnd, bytes);
                    if (kind == 0) { // write random data
                        int at = 512 * sector;
                        for (MemorySegment p : parts) {
                            for (int i = 0; i < p.byteSize(); i++) {
                                byte v = (byte) rnd.nextInt();
                                p.set(JAVA_BYTE, i, v);
                                model[at++] = v;
                            }
                        }
                        CompletableFuture<Long> f = new CompletableFuture<>();
                        disk.writeAsync(512L * sector, parts, parts.length, f::complete);
                        assertEquals(bytes, f.get(10, TimeUnit.SECONDS));
                    } else {
                        CompletableFuture<Long> f = new CompletableFuture<>();
                        disk.readAsync(512L * sector, parts, parts.length, f::complete);
                        assertEquals(bytes, f.get(10, TimeUnit.SECONDS));
                        int at = 512 * sector;
                        for (MemorySegment p : parts) {
                            for (int i = 0; i < p.byteSize(); i++, at++) {
                                assertEquals(model[at], p.get(JAVA_BYTE, i), "seed " + seed + " byte " + at);
                            }
                        }
                    }
                }
            }
            assertArrayEquals(model, Files.readAllBytes(img), "seed " + seed);
        }
    }

    /** {@code bytes} cut into 1..8 buffers of random sizes (empty ones included). */
    private static MemorySegment[] split(Arena arena, Random rnd, int bytes) {
        int n = 1 + rnd.nextInt(8);
        MemorySegment[] parts = new MemorySegment[n];
        int left = bytes;
        for (int i = 0; i < n; i++) {
            int size = i == n - 1 ? left : rnd.nextInt(left + 1);
            parts[i] = arena.allocate(Math.max(size, 1), 1).asSlice(0, size);
            left -= size;
        }
        return parts;
    }
}
