package org.jbhyve.devices.storage.ahci;

import static org.jbhyve.devices.storage.ahci.AhciPort.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.jbhyve.devices.storage.ahci.AhciDriver.Prd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ATAPI CD/DVD drive through PACKET commands on an ISO-like image of 2048-byte sectors. */
class AtapiCdTest {
    private static final int SECTORS = 40;
    @TempDir
    Path dir;
    private AhciFixture f;
    private AhciDriver.Port p;
    private long buf;

    @BeforeEach
    void start() throws Exception {
        f = new AhciFixture(dir, 4 << 20);
        f.start(Map.of(0, AhciFixture.cd(f.iso("cd.iso", SECTORS))));
        p = f.driver.port(0);
        p.start();
        buf = f.guest.alloc(64 * 1024, 4096);
    }

    @AfterEach
    void close() {
        f.close();
    }

    private static byte[] cdb(int... bytes) {
        byte[] c = new byte[16];
        for (int i = 0; i < bytes.length; i++) {
            c[i] = (byte) bytes[i];
        }
        return c;
    }

    /** Sends a packet as SeaBIOS does (DMA, byte count limit) with a buffer of {@code length}; returns the status. */
    private int packet(byte[] cdb, int length) {
        byte[] fis = AhciDriver.fis(0xA0, 1, 0, 0, 0);
        fis[5] = (byte) length;
        fis[6] = (byte) (length >>> 8);
        int status = length == 0 ? p.run(0, fis, cdb, false) : p.run(0, fis, cdb, false, new Prd(buf, length));
        if ((status & 1) != 0) {
            assertNotEquals(0, p.reg(IS) & IS_TFES);
            p.recover();
        }
        return status;
    }

    private byte[] data(int length) {
        return f.guest.memory.read(buf, length);
    }

    /** REQUEST SENSE: {key, asc, ascq}. */
    private int[] sense() {
        assertEquals(0x50, packet(cdb(0x03, 0, 0, 0, 18), 18));
        byte[] s = data(18);
        assertEquals(0x70, s[0] & 0x7F);
        assertEquals(10, s[7]);
        return new int[] {s[2] & 0xF, s[12] & 0xFF, s[13] & 0xFF};
    }

