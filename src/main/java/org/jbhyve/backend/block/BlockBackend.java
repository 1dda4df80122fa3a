package org.jbhyve.backend.block;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.FileIo;
import org.jbhyve.sys.FileLocks;
import org.jbhyve.sys.FileStatus;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/**
 * A disk image: a regular file or a block device (B1), and the machinery that does its I/O off
 * the vCPU and event-loop threads.
 *
 * <p>Options: {@code ro} opens O_RDONLY, and so does an image that cannot be opened for writing
 * (EACCES, EROFS) or whose mode lets no one write it (0444), with a notice: the disk is then
 * read-only for the guest, as with bhyve's blockif; {@code nocache} opens O_DIRECT, and buffers that are
 * not aligned to the host sector size go through an aligned bounce buffer; {@code direct} opens
 * O_SYNC; FLUSH is fdatasync, so data the guest flushed is on stable storage when the request
 * completes. A failed call fails that request only.
 *
 * <p>Locking: an image opened read-write takes an exclusive open file description lock
 * ({@link FileLocks}), a read-only one a shared lock, so a second VM on an image that one VM
 * writes (or writing an image that VMs read) is refused with an {@link ImageLockedException}
 * naming the holders. The lock ends with the backend's descriptor, also when the VM dies.
 * {@code nolock} (jbhyve's option) skips it, for images shared on purpose.
 *
 * <p>Engines: by default requests go to the kernel through io_uring ({@link UringEngine}: one
 * ring and one completion thread per backend, a request's buffers in one READV/WRITEV, bursts
 * submitted with one system call, completions coalesced for up to {@code jbhyve.block.coalesce-us}
 * microseconds, default 50, when 8 or more are in flight). Where io_uring is missing or
 * forbidden (ENOSYS, EPERM from kernel.io_uring_disabled or seccomp) or the system property
 * {@value #ENGINE_PROPERTY} is {@code workers}, a pool of worker threads does preadv/pwritev
 * instead, one request per worker. Either way a pool of {@code workers} threads runs
 * {@link #submit} tasks, and requests io_uring does not do here (bounce buffers, block-device
 * discard ioctls).
 *
 * <p>Two APIs: blocking ({@link #read}, {@link #write}, {@link #flush}, {@link #discard}; any
 * thread, usually a worker via {@link #submit}) and asynchronous ({@link #readAsync}...: return
 * at once, the {@link Completion} runs later on the backend's completion thread, or a worker
 * with the worker engine, never inside the call). After each run of completions the backend
 * calls its {@link #addCompletionListener listeners}, so a device can raise one interrupt per
 * batch. Buffers are native memory (guest RAM slices) and must stay valid, and the array
 * unchanged, until the request completes.
 */
public final class BlockBackend implements AutoCloseable {
    /** System property choosing the engine: {@code io_uring} (default) or {@code workers}. */
    public static final String ENGINE_PROPERTY = "jbhyve.block.engine";

    /** How requests reach the kernel. */
    public enum Engine { IO_URING, WORKERS }

    /** The end of an asynchronous request. */
    @FunctionalInterface
    public interface Completion {
        /** {@code result}: bytes transferred (reads, writes) or 0 (flush, discard), or -errno. */
        void completed(long result);
    }

    /** Requests queued by this thread inside a batch reach the kernel together when it closes. */
    public final class Batch implements AutoCloseable {
        private Batch() {}

        @Override
        public void close() {
            if (uring != null) {
                uring.unplug();
            }
        }
    }

    private final BlockOptions options;
    private final boolean readOnly;
    private final Fd fd;
    private final long size;
    private final int logical;
    private final int physical;
    private final SyncIo sync;
    private final WorkerPool workers;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final UringEngine uring;

