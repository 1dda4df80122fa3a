package org.jbhyve.devices.virtio.scsi;

import static org.jbhyve.devices.virtio.scsi.ScsiRig.cdb;
import static org.jbhyve.devices.virtio.scsi.ScsiRig.check;
import static org.jbhyve.devices.virtio.scsi.ScsiRig.good;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** INQUIRY and its VPD pages, MODE SENSE/SELECT, REQUEST SENSE, REPORT LUNS and the other non-medium commands. */
class ScsiInquiryAndModeTest {
    @TempDir
    Path dir;
    private ScsiRig rig;

    @AfterEach
    void close() {
        if (rig != null) {
            rig.assertNoFailures();
            rig.close();
        }
    }

    private void start(boolean readOnly, boolean noDelete) throws Exception {
        rig = ScsiRig.of(ScsiRig.options(ScsiRig.image(dir, "disk.img", 2048), readOnly, noDelete));
    }

    private static String ascii(byte[] d, int from, int to) {
        return new String(Arrays.copyOfRange(d, from, to), StandardCharsets.US_ASCII);
    }

    private byte[] vpd(int page) throws Exception {
        return good(rig.command(0, cdb(0x12, 1, page, 0, 255, 0), null, 255)).data();
    }

    @Test
    void standardInquiryDescribesAnSpc4Disk() throws Exception {
        start(false, false);
        ScsiRig.Reply r = good(rig.command(0, cdb(0x12, 0, 0, 0, 36, 0), null, 36));
        byte[] d = r.data();
        assertEquals(0x00, d[0], "qualifier 0, direct-access block device");
        assertEquals(0x06, d[2], "SPC-4");
        assertEquals(0x12, d[3], "HISUP, response data format 2");
        assertEquals(91, d[4], "96 bytes in all");
        assertEquals(0x02, d[7], "CMDQUE");
        assertEquals("FreeBSD ", ascii(d, 8, 16));
        assertEquals("BHYVE SCSI DISK ", ascii(d, 16, 32));
        assertEquals("0001", ascii(d, 32, 36));
        assertEquals(0, r.residual());
        byte[] full = good(rig.command(0, cdb(0x12, 0, 0, 0, 200, 0), null, 200)).data();
        assertArrayEquals(cdb(0x00, 0xA0, 0x04, 0x60, 0x04, 0xC0), Arrays.copyOfRange(full, 58, 64),
                "version descriptors SAM-5, SPC-4, SBC-3");
        check(rig.command(0, cdb(0x12, 0, 0x80, 0, 36, 0), null, 36), "5/24/00");
        check(rig.command(0, cdb(0x12, 2, 0, 0, 36, 0), null, 36), "5/24/00");
        ScsiRig.Reply bad = check(rig.command(0, cdb(0x12, 1, 0x99, 0, 36, 0), null, 36), "5/24/00");
        assertArrayEquals(cdb(0xC0, 0, 2), Arrays.copyOfRange(bad.sense(), 15, 18), "field pointer: CDB byte 2");
    }

    @Test
    void vitalProductDataPages() throws Exception {
        start(false, false);
        byte[] p0 = vpd(0x00);
        assertArrayEquals(cdb(0, 0, 0, 6, 0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2), Arrays.copyOf(p0, 10));
        byte[] serial = vpd(0x80);
        assertEquals(0x80, serial[1] & 0xFF);
        assertEquals(4, serial[3]);
        assertEquals("SER0", ascii(serial, 4, 8));
        byte[] id = vpd(0x83);
        assertArrayEquals(cdb(0x01, 0x03, 0, 8), Arrays.copyOfRange(id, 4, 8), "binary NAA designator of the LU");
        assertEquals(0x30, id[8] & 0xF0, "NAA 3: locally assigned");
        assertArrayEquals(cdb(0x02, 0x01, 0, 12), Arrays.copyOfRange(id, 16, 20), "ASCII T10 vendor id");
        assertEquals("FreeBSD SER0", ascii(id, 20, 32));
        assertEquals(28, id[3], "page length");
        byte[] limits = vpd(0xB0);
        assertEquals(0x3C, limits[3]);
        assertEquals(1, limits[4], "WSNZ");
        assertEquals(0xFFFF, java.nio.ByteBuffer.wrap(limits).getInt(8), "maximum transfer length in blocks");
        assertEquals(0x400000, java.nio.ByteBuffer.wrap(limits).getInt(20), "maximum unmap LBA count");
        assertEquals(256, java.nio.ByteBuffer.wrap(limits).getInt(24), "maximum unmap descriptors");
        assertEquals(0x400000L, java.nio.ByteBuffer.wrap(limits).getLong(36), "maximum WRITE SAME length");
        byte[] chars = vpd(0xB1);
        assertEquals(1, chars[5], "non-rotating medium");
        byte[] prov = vpd(0xB2);
        assertArrayEquals(cdb(0, 0xB2, 0, 4, 0, 0xC0, 0x02, 0), Arrays.copyOf(prov, 8), "LBPU, LBPWS, thin");
        ScsiRig.Reply cut = good(rig.command(0, cdb(0x12, 1, 0x83, 0, 6, 0), null, 64));
        assertEquals(58, cut.residual(), "cut at the allocation length");
    }