    private static int be16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }

    private static long be32(byte[] b, int at) {
        return (long) be16(b, at) << 16 | be16(b, at + 2);
    }

    @Test
    void identifyPacketDescribesARemovableCdromAndIdentifyDeviceAborts() {
        assertEquals(0x50, p.run(0, AhciDriver.fis(0xA1, 0, 0, 0, 0), null, false, new Prd(buf, 512)));
        byte[] id = data(512);
        int w0 = (id[0] & 0xFF) | (id[1] & 0xFF) << 8;
        assertEquals(0x8000, w0 & 0xC000, "packet device");
        assertEquals(5, w0 >> 8 & 0x1F, "CD-ROM");
        assertEquals(0x80, w0 & 0x80, "removable");
        byte[] model = new byte[18];
        for (int i = 0; i < 18; i++) {
            model[i] = id[54 + (i ^ 1)];
        }
        assertEquals("BHYVE SATA DVD ROM", new String(model, StandardCharsets.US_ASCII));
        assertEquals(0x41, p.run(0, AhciDriver.fis(0xEC, 0, 0, 0, 0), null, false, new Prd(buf, 512)));
        assertEquals(0x04, p.reg(TFD) >>> 8);
        p.recover();
        assertEquals(0x41, p.run(0, AhciDriver.fis(0x25, 0, 0, 1, 0x40), null, false, new Prd(buf, 512)),
                "ATA reads are not for a packet device");
    }

    @Test
    void inquiryCapacityAndUnitReady() {
        assertEquals(0x50, packet(cdb(0x00), 0));
        assertEquals(0x50, packet(cdb(0x12, 0, 0, 0, 36), 36));
        byte[] inq = data(36);
        assertEquals(5, inq[0]);
        assertEquals(0x80, inq[1] & 0xFF);
        assertEquals("BHYVE   ", new String(inq, 8, 8, StandardCharsets.US_ASCII));
        assertEquals("BHYVE DVD-ROM   ", new String(inq, 16, 16, StandardCharsets.US_ASCII));
        assertEquals(3, p.d2h()[12], "interrupt reason: I/O and C/D");
        assertEquals(0x50, packet(cdb(0x25), 8));
        byte[] cap = data(8);
        assertEquals(SECTORS - 1, be32(cap, 0));
        assertEquals(2048, be32(cap, 4));
        assertEquals(0x41, packet(cdb(0x12, 1, 0x83, 0, 36), 36), "unsupported VPD page");
        assertArrayEquals(new int[] {5, 0x24, 0}, sense());
    }

    @Test
    void read10And12ReturnWholeSectors() {
        assertEquals(0x50, packet(cdb(0x28, 0, 0, 0, 0, 16, 0, 0, 2), 4096));
        byte[] d = data(4096);
        assertEquals("CD001", new String(d, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(17, d[2048]);
        assertEquals(0, d[2049]);
        assertEquals(8, d[2048 + 8 + 2]);
        assertEquals(4096, p.transferred(0));
        assertEquals(0x50, packet(cdb(0xA8, 0, 0, 0, 0, 39, 0, 0, 0, 1), 2048));
        assertEquals(39, data(1)[0]);
        assertEquals(0x41, packet(cdb(0x28, 0, 0, 0, 0, 39, 0, 0, 2), 4096));
        assertArrayEquals(new int[] {5, 0x21, 0}, sense());
        assertEquals(0x50, packet(cdb(0x28, 0, 0, 0, 0, 5, 0, 0, 0), 0), "zero sectors: nothing to do");
    }

    @Test
    void writesFailWithDataProtectAndUnknownOpcodesWithIllegalRequest() {
        assertEquals(0x41, packet(cdb(0x2A, 0, 0, 0, 0, 1, 0, 0, 1), 2048));
        assertEquals(0x70, p.d2h()[3] & 0xF0, "sense key in the error register");
        assertArrayEquals(new int[] {7, 0x27, 0}, sense());
        assertArrayEquals(new int[] {0, 0, 0}, sense(), "sense is reported once");
        assertEquals(0x41, packet(cdb(0xAA, 0, 0, 0, 0, 1, 0, 0, 0, 1), 2048));
        assertArrayEquals(new int[] {7, 0x27, 0}, sense());
        assertEquals(0x41, packet(cdb(0xE7), 0));
        assertArrayEquals(new int[] {5, 0x20, 0}, sense());
        assertEquals(0x41, packet(cdb(0x1B, 0, 0, 0, 2), 0), "the tray does not open");
        assertArrayEquals(new int[] {5, 0x53, 0}, sense());
        assertEquals(0x50, packet(cdb(0x1E, 0, 0, 0, 1), 0));
        assertEquals(0x41, packet(cdb(0x1B, 0, 0, 0, 2), 0));
        assertArrayEquals(new int[] {5, 0x53, 2}, sense());
        assertEquals(0x50, packet(cdb(0x1B, 0, 0, 0, 1), 0));
    }

    @Test
    void tocFormatsZeroAndOne() {
        assertEquals(0x50, packet(cdb(0x43, 0, 0, 0, 0, 0, 0, 0, 100), 100));
        byte[] toc = data(20);
        assertEquals(18, be16(toc, 0));
        assertEquals(1, toc[2]);
        assertEquals(1, toc[3]);
        assertEquals(0x14, toc[5]);
        assertEquals(1, toc[6]);
        assertEquals(0, be32(toc, 8));
        assertEquals(0xAA, toc[14] & 0xFF);
        assertEquals(SECTORS, be32(toc, 16));
        assertEquals(20, p.transferred(0));
        assertEquals(0x50, packet(cdb(0x43, 2, 0, 0, 0, 0, 0, 0, 100), 100));   // MSF
        toc = data(20);
        assertArrayEquals(new byte[] {0, 0, 2, 0}, java.util.Arrays.copyOfRange(toc, 8, 12));
        assertArrayEquals(new byte[] {0, 0, 2, (byte) SECTORS}, java.util.Arrays.copyOfRange(toc, 16, 20));
        assertEquals(0x50, packet(cdb(0x43, 0, 0, 0, 0, 0, 0xAA, 0, 100), 100));
        assertEquals(10, be16(data(2), 0), "lead-out only");
        assertEquals(0x41, packet(cdb(0x43, 0, 0, 0, 0, 0, 2, 0, 100), 100));
        assertArrayEquals(new int[] {5, 0x24, 0}, sense());
        assertEquals(0x50, packet(cdb(0x43, 0, 1, 0, 0, 0, 0, 0, 12), 12));
        byte[] session = data(12);
        assertEquals(10, be16(session, 0));
        assertEquals(1, session[6]);
        assertEquals(0x50, packet(cdb(0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40), 12), "format in byte 9");
        assertEquals(10, be16(data(2), 0));
        assertEquals(0x50, packet(cdb(0x43, 0, 0, 0, 0, 0, 0, 0, 4), 100), "allocation length cuts the answer");
        assertEquals(4, p.transferred(0));
    }

    @Test
    void getConfigurationReportsTheCdProfileAndFeatures() {
        assertEquals(0x50, packet(cdb(0x46, 0, 0, 0, 0, 0, 0, 0x01, 0), 256));
        byte[] c = data(256);
        long length = be32(c, 0);
        assertEquals(0x0008, be16(c, 6), "current profile CD-ROM");
        assertEquals(0x0000, be16(c, 8), "profile list first");
        assertEquals(length + 4, p.transferred(0));
        boolean cdRead = false;
        for (int at = 8; at < length + 4; at += 4 + (c[at + 3] & 0xFF)) {
            if (be16(c, at) == 0x001E) {
                cdRead = (c[at + 2] & 1) != 0;
            }
        }
        assertTrue(cdRead, "CD Read is current");
        assertEquals(0x50, packet(cdb(0x46, 2, 0, 0x1F, 0, 0, 0, 0, 64), 64));
        c = data(12);
        assertEquals(8, be32(c, 0), "just the DVD Read feature");
        assertEquals(0x1F, be16(c, 8));
        assertEquals(0, c[10] & 1, "not current for a CD");
        assertEquals(0x41, packet(cdb(0x46, 3, 0, 0, 0, 0, 0, 0, 64), 64));
        assertArrayEquals(new int[] {5, 0x24, 0}, sense());
    }

    @Test
    void eventStatusReportsNewMediaOnceThenNoChange() {
        assertEquals(0x50, packet(cdb(0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8), 8));
        byte[] e = data(8);
        assertEquals(6, be16(e, 0));
        assertEquals(4, e[2]);
        assertEquals(0x10, e[3]);
        assertEquals(2, e[4], "new media");
        assertEquals(2, e[5], "present");
        assertEquals(0x50, packet(cdb(0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8), 8));
        assertEquals(0, data(8)[4], "no change");
        assertEquals(0x50, packet(cdb(0x4A, 1, 0, 0, 0x02, 0, 0, 0, 8), 8));
        assertEquals(0x80, data(4)[2] & 0xFF, "no event available for other classes");
        assertEquals(0x41, packet(cdb(0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8), 8), "asynchronous mode is refused");
    }

    @Test
    void modeSensePagesAndPageControls() {
        assertEquals(0x50, packet(cdb(0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 64), 64));
        byte[] m = data(30);
        assertEquals(28, be16(m, 0));
        assertEquals(0x2A, m[8]);
        assertEquals(20, m[9]);
        assertEquals(0x50, packet(cdb(0x5A, 0, 0x3F, 0, 0, 0, 0, 0, 64), 64));
        assertEquals(8 + 8 + 22 - 2, be16(data(2), 0));
        assertEquals(0x50, packet(cdb(0x5A, 0, 0x41, 0, 0, 0, 0, 0, 64), 64));   // changeable values
        assertEquals(0, data(16)[11], "nothing is changeable");
        assertEquals(0x41, packet(cdb(0x5A, 0, 0xC1, 0, 0, 0, 0, 0, 64), 64));
        assertArrayEquals(new int[] {5, 0x39, 0}, sense());
        assertEquals(0x41, packet(cdb(0x5A, 0, 0x05, 0, 0, 0, 0, 0, 64), 64));
        assertArrayEquals(new int[] {5, 0x24, 0}, sense());
    }

    @Test
    void aPacketWithoutRoomForItsDataFailsWithAbortedCommand() {
        byte[] fis = AhciDriver.fis(0xA0, 1, 0, 0, 0);
        assertEquals(0x41, p.run(0, fis, cdb(0x28, 0, 0, 0, 0, 1, 0, 0, 2), false, new Prd(buf, 2048)));
        p.recover();
        assertArrayEquals(new int[] {0x0B, 0, 0}, sense());
        assertEquals(0x41, p.run(0, fis, cdb(0x28, 0, 0, 0, 0, 1, 0, 0, 1), false, new Prd(-2048L & 0xFFFFFFFFFFFFL, 2048)));
        p.recover();
        assertEquals(0x50, packet(cdb(0x25), 8), "the drive still works");
    }
}
