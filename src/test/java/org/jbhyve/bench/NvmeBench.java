package org.jbhyve.bench;

import static org.jbhyve.bench.DiskBench.offset;
import static org.jbhyve.bench.DiskBench.prepare;
import static org.jbhyve.bench.DiskBench.result;

import org.jbhyve.bench.DiskBench.Pattern;
import org.jbhyve.bench.DiskBench.Result;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jbhyve.devices.storage.nvme.MockNvmeDriver;
import org.jbhyve.devices.storage.nvme.NvmeController;
import org.jbhyve.devices.storage.nvme.NvmeFactory;
import org.jbhyve.virtio.MockGuest;

/**
 * NVMe throughput from the driver side without a guest CPU: a mock NVMe driver spreads
 * {@code depth} commands in flight over {@code queues} I/O queue pairs (MSI-X, one vector per
 * completion queue, doorbells rung once per batch), against the same pattern run directly on the
 * host file by {@code depth} threads doing pread/pwrite with the same open flags. Prints a table
 * and, last, the 4 KiB random read throughput ratio (device / host).
 *
 * <p>Usage: NvmeBench [--dir DIR] [--size-gib N] [--seconds S] [--depth D] [--queues Q] [--cached]
 */
public final class NvmeBench {

    private static final int READ = 0x02, WRITE = 0x01;

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("/var/tmp");
        long sizeGib = 1;
        int seconds = 5;
        int depth = 32;
        int queues = 1;
        boolean noCache = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--size-gib" -> sizeGib = Long.parseLong(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--depth" -> depth = Integer.parseInt(args[++i]);
                case "--queues" -> queues = Integer.parseInt(args[++i]);
                case "--cached" -> noCache = false;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (queues < 1 || queues > 16 || depth < queues) {
            throw new IllegalArgumentException("want 1..16 queues and a depth of at least one per queue");
        }
        Path file = dir.resolve("jbhyve-bench-nvme.img");
        long size = sizeGib << 30;
        prepare(file, size);
        System.out.printf("file %s, %d GiB, %s, depth %d over %d queue pair%s, %d s per run%n", file, sizeGib,
                noCache ? "nocache (O_DIRECT)" : "page cache", depth, queues, queues == 1 ? "" : "s", seconds);
        int d = depth;
        int q = queues;
        boolean direct = noCache;
        DiskBench.compare(file, size, d, seconds, direct, (p, s) -> device(file, size, p, d, q, s, direct));
    }

    /** One in-flight slot: its data buffer and, for transfers over two pages, its PRP list. */
    private record Slot(int queue, long data, long prpList) {}

    private static Result device(Path file, long size, Pattern p, int depth, int queues, int seconds, boolean noCache)
            throws Exception {
        long ramSize = (long) depth * (p.blockSize() + 8192) + (32L << 20);
        try (MockGuest guest = new MockGuest(ramSize)) {
            Map<String, String> options = new HashMap<>();
            options.put("path", file.toString());
            options.put("maxq", Integer.toString(queues));
            options.put("ioslots", Integer.toString(depth));
            options.put("sectsz", "512");
            if (noCache) {
                options.put("nocache", "true");
            }
            NvmeController controller = NvmeFactory.create(k -> Optional.ofNullable(options.get(k)),
                    options::containsKey, "bench", 0, 4, 0, guest.memory, guest);
            try {
                MockNvmeDriver driver = new MockNvmeDriver(controller, guest);
                driver.enableDevice();
                driver.enable(64, 64);
                driver.enableMsix(queues + 1);
                int perQueue = (depth + queues - 1) / queues;
                MockNvmeDriver.Pair[] pairs = new MockNvmeDriver.Pair[queues];
                for (int i = 0; i < queues; i++) {
                    pairs[i] = driver.createPair(i + 1, Math.max(16, 2 * perQueue), true, i + 1);
                }
                Slot[] slots = new Slot[depth];
                for (int i = 0; i < depth; i++) {
                    long data = guest.alloc(p.blockSize(), 4096);
                    long list = 0;
                    if (p.blockSize() > 8192) {
                        list = guest.alloc(4096, 4096);
                        for (int page = 1; page < p.blockSize() / 4096; page++) {
                            guest.memory.putLong(list + 8L * (page - 1), data + 4096L * page);
                        }
                    }
                    slots[i] = new Slot(i % queues, data, list);
                }
                int[][] slotOfCid = new int[queues][65536];
                long[] started = new long[depth];
                AtomicLong cursor = new AtomicLong();
                long[] lat = new long[1 << 22];
                int nlat = 0;
                long bytes = 0;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
                for (int i = 0; i < depth; i++) {
                    slotOfCid[slots[i].queue()][submit(driver, pairs[slots[i].queue()], p, size, cursor, slots[i])] = i;
                    started[i] = System.nanoTime();
                }
                for (MockNvmeDriver.Pair q : pairs) {
                    driver.ringTail(q);
                }
                int inFlight = depth;
                boolean stopping = false;
                while (inFlight > 0) {
                    guest.msis.tryAcquire(100, TimeUnit.MILLISECONDS);
                    guest.msis.drainPermits();
                    for (int qi = 0; qi < queues; qi++) {
                        MockNvmeDriver.Pair q = pairs[qi];
                        boolean consumed = false;
                        boolean added = false;
                        MockNvmeDriver.Completion c;
                        while ((c = driver.poll(q, false)) != null) {
                            consumed = true;
                            long now = System.nanoTime();
                            inFlight--;
                            if (!c.ok()) {
                                throw new IllegalStateException("command failed: status " + Integer.toHexString(c.status()));
                            }
                            int slot = slotOfCid[qi][c.cid()];
                            if (nlat < lat.length) {
                                lat[nlat++] = now - started[slot];
                            }
                            bytes += p.blockSize();
                            stopping |= now >= end;
                            if (!stopping) {
                                slotOfCid[qi][submit(driver, q, p, size, cursor, slots[slot])] = slot;
                                started[slot] = System.nanoTime();
                                inFlight++;
                                added = true;
                            }
                        }
                        if (consumed) {
                            driver.ringHead(q);
                        }
                        if (added) {
                            driver.ringTail(q);
                        }
                    }
                }
                return result(bytes, nlat, lat, seconds);
            } finally {
                controller.close();
            }
        }
    }

    private static int submit(MockNvmeDriver driver, MockNvmeDriver.Pair q, Pattern p, long size, AtomicLong cursor,
                              Slot s) {
        long lba = offset(p, size, cursor) >> 9;
        long prp2 = p.blockSize() > 8192 ? s.prpList() : p.blockSize() > 4096 ? s.data() + 4096 : 0;
        return driver.enqueue(q, p.write() ? WRITE : READ, 0, 1, s.data(), prp2, (int) lba, (int) (lba >>> 32),
                p.blockSize() / 512 - 1);
    }

}
