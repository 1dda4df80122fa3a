package org.jbhyve.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * An io_uring instance (Linux 5.1+), driven through the raw system calls: no liburing.
 *
 * <p>{@code io_uring_setup(entries, params)} returns a descriptor and fills {@code struct
 * io_uring_params} (120 bytes: sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle,
 * features, wq_fd, resv[3], then {@code io_sqring_offsets} and {@code io_cqring_offsets}, ten
 * 32-bit words each). Three regions are then mapped from that descriptor:
 *
 * <pre>
 * offset 0           SQ ring: u32 head (kernel), u32 tail (us), ring_mask, ring_entries, flags,
 *                    dropped, u32 array[entries] (index of the SQE for each ring slot)
 * offset 0x8000000   CQ ring: u32 head (us), u32 tail (kernel), ring_mask, ring_entries, overflow,
 *                    struct io_uring_cqe cqes[cq_entries]; one mapping with the SQ ring when the
 *                    kernel reports IORING_FEAT_SINGLE_MMAP
 * offset 0x10000000  SQEs, 64 bytes each: u8 opcode | u8 flags | u16 ioprio | s32 fd | u64 off |
 *                    u64 addr | u32 len | u32 op flags | u64 user_data | u16 buf_index | ...
 * CQE (16 bytes):    u64 user_data | s32 res (bytes, or -errno) | u32 flags
 * </pre>
 * Both rings are single-producer/single-consumer with free-running u32 indexes; a slot is
 * {@code index & ring_mask}. We publish the SQ tail with a release store after writing SQEs and
 * read the CQ tail with an acquire load before reading CQEs (and release the CQ head after), the
 * pairing the kernel's smp_load_acquire/smp_store_release expect. {@code io_uring_enter(fd,
 * to_submit, min_complete, flags)} hands prepared SQEs to the kernel and, with GETEVENTS, waits.
 *
 * <p>Not thread-safe: one thread owns an instance (with SINGLE_ISSUER/DEFER_TASKRUN the kernel
 * insists on it). Completions report failures as negative errno in {@code res}, never by
 * exception; only misuse of the ring itself (EBADF, EFAULT, EINVAL from enter) throws.
 */
public final class IoUring implements AutoCloseable {
    public static final int SETUP_SUBMIT_ALL = 1 << 7;
    public static final int SETUP_COOP_TASKRUN = 1 << 8;
    public static final int SETUP_SINGLE_ISSUER = 1 << 12;
    public static final int SETUP_DEFER_TASKRUN = 1 << 13;
    public static final int FEAT_SINGLE_MMAP = 1;
    public static final int FEAT_NODROP = 1 << 1;
    public static final int FEAT_SUBMIT_STABLE = 1 << 2;
    public static final int FEAT_EXT_ARG = 1 << 8;
    public static final int OP_NOP = 0, OP_READV = 1, OP_WRITEV = 2, OP_FSYNC = 3, OP_FALLOCATE = 17;
    public static final int OP_READ = 22, OP_WRITE = 23;

    private static final SystemCall SETUP = new SystemCall(425); // io_uring_setup(2)
    private static final SystemCall ENTER = new SystemCall(426); // io_uring_enter(2)
    private static final SystemCall REGISTER = new SystemCall(427); // io_uring_register(2)
    private static final int ENTER_GETEVENTS = 1;
    private static final int ENTER_EXT_ARG = 1 << 3;
    /** The wait timed out (errno 62). */
    public static final int ETIME = 62;
    private static final int FSYNC_DATASYNC = 1;
    private static final int REGISTER_PROBE = 8;
    private static final int OP_SUPPORTED = 1;
    private static final int SQ_CQ_OVERFLOW = 1 << 1;
    private static final long OFF_SQ_RING = 0L, OFF_CQ_RING = 0x8000000L, OFF_SQES = 0x10000000L;
    private static final int MAP_POPULATE = 0x8000;
    private static final int PARAMS_SIZE = 120, SQ_OFF = 40, CQ_OFF = 80, SQE_SIZE = 64, CQE_SIZE = 16;
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final Fd fd;
    private final int flags;
    private final int features;
    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    private final long sqHead, sqTail, sqFlags;
    private final int sqMask, sqEntries;
    private final long cqHead, cqTail, cqes;
    private final int cqMask, cqEntries;
    private final MemorySegment extArg = Arena.ofAuto().allocate(40, 8);
    private int tail;
    private int head;

