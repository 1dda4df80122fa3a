package org.jbhyve.bench;

import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.devices.virtio.block.VirtioBlock;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.sys.Fd;
import org.jbhyve.sys.IoUring;
import org.jbhyve.sys.Posix;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPciFunction;

/**
 * The three ways {@link VirtioBlkBench} moves the same I/O pattern at the same depth on the same
 * file with the same open flags (O_RDWR, plus O_DIRECT unless cached), through the same
 * buffers: the device's slots in its mock guest RAM. (Buffers matter: on a virtual disk, 1 MiB
 * transfers into one large region ran at half the speed of separately allocated buffers,
 * because of how the pages split into segments.)
 * <ul>
 *   <li>{@link Device}: a mock virtio driver keeps {@code depth} requests on the virtio-blk
 *       queue (modern, MSI-X, EVENT_IDX), recycling each as soon as its used entry shows up;</li>
 *   <li>{@link #threads}: {@code depth} threads each doing pread/pwrite in a loop;</li>
 *   <li>{@link #uring}: one thread keeping {@code depth} READ/WRITE SQEs in flight on its own
 *       io_uring (what fio's io_uring engine does).</li>
 * </ul>
 * Each run lasts about {@code nanos}, stops issuing, drains, and reports the requests done, the
 * wall time including the drain, per-request latencies and the process CPU time it took.
 */
final class BlkBenchSides {
    record Pattern(String name, int blockSize, boolean random, boolean write) {}

    /** One run's numbers; latencies in ns, {@code lat[0..n)}. */
    record Run(long ios, long nanos, long cpuNanos, long[] lat, int n) {}

    private BlkBenchSides() {}

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    static int flags(Pattern p, boolean noCache) {
        return Posix.O_RDWR | (noCache ? Posix.O_DIRECT : 0);
    }

    static long offset(Pattern p, long size, AtomicLong cursor) {
        long blocks = size / p.blockSize();
        long b = p.random() ? ThreadLocalRandom.current().nextLong(blocks) : cursor.getAndIncrement() % blocks;
        return b * p.blockSize();
    }

    /** The virtio-blk device on a backend of the given engine, with a mock driver. */
    static final class Device implements AutoCloseable {
        private final MockGuest guest;
        private final VirtioPciFunction function;
        private final MockDriver driver;
        private final MockQueue q;
        private final Pattern p;
        private final long size;
        private final int depth;
        private final long[] header, data, status, started, slotOfHead;
        private final AtomicLong cursor = new AtomicLong();
        final BlockBackend.Engine engine;

        Device(String file, long size, Pattern p, int depth, boolean noCache, BlockBackend.Engine engine) {
            this.p = p;
            this.size = size;
            this.depth = depth;
            guest = new MockGuest((long) depth * p.blockSize() + (16L << 20));
            BlockBackend disk = BlockBackend.open(new BlockOptions(file, false, noCache, false, 0, 0, true,
                    BlockOptions.DEFAULT_WORKERS), engine);
            this.engine = disk.engine();
            function = new VirtioPciFunction(new VirtioBlock(disk, null), guest.memory, guest, GuestDoorbells.NONE,
                    true);
            driver = new MockDriver(function, guest);
            driver.startModern(-1L, VirtioBlock.QUEUE_SIZE, true);
            q = driver.queues[0];
            header = new long[depth];
            data = new long[depth];
            status = new long[depth];
            started = new long[VirtioBlock.QUEUE_SIZE];
            slotOfHead = new long[VirtioBlock.QUEUE_SIZE];
            for (int i = 0; i < depth; i++) {
                header[i] = guest.alloc(16, 16);
                status[i] = guest.alloc(1, 1);
                data[i] = guest.alloc(p.blockSize(), 4096);
            }
        }

        /** The data buffers of the {@code depth} slots (the host sides move their data through these too). */
        MemorySegment[] dataBuffers() {
            MemorySegment[] out = new MemorySegment[depth];
            for (int i = 0; i < depth; i++) {
                out[i] = guest.ram.asSlice(data[i], p.blockSize());
            }
            return out;
        }

        Run run(long nanos) throws InterruptedException {
            long[] lat = new long[1 << 22];
            int n = 0;
            long ios = 0;
            long cpu0 = cpuNanos();
            long t0 = System.nanoTime();
            long end = t0 + nanos;
            for (int i = 0; i < depth; i++) {
                issue(i);
            }
            driver.kick(0);
            int inFlight = depth;
            boolean stopping = false;
            while (inFlight > 0) {
                guest.msis.tryAcquire(100, TimeUnit.MILLISECONDS);
                MockQueue.Used u;
                boolean added = false;
                while ((u = q.poll()) != null) {
                    long now = System.nanoTime();
                    inFlight--;
                    int slot = (int) slotOfHead[u.head()];
                    if (guest.memory.getByte(status[slot]) != 0) {
                        throw new IllegalStateException("request failed");
                    }
                    if (n < lat.length) {
                        lat[n++] = now - started[u.head()];
                    }
                    ios++;
                    stopping |= now >= end;
                    if (!stopping) {
                        issue(slot);
                        inFlight++;
                        added = true;
                    }
                }
                if (added) {
                    driver.kick(0);
                }
            }
            return new Run(ios, System.nanoTime() - t0, cpuNanos() - cpu0, lat, n);
        }

