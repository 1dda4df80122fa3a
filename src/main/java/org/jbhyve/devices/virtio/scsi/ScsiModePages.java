package org.jbhyve.devices.virtio.scsi;

import java.io.ByteArrayOutputStream;

/**
 * MODE SENSE and MODE SELECT (SPC-4 6.11-6.14, 7.5) for a block device: the caching and
 * control mode pages.
 *
 * <pre>
 * MODE SENSE(6)  0x1A: 1 DBD(3)            2 PC(7-6) PAGE(5-0)  3 SUBPAGE  4 ALLOCATION LENGTH
 * MODE SENSE(10) 0x5A: 1 LLBAA(4) DBD(3)   2 PC|PAGE            3 SUBPAGE  7-8 ALLOCATION LENGTH
 * MODE SELECT(6) 0x15: 1 PF(4) SP(0)       4 PARAMETER LIST LENGTH
 * MODE SELECT(10) 0x55: 1 PF(4) SP(0)      7-8 PARAMETER LIST LENGTH
 * </pre>
 * Mode data is a header, optional block descriptors, then pages:
 * <pre>
 * header(6)   0 MODE DATA LENGTH  1 MEDIUM TYPE  2 DEVICE-SPECIFIC (WP 0x80, DPOFUA 0x10)  3 BD LENGTH
 * header(10)  0-1 MODE DATA LENGTH  2 MEDIUM TYPE  3 DEVICE-SPECIFIC  4 LONGLBA(0)  6-7 BD LENGTH
 * short block descriptor (8)  0-3 NUMBER OF BLOCKS (0xFFFFFFFF if more)  5-7 BLOCK LENGTH
 * long block descriptor (16)  0-7 NUMBER OF BLOCKS  12-15 BLOCK LENGTH
 * caching page 0x08 (20 bytes)  2: WCE(2) write cache enabled, RCD(0) read cache disabled
 * control page 0x0A (12 bytes)  3: QUEUE ALGORITHM MODIFIER(7-4) = 1, unrestricted reordering
 * </pre>
 * PC selects current (0), changeable (1: a mask, here only WCE) or default (2) values; saved
 * values (3) are not supported. Page 0x3F returns every page. MODE SELECT may change WCE; any
 * other difference from the current values is INVALID FIELD IN PARAMETER LIST, and nothing
 * changes unless the whole list is valid. With WCE off every write is made durable before it
 * completes (as if FUA were set).
 */
final class ScsiModePages {
    static final int CACHING = 0x08, CONTROL = 0x0A, ALL = 0x3F;
    private static final int WCE = 0x04;

    private final ScsiDisk disk;
    private volatile boolean writeCache = true;

    ScsiModePages(ScsiDisk disk) {
        this.disk = disk;
    }

    /** Whether the volatile write cache is enabled (WCE); off means every write is flushed. */
    boolean writeCacheEnabled() {
        return writeCache;
    }

    /** Sets WCE (a snapshot restore). */
    void writeCacheEnabled(boolean on) {
        writeCache = on;
    }

    /** Back to default values (logical unit reset): WCE on. */
    void reset() {
        writeCache = true;
    }

