package org.jbhyve.devices.storage.ahci;

import java.nio.charset.StandardCharsets;

/**
 * IDENTIFY DEVICE and IDENTIFY PACKET DEVICE data (ATA8-ACS 7.16/7.17): 256 little-endian
 * words, with the values bhyve's ata_identify_init() reports. The words a driver reads:
 *
 * <pre>
 *   0 general configuration (ATAPI: 0x8000 packet, bits 12:8 type 5 = CD-ROM, bit 7 removable)
 *   1/3/6 cylinders/heads/sectors per track (VHD-style CHS from the size)
 *  10-19 serial (20 chars)  23-26 firmware revision (8)  27-46 model (40): ATA strings, each
 *        word holding two characters high byte first, padded with spaces
 *  47 READ/WRITE MULTIPLE maximum   49 capabilities: DMA, LBA, IORDY   53 words 64-70 and 88 valid
 *  59 current multiple setting      60-61 28-bit sector count (capped at 0x0FFFFFFF)
 *  63 multiword DMA modes           64 PIO modes 3-4    65-68 cycle times
 *  69 deterministic/zeroed read after TRIM   75 queue depth - 1 (31: NCQ depth 32)
 *  76 SATA capabilities: Gen1-3, NCQ   77 current speed, RECEIVE/SEND FPDMA QUEUED
 *  80/81 major/minor version         82-87 command sets supported/enabled: 48-bit, FLUSH CACHE (EXT)
 *  88 Ultra DMA modes (bits 15:8 the selected one)   100-103 48-bit sector count
 * 105 DATA SET MANAGEMENT blocks    106 sector size relation     117-118 logical sector size (words)
 * 119/120 READ/WRITE LOG DMA EXT    169 TRIM supported   209 alignment   217 rotation rate
 * 222 transport (SATA)              255 0xA5 signature and checksum (all 512 bytes sum to 0)
 * </pre>
 * TRIM is offered only when the backend may delete (neither {@code nodelete} nor read-only).
 */
final class AtaIdentify {
    private final byte[] data = new byte[512];

    private AtaIdentify() {}

    private void word(int index, int value) {
        data[2 * index] = (byte) value;
        data[2 * index + 1] = (byte) (value >>> 8);
    }