        private void issue(int slot) {
            guest.memory.putInt(header[slot], p.write() ? VirtioBlock.T_OUT : VirtioBlock.T_IN);
            guest.memory.putLong(header[slot] + 8, offset(p, size, cursor) >> 9);
            guest.memory.putByte(status[slot], (byte) 0xFF);
            int head = q.add(new MockQueue.Buf(header[slot], 16, false),
                    new MockQueue.Buf(data[slot], p.blockSize(), !p.write()),
                    new MockQueue.Buf(status[slot], 1, true));
            slotOfHead[head] = slot;
            started[head] = System.nanoTime();
        }

        @Override
        public void close() {
            function.close();
            guest.close();
        }
    }

    /** {@code depth} threads doing pread/pwrite on one descriptor, thread i with {@code bufs[i]}. */
    static Run threads(String file, long size, Pattern p, MemorySegment[] bufs, boolean noCache, long nanos)
            throws Exception {
        int depth = bufs.length;
        try (Fd fd = Posix.open(file, flags(p, noCache), 0)) {
            AtomicLong cursor = new AtomicLong();
            long[][] lats = new long[depth][];
            int[] counts = new int[depth];
            Thread[] threads = new Thread[depth];
            long cpu0 = cpuNanos();
            long t0 = System.nanoTime();
            long end = t0 + nanos;
            for (int t = 0; t < depth; t++) {
                int id = t;
                threads[t] = Thread.ofPlatform().start(() -> {
                    long[] lat = new long[1 << 18];
                    int n = 0;
                    MemorySegment buf = bufs[id];
                    for (long now = System.nanoTime(); now < end; ) {
                        long off = offset(p, size, cursor);
                        long r = p.write() ? Posix.pwrite(fd, buf, p.blockSize(), off)
                                : Posix.pread(fd, buf, p.blockSize(), off);
                        if (r != p.blockSize()) {
                            throw new IllegalStateException("short transfer");
                        }
                        long after = System.nanoTime();
                        if (n < lat.length) {
                            lat[n++] = after - now;
                        }
                        now = after;
                    }
                    lats[id] = lat;
                    counts[id] = n;
                });
            }
            for (Thread t : threads) {
                t.join();
            }
            long elapsed = System.nanoTime() - t0;
            long cpu = cpuNanos() - cpu0;
            int total = 0;
            for (int c : counts) {
                total += c;
            }
            long[] all = new long[total];
            int at = 0;
            for (int t = 0; t < depth; t++) {
                System.arraycopy(lats[t], 0, all, at, counts[t]);
                at += counts[t];
            }
            return new Run(total, elapsed, cpu, all, total);
        }
    }

    /** One thread keeping {@code bufs.length} requests in flight on its own ring, request i in {@code bufs[i]}. */
    static Run uring(String file, long size, Pattern p, MemorySegment[] bufs, boolean noCache, long nanos) {
        int depth = bufs.length;
        try (Fd fd = Posix.open(file, flags(p, noCache), 0);
             IoUring ring = IoUring.setup(depth, IoUring.SETUP_SINGLE_ISSUER | IoUring.SETUP_DEFER_TASKRUN)) {
            AtomicLong cursor = new AtomicLong();
            long[] started = new long[depth];
            long[] lat = new long[1 << 22];
            int[] n = {0};
            long[] ios = {0};
            long cpu0 = cpuNanos();
            long t0 = System.nanoTime();
            long end = t0 + nanos;
            for (int i = 0; i < depth; i++) {
                prep(ring, fd, p, bufs[i], offset(p, size, cursor), i);
                started[i] = System.nanoTime();
            }
            int[] inFlight = {depth};
            while (inFlight[0] > 0) {
                ring.submitAndWait(1);
                ring.reap((ud, res, flags) -> {
                    long now = System.nanoTime();
                    if (res != p.blockSize()) {
                        throw new IllegalStateException("transfer failed: " + res);
                    }
                    int i = (int) ud;
                    if (n[0] < lat.length) {
                        lat[n[0]++] = now - started[i];
                    }
                    ios[0]++;
                    inFlight[0]--;
                    if (now < end) {
                        prep(ring, fd, p, bufs[i], offset(p, size, cursor), i);
                        started[i] = now;
                        inFlight[0]++;
                    }
                });
            }
            return new Run(ios[0], System.nanoTime() - t0, cpuNanos() - cpu0, lat, n[0]);
        }
    }

    private static void prep(IoUring ring, Fd fd, Pattern p, MemorySegment buf, long offset, int i) {
        boolean ok = p.write() ? ring.prepWrite(fd, buf, offset, i) : ring.prepRead(fd, buf, offset, i);
        if (!ok) {
            throw new IllegalStateException("ring full");
        }
    }
}
