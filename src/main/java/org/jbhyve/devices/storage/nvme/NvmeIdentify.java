package org.jbhyve.devices.storage.nvme;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The Identify data structures (NVMe 1.4, section 5.15.2), 4096 bytes each, with bhyve's values.
 *
 * <pre>
 * Controller (CNS 01h)                     Namespace (CNS 00h)
 *   0 VID FB5Dh   2 SSVID 0                  0 NSZE    8 NCAP   16 NUSE (blocks)
 *   4 SN (20, space padded)                 25 NLBAF 0 (one format)  26 FLBAS 0
 *  24 MN "bhyve-NVMe"  64 FR "1.0"          99 NSATTR bit 0: write protected (ro)
 *  72 RAB 4   73 IEEE OUI (FreeBSD, LE)    120 EUI64 (big-endian)
 *  77 MDTS 9 (2 MiB)  80 VER 1.4           128 LBAF0: 23:16 LBADS = log2(sector size)
 *  92 OAES bit 8 (namespace notices)
 * 111 CNTRLTYPE 1 (I/O controller)        Namespace descriptors (CNS 03h): one EUI64
 * 256 OACS bit 1 (Format NVM)             descriptor: type 1, length 8, the EUI64 at 4.
 * 258 ACL 2  259 AERL 4  260 FRMW 03h
 * 266 WCTEMP/268 CCTEMP 157h (343 K)      Active namespace list (CNS 02h): the ids above
 * 328 SANICAP: media not modified          the command's NSID, so [1] for NSID 0.
 * 512 SQES 66h  513 CQES 44h  516 NN 1
 * 520 ONCS: bit 2 DSM (dsm=), bit 3 Write Zeroes
 * 524 FNA bit 0   525 VWC: bit 0 present (file without O_SYNC), 2:1 = 10b (no NSID FFFFFFFFh flush)
 * 768 SUBNQN "nqn.2013-12.org.freebsd:bhyve-NAME-B-S-F"
 * </pre>
 */
final class NvmeIdentify {
    static final int SIZE = 4096;
    static final int VENDOR = 0xFB5D;
    static final String MODEL = "bhyve-NVMe";
    static final String FIRMWARE = "1.0";
    static final int MDTS = 9;
    static final int ONCS_DSM = 1 << 2;
    static final int ONCS_WRITE_ZEROES = 1 << 3;

    private NvmeIdentify() {}

    /** Identify Controller. */
    static byte[] controller(String serial, String subsystemNqn, boolean dsm, boolean volatileCache) {
        ByteBuffer b = page();
        b.putShort(0, (short) VENDOR);
        putPadded(b, 4, 20, serial);
        putPadded(b, 24, 40, MODEL);
        putPadded(b, 64, 8, FIRMWARE);
        b.put(72, (byte) 4);
        b.put(73, (byte) 0xFC).put(74, (byte) 0x9C).put(75, (byte) 0x58);
        b.put(77, (byte) MDTS);
        b.putInt(80, 0x00010400);
        b.putInt(92, 1 << 8);
        b.put(111, (byte) 1);
        b.putShort(256, (short) (1 << 1));
        b.put(258, (byte) 2);
        b.put(259, (byte) AsyncEvents.LIMIT_ZERO_BASED);
        b.put(260, (byte) 0x03);
        b.putShort(266, (short) 0x157);
        b.putShort(268, (short) 0x157);
        b.putInt(328, 1 << 30);
        b.put(512, (byte) 0x66);
        b.put(513, (byte) 0x44);
        b.putInt(516, 1);
        b.putShort(520, (short) ((dsm ? ONCS_DSM : 0) | ONCS_WRITE_ZEROES));
        b.put(524, (byte) 1);
        b.put(525, (byte) (0x04 | (volatileCache ? 1 : 0)));
        byte[] nqn = subsystemNqn.getBytes(StandardCharsets.US_ASCII);
        b.put(768, nqn, 0, Math.min(nqn.length, 255));
        return b.array();
    }

    /** Identify Namespace for the one namespace. */
    static byte[] namespace(long blocks, int sectorBits, long eui64, boolean readOnly) {
        ByteBuffer b = page();
        b.putLong(0, blocks);
        b.putLong(8, blocks);
        b.putLong(16, blocks);
        b.put(99, (byte) (readOnly ? 1 : 0));
        b.order(ByteOrder.BIG_ENDIAN).putLong(120, eui64).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(128, sectorBits << 16);
        return b.array();
    }

    /** Namespace Identification Descriptor list: the EUI64. */
    static byte[] descriptors(long eui64) {
        ByteBuffer b = page();
        b.put(0, (byte) 1);
        b.put(1, (byte) 8);
        b.order(ByteOrder.BIG_ENDIAN).putLong(4, eui64);
        return b.array();
    }

    /** Active Namespace ID list: namespace 1 if it is above {@code nsid}. */
    static byte[] activeNamespaces(int nsid) {
        ByteBuffer b = page();
        if (Integer.compareUnsigned(nsid, 1) < 0) {
            b.putInt(0, 1);
        }
        return b.array();
    }

    private static ByteBuffer page() {
        return ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** ASCII text, truncated to {@code width} and padded with spaces (Identify string fields). */
    private static void putPadded(ByteBuffer b, int at, int width, String text) {
        byte[] s = text.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < width; i++) {
            b.put(at + i, i < s.length ? s[i] : (byte) ' ');
        }
    }
}