    void sense(ScsiCommand c, boolean ten) {
        boolean dbd = (c.u8(1) & 0x08) != 0;
        boolean longLba = ten && (c.u8(1) & 0x10) != 0;
        int pc = c.u8(2) >> 6;
        int page = c.u8(2) & 0x3F;
        int subpage = c.u8(3);
        long allocation = ten ? c.u16(7) : c.u8(4);
        if (pc == 3) {
            c.check(ScsiSense.SAVING_NOT_SUPPORTED);
            return;
        }
        if (page != CACHING && page != CONTROL && page != ALL) {
            c.check(ScsiSense.invalidCdbField(2));
            return;
        }
        if (subpage != 0 && subpage != 0xFF) {
            c.check(ScsiSense.invalidCdbField(3));
            return;
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (!dbd) {
            body.writeBytes(blockDescriptor(longLba, pc == 1));
        }
        int descriptors = body.size();
        if (page == CACHING || page == ALL) {
            body.writeBytes(caching(pc));
        }
        if (page == CONTROL || page == ALL) {
            body.writeBytes(control(pc));
        }
        int deviceSpecific = (disk.readOnly() ? 0x80 : 0) | 0x10;
        byte[] header;
        if (ten) {
            header = new byte[8];
            ScsiInquiry.put16(header, 0, 6 + body.size());
            header[3] = (byte) deviceSpecific;
            header[4] = (byte) (longLba && !dbd ? 1 : 0);
            ScsiInquiry.put16(header, 6, descriptors);
        } else {
            header = new byte[4];
            header[0] = (byte) (3 + body.size());
            header[2] = (byte) deviceSpecific;
            header[3] = (byte) descriptors;
        }
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(header);
        all.writeBytes(body.toByteArray());
        c.answer(all.toByteArray(), allocation);
    }

    private byte[] blockDescriptor(boolean longLba, boolean changeable) {
        byte[] d = new byte[longLba ? 16 : 8];
        if (changeable) {
            return d;
        }
        long blocks = disk.blocks();
        if (longLba) {
            ScsiInquiry.put32(d, 0, blocks >>> 32);
            ScsiInquiry.put32(d, 4, blocks);
            ScsiInquiry.put32(d, 12, disk.blockSize());
        } else {
            ScsiInquiry.put32(d, 0, Math.min(blocks, 0xFFFFFFFFL));
            d[5] = (byte) (disk.blockSize() >> 16);
            ScsiInquiry.put16(d, 6, disk.blockSize() & 0xFFFF);
        }
        return d;
    }

    /** The caching page for page control {@code pc} (0 current, 1 changeable mask, 2 default). */
    private byte[] caching(int pc) {
        byte[] p = new byte[20];
        p[0] = CACHING;
        p[1] = 0x12;
        p[2] = (byte) (pc == 1 || pc == 2 || writeCache ? WCE : 0);
        return p;
    }

    private static byte[] control(int pc) {
        byte[] p = new byte[12];
        p[0] = CONTROL;
        p[1] = 0x0A;
        if (pc != 1) {
            p[3] = 0x10;
        }
        return p;
    }

    /** MODE SELECT(6) or (10); the caller has checked the data-out buffer holds the list. */
    void select(ScsiCommand c, boolean ten) {
        int length = ten ? c.u16(7) : c.u8(4);
        if ((c.u8(1) & 0x01) != 0) {
            c.check(ScsiSense.invalidCdbField(1)); // SP: no saved pages
            return;
        }
        byte[] list = c.dataOut().read(length);
        int headerLength = ten ? 8 : 4;
        if (length == 0) {
            c.good(0);
            return;
        }
        if (length < headerLength) {
            c.check(ScsiSense.PARAMETER_LIST_LENGTH);
            return;
        }
        int bdLength = ten ? (list[6] & 0xFF) << 8 | (list[7] & 0xFF) : list[3] & 0xFF;
        if (headerLength + bdLength > length) {
            c.check(ScsiSense.PARAMETER_LIST_LENGTH);
            return;
        }
        if (bdLength != 0 && bdLength != 8 && bdLength != 16) {
            c.check(ScsiSense.invalidParameter(ten ? 6 : 3));
            return;
        }
        if (bdLength > 0) {
            int at = headerLength + (bdLength == 16 ? 12 : 4);
            int blockLength = (list[at] & 0xFF) << 24 | (list[at + 1] & 0xFF) << 16 | (list[at + 2] & 0xFF) << 8
                    | (list[at + 3] & 0xFF);
            if (bdLength == 8) {
                blockLength &= 0xFFFFFF;
            }
            if (blockLength != 0 && blockLength != disk.blockSize()) {
                c.check(ScsiSense.invalidParameter(at));
                return;
            }
        }
        boolean newWce = writeCache;
        int at = headerLength + bdLength;
        while (at < length) {
            if (at + 2 > length) {
                c.check(ScsiSense.PARAMETER_LIST_LENGTH);
                return;
            }
            int code = list[at] & 0x3F;
            int pageLength = list[at + 1] & 0xFF;
            if ((list[at] & 0x40) != 0 || (code != CACHING && code != CONTROL)) {
                c.check(ScsiSense.invalidParameter(at));
                return;
            }
            byte[] current = code == CACHING ? caching(0) : control(0);
            byte[] mask = code == CACHING ? caching(1) : control(1);
            if (pageLength != current.length - 2) {
                c.check(ScsiSense.invalidParameter(at + 1));
                return;
            }
            if (at + 2 + pageLength > length) {
                c.check(ScsiSense.PARAMETER_LIST_LENGTH);
                return;
            }
            for (int i = 2; i < current.length; i++) {
                if (((list[at + i] ^ current[i]) & ~mask[i] & 0xFF) != 0) {
                    c.check(ScsiSense.invalidParameter(at + i));
                    return;
                }
            }
            if (code == CACHING) {
                newWce = (list[at + 2] & WCE) != 0;
            }
            at += 2 + pageLength;
        }
        writeCache = newWce;
        c.good(length);
    }
}
