package org.jbhyve.backend.block;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.jbhyve.sys.Errno;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.FileIo;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/**
 * A disk image: a regular file or a block device (B1), and the worker threads that do its I/O
 * off the vCPU and event-loop threads.
 *
 * <p>Options: {@code ro} opens O_RDONLY; {@code nocache} opens O_DIRECT, and buffers that are
 * not aligned to the host sector size go through a per-worker aligned bounce buffer;
 * {@code direct} opens O_SYNC; FLUSH is fdatasync(2), so data the guest flushed is on stable
 * storage when the request completes. A failed call fails that request only
 * ({@link BlockIoException}).
 *
 * <p>Threads: {@link #submit} from any thread; the blocking calls ({@link #read}...) run on the
 * workers (they are thread-safe: positional I/O on one descriptor).
 */
public final class BlockBackend implements AutoCloseable {
    private static final int BOUNCE_SIZE = 1 << 20;
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;
    private static final Runnable STOP = () -> {};

    private final BlockOptions options;
    private final Fd fd;
    private final boolean blockDevice;
    private final long size;
    private final int logical;
    private final int physical;
    private final int dioAlign;
    private final BlockingQueue<Runnable> work = new LinkedBlockingQueue<>();
    private final List<Thread> workers = new ArrayList<>();
    private final Arena arena = Arena.ofShared();
    private final ThreadLocal<MemorySegment> bounce;

    private BlockBackend(BlockOptions options, Fd fd, boolean blockDevice, long size, int logical, int physical,
                         int dioAlign) {
        this.options = options;
        this.fd = fd;
        this.blockDevice = blockDevice;
        this.size = size;
        this.logical = logical;
        this.physical = physical;
        this.dioAlign = dioAlign;
        this.bounce = ThreadLocal.withInitial(() -> arena.allocate(BOUNCE_SIZE, 4096));
        for (int i = 0; i < Math.max(1, options.workers()); i++) {
            Thread t = Thread.ofPlatform().name("blk-" + Path.of(options.path()).getFileName() + "-" + i).daemon(true)
                    .unstarted(this::workerLoop);
            workers.add(t);
            t.start();
        }
    }

