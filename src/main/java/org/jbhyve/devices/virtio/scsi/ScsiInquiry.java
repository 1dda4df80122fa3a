package org.jbhyve.devices.virtio.scsi;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * INQUIRY (SPC-4 6.6, opcode 0x12) for a direct-access block device: who the logical unit is.
 *
 * <pre>
 * CDB  0 0x12   1 EVPD(0) CMDDT(1, obsolete)   2 PAGE CODE   3-4 ALLOCATION LENGTH
 * </pre>
 * With EVPD=0 the answer is the standard data (96 bytes here): byte 0 peripheral qualifier(7-5)
 * and device type(4-0) (0x00 = disk present, 0x7F = no logical unit at this LUN), 2 VERSION
 * (6 = SPC-4), 3 HISUP | response format 2, 4 ADDITIONAL LENGTH, 7 CMDQUE, 8-15 T10 vendor,
 * 16-31 product, 32-35 revision, 58-73 version descriptors (SAM-5, SPC-4, SBC-3).
 *
 * <p>With EVPD=1 it is a vital product data page, each with a 4-byte header (qualifier/type,
 * page code, big-endian page length):
 * <pre>
 * 0x00 supported VPD pages      0x80 unit serial number (ASCII)
 * 0x83 device identification: designators of {code set, type, length}: an NAA "locally
 *      assigned" (NAA 3) 8-byte name derived from the serial and LUN, and a T10 vendor id
 *      ("FreeBSD " + serial)
 * 0xB0 block limits (SBC-3 6.6.4): WSNZ, maximum transfer length, optimal granularity, maximum
 *      UNMAP LBA and descriptor counts, maximum WRITE SAME length
 * 0xB1 block device characteristics: medium rotation rate (1 = non-rotating)
 * 0xB2 logical block provisioning: LBPU (UNMAP works), LBPWS (WRITE SAME(16) with UNMAP works),
 *      provisioning type thin when the backend can discard
 * </pre>
 * Every answer is cut at the allocation length and at the buffer's end (SPC-4 4.2.5.6).
 */
final class ScsiInquiry {
    static final String VENDOR = "FreeBSD";
    static final String PRODUCT = "BHYVE SCSI DISK";
    static final String REVISION = "0001";
    /** Peripheral qualifier 3, device type 0x1F: no logical unit here. */
    static final int NO_LUN = 0x7F;
    private static final int STANDARD_LENGTH = 96;
    private static final int[] PAGES = {0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2};

    private final ScsiDisk disk;
    private final byte[] serial;
    private final int lun;
    private final int rotationRate;

    ScsiInquiry(ScsiDisk disk, String serial, int lun, int rotationRate) {
        this.disk = disk;
        this.serial = printable(serial);
        this.lun = lun;
        this.rotationRate = rotationRate;
    }

    /** Serves an INQUIRY CDB for this logical unit. */
    void execute(ScsiCommand c) {
        int flags = c.u8(1);
        int page = c.u8(2);
        long allocation = c.u16(3);
        if ((flags & 0x02) != 0) {
            c.check(ScsiSense.invalidCdbField(1));
        } else if ((flags & 0x01) == 0) {
            if (page != 0) {
                c.check(ScsiSense.invalidCdbField(2));
            } else {
                c.answer(standardData(0x00), allocation);
            }
        } else {
            byte[] data = vpd(page);
            if (data == null) {
                c.check(ScsiSense.invalidCdbField(2));
            } else {
                c.answer(data, allocation);
            }
        }
    }

    /**
     * INQUIRY addressed to a LUN with no logical unit behind it (SPC-4 4.6.4): standard data
     * with qualifier 3 / type 0x1F, so initiators (Linux's scan) skip the LUN; VPD page 0x00
     * lists nothing.
     */
    static void executeMissing(ScsiCommand c) {
        int flags = c.u8(1);
        int page = c.u8(2);
        if ((flags & 0x02) != 0) {
            c.check(ScsiSense.invalidCdbField(1));
        } else if (page != 0) {
            c.check(ScsiSense.invalidCdbField(2));
        } else if ((flags & 0x01) != 0) {
            c.answer(new byte[] {(byte) NO_LUN, 0, 0, 0}, c.u16(3));
        } else {
            c.answer(standardData(NO_LUN), c.u16(3));
        }
    }

    private static byte[] standardData(int peripheral) {
        byte[] d = new byte[STANDARD_LENGTH];
        d[0] = (byte) peripheral;
        d[2] = 0x06;
        d[3] = 0x12;
        d[4] = (byte) (STANDARD_LENGTH - 5);
        d[7] = 0x02;
        pad(d, 8, 8, VENDOR);
        pad(d, 16, 16, PRODUCT);
        pad(d, 32, 4, REVISION);
        int[] versions = {0x00A0, 0x0460, 0x04C0};
        for (int i = 0; i < versions.length; i++) {
            d[58 + 2 * i] = (byte) (versions[i] >> 8);
            d[59 + 2 * i] = (byte) versions[i];
        }
        return d;
    }

