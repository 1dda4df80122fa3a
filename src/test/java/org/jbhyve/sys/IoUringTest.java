package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The raw ring on a temp file. These need io_uring: the machines the project builds on have it
 * (kernel.io_uring_disabled = 0); where it is off, setup fails with EPERM/ENOSYS and so do these,
 * which is the signal to check the fallback engine is the one in use there.
 */
class IoUringTest {
    @TempDir
    Path dir;
    private final Arena arena = Arena.ofConfined();
    private IoUring ring;

    @BeforeEach
    void setUp() {
        ring = IoUring.setup(8, 0);
    }

    @AfterEach
    void tearDown() {
        ring.close();
        arena.close();
    }

    private record Cqe(long userData, int res) {}

    /** Submits what is prepared, then collects completions until {@code n} have come. */
    private List<Cqe> complete(int n) {
        List<Cqe> out = new ArrayList<>();
        for (int rounds = 0; out.size() < n && rounds < 100; rounds++) {
            ring.submitAndWait(1);
            ring.reap((ud, res, flags) -> out.add(new Cqe(ud, res)));
        }
        assertEquals(n, out.size(), "completions");
        return out;
    }

    private MemorySegment filled(int size, int seed) {
        MemorySegment s = arena.allocate(size, 4096);
        for (int i = 0; i < size; i++) {
            s.set(JAVA_BYTE, i, (byte) (i * 7 + seed));
        }
        return s;
    }

    @Test
    void setupMapsRingsOfThePowerOfTwoAskedFor() {
        assertEquals(8, ring.sqEntries());
        assertEquals(16, ring.cqEntries(), "the CQ is twice the SQ by default");
        assertEquals(8, ring.sqSpace());
        assertEquals(0, ring.pending());
        assertNotEquals(0, ring.features() & IoUring.FEAT_NODROP);
        for (int op : new int[] {IoUring.OP_READV, IoUring.OP_WRITEV, IoUring.OP_READ, IoUring.OP_WRITE,
            IoUring.OP_FSYNC, IoUring.OP_FALLOCATE}) {
            assertTrue(ring.supports(op), "op " + op);
        }
        assertFalse(ring.supports(250), "no such operation");
    }

    @Test
    void aBatchOfWritesAndReadsGoesInOneEnterEach() throws Exception {
        Path file = dir.resolve("f");
        Files.write(file, new byte[16384]);
        try (Fd fd = Posix.open(file.toString(), Posix.O_RDWR, 0)) {
            MemorySegment a = filled(4096, 1);
            MemorySegment b = filled(1000, 2);
            MemorySegment c = filled(3000, 3);
            MemorySegment iov = arena.allocate(2 * VectorIo.IOVEC_SIZE, 8);
            VectorIo.set(iov, 0, b.address(), b.byteSize());
            VectorIo.set(iov, 1, c.address(), c.byteSize());
            assertTrue(ring.prepWrite(fd, a, 0, 1));
            assertTrue(ring.prepWritev(fd, iov, 2, 8192, 2));
            assertTrue(ring.prepFsync(fd, true, 3));
            assertEquals(3, ring.pending());
            assertEquals(3, ring.submit(), "all three SQEs consumed by one io_uring_enter");
            Map<Long, Integer> res = new HashMap<>();
            complete(3).forEach(e -> res.put(e.userData(), e.res()));
            assertEquals(Map.of(1L, 4096, 2L, 4000, 3L, 0), res);

            byte[] onDisk = Files.readAllBytes(file);
            assertArrayEquals(a.toArray(JAVA_BYTE), java.util.Arrays.copyOfRange(onDisk, 0, 4096));
            assertArrayEquals(c.toArray(JAVA_BYTE), java.util.Arrays.copyOfRange(onDisk, 9192, 12192));

            MemorySegment back = arena.allocate(4096, 4096);
            MemorySegment back2 = arena.allocate(1000, 8);
            MemorySegment back3 = arena.allocate(3000, 8);
            VectorIo.set(iov, 0, back2.address(), 1000);
            VectorIo.set(iov, 1, back3.address(), 3000);
            assertTrue(ring.prepRead(fd, back, 0, 4));
            assertTrue(ring.prepReadv(fd, iov, 2, 8192, 5));
            List<Cqe> done = complete(2);
            assertTrue(done.contains(new Cqe(4, 4096)) && done.contains(new Cqe(5, 4000)), done.toString());
            assertEquals(-1, back.mismatch(a));
            assertEquals(-1, back2.mismatch(b));
            assertEquals(-1, back3.mismatch(c));
        }
    }