    private IoUring(Fd fd, MemorySegment params) {
        this.fd = fd;
        this.flags = params.get(JAVA_INT, 8);
        this.features = params.get(JAVA_INT, 20);
        sqEntries = params.get(JAVA_INT, 0);
        cqEntries = params.get(JAVA_INT, 4);
        sqHead = params.get(JAVA_INT, SQ_OFF);
        sqTail = params.get(JAVA_INT, SQ_OFF + 4);
        sqFlags = params.get(JAVA_INT, SQ_OFF + 16);
        long sqArray = params.get(JAVA_INT, SQ_OFF + 24);
        cqHead = params.get(JAVA_INT, CQ_OFF);
        cqTail = params.get(JAVA_INT, CQ_OFF + 4);
        cqes = params.get(JAVA_INT, CQ_OFF + 20);
        long sqSize = sqArray + 4L * sqEntries;
        long cqSize = cqes + (long) CQE_SIZE * cqEntries;
        int prot = Posix.PROT_READ | Posix.PROT_WRITE;
        int map = Posix.MAP_SHARED | MAP_POPULATE;
        MemorySegment sq = null, cq = null, entries = null;
        try {
            if ((features & FEAT_SINGLE_MMAP) != 0) {
                sq = Posix.mmap(Math.max(sqSize, cqSize), prot, map, fd, OFF_SQ_RING);
                cq = sq;
            } else {
                sq = Posix.mmap(sqSize, prot, map, fd, OFF_SQ_RING);
                cq = Posix.mmap(cqSize, prot, map, fd, OFF_CQ_RING);
            }
            entries = Posix.mmap((long) SQE_SIZE * sqEntries, prot, map, fd, OFF_SQES);
        } catch (SysException e) {
            unmap(sq, cq, entries);
            throw e;
        }
        sqRing = sq;
        cqRing = cq;
        sqes = entries;
        sqMask = sqRing.get(JAVA_INT, params.get(JAVA_INT, SQ_OFF + 8));
        cqMask = cqRing.get(JAVA_INT, params.get(JAVA_INT, CQ_OFF + 8));
        // Ring slot i always uses SQE i, so the indirection array is the identity, written once.
        for (int i = 0; i < sqEntries; i++) {
            sqRing.set(JAVA_INT, sqArray + 4L * i, i);
        }
        tail = (int) INT.getAcquire(sqRing, sqTail);
        head = (int) INT.getAcquire(cqRing, cqHead);
    }

