package org.jbhyve.devices.storage.ahci;

import static org.jbhyve.devices.storage.ahci.AhciPort.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.devices.storage.ahci.AhciDriver.Prd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ATA disk through the port registers: IDENTIFY, DMA/PIO/NCQ transfers, flush, TRIM, logs, errors. */
class AtaDiskTest {
    private static final int SIZE = 1 << 20;
    private static final int SECTORS = SIZE / 512;
    @TempDir
    Path dir;
    private AhciFixture f;
    private Path image;
    private AhciDriver.Port p;

    @AfterEach
    void close() {
        if (f != null) {
            f.close();
        }
    }

    /** A disk over the image with {@code options}' flags; {@code strings} = ser, rev, model (or none). */
    private void start(BlockOptions options, int rotation, String... strings) throws Exception {
        f = new AhciFixture(dir, 8 << 20);
        image = f.disk("disk.img", SIZE);
        BlockBackend b = BlockBackend.open(new BlockOptions(image.toString(), options.readOnly(), options.noCache(),
                false, options.logicalSectorSize(), options.physicalSectorSize(), options.noDelete(), 4));
        AhciDrive d = strings.length == 0 ? AhciDrive.disk(b)
                : new AhciDrive(AhciDrive.Kind.HD, b, strings[0], strings[1], strings[2], rotation);
        f.start(Map.of(0, d));
        p = f.driver.port(0);
        p.start();
    }

    private void start(BlockOptions options) throws Exception {
        start(options, 0);
    }

    private void start() throws Exception {
        start(new BlockOptions("", false, false, false, 0, 0, false, 4));
    }

    private byte[] imageBytes(long offset, int length) throws Exception {
        return Arrays.copyOfRange(Files.readAllBytes(image), (int) offset, (int) offset + length);
    }

    private static int word(byte[] id, int w) {
        return (id[2 * w] & 0xFF) | (id[2 * w + 1] & 0xFF) << 8;
    }

    private static String ataString(byte[] id, int w, int chars) {
        byte[] s = new byte[chars];
        for (int i = 0; i < chars; i++) {
            s[i] = id[2 * w + (i ^ 1)];
        }
        return new String(s, StandardCharsets.US_ASCII);
    }

    private byte[] identify() {
        long buf = f.guest.alloc(512, 2);
        assertEquals(0x50, p.run(0, AhciDriver.fis(0xEC, 0, 0, 0, 0), null, false, new Prd(buf, 512)));
        return f.guest.memory.read(buf, 512);
    }

    @Test
    void identifyReportsBhyvesDataAndTheConfiguredStrings() throws Exception {
        start(new BlockOptions("", false, false, false, 512, 4096, false, 4), 1, "SER123", "REV9", "Some Model");
        byte[] id = identify();
        assertEquals("SER123" + " ".repeat(14), ataString(id, 10, 20));
        assertEquals("REV9    ", ataString(id, 23, 8));
        assertEquals("Some Model" + " ".repeat(30), ataString(id, 27, 40));
        assertEquals(1, word(id, 217), "nominal media rotation rate: solid state");
        assertEquals(SECTORS, word(id, 60) | word(id, 61) << 16);
        assertEquals(SECTORS, word(id, 100) | word(id, 101) << 16);
        assertEquals(0, word(id, 102) | word(id, 103));
        assertEquals(31, word(id, 75), "NCQ depth 32");
        assertEquals(0x0100, word(id, 76) & 0x0100, "NCQ");
        assertEquals(0x0400, word(id, 83) & 0x0400, "48-bit addressing");
        assertEquals(0x3000, word(id, 83) & 0x3000, "FLUSH CACHE (EXT)");
        assertEquals(1, word(id, 169) & 1, "TRIM");
        assertEquals(1, word(id, 105));
        assertEquals(0x4000 | 0x2000 | 3, word(id, 106), "4096-byte physical sectors");
        assertEquals(0x0300, word(id, 49) & 0x0300, "LBA and DMA");
        assertEquals(0x0040, word(id, 0));
        int[] chs = AtaIdentify.chs(SECTORS);
        assertEquals(chs[0], word(id, 1));
        assertEquals(chs[1], word(id, 3));
        assertEquals(chs[2], word(id, 6));
        assertEquals(0xA5, id[510] & 0xFF);
        int sum = 0;
        for (byte b : id) {
            sum += b;
        }
        assertEquals(0, sum & 0xFF, "checksum");
        assertEquals(512, p.transferred(0));
        byte[] pio = p.pioSetup();
        assertEquals(0x5F, pio[0] & 0xFF);
        assertEquals(0x50, pio[15] & 0xFF);
        assertEquals(0x50, p.d2h()[2] & 0xFF);
    }

