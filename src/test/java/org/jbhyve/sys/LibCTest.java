package org.jbhyve.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The single downcall shape and the system-call entry: arguments reach the kernel in the right
 * registers, results come back whole, a failure is -1 with errno per thread, pointers are checked.
 */
class LibCTest {
    private static final SystemCall CLOSE = new SystemCall(3);
    private static final SystemCall OPENAT = new SystemCall(257);
    private static final SystemCall GETPID = new SystemCall(39);
    private static final SystemCall LSEEK = new SystemCall(8);
    private static final SystemCall PWRITE64 = new SystemCall(18);
    private static final SystemCall MMAP = new SystemCall(9);
    private static final SystemCall MUNMAP = new SystemCall(11);

    @Test
    void aSystemCallReturnsTheKernelsResult() {
        assertEquals(ProcessHandle.current().pid(), GETPID.call());
    }

    @Test
    void aFailedSystemCallIsMinusOneWithItsErrno() {
        assertEquals(-1L, CLOSE.call(-1));
        assertEquals(Errno.EBADF, LibC.lastErrno());
        try (Arena arena = Arena.ofConfined()) {
            long path = LibC.address(arena.allocateFrom("/nonexistent/jbhyve"));
            assertEquals(-1L, OPENAT.call(Posix.AT_FDCWD, path, Posix.O_RDONLY));
            assertEquals(Errno.ENOENT, LibC.lastErrno());
        }
    }

    @Test
    void theKernelsErrorRangeIsMinus4095ToMinus1() {
        assertTrue(LibC.failed(-1));
        assertTrue(LibC.failed(-4095));
        assertEquals(false, LibC.failed(-4096)); // an address or offset this high is a result
        assertEquals(false, LibC.failed(0));
        assertEquals(false, LibC.failed(Long.MAX_VALUE));
    }

    /** All six argument registers, the sixth passed on the stack to the entry: mmap uses them all. */
    @Test
    void sixArgumentsReachTheKernel(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("data");
        byte[] content = new byte[8192];
        content[4096] = 42;
        Files.write(file, content);
        try (Fd fd = Posix.open(file.toString(), Posix.O_RDONLY, 0)) {
            long address = MMAP.call(0, 4096, Posix.PROT_READ, Posix.MAP_PRIVATE, fd.number(), 4096);
            assertNotEquals(-1L, address, () -> "mmap: errno " + LibC.lastErrno());
            assertEquals(42, MemorySegment.ofAddress(address).reinterpret(4096).get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(0L, MUNMAP.call(address, 4096));
        }
    }

    /** Offsets and results wider than 32 bits pass unchanged in both directions. */
    @Property(tries = 50)
    void sixtyFourBitArgumentsAndResultsPassWhole(@ForAll @LongRange(min = 0, max = 1L << 40) long offset) throws Exception {
        Path file = Files.createTempFile("jbhyve-libc", ".img");
        try (Fd fd = Posix.open(file.toString(), Posix.O_RDWR, 0); Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(1);
            assertEquals(1L, PWRITE64.call(fd.number(), LibC.address(one), 1, offset));
            assertEquals(offset + 1, LSEEK.call(fd.number(), 0, 2)); // SEEK_END
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void aLibraryFunctionReturnsAllSixtyFourBits() {
        LibraryFunction strtol = LibC.longFunction("strtoll");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocateFrom("-81985529216486895"); // -0x123456789abcdef
            assertEquals(-81985529216486895L, strtol.call(LibC.address(text), 0, 10));
            MemorySegment big = arena.allocateFrom("4294967296");
            assertEquals(1L << 32, strtol.call(LibC.address(big), 0, 10));
        }
    }

    @Test
    void anIntLibraryFunctionIsSignExtended() {
        LibraryFunction atoi = LibC.intFunction("atoi");
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(-7L, atoi.call(LibC.address(arena.allocateFrom("-7"))));
        }
    }

    @Test
    void heapMemoryHasNoAddressACalleeCouldUse() {
        MemorySegment heap = MemorySegment.ofArray(new byte[16]);
        assertThrows(IllegalArgumentException.class, () -> LibC.address(heap));
        assertEquals(0L, LibC.address(MemorySegment.NULL));
    }

    @Test
    void errnoIsPerThread() throws InterruptedException {
        CLOSE.call(-1);
        int[] otherErrno = new int[1];
        Thread other = new Thread(() -> {
            try (Arena arena = Arena.ofConfined()) {
                OPENAT.call(Posix.AT_FDCWD, LibC.address(arena.allocateFrom("/nonexistent/jbhyve")), 0);
                otherErrno[0] = LibC.lastErrno();
            }
        });
        other.start();
        other.join();
        assertEquals(Errno.ENOENT, otherErrno[0]);
        assertEquals(Errno.EBADF, LibC.lastErrno());
    }

    @Test
    void ioctlOrErrnoReturnsTheKernelsMinusErrnoAndLeavesTheThreadsErrno() {
        CLOSE.call(-1);
        assertEquals(Errno.EBADF, LibC.lastErrno());
        try (Fd devNull = Posix.open("/dev/null", Posix.O_RDONLY, 0)) {
            assertEquals(-Errno.ENOTTY, Posix.ioctlOrErrno(devNull, 0x5401, 0)); // TCGETS on no terminal
        }
        assertEquals(Errno.EBADF, LibC.lastErrno());
        assertEquals(-1L, OPENAT.call(Posix.AT_FDCWD, 0, 0)); // a NULL path
        assertEquals(Errno.EFAULT, LibC.lastErrno());
    }
}