    @Test
    void noProvisioningWithNodelete() throws Exception {
        start(false, true);
        byte[] prov = vpd(0xB2);
        assertEquals(0, prov[5]);
        assertEquals(0, prov[6]);
        assertEquals(0, java.nio.ByteBuffer.wrap(vpd(0xB0)).getInt(20), "no unmap");
    }

    @Test
    void modeSenseSixReturnsCachingAndControlPages() throws Exception {
        start(false, false);
        byte[] d = good(rig.command(0, cdb(0x1A, 0, 0x3F, 0, 255, 0), null, 255)).data();
        assertEquals(4 + 8 + 20 + 12 - 1, d[0], "mode data length");
        assertEquals(0x10, d[2], "DPOFUA, not write protected");
        assertEquals(8, d[3], "one short block descriptor");
        assertArrayEquals(cdb(0, 0, 0x08, 0, 0, 0, 2, 0), Arrays.copyOfRange(d, 4, 12), "2048 blocks of 512");
        assertArrayEquals(cdb(0x08, 0x12, 0x04), Arrays.copyOfRange(d, 12, 15), "caching page, WCE");
        assertArrayEquals(cdb(0x0A, 0x0A, 0x00, 0x10), Arrays.copyOfRange(d, 32, 36), "control page");
        byte[] caching = good(rig.command(0, cdb(0x1A, 0x08, 0x48, 0, 255, 0), null, 255)).data(); // DBD, changeable
        assertEquals(0, caching[3]);
        assertArrayEquals(cdb(0x08, 0x12, 0x04, 0), Arrays.copyOfRange(caching, 4, 8), "only WCE can change");
        check(rig.command(0, cdb(0x1A, 0, 0xC8, 0, 255, 0), null, 255), "5/39/00"); // saved values
        check(rig.command(0, cdb(0x1A, 0, 0x1C, 0, 255, 0), null, 255), "5/24/00");
        check(rig.command(0, cdb(0x1A, 0, 0x08, 5, 255, 0), null, 255), "5/24/00");
    }

    @Test
    void modeSenseTenWithLongLbaDescriptor() throws Exception {
        start(false, false);
        byte[] d = good(rig.command(0, cdb(0x5A, 0x10, 0x08, 0, 0, 0, 0, 0, 64, 0), null, 64)).data();
        assertEquals(8 + 16 + 20 - 2, d[1]);
        assertEquals(1, d[4], "LONGLBA");
        assertEquals(16, d[7]);
        assertEquals(2048, java.nio.ByteBuffer.wrap(d).getLong(8));
        assertEquals(512, java.nio.ByteBuffer.wrap(d).getInt(20));
        assertEquals(0x08, d[24]);
    }