    /**
     * io_uring_setup with at least {@code entries} SQ slots (rounded up to a power of two by the
     * kernel; the CQ gets twice as many) and {@code setupFlags} (SETUP_*). Throws {@link
     * SysException}: ENOSYS (no io_uring), EPERM (kernel.io_uring_disabled, seccomp), EINVAL (a
     * flag this kernel does not know), ENOMEM (locked-memory limit on old kernels).
     */
    public static IoUring setup(int entries, int setupFlags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(PARAMS_SIZE, 8);
            params.set(JAVA_INT, 8, setupFlags);
            long r = SETUP.call(entries, params.address());
            Fd fd = new Fd((int) LibC.check(r, "io_uring_setup"), "io_uring");
            try {
                return new IoUring(fd, params);
            } catch (RuntimeException e) {
                fd.close();
                throw e;
            }
        }
    }

    public int sqEntries() {
        return sqEntries;
    }

    public int cqEntries() {
        return cqEntries;
    }

    /** IORING_FEAT_* bits the kernel reported. */
    public int features() {
        return features;
    }

    /** The setup flags in effect. */
    public int flags() {
        return flags;
    }

    /** SQ slots free for {@code prep*} calls before the next {@link #submit}. */
    public int sqSpace() {
        return sqEntries - (tail - (int) INT.getAcquire(sqRing, sqHead));
    }

    /** SQEs prepared and not yet consumed by the kernel. */
    public int pending() {
        return tail - (int) INT.getAcquire(sqRing, sqHead);
    }

    /** READV of {@code count} iovecs (see {@link VectorIo}) at {@code offset}; false if the SQ is full. */
    public boolean prepReadv(Fd file, MemorySegment iovecs, int count, long offset, long userData) {
        return prep(OP_READV, file.number(), iovecs.address(), count, offset, 0, userData);
    }

    public boolean prepWritev(Fd file, MemorySegment iovecs, int count, long offset, long userData) {
        return prep(OP_WRITEV, file.number(), iovecs.address(), count, offset, 0, userData);
    }

    /** READ into one buffer of up to 2 GiB - 1 bytes ({@code buf.byteSize()} is the length). */
    public boolean prepRead(Fd file, MemorySegment buf, long offset, long userData) {
        return prep(OP_READ, file.number(), buf.address(), (int) Math.min(buf.byteSize(), Integer.MAX_VALUE), offset,
                0, userData);
    }

    public boolean prepWrite(Fd file, MemorySegment buf, long offset, long userData) {
        return prep(OP_WRITE, file.number(), buf.address(), (int) Math.min(buf.byteSize(), Integer.MAX_VALUE),
                offset, 0, userData);
    }

    /** FSYNC, or fdatasync semantics when {@code dataOnly}. */
    public boolean prepFsync(Fd file, boolean dataOnly, long userData) {
        return prep(OP_FSYNC, file.number(), 0, 0, 0, dataOnly ? FSYNC_DATASYNC : 0, userData);
    }

    /** fallocate(fd, mode, offset, length): the kernel reads the length from addr and the mode from len. */
    public boolean prepFallocate(Fd file, int mode, long offset, long length, long userData) {
        return prep(OP_FALLOCATE, file.number(), length, mode, offset, 0, userData);
    }

    public boolean prepNop(long userData) {
        return prep(OP_NOP, -1, 0, 0, 0, 0, userData);
    }

    private boolean prep(int op, int file, long addr, int len, long offset, int opFlags, long userData) {
        if (sqSpace() <= 0) {
            return false;
        }
        long at = (long) SQE_SIZE * (tail & sqMask);
        // Five 64-bit stores (x86-64 is little-endian): opcode, flags 0, ioprio 0 and fd; off;
        // addr; len and the op's flags; user_data. Bytes 40-63 (buf_index, personality,
        // splice_fd_in, the rest) are always 0 here: the kernel hands the SQE array zeroed and
        // never writes it, and no prep sets them, so they are not rewritten for every frame.
        // (The unaligned layouts skip an alignment test per access that the client compiler
        // keeps; the SQEs are 64-byte aligned all the same.)
        sqes.set(JAVA_LONG_UNALIGNED, at, (op & 0xFFL) | ((long) file << 32));
        sqes.set(JAVA_LONG_UNALIGNED, at + 8, offset);
        sqes.set(JAVA_LONG_UNALIGNED, at + 16, addr);
        sqes.set(JAVA_LONG_UNALIGNED, at + 24, (len & 0xFFFFFFFFL) | ((long) opFlags << 32));
        sqes.set(JAVA_LONG_UNALIGNED, at + 32, userData);
        tail++;
        return true;
    }

    /** Hands the prepared SQEs to the kernel without waiting; results as for {@link #submitAndWait}. */
    public int submit() {
        return enter(-1, -1);
    }

    /**
     * io_uring_enter for the SQEs prepared so far, waiting until at least {@code minComplete}
     * completions are in the CQ (0: just collect what is done, which with DEFER_TASKRUN is what
     * moves finished requests into the CQ). Returns what the kernel returned (SQEs consumed), or
     * a negative errno for the transient cases the caller retries: EINTR (a signal interrupted
     * the wait), EAGAIN and EBUSY (no memory for more requests, completions to reap first).
     * Anything else means the ring is misused and throws.
     */
    public int submitAndWait(int minComplete) {
        return enter(minComplete, -1);
    }

    /**
     * Like {@link #submitAndWait(int)}, but waits at most {@code timeoutNanos} for the
     * {@code minComplete} completions (IORING_ENTER_EXT_ARG, Linux 5.11+); returns -ETIME when
     * the time ran out first, with whatever completed by then in the CQ.
     */
    public int submitAndWait(int minComplete, long timeoutNanos) {
        return enter(minComplete, Math.max(0, timeoutNanos));
    }

    private int enter(int minComplete, long timeoutNanos) {
        boolean wait = minComplete >= 0;
        // Release: the SQE contents must be visible before the kernel can see the new tail.
        INT.setRelease(sqRing, sqTail, tail);
        int toSubmit = pending();
        int enterFlags = wait ? ENTER_GETEVENTS : 0;
        long arg = 0;
        long argSize = 0;
        if (timeoutNanos >= 0) {
            // struct io_uring_getevents_arg {u64 sigmask; u32 sigmask_sz; u32 min_wait_usec; u64 ts}
            // and the __kernel_timespec {s64 tv_sec; s64 tv_nsec} ts points to.
            extArg.set(JAVA_LONG, 0, 0L);
            extArg.set(JAVA_LONG, 8, 0L);
            extArg.set(JAVA_LONG, 16, extArg.address() + 24);
            extArg.set(JAVA_LONG, 24, timeoutNanos / 1_000_000_000L);
            extArg.set(JAVA_LONG, 32, timeoutNanos % 1_000_000_000L);
            enterFlags |= ENTER_EXT_ARG;
            arg = extArg.address();
            argSize = 24;
        }
        long r = ENTER.resultOrMinusErrno(fd.number(), toSubmit, wait ? minComplete : 0, enterFlags, arg, argSize);
        if (r >= 0) {
            return (int) r;
        }
        int errno = (int) -r;
        if (errno == Errno.EINTR || errno == Errno.EAGAIN || errno == Errno.EBUSY || errno == ETIME) {
            return -errno;
        }
        throw new SysException("io_uring_enter", errno);
    }

    /** How many completions the CQ holds for {@link #reap}. */
    public int cqReady() {
        return (int) INT.getAcquire(cqRing, cqTail) - head;
    }

    /** Whether the kernel holds completions that did not fit in the CQ (they move in on the next enter). */
    public boolean cqOverflowed() {
        return ((int) INT.getAcquire(sqRing, sqFlags) & SQ_CQ_OVERFLOW) != 0;
    }

    /** What {@link #reap} hands each completion to. */
    @FunctionalInterface
    public interface CompletionSink {
        /** {@code result}: bytes transferred or 0 on success, -errno on failure. */
        void completion(long userData, int result, int flags);
    }

    /**
     * Passes every completion in the CQ to {@code sink}, oldest first, and frees their slots;
     * returns how many. Does not enter the kernel: with DEFER_TASKRUN completions only appear
     * after {@link #submitAndWait}.
     */
    public int reap(CompletionSink sink) {
        int end = (int) INT.getAcquire(cqRing, cqTail); // acquire: CQE contents before reading them
        int n = 0;
        while (head != end) {
            long at = cqes + (long) CQE_SIZE * (head & cqMask);
            long userData = cqRing.get(JAVA_LONG_UNALIGNED, at);
            long resAndFlags = cqRing.get(JAVA_LONG_UNALIGNED, at + 8); // res, then flags (little-endian)
            int res = (int) resAndFlags;
            int cflags = (int) (resAndFlags >>> 32);
            head++;
            n++;
            // Release the slot before running the sink: it may enter the kernel, which may then
            // post into it; everything read from the CQE is in locals by now.
            INT.setRelease(cqRing, cqHead, head);
            sink.completion(userData, res, cflags);
        }
        return n;
    }

    /** Whether this kernel implements {@code opcode} (IORING_REGISTER_PROBE, Linux 5.6+). */
    public boolean supports(int opcode) {
        int ops = 256;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment probe = arena.allocate(16 + 8L * ops, 8);
            long r = REGISTER.call(fd.number(), REGISTER_PROBE, probe.address(), ops);
            if (r < 0 || opcode < 0 || opcode > Byte.toUnsignedInt(probe.get(JAVA_BYTE, 0))
                    || opcode >= Byte.toUnsignedInt(probe.get(JAVA_BYTE, 1))) {
                return false;
            }
            return (probe.get(JAVA_SHORT, 16 + 8L * opcode + 2) & OP_SUPPORTED) != 0;
        }
    }

    private static void unmap(MemorySegment sq, MemorySegment cq, MemorySegment entries) {
        if (entries != null) {
            Posix.munmap(entries);
        }
        if (cq != null && cq != sq) {
            Posix.munmap(cq);
        }
        if (sq != null) {
            Posix.munmap(sq);
        }
    }

    /** Unmaps the rings and closes the descriptor; the kernel cancels what is still in flight. */
    @Override
    public void close() {
        if (fd.isOpen()) {
            unmap(sqRing, cqRing, sqes);
            fd.close();
        }
    }
}
