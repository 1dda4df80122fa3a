package org.jbhyve.devices.storage.nvme;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockIoException;

/**
 * A namespace on the block backend (B1): reads and writes go straight between guest memory and
 * the image on the backend's worker threads; FLUSH is fdatasync. Deallocate punches holes (or
 * BLKDISCARD) unless the backend was opened {@code nodelete} or read-only; Write Zeroes uses a
 * zeroing fallocate/BLKZEROOUT when allowed and plain writes of zeros otherwise. The written
 * data sits in the host page cache until flushed unless the image was opened {@code direct}
 * (O_SYNC), which is what the Identify VWC bit reports.
 */
final class BlockStorage implements NvmeStorage {
    private static final int ZERO_CHUNK = 1 << 20;

    private final BlockBackend disk;
    private final boolean synchronous;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment zeros;

    /** {@code synchronous}: the image was opened with O_SYNC ({@code direct}), so nothing is cached. */
    BlockStorage(BlockBackend disk, boolean synchronous) {
        this.disk = disk;
        this.synchronous = synchronous;
        this.zeros = arena.allocate(ZERO_CHUNK, 4096);
    }

    @Override
    public long size() {
        return disk.size();
    }

    @Override
    public int defaultSectorSize() {
        return disk.logicalSectorSize();
    }

    @Override
    public boolean readOnly() {
        return disk.readOnly();
    }

    @Override
    public boolean canDeallocate() {
        return disk.canDelete();
    }

    @Override
    public boolean volatileWriteCache() {
        return !synchronous && !disk.readOnly();
    }

    @Override
    public void submit(Runnable task) {
        disk.submit(task);
    }

    @Override
    public void read(long offset, MemorySegment[] bufs, int count) throws BlockIoException {
        disk.read(offset, bufs, count);
    }

    @Override
    public void write(long offset, MemorySegment[] bufs, int count) throws BlockIoException {
        disk.write(offset, bufs, count);
    }

    @Override
    public void flush() throws BlockIoException {
        disk.flush();
    }

    @Override
    public void deallocate(long offset, long length) throws BlockIoException {
        disk.discard(offset, length, false);
    }

    @Override
    public void writeZeroes(long offset, long length) throws BlockIoException {
        if (disk.canDelete()) {
            disk.discard(offset, length, true);
            return;
        }
        MemorySegment[] one = new MemorySegment[1];
        for (long done = 0; done < length; done += ZERO_CHUNK) {
            one[0] = zeros.asSlice(0, Math.min(ZERO_CHUNK, length - done));
            disk.write(offset + done, one, 1);
        }
    }

    @Override
    public void close() {
        disk.close();
        arena.close();
    }
}
