package org.jbhyve.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * POSIX and Linux calls: descriptors, I/O, ioctl, memory mapping, eventfd, thread ids.
 * Every failing call throws {@link SysException} with errno; EINTR is retried where the call
 * is restartable (read/write/pread/pwrite) and surfaced where the caller must see it (ioctl).
 */
public final class Posix {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DSYNC = 010000;
    public static final int O_DIRECT = 040000;
    public static final int O_SYNC = 04010000;
    public static final int O_CLOEXEC = 02000000;

    public static final int PROT_NONE = 0;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int PROT_EXEC = 4;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    /** Place the mapping exactly at the address given, replacing what was there. */
    public static final int MAP_FIXED = 0x10;
    /** Fault the whole mapping in now (read-ahead for a file) instead of page by page later. */
    public static final int MAP_POPULATE = 0x8000;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    /** Drops the pages: anonymous memory reads as zeros again (and no longer counts as resident). */
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_DONTDUMP = 16;
    public static final int MADV_DODUMP = 17;

    public static final int EFD_CLOEXEC = O_CLOEXEC;
    public static final int EFD_NONBLOCK = O_NONBLOCK;

    private static final long SYS_GETTID = 186;
    private static final long SYS_TGKILL = 234;
    private static final long SYS_DUP2 = 33;
    private static final long SYS_CHDIR = 80;
    private static final long SYS_GETPRIORITY = 140;
    private static final long SYS_SETPRIORITY = 141;
    private static final int PRIO_PROCESS = 0;
    /** openat's directory argument for "relative to the working directory", as open(2) resolves. */
    static final int AT_FDCWD = -100;

    private static final SystemCall OPEN = new SystemCall(257); // openat(2)
    private static final SystemCall CLOSE = new SystemCall(3); // close(2)
    private static final SystemCall READ = new SystemCall(0); // read(2)
    private static final SystemCall WRITE = new SystemCall(1); // write(2)
    private static final SystemCall PREAD = new SystemCall(17); // pread64(2)
    private static final SystemCall PWRITE = new SystemCall(18); // pwrite64(2)
    private static final SystemCall FDATASYNC = new SystemCall(75); // fdatasync(2)
    private static final SystemCall FSYNC = new SystemCall(74); // fsync(2)
    private static final SystemCall IOCTL = new SystemCall(16); // ioctl(2)
    private static final SystemCall MMAP = new SystemCall(9); // mmap(2)
    private static final SystemCall MUNMAP = new SystemCall(11); // munmap(2)
    private static final SystemCall MPROTECT = new SystemCall(10); // mprotect(2)
    private static final SystemCall MADVISE = new SystemCall(28); // madvise(2)
    private static final SystemCall MLOCK = new SystemCall(149); // mlock(2)
    private static final SystemCall EVENTFD = new SystemCall(290); // eventfd2(2)
    /** int fcntl(int fd, int cmd, ...), whose third argument is variadic; for Poll and FileLocks. */
    static final SystemCall FCNTL = new SystemCall(72); // fcntl(2)
    /** int socket(int domain, int type, int protocol); for Tun and UnixSeqpacket. */
    static final SystemCall SOCKET = new SystemCall(41); // socket(2)
    private static final SystemCall GETPID = new SystemCall(39); // getpid(2)

    private Posix() {}