    /** An ATA string over {@code length} bytes from word {@code index}: swapped pairs, space padded. */
    private void string(int index, String text, int length) {
        byte[] s = text.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < length; i++) {
            data[2 * index + (i ^ 1)] = i < s.length ? s[i] : (byte) ' ';
        }
    }

    private void strings(AhciDrive drive) {
        string(10, drive.serial(), 20);
        string(23, drive.revision(), 8);
        string(27, drive.model(), 40);
    }

    /** Words common to disk and CD: DMA/PIO timing, SATA speeds, transport. */
    private void common(int transferMode, int ssts) {
        word(53, 0x0006);                                   // words 64-70 and 88 valid
        int mwdma = 0x0007;
        if ((transferMode & 0xF8) == 0x20) {
            mwdma |= 1 << ((transferMode & 7) + 8);
        }
        word(63, mwdma);
        word(64, 0x0003);
        word(65, 0x0078);
        word(66, 0x0078);
        word(67, 0x0078);
        word(68, 0x0078);
        word(80, 0x03F0);                                   // ATA/ATAPI-4 to ATA8-ACS
        int udma = 0x007F;
        if ((transferMode & 0xF8) == 0x40) {
            udma |= 1 << ((transferMode & 7) + 8);
        }
        word(88, udma);
        word(222, 0x1020);                                  // SATA, SATA 2.6
        word(77, (ssts & AhciPort.SPD_MASK) >> 3);          // current speed, bits 3:1
    }

    private byte[] finish() {
        word(255, 0x00A5);
        int sum = 0;
        for (int i = 0; i < 511; i++) {
            sum += data[i];
        }
        data[511] = (byte) -sum;
        return data;
    }

    /** IDENTIFY DEVICE of a disk of {@code sectors} logical sectors. */
    static byte[] disk(AhciDrive drive, long sectors, int logical, int physical, boolean trim,
                       int transferMode, int multipleSectors, int ssts) {
        AtaIdentify id = new AtaIdentify();
        int[] chs = chs(sectors);
        id.word(0, 0x0040);
        id.word(1, chs[0]);
        id.word(3, chs[1]);
        id.word(6, chs[2]);
        id.strings(drive);
        id.word(47, 0x8000 | 128);
        id.word(49, 0x0100 | 0x0200 | 0x0800);                 // DMA, LBA, IORDY
        id.word(50, 1 << 14);
        if (multipleSectors != 0) {
            id.word(59, 0x0100 | multipleSectors);
        }
        long lba28 = Math.min(sectors, 0x0FFFFFFFL);
        id.word(60, (int) lba28);
        id.word(61, (int) (lba28 >>> 16));
        id.common(transferMode, ssts);
        id.word(69, trim ? 0x0020 | 0x4000 : 0);               // RZAT, DRAT
        id.word(75, 31);
        id.word(76, 0x0002 | 0x0004 | 0x0008 | 0x0100);        // Gen1-3, NCQ
        id.word(77, 0x0040 | (ssts & AhciPort.SPD_MASK) >> 3); // RECEIVE/SEND FPDMA QUEUED
        id.word(81, 0x0028);
        id.word(82, 0x4000 | 0x0040 | 0x0020 | 0x0008);        // NOP, look-ahead, write cache, PM
        id.word(83, 0x4000 | 0x2000 | 0x1000 | 0x0400);        // FLUSH CACHE EXT, FLUSH CACHE, 48-bit
        id.word(84, 0x4000);
        id.word(85, 0x4000 | 0x0040 | 0x0020 | 0x0008);
        id.word(86, 0x8000 | 0x2000 | 0x1000 | 0x0400);
        id.word(87, 0x4000);
        for (int i = 0; i < 4; i++) {
            id.word(100 + i, (int) (sectors >>> (16 * i)));
        }
        if (trim) {
            id.word(105, 1);
            id.word(169, 0x0001);
        }
        int pss = 0x4000;
        if (physical > logical) {
            pss |= 0x2000 | Integer.numberOfTrailingZeros(physical / logical);
        }
        if (logical > 512) {
            pss |= 0x1000;
            id.word(117, logical / 2);
            id.word(118, (logical / 2) >>> 16);
        }
        id.word(106, pss);
        id.word(119, 0x4000 | 0x0008);                         // READ/WRITE LOG DMA EXT
        id.word(120, 0x4000 | 0x0008);
        id.word(209, 0x4000);
        id.word(217, drive.rotationRate());
        return id.finish();
    }

    /** IDENTIFY PACKET DEVICE of a CD/DVD-ROM drive. */
    static byte[] cd(AhciDrive drive, int transferMode, int ssts) {
        AtaIdentify id = new AtaIdentify();
        id.word(0, 0x8000 | 0x0500 | 0x0080 | 0x0040);         // ATAPI, CD-ROM, removable, fast DRQ
        id.strings(drive);
        id.word(49, 0x0200 | 0x0100);                          // LBA, DMA
        id.word(50, 1 << 14 | 1);
        id.word(62, 0x003F);
        id.common(transferMode, ssts);
        id.word(76, 0x0002 | 0x0004 | 0x0008);
        id.word(78, 0x0010);                                   // in-order data delivery
        id.word(82, 0x4000 | 0x0200 | 0x0010 | 0x0008);        // NOP, DEVICE RESET, PACKET, PM
        id.word(83, 1 << 14);
        id.word(84, 1 << 14);
        id.word(85, 0x4000 | 0x0200 | 0x0010 | 0x0008);
        id.word(87, 1 << 14);
        return id.finish();
    }

    /**
     * The CHS geometry bhyve reports (the VHD specification's algorithm): 255 sectors x 16 heads
     * for large disks, else the smallest of 17, 31, 63 sectors per track that fits 1024
     * cylinders per head, with 4 to 16 heads. Returns {cylinders, heads, sectors}.
     */
    static int[] chs(long totalSectors) {
        long sectors = Math.min(totalSectors, 65535L * 16 * 255);
        int perTrack;
        int heads;
        long cylinderHeads;
        if (sectors >= 65536L * 16 * 63) {
            perTrack = 255;
            heads = 16;
            cylinderHeads = sectors / perTrack;
        } else {
            perTrack = 17;
            cylinderHeads = sectors / perTrack;
            heads = (int) Math.max(4, (cylinderHeads + 1023) / 1024);
            if (cylinderHeads >= heads * 1024L || heads > 16) {
                perTrack = 31;
                heads = 16;
                cylinderHeads = sectors / perTrack;
            }
            if (cylinderHeads >= heads * 1024L) {
                perTrack = 63;
                heads = 16;
                cylinderHeads = sectors / perTrack;
            }
        }
        return new int[] {(int) (cylinderHeads / heads), heads, perTrack};
    }
}
