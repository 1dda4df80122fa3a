package org.jbhyve.devices.virtio.scsi;

import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockIoException;

/**
 * The SBC-3 commands that touch the medium. Each method checks the CDB on the caller's thread
 * and either ends the command there (returning null) or returns the backend work that ends it.
 *
 * <pre>
 * VERIFY(10) 0x2F            1 VRPROTECT(7-5) BYTCHK(2-1)  2-5 LBA  7-8 VERIFICATION LENGTH
 * SYNCHRONIZE CACHE(10) 0x35 1 IMMED(1)  2-5 LBA  7-8 BLOCKS      (16) 0x91: 2-9 LBA, 10-13 BLOCKS
 * UNMAP 0x42                 1 ANCHOR(0)  7-8 PARAMETER LIST LENGTH
 *   parameter list: 0-1 data length, 2-3 block descriptor data length, 8.. descriptors of
 *   {8 LBA, 4 number of blocks, 4 reserved}
 * WRITE SAME(16) 0x93        1 WRPROTECT(7-5) ANCHOR(4) UNMAP(3) NDOB(0)  2-9 LBA  10-13 BLOCKS
 *   writes one block of data-out (zeros with NDOB) to every block of the range; a zero
 *   pattern becomes a zeroing discard when the backend allows it (with or without UNMAP,
 *   since LBPRZ=0 only promises the zeros we write)
 * </pre>
 * Ranges are checked against the capacity and the limits advertised in VPD page 0xB0.
 */
final class ScsiBlockIo {
    private ScsiBlockIo() {}

    /** READ or WRITE (6/10/12/16) straight between the data buffer's guest slices and the image. */
    static Runnable readWrite(ScsiDisk disk, ScsiCommand c, boolean write) {
        long lba;
        long count;
        int lengthField;
        int flags = 0;
        switch (c.opcode()) {
            case 0x08, 0x0A -> {
                lba = c.u24(1) & 0x1FFFFF;
                count = c.u8(4) == 0 ? 256 : c.u8(4);
                lengthField = 4;
            }
            case 0x28, 0x2A -> {
                lba = c.u32(2);
                count = c.u16(7);
                lengthField = 7;
                flags = c.u8(1);
            }
            case 0xA8, 0xAA -> {
                lba = c.u32(2);
                count = c.u32(6);
                lengthField = 6;
                flags = c.u8(1);
            }
            default -> {
                lba = c.u64(2);
                count = c.u32(10);
                lengthField = 10;
                flags = c.u8(1);
            }
        }
        if ((flags & 0xE0) != 0) {
            c.check(ScsiSense.invalidCdbField(1)); // RDPROTECT/WRPROTECT: no protection information
            return null;
        }
        long bytes = count * disk.blockSize();
        if (bytes > ScsiDisk.MAX_TRANSFER_BYTES) {
            c.check(ScsiSense.invalidCdbField(lengthField));
            return null;
        }
        if (write && disk.readOnly()) {
            c.check(ScsiSense.WRITE_PROTECTED);
            return null;
        }
        if (!disk.inRange(lba, count)) {
            c.check(ScsiSense.LBA_OUT_OF_RANGE);
            return null;
        }
        ScsiData buffer = write ? c.dataOut() : c.dataIn();
        ScsiData other = write ? c.dataIn() : c.dataOut();
        if (bytes > 0 && (buffer.size() < bytes || !other.isEmpty())) {
            c.overrun();
            return null;
        }
        if (bytes == 0) {
            c.good(0);
            return null;
        }
        boolean fua = (flags & 0x08) != 0;
        long offset = lba * disk.blockSize();
        BlockBackend b = disk.backend();
        return () -> {
            var segments = buffer.prefix(bytes);
            try {
                if (write) {
                    b.write(offset, segments, segments.length);
                    disk.writeThrough(fua);
                } else {
                    b.read(offset, segments, segments.length);
                }
                c.good(bytes);
            } catch (BlockIoException e) {
                c.check(write ? ScsiSense.WRITE_ERROR : ScsiSense.UNRECOVERED_READ_ERROR);
            }
        };
    }

    /** VERIFY(10) without byte comparison: the medium is always readable, so only the range is checked. */
    static void verify(ScsiDisk disk, ScsiCommand c) {
        if ((c.u8(1) & 0xE6) != 0) {
            c.check(ScsiSense.invalidCdbField(1)); // VRPROTECT or BYTCHK: no protection info, no compare
        } else if (!disk.inRange(c.u32(2), c.u16(7))) {
            c.check(ScsiSense.LBA_OUT_OF_RANGE);
        } else {
            c.good(0);
        }
    }

