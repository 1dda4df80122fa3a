package org.jbhyve.devices.storage.ahci;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The data a CD/DVD-ROM drive returns to SCSI/MMC commands (SPC-3, MMC-5), big-endian; the
 * caller cuts each answer to the command's allocation length. One data track from LBA 0 of
 * 2048-byte sectors; CD addresses in MSF form count 75 frames a second from 00:02:00.
 */
final class AtapiPages {
    static final int SECTOR = 2048;
    static final int PROFILE_CD_ROM = 0x0008, PROFILE_DVD_ROM = 0x0010;
    /** Above 80 minutes of CD (360,000 sectors) the medium is reported as a DVD. */
    static final long CD_MAX_SECTORS = 80L * 60 * 75;
    static final int MODE_ERROR_RECOVERY = 0x01, MODE_CAPABILITIES = 0x2A, MODE_ALL = 0x3F;

    private AtapiPages() {}

    static void be16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    static void be32(byte[] b, int at, long v) {
        be16(b, at, (int) (v >>> 16));
        be16(b, at + 2, (int) v);
    }

    /** {@code lba} as minute/second/frame in bytes 1-3 of a 4-byte address (byte 0 reserved). */
    static void msf(byte[] b, int at, long lba) {
        long f = lba + 150;
        b[at] = 0;
        b[at + 1] = (byte) (f / 75 / 60);
        b[at + 2] = (byte) (f / 75 % 60);
        b[at + 3] = (byte) (f % 75);
    }

    private static void address(byte[] b, int at, long lba, boolean msf) {
        if (msf) {
            msf(b, at, lba);
        } else {
            be32(b, at, lba);
        }
    }