    private BlockBackend(BlockOptions options, boolean readOnly, Fd fd, boolean blockDevice, long size, int logical,
                         int physical, int dioAlign, Engine engine, int ringEntries) {
        this.options = options;
        this.readOnly = readOnly;
        this.fd = fd;
        this.size = size;
        this.logical = logical;
        this.physical = physical;
        this.sync = new SyncIo(fd, options.noCache(), blockDevice, dioAlign);
        this.workers = new WorkerPool("blk-" + Path.of(options.path()).getFileName(), options.workers(),
                options.path());
        UringEngine u = null;
        if (engine == Engine.IO_URING) {
            try {
                u = UringEngine.start(options.path(), fd, sync, workers::submit, this::runListeners, ringEntries);
            } catch (RingSetup.Unavailable | RuntimeException e) {
                System.err.println("jbhyve: " + options.path() + ": io_uring unavailable (" + e.getMessage()
                        + "), using worker threads");
            }
        }
        this.uring = u;
    }

    /** Opens the image with the engine {@value #ENGINE_PROPERTY} names; failures are a {@link BlockBackendException}. */
    public static BlockBackend open(BlockOptions options) {
        String e = System.getProperty(ENGINE_PROPERTY, "io_uring");
        return switch (e) {
            case "io_uring" -> open(options, Engine.IO_URING);
            case "workers" -> open(options, Engine.WORKERS);
            default -> throw new BlockBackendException(ENGINE_PROPERTY + "=" + e + ": want io_uring or workers");
        };
    }

    /** Opens the image with {@code engine} (IO_URING falls back to WORKERS where io_uring is unavailable). */
    public static BlockBackend open(BlockOptions options, Engine engine) {
        return open(options, engine, UringEngine.DEFAULT_ENTRIES);
    }

