package org.jbhyve.devices.storage.nvme;

import java.lang.foreign.MemorySegment;
import org.jbhyve.backend.block.BlockIoException;

/**
 * What backs the controller's one namespace: a disk image or block device through the block
 * backend ({@link BlockStorage}), or host memory for {@code ram=MiB} ({@link RamStorage}).
 * Byte offsets and lengths are checked by the caller against {@link #size()}. The blocking
 * operations run on the storage's worker threads ({@link #submit}); a failure fails that
 * request only.
 */
interface NvmeStorage extends AutoCloseable {
    long size();

    /** The sector size the namespace uses when {@code sectsz=} is not given. */
    int defaultSectorSize();

    boolean readOnly();

    /** Whether Dataset Management deallocation really frees blocks (bhyve's {@code candelete}). */
    boolean canDeallocate();

    /** Whether written data may sit in a volatile cache until flushed (the Identify VWC bit). */
    boolean volatileWriteCache();

    /** Runs {@code task} on a worker thread. */
    void submit(Runnable task);

    /** Reads into {@code bufs[0..count)} in order from byte {@code offset}. */
    void read(long offset, MemorySegment[] bufs, int count) throws BlockIoException;

    /** Writes {@code bufs[0..count)} in order at byte {@code offset}. */
    void write(long offset, MemorySegment[] bufs, int count) throws BlockIoException;

    /** Makes written data durable. */
    void flush() throws BlockIoException;

    /** Deallocates a range (contents undefined afterwards, zeros for files and RAM). */
    void deallocate(long offset, long length) throws BlockIoException;

    /** Makes a range read back as zeros. */
    void writeZeroes(long offset, long length) throws BlockIoException;

    @Override
    void close();
}
