package org.jbhyve.devices.storage.nvme;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A namespace of zeros whose reads and writes wait until the test lets them through, each on a
 * thread of its own, so a test can hold requests in flight and choose when they finish.
 */
final class GatedStorage implements NvmeStorage {
    private final long size;
    private final Semaphore gate = new Semaphore(0);
    private final AtomicInteger waiting = new AtomicInteger();
    volatile Thread lastWorker;

    GatedStorage(long size) {
        this.size = size;
    }

    /** Lets {@code n} waiting (or future) transfers finish. */
    void release(int n) {
        gate.release(n);
    }

    /** Waits until {@code n} transfers are held at the gate. */
    void awaitWaiting(int n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (waiting.get() < n) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("only " + waiting.get() + " transfers waiting");
            }
            Thread.sleep(1);
        }
    }

    private void pass() {
        waiting.incrementAndGet();
        try {
            gate.acquireUninterruptibly();
        } finally {
            waiting.decrementAndGet();
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public int defaultSectorSize() {
        return 4096;
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
        Thread t = Thread.ofPlatform().daemon().unstarted(task);
        lastWorker = t;
        t.start();
    }

    @Override
    public void read(long offset, MemorySegment[] bufs, int count) {
        pass();
        for (int i = 0; i < count; i++) {
            bufs[i].fill((byte) 0);
        }
    }

    @Override
    public void write(long offset, MemorySegment[] bufs, int count) {
        pass();
    }

    @Override
    public void flush() {}

    @Override
    public void deallocate(long offset, long length) {}

    @Override
    public void writeZeroes(long offset, long length) {}

    @Override
    public void close() {
        gate.release(1000);
    }
}