    @Test
    void defaultStringsAreBhyves() throws Exception {
        start();
        byte[] id = identify();
        assertEquals(AhciDrive.defaultSerial(image.toString()), ataString(id, 10, 20));
        assertTrue(ataString(id, 10, 20).matches("BHYVE-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}"));
        assertEquals("001     ", ataString(id, 23, 8));
        assertEquals("BHYVE SATA DISK" + " ".repeat(25), ataString(id, 27, 40));
        assertEquals(0, word(id, 217));
        assertEquals(0x4000 | 0x2000 | 3, word(id, 106), "512-byte sectors, 4 KiB physical (a file's block size)");
    }

    @Test
    void chsGeometryFollowsTheVhdRules() {
        assertArrayEquals(new int[] {60, 4, 17}, AtaIdentify.chs(4096));
        assertArrayEquals(new int[] {1040, 16, 63}, AtaIdentify.chs(1 << 20));
        assertArrayEquals(new int[] {65535, 16, 255}, AtaIdentify.chs(1L << 40));
    }

    @Test
    void dmaReadReturnsTheImageThroughAScatterList() throws Exception {
        start();
        long a = f.guest.alloc(4096, 4096);
        long b = f.guest.alloc(4096, 4096);
        // READ DMA EXT of 3 sectors from 100: 700 bytes into a, the rest into b
        int status = p.run(2, AhciDriver.fis(0x25, 0, 100, 3, 0x40), null, false, new Prd(a, 700), new Prd(b, 2048));
        assertEquals(0x50, status);
        byte[] expect = imageBytes(100 * 512, 1536);
        assertArrayEquals(Arrays.copyOf(expect, 700), f.guest.memory.read(a, 700));
        assertArrayEquals(Arrays.copyOfRange(expect, 700, 1536), f.guest.memory.read(b, 836));
        assertEquals(1536, p.transferred(2));
        assertEquals(0x34, p.d2h()[0]);
        assertEquals(0x40, p.d2h()[1] & 0x40, "D2H with the interrupt bit");
        assertEquals(IS_DHRS, p.reg(IS) & IS_DHRS);
        assertEquals(0, p.reg(CI));
        assertEquals(2 << 8, p.reg(CMD) & CMD_CCS_MASK);
    }

    @Test
    void twentyEightBitDmaAndPioReadsAddressTheSameSectors() throws Exception {
        start();
        long a = f.guest.alloc(512 * 4, 512);
        long lba = 0x123;
        assertEquals(0x50, p.run(0, AhciDriver.fis(0xC8, 0, lba, 2, 0x40), null, false, new Prd(a, 1024)));
        assertArrayEquals(imageBytes(lba * 512, 1024), f.guest.memory.read(a, 1024));
        long b = f.guest.alloc(512, 512);
        assertEquals(0x50, p.run(1, AhciDriver.fis(0x20, 0, 7, 1, 0x40), null, false, new Prd(b, 512)));
        assertArrayEquals(imageBytes(7 * 512, 512), f.guest.memory.read(b, 512));
        byte[] pio = p.pioSetup();
        assertEquals(0x5F, pio[0] & 0xFF);
        assertEquals(0, pio[1] & 0x40, "PIO Setup without the interrupt bit");
        assertEquals(0x50, pio[15] & 0xFF, "E_Status");
        assertEquals(0, p.reg(IS) & IS_PSS);
    }