    /** Opens the image; a missing or unusable one is a {@link BlockBackendException}. */
    public static BlockBackend open(BlockOptions options) {
        Path path = Path.of(options.path());
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode");
        } catch (IOException | UnsupportedOperationException e) {
            throw new BlockBackendException("cannot open disk image " + options.path() + ": "
                    + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        }
        boolean blockDevice = (mode & S_IFMT) == S_IFBLK;
        if (!blockDevice && !Files.isRegularFile(path)) {
            throw new BlockBackendException("disk image " + options.path() + " is not a regular file or block device");
        }
        int flags = (options.readOnly() ? Posix.O_RDONLY : Posix.O_RDWR) | Posix.O_CLOEXEC
                | (options.noCache() ? Posix.O_DIRECT : 0) | (options.direct() ? Posix.O_SYNC : 0);
        Fd fd;
        try {
            fd = Posix.open(options.path(), flags, 0);
        } catch (SysException e) {
            throw new BlockBackendException("cannot open disk image " + options.path() + ": " + Errno.describe(e.errno()));
        }
        try {
            long size = blockDevice ? FileIo.blockDeviceSize(fd) : FileIo.seekEnd(fd);
            int hostLogical = blockDevice ? FileIo.logicalSectorSize(fd) : 512;
            int hostPhysical = blockDevice ? FileIo.physicalSectorSize(fd) : 4096;
            int logical = options.logicalSectorSize() > 0 ? options.logicalSectorSize() : hostLogical;
            int physical = options.physicalSectorSize() > 0 ? options.physicalSectorSize() : Math.max(logical, hostPhysical);
            if (options.noCache() && logical < hostLogical) {
                throw new BlockBackendException(options.path() + ": sectorsize " + logical
                        + " is below the device's " + hostLogical + "-byte sectors, which nocache needs");
            }
            return new BlockBackend(options, fd, blockDevice, size, logical, physical, Math.max(hostLogical, 512));
        } catch (SysException e) {
            fd.close();
            throw new BlockBackendException("cannot use disk image " + options.path() + ": " + e.getMessage());
        } catch (RuntimeException e) {
            fd.close();
            throw e;
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

    public boolean readOnly() {
        return options.readOnly();
    }

    /** Whether DISCARD/WRITE_ZEROES may be offered (not {@code nodelete}, not read-only). */
    public boolean canDelete() {
        return !options.noDelete() && !options.readOnly();
    }

    public String path() {
        return options.path();
    }

    /** Runs {@code task} on a worker thread. */
    public void submit(Runnable task) {
        work.add(task);
    }

    private void workerLoop() {
        while (true) {
            Runnable r;
            try {
                r = work.take();
            } catch (InterruptedException e) {
                return;
            }
            if (r == STOP) {
                return;
            }
            try {
                r.run();
            } catch (RuntimeException e) {
                System.err.println("jbhyve: " + options.path() + ": request failed: " + e);
            }
        }
    }

    /** Reads {@code bufs} in order from byte {@code offset}. */
    public void read(long offset, MemorySegment[] bufs, int count) throws BlockIoException {
        transfer(offset, bufs, count, false);
    }

    /** Writes {@code bufs} in order at byte {@code offset}. */
    public void write(long offset, MemorySegment[] bufs, int count) throws BlockIoException {
        if (options.readOnly()) {
            throw new BlockIoException("read-only");
        }
        transfer(offset, bufs, count, true);
    }

    private void transfer(long offset, MemorySegment[] bufs, int count, boolean write) throws BlockIoException {
        long at = offset;
        for (int i = 0; i < count; i++) {
            MemorySegment b = bufs[i];
            if (options.noCache() && (b.address() % dioAlign != 0 || b.byteSize() % dioAlign != 0)) {
                bounced(at, b, write);
            } else {
                full(at, b, write);
            }
            at += b.byteSize();
        }
    }

    private void full(long offset, MemorySegment b, boolean write) throws BlockIoException {
        long done = 0;
        long len = b.byteSize();
        try {
            while (done < len) {
                MemorySegment rest = b.asSlice(done);
                long n = write ? Posix.pwrite(fd, rest, len - done, offset + done)
                        : Posix.pread(fd, rest, len - done, offset + done);
                if (n <= 0) {
                    if (!write) { // past the end of a file that shrank: the rest reads as zeros
                        rest.fill((byte) 0);
                        return;
                    }
                    throw new BlockIoException("short write at " + (offset + done));
                }
                done += n;
            }
        } catch (SysException e) {
            throw new BlockIoException((write ? "write" : "read") + " at " + offset + ": " + e.getMessage());
        }
    }

    private void bounced(long offset, MemorySegment b, boolean write) throws BlockIoException {
        if (b.byteSize() % dioAlign != 0 || offset % dioAlign != 0) {
            throw new BlockIoException("unaligned direct I/O of " + b.byteSize() + " bytes at " + offset);
        }
        MemorySegment buf = bounce.get();
        for (long done = 0; done < b.byteSize(); done += BOUNCE_SIZE) {
            long n = Math.min(BOUNCE_SIZE, b.byteSize() - done);
            MemorySegment window = buf.asSlice(0, n);
            if (write) {
                window.copyFrom(b.asSlice(done, n));
                full(offset + done, window, true);
            } else {
                full(offset + done, window, false);
                b.asSlice(done, n).copyFrom(window);
            }
        }
    }

    /** fdatasync(2): what the guest wrote is on stable storage when this returns. */
    public void flush() throws BlockIoException {
        try {
            Posix.fdatasync(fd);
        } catch (SysException e) {
            throw new BlockIoException("flush: " + e.getMessage());
        }
    }

    /** Deallocates (discard) or zeroes [offset, offset+length). */
    public void discard(long offset, long length, boolean zero) throws BlockIoException {
        if (!canDelete()) {
            throw new BlockIoException("discard not allowed");
        }
        try {
            if (blockDevice) {
                FileIo.blockDiscard(fd, offset, length, zero);
            } else {
                FileIo.fallocate(fd, FileIo.FALLOC_FL_KEEP_SIZE
                        | (zero ? FileIo.FALLOC_FL_ZERO_RANGE : FileIo.FALLOC_FL_PUNCH_HOLE), offset, length);
            }
        } catch (SysException e) {
            if (zero && e.errno() == 95 /* EOPNOTSUPP */) {
                zeroByWriting(offset, length);
                return;
            }
            throw new BlockIoException((zero ? "write zeroes" : "discard") + ": " + e.getMessage());
        }
    }

    private void zeroByWriting(long offset, long length) throws BlockIoException {
        MemorySegment zeros = bounce.get();
        zeros.fill((byte) 0);
        for (long done = 0; done < length; done += BOUNCE_SIZE) {
            full(offset + done, zeros.asSlice(0, Math.min(BOUNCE_SIZE, length - done)), true);
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < workers.size(); i++) {
            work.add(STOP);
        }
        for (Thread t : workers) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        fd.close();
        arena.close();
    }
}