    @Test
    void modeSelectTurnsTheWriteCacheOffAndRejectsOtherChanges() throws Exception {
        Path img = ScsiRig.image(dir, "disk.img", 2048);
        rig = ScsiRig.of(ScsiRig.options(img, false, false));
        byte[] list = new byte[4 + 20];
        list[4] = 0x08;
        list[5] = 0x12;
        good(rig.command(0, cdb(0x15, 0x10, 0, 0, list.length, 0), list, 0));
        assertFalse(rig.device.target().lun(0).writeCacheEnabled());
        byte[] d = good(rig.command(0, cdb(0x1A, 0x08, 0x08, 0, 255, 0), null, 255)).data();
        assertEquals(0, d[6], "WCE now off");
        byte[] block = new byte[512];
        Arrays.fill(block, (byte) 0x77);
        good(rig.command(0, cdb(0x2A, 0, 0, 0, 0, 9, 0, 0, 1, 0), block, 0)); // written through
        assertEquals(0x77, Files.readAllBytes(img)[9 * 512]);
        byte[] ten = new byte[8 + 8 + 20]; // MODE SELECT(10) with a block descriptor of the right size
        ten[7] = 8;
        ten[8 + 6] = 2;
        ten[16] = 0x08;
        ten[17] = 0x12;
        ten[18] = 0x04;
        good(rig.command(0, cdb(0x55, 0x10, 0, 0, 0, 0, 0, 0, ten.length, 0), ten, 0));
        assertTrue(rig.device.target().lun(0).writeCacheEnabled());
        list[6] = 0x05; // WCE and RCD: RCD cannot change
        ScsiRig.Reply r = check(rig.command(0, cdb(0x15, 0x10, 0, 0, list.length, 0), list, 0), "5/26/00");
        assertArrayEquals(cdb(0x80, 0, 6), Arrays.copyOfRange(r.sense(), 15, 18), "parameter byte 6");
        assertTrue(rig.device.target().lun(0).writeCacheEnabled(), "nothing applied");
        list[6] = 0;
        list[4] = 0x1C;
        check(rig.command(0, cdb(0x15, 0x10, 0, 0, list.length, 0), list, 0), "5/26/00");
        check(rig.command(0, cdb(0x15, 0x10, 0, 0, 2, 0), new byte[2], 0), "5/1A/00");
        check(rig.command(0, cdb(0x15, 0x11, 0, 0, list.length, 0), list, 0), "5/24/00"); // SP
        ten[8 + 6] = 4; // block length 1024
        check(rig.command(0, cdb(0x55, 0x10, 0, 0, 0, 0, 0, 0, ten.length, 0), ten, 0), "5/26/00");
    }

    @Test
    void requestSenseTestUnitReadyStartStop() throws Exception {
        start(false, false);
        byte[] s = good(rig.command(0, cdb(0x03, 0, 0, 0, 18, 0), null, 18)).data();
        assertArrayEquals(cdb(0x70, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), s, "NO SENSE");
        check(rig.command(0, cdb(0x03, 1, 0, 0, 18, 0), null, 18), "5/24/00"); // descriptor format
        good(rig.command(0, cdb(0x00, 0, 0, 0, 0, 0), null, 0));
        good(rig.command(0, cdb(0x1B, 0, 0, 0, 1, 0), null, 0));
    }

    @Test
    void reportLunsAndMissingLuns() throws Exception {
        Path a = ScsiRig.image(dir, "a.img", 64);
        Path b = ScsiRig.image(dir, "b.img", 64);
        Path c = ScsiRig.image(dir, "c.img", 64);
        rig = new ScsiRig(new java.util.TreeMap<>(Map.of(0, ScsiRig.options(a, false, false),
                1, ScsiRig.options(b, false, false), 300, ScsiRig.options(c, true, false))));
        byte[] d = good(rig.command(0, cdb(0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0), null, 64)).data();
        assertArrayEquals(cdb(0, 0, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                0x41, 0x2C, 0, 0, 0, 0, 0, 0), Arrays.copyOf(d, 32), "LUN 0, 1 (peripheral) and 300 (flat)");
        d = good(rig.command(7, cdb(0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0), null, 16)).data();
        assertEquals(24, d[3], "any LUN answers REPORT LUNS; cut at the allocation length");
        check(rig.command(0, cdb(0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0), null, 8), "5/24/00");
        assertEquals(0, good(rig.command(0, cdb(0xA0, 0, 1, 0, 0, 0, 0, 0, 0, 16, 0, 0), null, 16)).data()[3],
                "no well-known LUNs");
        byte[] inq = good(rig.command(7, cdb(0x12, 0, 0, 0, 36, 0), null, 36)).data();
        assertEquals(0x7F, inq[0] & 0xFF, "peripheral qualifier 3, no device type");
        check(rig.command(7, cdb(0x00, 0, 0, 0, 0, 0), null, 0), "5/25/00");
        byte[] sense = good(rig.command(7, cdb(0x03, 0, 0, 0, 18, 0), null, 18)).data();
        assertEquals(0x25, sense[12], "REQUEST SENSE reports LOGICAL UNIT NOT SUPPORTED");
        good(rig.command(300, cdb(0x00, 0, 0, 0, 0, 0), null, 0));
        check(rig.command(300, cdb(0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0), new byte[512], 0), "7/27/00");
        assertEquals(1, good(rig.command(1, cdb(0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0), null, 512)).data()[0]);
    }
}