    public static Fd open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) OPEN.call(AT_FDCWD, LibC.address(arena.allocateFrom(path)), flags, mode);
            LibC.check(fd, "open " + path);
            return new Fd(fd, path);
        }
    }

    static void close(int fd) {
        int r = (int) CLOSE.call(fd);
        // close() must not be retried on EINTR on Linux: the descriptor is already released.
        if (r == -1 && LibC.lastErrno() != Errno.EINTR) {
            throw new SysException("close", LibC.lastErrno());
        }
    }

    /** read(2) into {@code buf}, retrying EINTR; returns bytes read, 0 at end of file. */
    public static long read(Fd fd, MemorySegment buf, long len) {
        return restartable("read", () -> READ.call(fd.number(), LibC.address(buf), len));
    }

    /** write(2) from {@code buf}, retrying EINTR; returns bytes written. */
    public static long write(Fd fd, MemorySegment buf, long len) {
        return restartable("write", () -> WRITE.call(fd.number(), LibC.address(buf), len));
    }

    public static long pread(Fd fd, MemorySegment buf, long len, long offset) {
        return restartable("pread",
                () -> PREAD.call(fd.number(), LibC.address(buf), len, offset));
    }

    public static long pwrite(Fd fd, MemorySegment buf, long len, long offset) {
        return restartable("pwrite",
                () -> PWRITE.call(fd.number(), LibC.address(buf), len, offset));
    }

    /** A downcall returning a byte count (or a descriptor) or -1 with errno. */
    interface CountingCall {
        long invoke();
    }

    /** Runs {@code call} until it does not fail with EINTR; throws on any other failure. */
    static long restartable(String name, CountingCall call) {
        while (true) {
            long n = call.invoke();
            if (n >= 0 || LibC.lastErrno() != Errno.EINTR) {
                return LibC.check(n, name);
            }
        }
    }

    public static void fdatasync(Fd fd) {
        LibC.check((int) FDATASYNC.call(fd.number()), "fdatasync");
    }

    public static void fsync(Fd fd) {
        LibC.check((int) FSYNC.call(fd.number()), "fsync");
    }

    /**
     * ioctl with a pointer argument; returns the (non-negative) result. EINTR is retried: a
     * signal meant for another purpose (a terminal resized, a profiler's tick) must not fail
     * KVM_CREATE_VM or a terminal's set-up. KVM_RUN, whose EINTR is a kick, uses {@link #ioctlOrErrno}.
     */
    public static int ioctl(Fd fd, long request, MemorySegment arg) {
        return ioctl(fd, request, LibC.address(arg));
    }

    /** ioctl with an integer argument (or none: pass 0); EINTR retried as above. */
    public static int ioctl(Fd fd, long request, long arg) {
        // As restartable(), without its per-call lambda and name: ioctl carries interrupt
        // injection, so a successful call allocates nothing.
        long r;
        while ((r = IOCTL.call(fd.number(), request, arg)) == -1 && LibC.lastErrno() == Errno.EINTR) {
            // interrupted before the request took effect: issue it again
        }
        return r >= 0 ? (int) r : (int) LibC.check(r, "ioctl 0x" + Long.toHexString(request));
    }

    /**
     * ioctl that reports failure as a negative errno instead of throwing (for KVM_RUN's EINTR):
     * the kernel's own result, so nothing is recorded and no thread-local is looked up on the
     * vCPU loop's way out of an interrupted KVM_RUN.
     */
    public static int ioctlOrErrno(Fd fd, long request, long arg) {
        return (int) IOCTL.resultOrMinusErrno(fd.number(), request, arg, 0, 0, 0);
    }

    /** mmap; the returned segment has the mapping's length. */
    public static MemorySegment mmap(long length, int prot, int flags, Fd fd, long offset) {
        long addr = MMAP.call(0,
                length, prot, flags, fd == null ? -1 : fd.number(), offset);
        if (addr == -1L) {
            throw new SysException("mmap", LibC.lastErrno());
        }
        return MemorySegment.ofAddress(addr).reinterpret(length);
    }

    /**
     * mmap(2) with MAP_FIXED over {@code range}, an existing mapping of ours: its pages are
     * replaced by {@code fd}'s from {@code offset} (for a snapshot restored in place).
     */
    public static void mmapOver(MemorySegment range, int prot, int flags, Fd fd, long offset) {
        long addr = MMAP.call(LibC.address(range),
                range.byteSize(), prot, flags | MAP_FIXED, fd.number(), offset);
        if (addr == -1L) {
            throw new SysException("mmap", LibC.lastErrno());
        }
        if (addr != range.address()) {
            throw new IllegalStateException("mmap placed a fixed mapping elsewhere");
        }
    }

    /** mprotect(2): changes the access of a page-aligned range of our mappings. */
    public static void mprotect(MemorySegment range, int prot) {
        LibC.check((int) MPROTECT.call(LibC.address(range), range.byteSize(), prot), "mprotect");
    }

    public static void munmap(MemorySegment mapping) {
        LibC.check((int) MUNMAP.call(LibC.address(mapping), mapping.byteSize()), "munmap");
    }

    public static void madvise(MemorySegment range, int advice) {
        LibC.check((int) MADVISE.call(LibC.address(range), range.byteSize(), advice), "madvise");
    }

    public static void mlock(MemorySegment range) {
        LibC.check((int) MLOCK.call(LibC.address(range), range.byteSize()), "mlock");
    }

    public static Fd eventfd(int initial, int flags) {
        int fd = (int) EVENTFD.call(initial, flags);
        return new Fd((int) LibC.check(fd, "eventfd"), "eventfd");
    }

    /** The calling thread's kernel thread id. */
    public static int gettid() {
        return (int) syscall("gettid", SYS_GETTID, 0, 0, 0, 0, 0);
    }

    public static int getpid() {
        return (int) GETPID.call();
    }

    /** Sends {@code signal} to thread {@code tid} of this process. */
    public static void tgkill(int tid, int signal) {
        syscall("tgkill", SYS_TGKILL, getpid(), tid, signal, 0, 0);
    }

    /** dup2(2): descriptor {@code target} becomes a copy of {@code fd} (inheritable), closing what it was. */
    public static void dup2(Fd fd, int target) {
        syscall("dup2", SYS_DUP2, fd.number(), target, 0, 0, 0);
    }

    /**
     * The calling thread's nice value, -20 (most favoured) to 19. On Linux a nice value belongs to
     * a thread (PRIO_PROCESS with a thread id), and a new thread starts with its creator's.
     */
    public static int threadNice() {
        return 20 - (int) syscall("getpriority", SYS_GETPRIORITY, PRIO_PROCESS, 0, 0, 0, 0); // the raw call returns 20 - nice
    }

    /**
     * setpriority(2) for thread {@code tid} of this process. Lowering a nice value needs root,
     * CAP_SYS_NICE or an RLIMIT_NICE that allows it (EACCES otherwise).
     */
    public static void setThreadNice(int tid, int nice) {
        syscall("setpriority", SYS_SETPRIORITY, PRIO_PROCESS, tid, nice, 0, 0);
    }

    /**
     * chdir(2): the process's working directory, against which the kernel resolves relative paths
     * (the JDK passes relative paths through unchanged; only its {@code user.dir} stays put).
     */
    public static void chdir(String path) {
        try (Arena arena = Arena.ofConfined()) {
            syscall("chdir " + path, SYS_CHDIR, arena.allocateFrom(path).address(), 0, 0, 0, 0);
        }
    }

    /**
     * A system call by number, for calls made once or twice (no {@link SystemCall} of their
     * own). Pass 0 for the arguments a call does not take: the kernel ignores them, or (prctl)
     * insists they are 0.
     *
     * @return the call's (non-negative) result
     * @throws SysException named {@code call} when it fails
     */
    static long syscall(String call, long number, long a1, long a2, long a3, long a4, long a5) {
        long result = LibC.systemCall(number, a1, a2, a3, a4, a5, 0);
        if (LibC.failed(result)) {
            throw new SysException(call, (int) -result);
        }
        return result;
    }
}