    @Test
    void readsPastTheEndAreShortAndFailuresAreNegativeErrno() throws Exception {
        Path file = dir.resolve("small");
        Files.write(file, new byte[100]);
        try (Fd ro = Posix.open(file.toString(), Posix.O_RDONLY, 0)) {
            MemorySegment buf = arena.allocate(4096, 4096);
            assertTrue(ring.prepRead(ro, buf, 0, 1));
            assertTrue(ring.prepRead(ro, buf, 100, 2));
            assertTrue(ring.prepWrite(ro, buf, 0, 3));
            assertTrue(ring.prepFallocate(ro, 0x7fff, 0, 4096, 4));
            Map<Long, Integer> res = new HashMap<>();
            complete(4).forEach(e -> res.put(e.userData(), e.res()));
            assertEquals(100, res.get(1L), "short read at the end of the file");
            assertEquals(0, res.get(2L), "read at the end");
            assertEquals(-Errno.EBADF, res.get(3L), "write on a read-only descriptor");
            assertTrue(res.get(4L) < 0, "fallocate with a bogus mode fails: " + res.get(4L));
        }
        assertEquals(100, Files.size(file));
    }

    @Test
    void aFullSubmissionQueueRefusesMoreUntilSubmitted() {
        for (int i = 0; i < 8; i++) {
            assertTrue(ring.prepNop(i));
        }
        assertEquals(0, ring.sqSpace());
        assertFalse(ring.prepNop(99), "no slot left");
        assertEquals(8, ring.submit());
        assertEquals(8, ring.sqSpace(), "the kernel consumed them all");
        List<Cqe> done = complete(8);
        for (int i = 0; i < 8; i++) {
            assertEquals(new Cqe(i, 0), done.get(i), "NOPs complete in order");
        }
    }

    @Test
    void completionsBeyondTheCqAreKeptNotDropped() {
        // 3 x 8 NOPs before reaping anything: 24 completions for a 16-entry CQ.
        List<Long> seen = new ArrayList<>();
        boolean heldBack = false;
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 8; i++) {
                assertTrue(ring.prepNop(round * 8L + i));
            }
            for (int tries = 0; ring.pending() > 0 && tries < 100; tries++) {
                int r = ring.submit();
                assertTrue(r >= 0 || r == -Errno.EBUSY || r == -Errno.EAGAIN, "submit: " + r);
                if (r == -Errno.EBUSY) { // kernels that want the overflow reaped first
                    heldBack = true;
                    ring.submitAndWait(0);
                    ring.reap((ud, res, flags) -> seen.add(ud));
                }
            }
            assertEquals(0, ring.pending());
        }
        heldBack |= ring.cqOverflowed();
        assertTrue(heldBack, "the CQ overflowed (the kernel says so, or refused to submit)");
        for (int rounds = 0; rounds < 100 && seen.size() < 24; rounds++) {
            ring.submitAndWait(0); // moves completions the kernel held back into the CQ
            ring.reap((ud, res, flags) -> seen.add(ud));
        }
        assertEquals(24, seen.size(), "every completion arrives: " + seen);
        assertEquals(24, seen.stream().distinct().count());
        assertFalse(ring.cqOverflowed());
    }

    @Test
    void deferredTaskRunRingsCompleteOnTheIssuingThread() throws Exception {
        ring.close();
        ring = IoUring.setup(4, IoUring.SETUP_SINGLE_ISSUER | IoUring.SETUP_DEFER_TASKRUN);
        Path file = dir.resolve("g");
        Files.write(file, new byte[] {42});
        try (Fd fd = Posix.open(file.toString(), Posix.O_RDONLY, 0)) {
            MemorySegment buf = arena.allocate(1);
            assertTrue(ring.prepRead(fd, buf, 0, 7));
            assertEquals(List.of(new Cqe(7, 1)), complete(1));
            assertEquals(42, buf.get(JAVA_BYTE, 0));
        }
    }
}