    /** VPD page {@code page}, or null if not supported. */
    byte[] vpd(int page) {
        return switch (page) {
            case 0x00 -> {
                byte[] p = header(page, PAGES.length);
                for (int i = 0; i < PAGES.length; i++) {
                    p[4 + i] = (byte) PAGES[i];
                }
                yield p;
            }
            case 0x80 -> {
                byte[] p = header(page, serial.length);
                System.arraycopy(serial, 0, p, 4, serial.length);
                yield p;
            }
            case 0x83 -> identification();
            case 0xB0 -> blockLimits();
            case 0xB1 -> {
                byte[] p = header(page, 0x3C);
                p[4] = (byte) (rotationRate >> 8);
                p[5] = (byte) rotationRate;
                yield p;
            }
            case 0xB2 -> {
                byte[] p = header(page, 4);
                if (disk.canUnmap()) {
                    p[5] = (byte) 0xC0; // LBPU | LBPWS; LBPRZ 0: a discarded block device may not read zeros
                    p[6] = 0x02; // thin provisioned
                }
                yield p;
            }
            default -> null;
        };
    }

    private byte[] identification() {
        byte[] t10 = new byte[8 + serial.length];
        pad(t10, 0, 8, VENDOR);
        System.arraycopy(serial, 0, t10, 8, serial.length);
        byte[] p = header(0x83, 4 + 8 + 4 + t10.length);
        p[4] = 0x01; // protocol 0, code set 1 (binary)
        p[5] = 0x03; // PIV 0, associated with the logical unit, designator type 3 (NAA)
        p[7] = 8;
        byte[] naa = naa();
        System.arraycopy(naa, 0, p, 8, 8);
        int at = 16;
        p[at] = 0x02; // code set 2 (ASCII)
        p[at + 1] = 0x01; // T10 vendor identification
        p[at + 3] = (byte) t10.length;
        System.arraycopy(t10, 0, p, at + 4, t10.length);
        return p;
    }

    /** NAA 3 (locally assigned): the top nibble 3, then 60 bits of MD5(serial, LUN). */
    private byte[] naa() {
        try {
            MessageDigest md = MessageDigest.getInstance("MD5");
            md.update(serial);
            md.update((byte) (lun >> 8));
            md.update((byte) lun);
            byte[] d = md.digest();
            byte[] out = new byte[8];
            System.arraycopy(d, 0, out, 0, 8);
            out[0] = (byte) (0x30 | (out[0] & 0x0F));
            return out;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private byte[] blockLimits() {
        byte[] p = header(0xB0, 0x3C);
        int bs = disk.blockSize();
        p[4] = 0x01; // WSNZ: a WRITE SAME of zero blocks is an error, not "to the end"
        put16(p, 6, 1 << disk.physicalExponent()); // optimal transfer length granularity
        put32(p, 8, ScsiDisk.MAX_TRANSFER_BYTES / bs);
        if (disk.canUnmap()) {
            put32(p, 20, ScsiDisk.MAX_UNMAP_BLOCKS);
            put32(p, 24, ScsiDisk.MAX_UNMAP_DESCRIPTORS);
            put32(p, 28, 1 << disk.physicalExponent()); // optimal unmap granularity
        }
        put32(p, 40, ScsiDisk.MAX_WRITE_SAME_BLOCKS); // maximum WRITE SAME length (bytes 36-43, BE64)
        return p;
    }

    private static byte[] header(int page, int length) {
        byte[] p = new byte[4 + length];
        p[1] = (byte) page;
        p[2] = (byte) (length >> 8);
        p[3] = (byte) length;
        return p;
    }

    private static void pad(byte[] d, int at, int width, String s) {
        for (int i = 0; i < width; i++) {
            d[at + i] = (byte) (i < s.length() ? s.charAt(i) : ' ');
        }
    }

    static void put16(byte[] d, int at, int v) {
        d[at] = (byte) (v >> 8);
        d[at + 1] = (byte) v;
    }

    static void put32(byte[] d, int at, long v) {
        put16(d, at, (int) (v >> 16) & 0xFFFF);
        put16(d, at + 2, (int) v & 0xFFFF);
    }

    /** The serial as printable ASCII (anything else becomes '_'), at most 64 bytes. */
    private static byte[] printable(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[Math.min(b.length, 64)];
        for (int i = 0; i < out.length; i++) {
            out[i] = b[i] >= 0x20 && b[i] < 0x7F ? b[i] : (byte) '_';
        }
        return out;
    }
}