    @Test
    void dmaAndPioWritesLandInTheImage() throws Exception {
        start();
        long a = f.guest.alloc(1024, 512);
        byte[] data = new byte[1024];
        Arrays.fill(data, (byte) 0xA5);
        data[0] = 1;
        data[1023] = 2;
        f.guest.memory.write(a, data);
        assertEquals(0x50, p.run(0, AhciDriver.fis(0x35, 0, 40, 2, 0x40), null, true, new Prd(a, 1024)));
        assertArrayEquals(data, imageBytes(40 * 512, 1024));
        assertEquals(0x50, p.run(0, AhciDriver.fis(0x30, 0, 1000, 1, 0x40), null, true, new Prd(a + 512, 512)));
        assertArrayEquals(Arrays.copyOfRange(data, 512, 1024), imageBytes(1000 * 512, 512));
        assertEquals(0x50, p.run(0, AhciDriver.fis(0xE7, 0, 0, 0, 0), null, false));   // FLUSH CACHE
        assertEquals(0x50, p.run(0, AhciDriver.fis(0xEA, 0, 0, 0, 0), null, false));   // FLUSH CACHE EXT
    }

    @Test
    void ncqCommandsInSeveralSlotsCompleteThroughSActiveAndSetDeviceBits() throws Exception {
        start();
        int n = 8;
        long[] buf = new long[n];
        for (int s = 0; s < n; s++) {
            buf[s] = f.guest.alloc(4096, 4096);
            // READ FPDMA QUEUED: count 8 in features, tag in count 7:3
            p.prepare(s, AhciDriver.fis(0x60, 8, 64L * s + 3, s << 3, 0x40), null, false, new Prd(buf[s], 4096));
        }
        p.reg(IE, IS_SDBS | IS_DHRS);
        p.reg(SACT, 0xFF);
        p.reg(CI, 0xFF);
        assertEquals(0, p.waitQueued(0xFF));
        assertEquals(0, p.reg(CI), "accepted at once");
        for (int s = 0; s < n; s++) {
            assertArrayEquals(imageBytes((64L * s + 3) * 512, 4096), f.guest.memory.read(buf[s], 4096), "slot " + s);
        }
        byte[] sdb = p.sdb();
        assertEquals(0xA1, sdb[0] & 0xFF);
        assertEquals(0x40, sdb[1] & 0x40);
        assertEquals(0x50, sdb[2] & 0x77);
        assertNotEquals(0, p.reg(IS) & IS_SDBS);
        assertEquals(0, p.reg(IS) & IS_TFES);
        assertEquals(0, p.d2h()[1] & 0x40, "the acceptance D2H does not interrupt");

        // queued writes, then read them back
        long w = f.guest.alloc(1024, 512);
        f.guest.memory.write(w, "queued write data".repeat(61).substring(0, 1024).getBytes(StandardCharsets.US_ASCII));
        p.prepare(3, AhciDriver.fis(0x61, 1, 500, 3 << 3, 0x40), null, true, new Prd(w, 512));
        p.prepare(9, AhciDriver.fis(0x61, 1, 501, 9 << 3, 0x40), null, true, new Prd(w + 512, 512));
        p.reg(SACT, 1 << 3 | 1 << 9);
        p.reg(CI, 1 << 3 | 1 << 9);
        assertEquals(0, p.waitQueued(1 << 3 | 1 << 9));
        assertArrayEquals(f.guest.memory.read(w, 1024), imageBytes(500 * 512, 1024));
    }

    @Test
    void trimPunchesTheRangesAndIsRefusedWithNodelete() throws Exception {
        start();
        long ranges = f.guest.alloc(512, 512);
        f.guest.memory.putLong(ranges, 16L | 8L << 48);          // 8 sectors from 16
        f.guest.memory.putLong(ranges + 8, 200L | 1L << 48);     // 1 sector at 200
        assertEquals(0x50, p.run(0, AhciDriver.fis(0x06, 1, 0, 1, 0x40), null, true, new Prd(ranges, 512)));
        assertArrayEquals(new byte[8 * 512], imageBytes(16 * 512, 8 * 512));
        assertArrayEquals(new byte[512], imageBytes(200 * 512, 512));
        assertNotEquals(0, imageBytes(24 * 512, 512)[1], "the next sector is untouched");
        // queued TRIM (SEND FPDMA QUEUED, DSM subcommand, auxiliary TRIM)
        f.guest.memory.putLong(ranges, 300L | 2L << 48);
        f.guest.memory.putLong(ranges + 8, 0);
        byte[] fis = AhciDriver.fis(0x64, 1, 0, 5 << 3, 0x40);
        byte[] full = Arrays.copyOf(fis, 20);
        full[16] = 1;
        p.prepare(5, full, null, true, new Prd(ranges, 512));
        p.reg(SACT, 1 << 5);
        p.reg(CI, 1 << 5);
        assertEquals(0, p.waitQueued(1 << 5));
        assertArrayEquals(new byte[1024], imageBytes(300 * 512, 1024));
    }

