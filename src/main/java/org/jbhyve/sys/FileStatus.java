package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * fstat(2) of an open file: its type and size. Asking the open descriptor, rather than the path
 * again, means the file checked is the file used.
 *
 * <p>struct stat on x86-64 (144 bytes): st_dev u64 @0, st_ino u64 @8, st_nlink u64 @16,
 * st_mode u32 @24, st_uid @28, st_gid @32, st_rdev u64 @40, st_size i64 @48, then block size,
 * block count and the three timestamps.
 *
 * @param device st_dev: the file system's device
 * @param inode st_ino: the file within it
 * @param mode st_mode: the type in {@link #S_IFMT}, then the permission bits
 * @param size st_size: bytes for a regular file (0 for a block device: see FileIo.blockDeviceSize)
 */
public record FileStatus(long device, long inode, int mode, long size) {
    public static final int S_IFMT = 0170000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 0060000;
    private static final int STAT_SIZE = 144;
    private static final long ST_DEV = 0;
    private static final long ST_INO = 8;
    private static final long ST_MODE = 24;
    private static final long ST_SIZE = 48;
    private static final SystemCall FSTAT = new SystemCall(5); // fstat(2)

    /** fstat(2) of {@code fd}. */
    public static FileStatus of(Fd fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = arena.allocate(STAT_SIZE, 8);
            LibC.check((int) FSTAT.call(fd.number(), LibC.address(st)), "fstat");
            return new FileStatus(st.get(JAVA_LONG, ST_DEV), st.get(JAVA_LONG, ST_INO), st.get(JAVA_INT, ST_MODE),
                    st.get(JAVA_LONG, ST_SIZE));
        }
    }

    public boolean isRegularFile() {
        return (mode & S_IFMT) == S_IFREG;
    }

    public boolean isBlockDevice() {
        return (mode & S_IFMT) == S_IFBLK;
    }

    /** Whether no one may write it by its mode (0444 and the like; root still can, but an image so marked is meant to stay). */
    public boolean writeProtected() {
        return (mode & 0222) == 0;
    }
}
