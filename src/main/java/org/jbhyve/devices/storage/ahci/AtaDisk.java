package org.jbhyve.devices.storage.ahci;

import java.lang.foreign.MemorySegment;
import org.jbhyve.backend.block.BlockIoException;

/**
 * An ATA disk (bhyve's {@code hd:} port, {@code ahci-hd}) over a block backend; LBAs count the
 * backend's logical sectors.
 *
 * <pre>
 * 0xEC IDENTIFY DEVICE            PIO data-in, see {@link AtaIdentify}
 * 0x20 0x24 0xC4 0x29             READ SECTORS / (EXT) / MULTIPLE (EXT): PIO data-in
 * 0x30 0x34 0xC5 0x39             WRITE SECTORS / (EXT) / MULTIPLE (EXT): PIO data-out
 * 0xC8 0x25 0xCA 0x35             READ DMA (EXT), WRITE DMA (EXT)
 *                                 28-bit: LBA in device 3:0 + LBA 23:0, count 8 bits (0 = 256)
 *                                 48-bit: LBA 47:0, count 16 bits (0 = 65536)
 * 0x60 0x61                       READ/WRITE FPDMA QUEUED (NCQ): count in features 15:0, the slot
 *                                 is the tag; accepted at once, completed by a Set Device Bits FIS
 * 0xE7 0xEA                       FLUSH CACHE (EXT): fdatasync on a worker
 * 0x06 DATA SET MANAGEMENT        features bit 0 TRIM, count 1: one 512-byte block of 64 ranges,
 *                                 each 48-bit LBA + 16-bit sector count (0 = unused)
 * 0x64 SEND FPDMA QUEUED          subcommand 0 (count 12:8) with auxiliary TRIM: queued TRIM
 * 0x2F 0x47                       READ LOG (DMA) EXT, one page: 0x00 directory, 0x10 NCQ command
 *                                 error log, 0x13 NCQ send/receive log (queued TRIM supported)
 * 0x40 0x42                       READ VERIFY SECTORS (EXT): nothing to verify
 * </pre>
 * Transfers go straight between guest buffers and the backend (no copy): the PRDT is resolved
 * to guest RAM slices on the issuing thread and the I/O runs on a backend worker. A transfer
 * beyond the last sector fails with IDNF; a PRDT too short or outside RAM, a write to a
 * read-only image, an I/O error or a malformed request fails with ABRT.
 */
final class AtaDisk extends SataDevice {
    static final int READ = 0x20, READ_EXT = 0x24, READ_DMA_EXT = 0x25, READ_MULTIPLE_EXT = 0x29;
    static final int WRITE = 0x30, WRITE_EXT = 0x34, WRITE_DMA_EXT = 0x35, WRITE_MULTIPLE_EXT = 0x39;
    static final int READ_MULTIPLE = 0xC4, WRITE_MULTIPLE = 0xC5, READ_DMA = 0xC8, WRITE_DMA = 0xCA;
    static final int READ_FPDMA = 0x60, WRITE_FPDMA = 0x61, SEND_FPDMA = 0x64;
    static final int FLUSH = 0xE7, FLUSH_EXT = 0xEA, DSM = 0x06, READ_LOG_EXT = 0x2F, READ_LOG_DMA_EXT = 0x47;
    static final int READ_VERIFY = 0x40, READ_VERIFY_EXT = 0x42;
    private static final int DSM_BLOCK = 512, DSM_RANGE = 8;

    private final int sectorSize;
    private final long sectors;

    AtaDisk(AhciDrive drive) {
        super(drive);
        this.sectorSize = backend.logicalSectorSize();
        this.sectors = backend.size() / sectorSize;
    }

    @Override
    boolean atapi() {
        return false;
    }

    @Override
    long sectors() {
        return sectors;
    }

    @Override
    int sectorSize() {
        return sectorSize;
    }

    @Override
    boolean executeOwn(AhciCommand c) {
        switch (c.command()) {
            case IDENTIFY -> pioDataIn(c, AtaIdentify.disk(drive, sectors, sectorSize, backend.physicalSectorSize(),
                    backend.canDelete(), transferMode, multipleSectors, c.port().read(AhciPort.SSTS)));
            case READ, READ_EXT, READ_MULTIPLE, READ_MULTIPLE_EXT, READ_DMA, READ_DMA_EXT, READ_FPDMA,
                 WRITE, WRITE_EXT, WRITE_MULTIPLE, WRITE_MULTIPLE_EXT, WRITE_DMA, WRITE_DMA_EXT, WRITE_FPDMA ->
                    readWrite(c);
            case FLUSH, FLUSH_EXT -> backend.submit(() -> {
                boolean ok = true;
                try {
                    backend.flush();
                } catch (BlockIoException e) {
                    ok = false;
                }
                finish(c, ok);
            });
            case DSM -> trim(c, c.fisByte(3) == 1 && c.fisByte(11) == 0 && c.count() == 1, false);
            case SEND_FPDMA -> trim(c, (c.fisByte(13) & 0x1F) == 0 && c.fisByte(16) == 1 && c.fisByte(17) == 0
                    && c.features() == 1, true);
            case READ_LOG_EXT, READ_LOG_DMA_EXT -> readLog(c);
            case READ_VERIFY, READ_VERIFY_EXT -> c.succeed();
            case IDENTIFY_PACKET, PACKET -> c.abort();
            default -> {
                return false;
            }
        }
        return true;
    }

