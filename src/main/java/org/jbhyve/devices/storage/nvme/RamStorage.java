package org.jbhyve.devices.storage.nvme;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * bhyve's {@code ram=MiB} namespace: the data lives in host memory and is gone when the VM
 * ends. Memory is taken 1 MiB at a time on first write (a chunk never written reads as zeros),
 * so a large RAM disk costs only what the guest writes. Deallocate is not offered (bhyve's RAM
 * store has no {@code candelete}); Write Zeroes and Format clear the chunks. Copies run on a
 * small pool of worker threads, like the block backend's.
 */
final class RamStorage implements NvmeStorage {
    static final int DEFAULT_SECTOR = 4096;
    private static final int CHUNK_BITS = 20;
    private static final long CHUNK = 1L << CHUNK_BITS;
    private static final int WORKERS = 4;

    private final long size;
    private final Arena arena = Arena.ofShared();
    private final AtomicReferenceArray<MemorySegment> chunks;
    private final ExecutorService workers;

    RamStorage(long mib, String name) {
        this.size = mib << 20;
        this.chunks = new AtomicReferenceArray<>(Math.toIntExact(mib));
        this.workers = Executors.newFixedThreadPool(WORKERS,
                r -> Thread.ofPlatform().daemon().name("nvme-ram-" + name).unstarted(r));
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int defaultSectorSize() {
        return DEFAULT_SECTOR;
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    @Override
    public boolean canDeallocate() {
        return false;
    }

    @Override
    public boolean volatileWriteCache() {
        return false;
    }

    @Override
    public void submit(Runnable task) {
        workers.execute(task);
    }

    @Override
    public void read(long offset, MemorySegment[] bufs, int count) {
        long at = offset;
        for (int i = 0; i < count; i++) {
            MemorySegment b = bufs[i];
            for (long done = 0; done < b.byteSize(); ) {
                long pos = at + done;
                long n = Math.min(b.byteSize() - done, CHUNK - (pos & (CHUNK - 1)));
                MemorySegment chunk = chunks.get((int) (pos >>> CHUNK_BITS));
                if (chunk == null) {
                    b.asSlice(done, n).fill((byte) 0);
                } else {
                    MemorySegment.copy(chunk, pos & (CHUNK - 1), b, done, n);
                }
                done += n;
            }
            at += b.byteSize();
        }
    }

    @Override
    public void write(long offset, MemorySegment[] bufs, int count) {
        long at = offset;
        for (int i = 0; i < count; i++) {
            MemorySegment b = bufs[i];
            for (long done = 0; done < b.byteSize(); ) {
                long pos = at + done;
                long n = Math.min(b.byteSize() - done, CHUNK - (pos & (CHUNK - 1)));
                MemorySegment.copy(b, done, chunk((int) (pos >>> CHUNK_BITS)), pos & (CHUNK - 1), n);
                done += n;
            }
            at += b.byteSize();
        }
    }

    @Override
    public void flush() {}

    @Override
    public void deallocate(long offset, long length) {
        writeZeroes(offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length) {
        for (long done = 0; done < length; ) {
            long pos = offset + done;
            long n = Math.min(length - done, CHUNK - (pos & (CHUNK - 1)));
            MemorySegment chunk = chunks.get((int) (pos >>> CHUNK_BITS));
            if (chunk != null) {
                chunk.asSlice(pos & (CHUNK - 1), n).fill((byte) 0);
            }
            done += n;
        }
    }

    private MemorySegment chunk(int index) {
        MemorySegment c = chunks.get(index);
        if (c == null) {
            synchronized (chunks) {
                c = chunks.get(index);
                if (c == null) {
                    c = arena.allocate(CHUNK, 4096);
                    chunks.set(index, c);
                }
            }
        }
        return c;
    }

    @Override
    public void close() {
        workers.shutdown();
        try {
            workers.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        arena.close();
    }
}