    /** SYNCHRONIZE CACHE(10/16): fdatasync of the image (the whole cache, whatever the range). */
    static Runnable synchronizeCache(ScsiDisk disk, ScsiCommand c) {
        boolean ten = c.opcode() == 0x35;
        long lba = ten ? c.u32(2) : c.u64(2);
        long count = ten ? c.u16(7) : c.u32(10);
        if (!disk.inRange(lba, count)) {
            c.check(ScsiSense.LBA_OUT_OF_RANGE);
            return null;
        }
        if (disk.readOnly()) {
            c.good(0); // nothing was written
            return null;
        }
        return () -> {
            try {
                disk.backend().flush();
                c.good(0);
            } catch (BlockIoException e) {
                c.check(ScsiSense.WRITE_ERROR);
            }
        };
    }

    /** UNMAP: every descriptor is checked before any range is discarded. */
    static Runnable unmap(ScsiDisk disk, ScsiCommand c) {
        if (disk.readOnly()) {
            c.check(ScsiSense.WRITE_PROTECTED);
            return null;
        }
        if (!disk.canUnmap()) {
            c.check(ScsiSense.INVALID_OPCODE); // nodelete: VPD 0xB2 says LBPU=0
            return null;
        }
        if ((c.u8(1) & 0x01) != 0) {
            c.check(ScsiSense.invalidCdbField(1)); // ANCHOR: not supported (ANC_SUP=0)
            return null;
        }
        int length = c.u16(7);
        if (length == 0) {
            c.good(0);
            return null;
        }
        if (!ScsiDisk.fitsOut(c, length)) {
            return null;
        }
        if (length < 8) {
            c.check(ScsiSense.PARAMETER_LIST_LENGTH);
            return null;
        }
        byte[] list = c.dataOut().read(length);
        int descriptorBytes = Math.min((list[2] & 0xFF) << 8 | (list[3] & 0xFF), length - 8);
        int n = descriptorBytes / 16;
        if (n > ScsiDisk.MAX_UNMAP_DESCRIPTORS) {
            c.check(ScsiSense.invalidParameter(2));
            return null;
        }
        long[] lbas = new long[n];
        long[] counts = new long[n];
        for (int i = 0; i < n; i++) {
            int at = 8 + 16 * i;
            lbas[i] = be(list, at, 8);
            counts[i] = be(list, at + 8, 4);
            if (counts[i] > ScsiDisk.MAX_UNMAP_BLOCKS) {
                c.check(ScsiSense.invalidParameter(at + 8));
                return null;
            }
            if (!disk.inRange(lbas[i], counts[i])) {
                c.check(ScsiSense.LBA_OUT_OF_RANGE);
                return null;
            }
        }
        int bs = disk.blockSize();
        return () -> {
            try {
                for (int i = 0; i < n; i++) {
                    if (counts[i] > 0) {
                        disk.backend().discard(lbas[i] * bs, counts[i] * bs, false);
                    }
                }
                c.good(length);
            } catch (BlockIoException e) {
                c.check(ScsiSense.WRITE_ERROR);
            }
        };
    }

    /** WRITE SAME(16): one block repeated over the range, or zeroed through the backend's discard. */
    static Runnable writeSame(ScsiDisk disk, ScsiCommand c) {
        int flags = c.u8(1);
        if ((flags & 0xF6) != 0) {
            c.check(ScsiSense.invalidCdbField(1)); // WRPROTECT, ANCHOR, obsolete PBDATA/LBDATA
            return null;
        }
        if (disk.readOnly()) {
            c.check(ScsiSense.WRITE_PROTECTED);
            return null;
        }
        long lba = c.u64(2);
        long count = c.u32(10);
        if (count == 0 || count > ScsiDisk.MAX_WRITE_SAME_BLOCKS) {
            c.check(ScsiSense.invalidCdbField(10)); // WSNZ=1: zero blocks is not "to the end"
            return null;
        }
        if (!disk.inRange(lba, count)) {
            c.check(ScsiSense.LBA_OUT_OF_RANGE);
            return null;
        }
        int bs = disk.blockSize();
        boolean ndob = (flags & 0x01) != 0;
        if (!ndob && !ScsiDisk.fitsOut(c, bs)) {
            return null;
        }
        byte[] pattern = ndob ? new byte[bs] : c.dataOut().read(bs);
        boolean zero = true;
        for (byte b : pattern) {
            zero &= b == 0;
        }
        boolean zeroing = zero && disk.canUnmap();
        return () -> {
            try {
                if (zeroing) {
                    disk.backend().discard(lba * bs, count * bs, true);
                } else {
                    disk.fill(lba, count, pattern);
                }
                disk.writeThrough(false);
                c.good(ndob ? 0 : bs);
            } catch (BlockIoException e) {
                c.check(ScsiSense.WRITE_ERROR);
            }
        };
    }

    private static long be(byte[] b, int at, int n) {
        long v = 0;
        for (int i = 0; i < n; i++) {
            v = v << 8 | (b[at + i] & 0xFF);
        }
        return v;
    }
}
