package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * File and block-device calls for disk backends: size (lseek, BLKGETSIZE64), sector sizes
 * (BLKSSZGET, BLKPBSZGET), hole punching and zeroing (fallocate, BLKDISCARD, BLKZEROOUT),
 * read-ahead and cache hints (posix_fadvise).
 */
public final class FileIo {
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;
    private static final int SEEK_END = 2;
    private static final int BLK = 0x12;
    private static final long BLKSSZGET = Ioctl.io(BLK, 104);
    private static final long BLKDISCARD = Ioctl.io(BLK, 119);
    private static final long BLKPBSZGET = Ioctl.io(BLK, 123);
    private static final long BLKZEROOUT = Ioctl.io(BLK, 127);
    private static final long BLKGETSIZE64 = Ioctl.ior(BLK, 114, 8);

    private static final SystemCall LSEEK = new SystemCall(8); // lseek(2)
    private static final SystemCall FALLOCATE = new SystemCall(285); // fallocate(2)

    private static final SystemCall FADVISE = new SystemCall(221); // fadvise64(2)
    public static final int POSIX_FADV_SEQUENTIAL = 2;
    public static final int POSIX_FADV_DONTNEED = 4;

    private FileIo() {}

    /**
     * posix_fadvise(2): a hint about how a range will be read ({@code length} 0: to the end).
     */
    public static void fadvise(Fd fd, long offset, long length, int advice) {
        LibC.check(FADVISE.call(fd.number(), offset, length, advice), "posix_fadvise");
    }

    /** Size of a regular file or block device, by seeking to its end. */
    public static long seekEnd(Fd fd) {
        return LibC.check(LSEEK.call(fd.number(), 0L, SEEK_END), "lseek");
    }

    public static void fallocate(Fd fd, int mode, long offset, long length) {
        LibC.check((int) FALLOCATE.call(fd.number(), mode, offset, length),
                "fallocate");
    }

    public static long blockDeviceSize(Fd fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            Posix.ioctl(fd, BLKGETSIZE64, out);
            return out.get(JAVA_LONG, 0);
        }
    }

    public static int logicalSectorSize(Fd fd) {
        return intIoctl(fd, BLKSSZGET);
    }

    public static int physicalSectorSize(Fd fd) {
        return intIoctl(fd, BLKPBSZGET);
    }

    private static int intIoctl(Fd fd, long request) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            Posix.ioctl(fd, request, out);
            return out.get(JAVA_INT, 0);
        }
    }

    /** BLKDISCARD / BLKZEROOUT: argument is u64 range[2] = {offset, length}. */
    public static void blockDiscard(Fd fd, long offset, long length, boolean zero) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment range = arena.allocate(16, 8);
            range.set(JAVA_LONG, 0, offset);
            range.set(JAVA_LONG, 8, length);
            Posix.ioctl(fd, zero ? BLKZEROOUT : BLKDISCARD, range);
        }
    }
}