    private static void finish(AhciCommand c, boolean ok) {
        if (ok) {
            c.succeed();
        } else {
            c.abort();
        }
    }

    private void readWrite(AhciCommand c) {
        int op = c.command();
        boolean queued = op == READ_FPDMA || op == WRITE_FPDMA;
        boolean ext = queued || op == READ_EXT || op == READ_DMA_EXT || op == READ_MULTIPLE_EXT
                || op == WRITE_EXT || op == WRITE_DMA_EXT || op == WRITE_MULTIPLE_EXT;
        boolean write = op == WRITE || op == WRITE_EXT || op == WRITE_MULTIPLE || op == WRITE_MULTIPLE_EXT
                || op == WRITE_DMA || op == WRITE_DMA_EXT || op == WRITE_FPDMA;
        boolean pioIn = op == READ || op == READ_EXT || op == READ_MULTIPLE || op == READ_MULTIPLE_EXT;
        long lba = ext ? c.lba48() : c.lba28();
        int count = queued ? c.features() : ext ? c.count() : c.fisByte(12);
        if (count == 0) {
            count = ext ? 65536 : 256;
        }
        if (lba + count > sectors) {
            c.complete(Fis.FAILED, Fis.IDNF | Fis.ABRT);
            return;
        }
        if (write && backend.readOnly()) {
            c.abort();
            return;
        }
        long bytes = (long) count * sectorSize;
        MemorySegment[] buffers = c.buffers(bytes);
        if (buffers == null) {
            c.port().guestError("PRDT of " + c.prdtLength() + " entries does not cover " + bytes + " bytes in RAM");
            c.abort();
            return;
        }
        if (queued) {
            c.accept();
        }
        long offset = lba * sectorSize;
        backend.submit(() -> {
            boolean ok = true;
            try {
                if (write) {
                    backend.write(offset, buffers, buffers.length);
                } else {
                    backend.read(offset, buffers, buffers.length);
                }
            } catch (BlockIoException e) {
                ok = false;
            }
            c.transferred = ok ? (int) Math.min(bytes, Integer.MAX_VALUE) : 0;
            c.pioIn = pioIn;
            finish(c, ok);
        });
    }

    /** DATA SET MANAGEMENT / SEND FPDMA QUEUED with TRIM: discards each listed range. */
    private void trim(AhciCommand c, boolean wellFormed, boolean queued) {
        if (!wellFormed || !backend.canDelete()) {
            c.abort();
            return;
        }
        byte[] block = c.copyIn(DSM_BLOCK);
        if (block == null) {
            c.abort();
            return;
        }
        long[] starts = new long[DSM_BLOCK / DSM_RANGE];
        long[] lengths = new long[starts.length];
        for (int i = 0; i < starts.length; i++) {
            long entry = 0;
            for (int b = 7; b >= 0; b--) {
                entry = entry << 8 | (block[DSM_RANGE * i + b] & 0xFF);
            }
            starts[i] = entry & 0xFFFFFFFFFFFFL;
            lengths[i] = entry >>> 48;
            if (lengths[i] != 0 && starts[i] + lengths[i] > sectors) {
                c.complete(Fis.FAILED, Fis.IDNF | Fis.ABRT);
                return;
            }
        }
        if (queued) {
            c.accept();
        }
        backend.submit(() -> {
            boolean ok = true;
            try {
                for (int i = 0; i < starts.length; i++) {
                    if (lengths[i] != 0) {
                        backend.discard(starts[i] * sectorSize, lengths[i] * sectorSize, false);
                    }
                }
            } catch (BlockIoException e) {
                ok = false;
            }
            finish(c, ok);
        });
    }

    /** READ LOG (DMA) EXT of one page of log 0x00, 0x10 or 0x13, as bhyve answers them. */
    private void readLog(AhciCommand c) {
        if (c.prdtLength() == 0 || c.fisByte(5) != 0 || c.fisByte(9) != 0 || c.count() != 1) {
            c.abort();
            return;
        }
        byte[] page = new byte[512];
        switch (c.fisByte(4)) {
            case 0x00 -> {                    // directory: version 1, one page of logs 0x10 and 0x13
                page[0] = 1;
                page[2 * 0x10] = 1;
                page[2 * 0x13] = 1;
            }
            case 0x10 -> {
                System.arraycopy(c.port().ncqErrorLog(), 0, page, 0, 20);
                int sum = 0;
                for (int i = 0; i < 511; i++) {
                    sum += page[i];
                }
                page[511] = (byte) -sum;
            }
            case 0x13 -> {
                if (backend.canDelete()) {
                    page[0] = 1;              // SEND FPDMA QUEUED: DSM supported
                    page[4] = 1;              // with TRIM
                }
            }
            default -> {
                c.abort();
                return;
            }
        }
        int n = c.copyOut(page, page.length);
        if (n < 0) {
            c.abort();
            return;
        }
        c.transferred = n;
        c.pioIn = c.command() == READ_LOG_EXT;
        c.succeed();
    }
}
