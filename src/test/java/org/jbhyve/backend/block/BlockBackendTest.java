package org.jbhyve.backend.block;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.backend.block.BlockBackend.Engine;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.IoUring;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The backend on both engines: io_uring, and the worker pool it falls back to. */
class BlockBackendTest {
    private static final int SIZE = 1 << 20;
    @TempDir
    Path dir;
    private final Arena arena = Arena.ofShared();
    private BlockBackend disk;

    @AfterEach
    void tearDown() {
        if (disk != null) {
            disk.close();
        }
        arena.close();
    }

    /** A 1 MiB image whose byte i is (i / 512): each sector holds its number (mod 256). */
    private Path image() throws Exception {
        Path p = dir.resolve("disk.img");
        byte[] content = new byte[SIZE];
        for (int i = 0; i < SIZE; i++) {
            content[i] = (byte) (i / 512);
        }
        Files.write(p, content);
        return p;
    }

    private BlockBackend open(Path p, Engine engine, boolean ro, boolean noCache, boolean noDelete) {
        disk = BlockBackend.open(new BlockOptions(p.toString(), ro, noCache, false, 0, 0, noDelete, 4), engine);
        return disk;
    }

    private static long await(CompletableFuture<Long> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    private static BlockBackend.Completion into(CompletableFuture<Long> f) {
        return f::complete;
    }

    private MemorySegment buf(int size, int align) {
        return arena.allocate(size, align);
    }

    static boolean ioUringWorks() {
        try (IoUring r = IoUring.setup(2, 0)) {
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Test
    void ioUringIsUsedWhereTheKernelAllowsItAndTheSwitchForcesWorkers() throws Exception {
        Path img = image();
        assertEquals(ioUringWorks() ? Engine.IO_URING : Engine.WORKERS, open(img, Engine.IO_URING, false, false,
                false).engine());
        disk.close();
        assertEquals(Engine.WORKERS, open(img, Engine.WORKERS, false, false, false).engine());
        disk.close();
        System.setProperty(BlockBackend.ENGINE_PROPERTY, "workers");
        try {
            disk = BlockBackend.open(BlockOptions.of(img.toString()));
            assertEquals(Engine.WORKERS, disk.engine());
        } finally {
            System.clearProperty(BlockBackend.ENGINE_PROPERTY);
        }
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void asyncScatterGatherRoundTrip(Engine engine) throws Exception {
        Path img = image();
        open(img, engine, false, false, false);
        MemorySegment a = buf(512, 512), b = buf(1024, 8), c = buf(1536, 16);
        CompletableFuture<Long> read = new CompletableFuture<>();
        disk.readAsync(3 * 512, new MemorySegment[] {a, b, c, buf(8, 8)}, 3, into(read));
        assertEquals(3072, await(read), "bytes of the three buffers (the fourth is not counted)");
        assertEquals(3, a.get(JAVA_BYTE, 511));
        assertEquals(4, b.get(JAVA_BYTE, 0));
        assertEquals(5, b.get(JAVA_BYTE, 1023));
        assertEquals(8, c.get(JAVA_BYTE, 1535));

        a.fill((byte) 0xA1);
        b.fill((byte) 0xB2);
        CompletableFuture<Long> write = new CompletableFuture<>();
        disk.writeAsync(100 * 512, new MemorySegment[] {a, b}, 2, into(write));
        assertEquals(1536, await(write));
        CompletableFuture<Long> flush = new CompletableFuture<>();
        disk.flushAsync(into(flush));
        assertEquals(0, await(flush));
        byte[] onDisk = Files.readAllBytes(img);
        assertEquals((byte) 0xA1, onDisk[100 * 512 + 511]);
        assertEquals((byte) 0xB2, onDisk[101 * 512]);
        assertEquals((byte) 0xB2, onDisk[102 * 512 + 511]);
        assertEquals(103, onDisk[103 * 512], "nothing written past the buffers");
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void blockingCallsStillWork(Engine engine) throws Exception {
        open(image(), engine, false, false, false);
        MemorySegment m = buf(4096, 4096);
        m.fill((byte) 0x5A);
        disk.write(8192, new MemorySegment[] {m}, 1);
        disk.flush();
        MemorySegment back = buf(4096, 4096);
        disk.read(8192, new MemorySegment[] {back}, 1);
        assertEquals(-1, back.mismatch(m));
        BlockIoException e = assertThrows(BlockIoException.class,
                () -> disk.read(-512, new MemorySegment[] {back}, 1));
        assertTrue(e.getMessage().startsWith("read at -512"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void readsPastTheEndReturnZerosAndBadRangesFail(Engine engine) throws Exception {
        open(image(), engine, false, false, false);
        MemorySegment m = buf(1024, 512);
        m.fill((byte) 0x77);
        CompletableFuture<Long> read = new CompletableFuture<>();
        disk.readAsync(SIZE - 512, new MemorySegment[] {m}, 1, into(read));
        assertEquals(1024, await(read));
        assertEquals((byte) 2047, m.get(JAVA_BYTE, 0));
        assertEquals(0, m.get(JAVA_BYTE, 512), "past the end reads as zeros");
        CompletableFuture<Long> bad = new CompletableFuture<>();
        disk.readAsync(Long.MAX_VALUE - 100, new MemorySegment[] {m}, 1, into(bad));
        assertEquals(-Errno.EINVAL, await(bad));
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void hostErrorsArriveAsNegativeErrno(Engine engine) throws Exception {
        open(image(), engine, false, true, false); // O_DIRECT: the offset must be sector-aligned
        MemorySegment m = buf(4096, 4096);
        CompletableFuture<Long> read = new CompletableFuture<>();
        disk.readAsync(100, new MemorySegment[] {m}, 1, into(read));
        assertEquals(-Errno.EINVAL, await(read));
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void discardAndWriteZeroesClearTheRange(Engine engine) throws Exception {
        Path img = image();
        open(img, engine, false, false, false);
        CompletableFuture<Long> zero = new CompletableFuture<>();
        disk.discardAsync(4096, 8192, true, into(zero));
        assertEquals(0, await(zero));
        CompletableFuture<Long> punch = new CompletableFuture<>();
        disk.discardAsync(65536, 4096, false, into(punch));
        assertEquals(0, await(punch));
        disk.discard(131072, 512, true);
        byte[] onDisk = Files.readAllBytes(img);
        assertEquals(SIZE, onDisk.length, "discard keeps the size");
        assertEquals(7, onDisk[4095]);
        assertTrue(allZero(onDisk, 4096, 12288));
        assertEquals(24, onDisk[12288]);
        assertTrue(allZero(onDisk, 65536, 69632));
        assertTrue(allZero(onDisk, 131072, 131584));
        assertEquals(1, onDisk[131584]);
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void writeZeroesWithoutZeroRangeWritesZeros(Engine engine) throws Exception {
        // tmpfs has no FALLOC_FL_ZERO_RANGE (EOPNOTSUPP): the backend writes zeros instead.
        Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "blk");
        Path img = shm.resolve("disk.img");
        try {
            Files.write(img, Files.readAllBytes(image()));
            open(img, engine, false, false, false);
            CompletableFuture<Long> zero = new CompletableFuture<>();
            disk.discardAsync(8192, 4096, true, into(zero));
            assertEquals(0, await(zero));
            disk.discard(16384, 512, true);
            byte[] onDisk = Files.readAllBytes(img);
            assertEquals(15, onDisk[8191]);
            assertTrue(allZero(onDisk, 8192, 12288));
            assertEquals(24, onDisk[12288]);
            assertTrue(allZero(onDisk, 16384, 16896));
            assertEquals(33, onDisk[16896]);
        } finally {
            disk.close();
            disk = null;
            Files.deleteIfExists(img);
            Files.delete(shm);
        }
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void emptyRequestsCompleteAtOnce(Engine engine) throws Exception {
        open(image(), engine, false, false, false);
        CompletableFuture<Long> read = new CompletableFuture<>();
        disk.readAsync(0, new MemorySegment[] {buf(8, 8)}, 0, into(read));
        assertEquals(0, await(read));
        CompletableFuture<Long> discard = new CompletableFuture<>();
        disk.discardAsync(4096, 0, false, into(discard));
        assertEquals(0, await(discard));
        disk.discard(0, 0, true);
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void readOnlyRefusesWritesAndDiscards(Engine engine) throws Exception {
        Path img = image();
        byte[] before = Files.readAllBytes(img);
        open(img, engine, true, false, false);
        assertTrue(disk.readOnly());
        assertFalse(disk.canDelete());
        MemorySegment m = buf(512, 512);
        CompletableFuture<Long> write = new CompletableFuture<>();
        disk.writeAsync(0, new MemorySegment[] {m}, 1, into(write));
        assertEquals(-SyncIo.EROFS, await(write));
        CompletableFuture<Long> discard = new CompletableFuture<>();
        disk.discardAsync(0, 512, false, into(discard));
        assertEquals(-SyncIo.EROFS, await(discard));
        assertThrows(BlockIoException.class, () -> disk.write(0, new MemorySegment[] {m}, 1));
        assertThrows(BlockIoException.class, () -> disk.discard(0, 512, true));
        CompletableFuture<Long> read = new CompletableFuture<>();
        disk.readAsync(512, new MemorySegment[] {m}, 1, into(read));
        assertEquals(512, await(read), "reads still work");
        assertArrayEquals(before, Files.readAllBytes(img));
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void nodeleteRefusesDiscardWithEopnotsupp(Engine engine) throws Exception {
        open(image(), engine, false, false, true);
        CompletableFuture<Long> discard = new CompletableFuture<>();
        disk.discardAsync(0, 512, false, into(discard));
        assertEquals(-SyncIo.EOPNOTSUPP, await(discard));
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void nocacheBouncesUnalignedBuffersAndPassesAlignedOnes(Engine engine) throws Exception {
        Path img = image();
        open(img, engine, false, true, false);
        MemorySegment aligned = buf(4096, 4096);
        MemorySegment odd = buf(4096 + 3, 4096).asSlice(3, 512);
        CompletableFuture<Long> read = new CompletableFuture<>();
        disk.readAsync(16 * 512, new MemorySegment[] {aligned, odd}, 2, into(read));
        assertEquals(4608, await(read));
        assertEquals(16, aligned.get(JAVA_BYTE, 0));
        assertEquals(24, odd.get(JAVA_BYTE, 0), "the unaligned buffer got sector 24");
        odd.fill((byte) 0x3C);
        CompletableFuture<Long> write = new CompletableFuture<>();
        disk.writeAsync(40 * 512, new MemorySegment[] {odd}, 1, into(write));
        assertEquals(512, await(write));
        assertEquals(0x3C, Files.readAllBytes(img)[40 * 512 + 100]);
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void moreBuffersThanOneCallTakesAreSplit(Engine engine) throws Exception {
        Path img = image();
        open(img, engine, false, false, false);
        int n = 1500; // more than a ring slot's iovecs and more than UIO_MAXIOV
        MemorySegment[] bufs = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            bufs[i] = buf(512, 8);
            bufs[i].fill((byte) (i * 13));
        }
        CompletableFuture<Long> write = new CompletableFuture<>();
        disk.writeAsync(0, bufs, n, into(write));
        assertEquals(512L * n, await(write));
        byte[] onDisk = Files.readAllBytes(img);
        for (int i = 0; i < n; i += 97) {
            assertEquals((byte) (i * 13), onDisk[512 * i + 511], "sector " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void completionsRunOffTheCallerThenTheListener(Engine engine) throws Exception {
        open(image(), engine, false, false, false);
        Set<Thread> completionThreads = ConcurrentHashMap.newKeySet();
        AtomicInteger completions = new AtomicInteger();
        AtomicInteger seenByListener = new AtomicInteger();
        disk.addCompletionListener(() -> seenByListener.set(completions.get()));
        int n = 64;
        CompletableFuture<?>[] all = new CompletableFuture<?>[n];
        try (BlockBackend.Batch batch = disk.batch()) {
            for (int i = 0; i < n; i++) {
                CompletableFuture<Long> f = new CompletableFuture<>();
                all[i] = f;
                disk.readAsync(512L * i, new MemorySegment[] {buf(512, 512)}, 1, r -> {
                    completionThreads.add(Thread.currentThread());
                    completions.incrementAndGet();
                    f.complete(r);
                });
            }
        }
        CompletableFuture.allOf(all).get(10, TimeUnit.SECONDS);
        assertFalse(completionThreads.contains(Thread.currentThread()));
        if (disk.engine() == Engine.IO_URING) {
            assertEquals(1, completionThreads.size(), "one completion thread: " + completionThreads);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (seenByListener.get() != n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(n, seenByListener.get(), "the listener ran after the last completion");
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void aCompletionMayCallTheBlockingApi(Engine engine) throws Exception {
        open(image(), engine, false, false, false);
        CompletableFuture<Byte> got = new CompletableFuture<>();
        MemorySegment m = buf(512, 512);
        disk.flushAsync(r -> {
            try {
                disk.read(512 * 9, new MemorySegment[] {m}, 1);
                got.complete(m.get(JAVA_BYTE, 0));
            } catch (BlockIoException e) {
                got.completeExceptionally(e);
            }
        });
        assertEquals((byte) 9, got.get(10, TimeUnit.SECONDS));
    }
}