    @Test
    void trimIsAbortedWhenTheBackendMayNotDelete() throws Exception {
        start(new BlockOptions("", false, false, false, 0, 0, true, 4));
        assertEquals(0, word(identify(), 169) & 1, "no TRIM in IDENTIFY with nodelete");
        long ranges = f.guest.alloc(512, 512);
        f.guest.memory.putLong(ranges, 16L | 8L << 48);
        assertEquals(0x41, p.run(0, AhciDriver.fis(0x06, 1, 0, 1, 0x40), null, true, new Prd(ranges, 512)));
        assertEquals(0x04, p.reg(TFD) >>> 8);
        assertNotEquals(0, imageBytes(16 * 512, 512)[1]);
    }

    @Test
    void errorsSetTaskFileErrorAndHoldTheListUntilRecovered() throws Exception {
        start();
        p.reg(IE, -1);
        long a = f.guest.alloc(4096, 512);
        // beyond the last sector: IDNF
        assertEquals(0x41, p.run(0, AhciDriver.fis(0x25, 0, SECTORS - 1, 2, 0x40), null, false, new Prd(a, 1024)));
        assertEquals(0x14, p.reg(TFD) >>> 8 & 0xFF);
        assertNotEquals(0, p.reg(IS) & IS_TFES);
        assertEquals(1, p.reg(CI), "a failed command keeps its CI bit");
        // the list is held: a good command in slot 1 does not run until ST is cycled
        p.prepare(1, AhciDriver.fis(0x25, 0, 0, 1, 0x40), null, false, new Prd(a, 512));
        p.reg(CI, 2);
        assertEquals(3, p.reg(CI));
        p.recover();
        assertEquals(0, p.reg(CI), "ST off clears CI");
        assertEquals(0x50, p.run(1, AhciDriver.fis(0x25, 0, 0, 1, 0x40), null, false, new Prd(a, 512)));
        // a PRDT shorter than the transfer, or outside RAM: ABRT, nothing read
        assertEquals(0x41, p.run(0, AhciDriver.fis(0x25, 0, 0, 2, 0x40), null, false, new Prd(a, 512)));
        p.recover();
        assertEquals(0x41, p.run(0, AhciDriver.fis(0x25, 0, 0, 1, 0x40), null, false, new Prd(1L << 40, 512)));
        p.recover();
        assertEquals(0x41, p.run(0, AhciDriver.fis(0x25, 0, 0, 1, 0x40), null, false));
        p.recover();
        // unknown command, IDENTIFY PACKET on a disk
        assertEquals(0x41, p.run(0, AhciDriver.fis(0x99, 0, 0, 0, 0), null, false));
        p.recover();
        assertEquals(0x41, p.run(0, AhciDriver.fis(0xA1, 0, 0, 0, 0), null, false, new Prd(a, 512)));
        assertEquals(0x04, p.d2h()[3]);
        p.recover();
        assertTrue(f.hba.guestErrors() > 0);
    }

    @Test
    void writesToAReadOnlyImageAbort() throws Exception {
        start(new BlockOptions("", true, false, false, 0, 0, false, 4));
        assertEquals(0, word(identify(), 169) & 1);
        long a = f.guest.alloc(512, 512);
        assertEquals(0x41, p.run(0, AhciDriver.fis(0xCA, 0, 0, 1, 0x40), null, true, new Prd(a, 512)));
        assertEquals(imageBytes(0, 512)[5], (byte) 5);
    }