    private static void ascii(byte[] b, int at, String s, int length) {
        byte[] t = s.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < length; i++) {
            b[at + i] = i < t.length ? t[i] : (byte) ' ';
        }
    }

    /** Standard INQUIRY data: a removable CD/DVD device (type 5), bhyve's vendor strings. */
    static byte[] inquiry() {
        byte[] b = new byte[36];
        b[0] = 0x05;
        b[1] = (byte) 0x80;       // removable
        b[3] = 0x21;              // ATAPI, response format 1 (as bhyve)
        b[4] = 31;                // additional length
        ascii(b, 8, "BHYVE", 8);
        ascii(b, 16, "BHYVE DVD-ROM", 16);
        ascii(b, 32, "001", 4);
        return b;
    }

    /** Vital product data page 0: the supported pages, which are just page 0. */
    static byte[] inquirySupportedPages() {
        return new byte[] {0x05, 0, 0, 1, 0};
    }

    /** Fixed-format sense data (18 bytes). */
    static byte[] sense(int key, int asc, int ascq) {
        byte[] b = new byte[18];
        b[0] = 0x70;
        b[2] = (byte) key;
        b[7] = 10;
        b[12] = (byte) asc;
        b[13] = (byte) ascq;
        return b;
    }

    /** READ CAPACITY(10): last LBA and the 2048-byte block length. */
    static byte[] capacity(long sectors) {
        byte[] b = new byte[8];
        be32(b, 0, Math.min(Math.max(sectors - 1, 0), 0xFFFFFFFFL));
        be32(b, 4, SECTOR);
        return b;
    }

    /**
     * READ TOC format 0 from {@code startTrack} (0 or 1: track 1 and the lead-out; 0xAA: the
     * lead-out only); null for a track that does not exist.
     */
    static byte[] toc(long sectors, int startTrack, boolean msf) {
        if (startTrack > 1 && startTrack != 0xAA) {
            return null;
        }
        boolean track1 = startTrack <= 1;
        byte[] b = new byte[4 + (track1 ? 16 : 8)];
        b[2] = 1;                                 // first track
        b[3] = 1;                                 // last track
        int at = 4;
        if (track1) {
            b[at + 1] = 0x14;                     // ADR 1 (position), control 4 (data track)
            b[at + 2] = 1;
            address(b, at + 4, 0, msf);
            at += 8;
        }
        b[at + 1] = 0x14;
        b[at + 2] = (byte) 0xAA;                  // lead-out
        address(b, at + 4, sectors, msf);
        be16(b, 0, b.length - 2);
        return b;
    }

    /** READ TOC format 1, session information: one session starting with track 1 at LBA 0. */
    static byte[] sessionInfo(boolean msf) {
        byte[] b = new byte[12];
        be16(b, 0, 10);
        b[2] = 1;
        b[3] = 1;
        b[5] = 0x14;
        b[6] = 1;
        address(b, 8, 0, msf);
        return b;
    }

    /** The current profile: DVD-ROM for media larger than a CD, else CD-ROM. */
    static int profile(long sectors) {
        return sectors > CD_MAX_SECTORS ? PROFILE_DVD_ROM : PROFILE_CD_ROM;
    }

    /**
     * GET CONFIGURATION: the feature header and the descriptors {@code rt} selects from
     * {@code start} (0 all, 1 current ones, 2 just that feature); null for a reserved RT.
     */
    static byte[] configuration(long sectors, int rt, int start) {
        if (rt == 3) {
            return null;
        }
        int current = profile(sectors);
        boolean dvd = current == PROFILE_DVD_ROM;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] header = new byte[8];
        be16(header, 6, current);
        out.writeBytes(header);
        // {code, version/persistent/current byte, additional bytes...}
        feature(out, rt, start, 0x0000, 0x03, new byte[] {
            0, PROFILE_DVD_ROM, (byte) (dvd ? 1 : 0), 0, 0, PROFILE_CD_ROM, (byte) (dvd ? 0 : 1), 0});
        feature(out, rt, start, 0x0001, 0x0B, new byte[] {0, 0, 0, 2, 0, 0, 0, 0});   // core: ATAPI
        feature(out, rt, start, 0x0002, 0x07, new byte[] {0x02, 0, 0, 0});            // morphing: OCEvent
        feature(out, rt, start, 0x0003, 0x03, new byte[] {0x29, 0, 0, 0});            // tray, eject, lock
        byte[] random = new byte[8];
        be32(random, 0, SECTOR);
        be16(random, 4, dvd ? 16 : 1);
        feature(out, rt, start, 0x0010, 0x01, random);                              // random readable
        feature(out, rt, start, 0x001E, dvd ? 0x00 : 0x01, new byte[0]);            // CD read
        feature(out, rt, start, 0x001F, dvd ? 0x01 : 0x00, new byte[0]);            // DVD read
        byte[] b = out.toByteArray();
        be32(b, 0, b.length - 4);
        return b;
    }

    private static void feature(ByteArrayOutputStream out, int rt, int start, int code, int flags, byte[] body) {
        boolean current = (flags & 1) != 0;
        boolean wanted = switch (rt) {
            case 0 -> code >= start;
            case 1 -> code >= start && current;
            default -> code == start;
        };
        if (!wanted) {
            return;
        }
        out.write(code >>> 8);
        out.write(code);
        out.write(flags);
        out.write(body.length);
        out.writeBytes(body);
    }

    /**
     * GET EVENT STATUS NOTIFICATION (polled) for the classes in {@code request}: the media class
     * with {@code event} (0 no change, 2 new media) and the medium present, or no event available.
     */
    static byte[] eventStatus(int request, int event) {
        if ((request & 0x10) == 0) {
            byte[] b = new byte[4];
            be16(b, 0, 2);
            b[2] = (byte) 0x80;                   // NEA: no requested class is supported
            b[3] = 0x10;                          // supported: media
            return b;
        }
        byte[] b = new byte[8];
        be16(b, 0, 6);
        b[2] = 0x04;                              // media class
        b[3] = 0x10;
        b[4] = (byte) event;
        b[5] = 0x02;                              // media present, tray closed
        return b;
    }

    /**
     * MODE SENSE(10) of {@code page} with page control {@code pc} (0 current, 1 changeable,
     * 2 default; 3 saved is the caller's error); null for a page not implemented.
     */
    static byte[] modeSense(int page, int pc, boolean locked) {
        byte[] recovery = {MODE_ERROR_RECOVERY, 6, 0, 5, 0, 0, 0, 0};
        byte[] caps = new byte[22];
        caps[0] = MODE_CAPABILITIES;
        caps[1] = 20;
        caps[2] = 0x3B;                           // reads CD-R, CD-RW, method 2, DVD-ROM, DVD-R
        caps[4] = 0x71;                           // audio play, composite, mode 2 form 1/2, multi-session
        caps[5] = (byte) 0xE0;
        caps[6] = (byte) (0x29 | (locked ? 0x02 : 0));   // tray, eject, lock, lock state
        be16(caps, 10, 2);                        // volume levels
        be16(caps, 12, 512);                      // buffer KiB
        byte[][] pages = switch (page) {
            case MODE_ERROR_RECOVERY -> new byte[][] {recovery};
            case MODE_CAPABILITIES -> new byte[][] {caps};
            case MODE_ALL -> new byte[][] {recovery, caps};
            default -> null;
        };
        if (pages == null) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[8]);
        for (byte[] p : pages) {
            if (pc == 1) {                        // changeable: nothing is
                java.util.Arrays.fill(p, 2, p.length, (byte) 0);
            }
            out.writeBytes(p);
        }
        byte[] b = out.toByteArray();
        be16(b, 0, b.length - 2);
        return b;
    }

    /** REPORT LUNS: one LUN, 0. */
    static byte[] reportLuns() {
        byte[] b = new byte[16];
        be32(b, 0, 8);
        return b;
    }
}
