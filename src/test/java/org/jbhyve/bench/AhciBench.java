package org.jbhyve.bench;

import static org.jbhyve.bench.DiskBench.offset;
import static org.jbhyve.bench.DiskBench.prepare;
import static org.jbhyve.bench.DiskBench.result;

import org.jbhyve.bench.DiskBench.Pattern;
import org.jbhyve.bench.DiskBench.Result;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.devices.storage.ahci.AhciController;
import org.jbhyve.devices.storage.ahci.AhciDrive;
import org.jbhyve.devices.storage.ahci.AhciDriver;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.virtio.MockGuest;

/**
 * AHCI throughput from the driver side without a guest CPU: a mock driver keeps {@code depth}
 * NCQ commands (READ/WRITE FPDMA QUEUED) in flight on one port and handles completions the way
 * Linux's ahci does (MSI, then PxIS, PxSACT and IS), and the same pattern runs directly on the
 * host file with {@code depth} threads doing pread/pwrite with the same open flags. Prints a
 * table and, last, the 4 KiB random read throughput ratio.
 *
 * <p>Usage: AhciBench [--dir DIR] [--size-gib N] [--seconds S] [--depth D] [--cached]
 */
public final class AhciBench {

    // AHCI registers (ABAR offsets; port 0 at 0x100)
    private static final int GHC = 0x04, IS = 0x08, GHC_IE = 2;
    private static final int P_IS = 0x110, P_IE = 0x114, P_SACT = 0x134, P_CI = 0x138;
    private static final int SDBS = 1 << 3, TFES = 1 << 30;
    private static final int READ_FPDMA = 0x60, WRITE_FPDMA = 0x61;

    public static void main(String[] args) throws Exception {
        Path dir = Path.of("/var/tmp");
        long sizeGib = 1;
        int seconds = 5;
        int depth = 32;
        boolean noCache = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--size-gib" -> sizeGib = Long.parseLong(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--depth" -> depth = Integer.parseInt(args[++i]);
                case "--cached" -> noCache = false;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (depth < 1 || depth > 32) {
            throw new IllegalArgumentException("NCQ depth is 1-32");
        }
        Path file = dir.resolve("jbhyve-bench-ahci.img");
        long size = sizeGib << 30;
        prepare(file, size);
        System.out.printf("file %s, %d GiB, %s, NCQ depth %d, %d s per run%n", file, sizeGib,
                noCache ? "nocache (O_DIRECT)" : "page cache", depth, seconds);
        int d = depth;
        boolean direct = noCache;
        DiskBench.compare(file, size, d, seconds, direct, (p, s) -> device(file, size, p, d, s, direct));
    }

    /** Writes slot {@code slot}'s command FIS for the next block (tag = slot, count in features). */
    private static void command(MockGuest guest, long table, int slot, Pattern p, long size, AtomicLong cursor) {
        long lba = offset(p, size, cursor) >> 9;
        int sectors = p.blockSize() >> 9;
        byte[] fis = AhciDriver.fis(p.write() ? WRITE_FPDMA : READ_FPDMA, sectors, lba, slot << 3, 0x40);
        guest.memory.write(table, fis);
    }

    private static Result device(Path file, long size, Pattern p, int depth, int seconds, boolean noCache)
            throws Exception {
        long ramSize = (long) depth * p.blockSize() + (16L << 20);
        try (MockGuest guest = new MockGuest(ramSize)) {
            BlockBackend disk = BlockBackend.open(new BlockOptions(file.toString(), false, noCache, false, 0, 0,
                    true, BlockOptions.DEFAULT_WORKERS));
            AhciController hba = new AhciController(Map.of(0, AhciDrive.disk(disk)), guest.memory, guest);
            try {
                AhciDriver driver = new AhciDriver(hba, guest);
                int cap = hba.config().get8(PciConfigSpace.CAPABILITIES);
                hba.configWrite(cap + 4, 4, 0xFEE00000L);
                hba.configWrite(cap + 12, 2, 0x41);
                hba.configWrite(cap + 2, 2, 1);
                AhciDriver.Port port = driver.port(0);
                port.start();
                driver.write(P_IE, SDBS | TFES);
                driver.write(GHC, GHC_IE);
                long[] data = new long[depth];
                for (int s = 0; s < depth; s++) {
                    data[s] = guest.alloc(p.blockSize(), 4096);
                    port.prepare(s, new byte[20], null, p.write(), new AhciDriver.Prd(data[s], p.blockSize()));
                }
                AtomicLong cursor = new AtomicLong();
                long[] started = new long[depth];
                long[] lat = new long[1 << 22];
                int nlat = 0;
                long bytes = 0;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
                int all = depth == 32 ? -1 : (1 << depth) - 1;
                for (int s = 0; s < depth; s++) {
                    command(guest, port.tables[s], s, p, size, cursor);
                    started[s] = System.nanoTime();
                }
                driver.write(P_SACT, all);
                driver.write(P_CI, all);
                int active = all;
                boolean stopping = false;
                while (active != 0) {
                    guest.msis.tryAcquire(100, TimeUnit.MILLISECONDS);
                    int pxis = driver.read(P_IS);
                    if ((pxis & TFES) != 0) {
                        throw new IllegalStateException("command failed, PxTFD " + Integer.toHexString(driver.read(0x120)));
                    }
                    driver.write(P_IS, pxis);
                    int done = active & ~driver.read(P_SACT);
                    driver.write(IS, 1);
                    if (done == 0) {
                        continue;
                    }
                    long now = System.nanoTime();
                    active &= ~done;
                    stopping |= now >= end;
                    int again = 0;
                    for (int d = done; d != 0; d &= d - 1) {
                        int s = Integer.numberOfTrailingZeros(d);
                        if (nlat < lat.length) {
                            lat[nlat++] = now - started[s];
                        }
                        bytes += p.blockSize();
                        if (!stopping) {
                            command(guest, port.tables[s], s, p, size, cursor);
                            started[s] = System.nanoTime();
                            again |= 1 << s;
                        }
                    }
                    if (again != 0) {
                        active |= again;
                        driver.write(P_SACT, again);
                        driver.write(P_CI, again);
                    }
                }
                return result(bytes, nlat, lat, seconds);
            } finally {
                hba.close();
            }
        }
    }

}