    @Test
    void ncqFailureAfterAcceptanceIsReportedThroughTheErrorLog() throws Exception {
        // O_DIRECT refuses buffers that are not whole sectors: the I/O fails after the command was queued
        start(new BlockOptions("", false, true, false, 0, 0, false, 4));
        long a = f.guest.alloc(4096, 4096);
        p.reg(IE, -1);
        p.prepare(6, AhciDriver.fis(0x60, 1, 77, 6 << 3, 0x40), null, false, new Prd(a, 100), new Prd(a + 1024, 412));
        p.reg(SACT, 1 << 6);
        p.reg(CI, 1 << 6);
        assertEquals(1 << 6, p.waitQueued(1 << 6), "the tag stays active");
        assertEquals(0, p.reg(CI));
        byte[] sdb = p.sdb();
        assertEquals(0x41, sdb[2] & 0x77);
        assertEquals(0x04, sdb[3]);
        assertNotEquals(0, p.reg(IS) & IS_TFES);
        p.recover();
        long log = f.guest.alloc(512, 512);
        assertEquals(0x50, p.run(0, AhciDriver.fis(0x2F, 0, 0x10, 1, 0), null, false, new Prd(log, 512)));
        byte[] page = f.guest.memory.read(log, 512);
        assertEquals(6, page[0], "the failed tag, NQ clear");
        assertEquals(0x41, page[2]);
        assertEquals(77, page[4], "the command's LBA");
        int sum = 0;
        for (byte b : page) {
            sum += b;
        }
        assertEquals(0, sum & 0xFF, "checksummed");
    }

    @Test
    void readLogDirectoryAndNcqSendReceivePage() throws Exception {
        start();
        long log = f.guest.alloc(512, 512);
        assertEquals(0x50, p.run(0, AhciDriver.fis(0x47, 0, 0x00, 1, 0), null, false, new Prd(log, 512)));
        byte[] dirPage = f.guest.memory.read(log, 512);
        assertEquals(1, dirPage[0]);
        assertEquals(1, dirPage[0x20]);
        assertEquals(1, dirPage[0x26]);
        assertEquals(0x50, p.run(0, AhciDriver.fis(0x2F, 0, 0x13, 1, 0), null, false, new Prd(log, 512)));
        assertEquals(1, f.guest.memory.getInt(log));
        assertEquals(1, f.guest.memory.getInt(log + 4));
        assertEquals(0x41, p.run(0, AhciDriver.fis(0x2F, 0, 0x30, 1, 0), null, false, new Prd(log, 512)));
        p.recover();
        assertEquals(0x41, p.run(0, AhciDriver.fis(0x2F, 0, 0x10, 2, 0), null, false, new Prd(log, 512)));
    }

    @Test
    void setFeaturesMultipleAndPowerCommands() throws Exception {
        start();
        assertEquals(0x50, p.run(0, AhciDriver.fis(0xEF, 0x03, 0, 0x45, 0), null, false));   // UDMA5
        assertEquals(0x2000 | 0x7F, word(identify(), 88));
        assertEquals(0x50, p.run(0, AhciDriver.fis(0xEF, 0x02, 0, 0, 0), null, false));
        assertEquals(0x50, p.run(0, AhciDriver.fis(0xEF, 0x10, 0, 0x05, 0), null, false));
        assertEquals(0x41, p.run(0, AhciDriver.fis(0xEF, 0x10, 0, 0x06, 0), null, false));
        p.recover();
        assertEquals(0x41, p.run(0, AhciDriver.fis(0xEF, 0x66, 0, 0, 0), null, false));
        p.recover();
        assertEquals(0x50, p.run(0, AhciDriver.fis(0xC6, 0, 0, 16, 0), null, false));
        assertEquals(0x100 | 16, word(identify(), 59));
        assertEquals(0x41, p.run(0, AhciDriver.fis(0xC6, 0, 0, 3, 0), null, false));
        p.recover();
        assertEquals(0x50, p.run(0, AhciDriver.fis(0xE5, 0, 0, 0, 0), null, false));
        assertEquals(0xFF, p.d2h()[12] & 0xFF);
        assertEquals(0x50, p.run(0, AhciDriver.fis(0xE0, 0, 0, 0, 0), null, false));
    }

    @Test
    void softwareResetThroughDeviceControlFisesPostsTheSignature() throws Exception {
        start();
        byte[] srst = AhciDriver.fis(0, 0, 0, 0, 0);
        srst[1] = 0;
        srst[15] = 4;
        p.prepare(0, srst, null, false);
        p.reg(CI, 1);
        assertEquals(0, p.reg(CI));
        srst[15] = 0;
        p.prepare(0, srst, null, false);
        p.reg(CI, 1);
        assertEquals(0, p.reg(CI));
        byte[] d2h = p.d2h();
        assertEquals(1, d2h[12]);
        assertEquals(1, d2h[4]);
        assertEquals(0, d2h[5]);
        assertEquals(SIG_ATA, p.reg(SIG));
    }
}
