package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Open file description locks (fcntl(2) F_OFD_SETLK, Linux 3.15): an advisory whole-file lock
 * that belongs to the open file, not to the process. Unlike POSIX record locks it conflicts with
 * another open of the same file in the same process too, is not lost when some other descriptor
 * of the file is closed, and goes away with the last descriptor of the open file (so a VM that
 * dies, even by SIGKILL, releases its images). QEMU locks its images the same way.
 *
 * <p>struct flock on x86-64 (32 bytes): l_type i16 @0 (F_RDLCK 0, F_WRLCK 1, F_UNLCK 2),
 * l_whence i16 @2 (SEEK_SET 0), l_start i64 @8, l_len i64 @16 (0: to the end, whatever it
 * becomes), l_pid i32 @24 (must be 0 for OFD locks, and reads back as -1: the lock has no
 * owning process).
 */
public final class FileLocks {
    static final int F_OFD_SETLK = 37;
    static final short F_RDLCK = 0;
    static final short F_WRLCK = 1;
    private static final int FLOCK_SIZE = 32;

    private FileLocks() {}

    /**
     * Takes a whole-file lock on {@code fd}: shared ({@code exclusive} false: readers may share)
     * or exclusive. Returns false when another open file description holds a conflicting lock.
     *
     * @throws SysException for other failures (a file system without locks: ENOLCK, EINVAL)
     */
    public static boolean tryLock(Fd fd, boolean exclusive) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment lock = arena.allocate(FLOCK_SIZE, 8);
            lock.set(JAVA_SHORT, 0, exclusive ? F_WRLCK : F_RDLCK);
            lock.set(JAVA_SHORT, 2, (short) 0);
            lock.set(JAVA_LONG, 8, 0);
            lock.set(JAVA_LONG, 16, 0);
            lock.set(JAVA_INT, 24, 0);
            int r = (int) Posix.FCNTL.call(fd.number(), F_OFD_SETLK, LibC.address(lock));
            if (r == -1) {
                int errno = LibC.lastErrno();
                if (errno == Errno.EAGAIN || errno == Errno.EACCES) {
                    return false;
                }
                throw new SysException("fcntl F_OFD_SETLK", errno);
            }
            return true;
        }
    }

    /**
     * The processes that hold a lock on the file open as {@code fd}, as far as this process may
     * see them: every /proc/PID/fd entry that is the same file (device and inode) and whose
     * /proc/PID/fdinfo lists a {@code lock:} line. OFD locks record no owner, so this is how a
     * holder is found; other users' processes are invisible without privileges. Sorted pids.
     */
    public static List<Long> holders(Fd fd) {
        FileStatus file = FileStatus.of(fd);
        TreeSet<Long> pids = new TreeSet<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path proc : procs) {
                if (holds(proc, file)) {
                    pids.add(Long.parseLong(proc.getFileName().toString()));
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: the message then names no holder
        }
        return new ArrayList<>(pids);
    }

    private static boolean holds(Path proc, FileStatus file) {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fd"))) {
            for (Path fd : fds) {
                try {
                    if (Long.valueOf(file.device()).equals(Files.getAttribute(fd, "unix:dev"))
                            && Long.valueOf(file.inode()).equals(Files.getAttribute(fd, "unix:ino"))
                            && Files.readString(proc.resolve("fdinfo").resolve(fd.getFileName())).contains("\nlock:")) {
                        return true;
                    }
                } catch (IOException | RuntimeException e) {
                    // closed meanwhile, or not ours to see
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