    static BlockBackend open(BlockOptions options, Engine engine, int ringEntries) {
        String path = options.path();
        int mode;
        try {
            mode = (Integer) Files.getAttribute(Path.of(path), "unix:mode");
        } catch (IOException e) {
            throw new BlockBackendException("disk image " + path + ": " + Errno.reason(e));
        } catch (UnsupportedOperationException e) {
            throw new BlockBackendException("disk image " + path + ": " + e.getMessage());
        }
        // refused before open(2): opening a FIFO would wait for its other end
        if ((mode & FileStatus.S_IFMT) != FileStatus.S_IFBLK && (mode & FileStatus.S_IFMT) != FileStatus.S_IFREG) {
            throw new BlockBackendException("disk image " + path + ": not a regular file or block device");
        }
        int extra = Posix.O_CLOEXEC | (options.noCache() ? Posix.O_DIRECT : 0) | (options.direct() ? Posix.O_SYNC : 0);
        boolean readOnly = options.readOnly();
        Fd fd;
        try {
            fd = Posix.open(path, (readOnly ? Posix.O_RDONLY : Posix.O_RDWR) | extra, 0);
        } catch (SysException e) {
            if (readOnly || (e.errno() != Errno.EACCES && e.errno() != Errno.EROFS)) {
                throw new BlockBackendException("disk image " + path + ": " + e.reason());
            }
            fd = openReadOnly(path, extra, "opening it for writing failed (" + e.reason() + ")");
            readOnly = true;
        }
        try {
            FileStatus status = FileStatus.of(fd);
            boolean blockDevice = status.isBlockDevice();
            if (!readOnly && status.isRegularFile() && status.writeProtected()) {
                fd.close();
                fd = openReadOnly(path, extra, String.format("its mode %04o lets no one write it", status.mode() & 07777));
                readOnly = true;
            }
            if (!options.noLock() && !FileLocks.tryLock(fd, !readOnly)) {
                throw new ImageLockedException(path, FileLocks.holders(fd));
            }
            long size = blockDevice ? FileIo.blockDeviceSize(fd) : FileIo.seekEnd(fd);
            int hostLogical = blockDevice ? FileIo.logicalSectorSize(fd) : 512;
            int hostPhysical = blockDevice ? FileIo.physicalSectorSize(fd) : 4096;
            int logical = options.logicalSectorSize() > 0 ? options.logicalSectorSize() : hostLogical;
            int physical = options.physicalSectorSize() > 0 ? options.physicalSectorSize() : Math.max(logical, hostPhysical);
            if (options.noCache() && logical < hostLogical) {
                throw new BlockBackendException(path + ": sectorsize " + logical
                        + " is below the device's " + hostLogical + "-byte sectors, which nocache needs");
            }
            return new BlockBackend(options, readOnly, fd, blockDevice, size, logical, physical,
                    Math.max(hostLogical, 512), engine, ringEntries);
        } catch (SysException e) {
            fd.close();
            throw new BlockBackendException("disk image " + path + ": " + e.getMessage());
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /**
     * bhyve's blockif: an image that cannot be opened for writing is opened read-only instead and
     * the guest sees a read-only disk (virtio-blk's VIRTIO_BLK_F_RO, NVMe's write-protected
     * namespace, SCSI's WP bit, ATA writes failing). Says so in one notice line.
     */
    private static Fd openReadOnly(String path, int extra, String why) {
        try {
            Fd fd = Posix.open(path, Posix.O_RDONLY | extra, 0);
            System.err.println("bhyve: disk image " + path + ": " + why + "; the guest gets it read-only");
            return fd;
        } catch (SysException e) {
            throw new BlockBackendException("disk image " + path + ": " + e.reason());
        }
    }

    public long size() {
        return size;
    }

    public int logicalSectorSize() {
        return logical;
    }

    public int physicalSectorSize() {
        return physical;
    }

    /** Whether the image is open read-only: asked for ({@code ro}), or found unwritable when opened. */
    public boolean readOnly() {
        return readOnly;
    }

    /** Whether DISCARD/WRITE_ZEROES may be offered (not {@code nodelete}, not read-only). */
    public boolean canDelete() {
        return !options.noDelete() && !readOnly;
    }

    public String path() {
        return options.path();
    }

    /** The engine in use (WORKERS when io_uring was asked for but is unavailable). */
    public Engine engine() {
        return uring != null ? Engine.IO_URING : Engine.WORKERS;
    }

    /** Runs {@code task} on a worker thread. */
    public void submit(Runnable task) {
        workers.submit(task);
    }

    // ---- asynchronous API ----

    /** Reads {@code bufs[0..count)} in order from byte {@code offset}; see the class comment. */
    public void readAsync(long offset, MemorySegment[] bufs, int count, Completion done) {
        dispatch(IoRequest.transfer(IoRequest.READ, offset, bufs, count, done), 0);
    }

    /** Writes {@code bufs[0..count)} in order at byte {@code offset}; -EROFS on a read-only disk. */
    public void writeAsync(long offset, MemorySegment[] bufs, int count, Completion done) {
        IoRequest r = IoRequest.transfer(IoRequest.WRITE, offset, bufs, count, done);
        dispatch(r, readOnly ? -SyncIo.EROFS : 0);
    }

    /** fdatasync: what completed before this call is on stable storage when it completes. */
    public void flushAsync(Completion done) {
        dispatch(IoRequest.control(IoRequest.FLUSH, 0, 0, done), 0);
    }

    /** Deallocates ({@code zero} false) or zeroes [offset, offset+length); -EOPNOTSUPP unless {@link #canDelete}. */
    public void discardAsync(long offset, long length, boolean zero, Completion done) {
        IoRequest r = IoRequest.control(zero ? IoRequest.ZERO : IoRequest.DISCARD, offset, length, done);
        dispatch(r, canDelete() ? 0 : readOnly ? -SyncIo.EROFS : -SyncIo.EOPNOTSUPP);
    }

    private void dispatch(IoRequest r, long refusal) {
        long result = refusal != 0 ? refusal : r.rangeValid() ? 0 : -Errno.EINVAL;
        if (uring != null) {
            if (result != 0) {
                uring.reject(r, result);
            } else {
                uring.enqueue(r);
            }
        } else {
            workers.submit(() -> {
                long res = result != 0 ? result : sync.run(r);
                try {
                    r.done.completed(res);
                } finally {
                    runListeners();
                }
            });
        }
    }

    /**
     * Runs {@code listener} after each run of completions, on the thread that ran them (the
     * completion thread; with the worker engine, the worker after each one).
     */
    public void addCompletionListener(Runnable listener) {
        listeners.add(listener);
    }

    public void removeCompletionListener(Runnable listener) {
        listeners.remove(listener);
    }

    private void runListeners() {
        for (Runnable l : listeners) {
            l.run();
        }
    }

    /**
     * Starts a batch on this thread: requests it queues reach the kernel together, with one
     * system call, when the batch closes (use try-with-resources; batches nest).
     */
    public Batch batch() {
        if (uring != null) {
            uring.plug();
        }
        return new Batch();
    }

    // ---- blocking API ----

    /** Reads {@code bufs} in order from byte {@code offset}. */
    public void read(long offset, MemorySegment[] bufs, int count) throws BlockIoException {
        Waiter w = new Waiter();
        await(IoRequest.transfer(IoRequest.READ, offset, bufs, count, w), w, "read at " + offset);
    }

    /** Writes {@code bufs} in order at byte {@code offset}. */
    public void write(long offset, MemorySegment[] bufs, int count) throws BlockIoException {
        if (readOnly) {
            throw new BlockIoException("read-only");
        }
        Waiter w = new Waiter();
        await(IoRequest.transfer(IoRequest.WRITE, offset, bufs, count, w), w, "write at " + offset);
    }

    /** fdatasync(2): what the guest wrote is on stable storage when this returns. */
    public void flush() throws BlockIoException {
        Waiter w = new Waiter();
        await(IoRequest.control(IoRequest.FLUSH, 0, 0, w), w, "flush");
    }

    /** Deallocates (discard) or zeroes [offset, offset+length). */
    public void discard(long offset, long length, boolean zero) throws BlockIoException {
        if (!canDelete()) {
            throw new BlockIoException("discard not allowed");
        }
        Waiter w = new Waiter();
        await(IoRequest.control(zero ? IoRequest.ZERO : IoRequest.DISCARD, offset, length, w), w,
                zero ? "write zeroes" : "discard");
    }

    /**
     * Runs {@code r} and waits for it: through io_uring, except where the calling thread does
     * the system calls itself: with the worker engine; on the ring's own thread (a completion
     * calling in), where waiting would deadlock; for what io_uring would hand to a worker anyway
     * (bounce buffers, block-device ioctls); and for write-zeroes, whose fallback (writing
     * zeros where the file system lacks ZERO_RANGE) runs on a worker, which a caller blocking
     * a worker must not wait for.
     */
    private void await(IoRequest r, Waiter w, String what) throws BlockIoException {
        long result;
        if (!r.rangeValid()) {
            result = -Errno.EINVAL;
        } else if (uring == null || uring.onRingThread() || sync.needsThread(r) || r.op == IoRequest.ZERO) {
            result = sync.run(r);
        } else {
            uring.enqueue(r);
            result = w.await();
        }
        if (result < 0) {
            throw new BlockIoException(what + ": " + Errno.describe((int) -result));
        }
    }

    /** A completion a blocked caller waits for. */
    private static final class Waiter implements Completion {
        private final Thread thread = Thread.currentThread();
        private volatile long result;
        private volatile boolean done;

        @Override
        public void completed(long r) {
            result = r;
            done = true;
            LockSupport.unpark(thread);
        }

        long await() {
            while (!done) {
                LockSupport.park(this);
            }
            return result;
        }
    }

    /** Lets accepted requests finish, then stops the completion thread and the workers. */
    @Override
    public void close() {
        if (uring != null) {
            uring.close();
        }
        workers.close();
        fd.close();
        sync.close();
    }
}
