package org.jbhyve.devices.virtio.scsi;

import static org.jbhyve.devices.virtio.scsi.ScsiRig.cdb;
import static org.jbhyve.devices.virtio.scsi.ScsiRig.check;
import static org.jbhyve.devices.virtio.scsi.ScsiRig.good;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.jbhyve.backend.block.BlockOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SBC-3 medium commands through virtio-scsi: capacity, reads and writes of every size, range and protection errors. */
class ScsiBlockCommandsTest {
    private static final int SECTORS = 2048;
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

    private Path start(boolean readOnly, boolean noDelete) throws Exception {
        Path img = ScsiRig.image(dir, "disk.img", SECTORS);
        rig = ScsiRig.of(ScsiRig.options(img, readOnly, noDelete));
        return img;
    }

    private static void assertSectors(byte[] data, int first, int count) {
        assertEquals(count * 512, data.length);
        for (int i = 0; i < count; i++) {
            assertEquals((byte) (first + i), data[i * 512], "sector " + (first + i));
            assertEquals((byte) (first + i), data[i * 512 + 511]);
        }
    }

    @Test
    void readCapacityTenAndSixteen() throws Exception {
        Path img = dir.resolve("big.img");
        Files.write(img, new byte[1 << 20]);
        rig = ScsiRig.of(new BlockOptions(img.toString(), false, false, false, 512, 4096, false, 2));
        byte[] d = good(rig.command(0, cdb(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0), null, 8)).data();
        assertArrayEquals(cdb(0, 0, 0x07, 0xFF, 0, 0, 0x02, 0x00), d, "last LBA 2047, 512-byte blocks");
        d = good(rig.command(0, cdb(0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), null, 32)).data();
        assertEquals(2047, java.nio.ByteBuffer.wrap(d).getLong(0));
        assertEquals(512, java.nio.ByteBuffer.wrap(d).getInt(8));
        assertEquals(3, d[13], "8 logical blocks per physical block");
        assertEquals((byte) 0x80, d[14], "LBPME: the image can be unmapped");
        check(rig.command(0, cdb(0x9E, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), null, 32), "5/24/00");
        check(rig.command(0, cdb(0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0), null, 8), "5/24/00"); // LBA without PMI
    }

    @Test
    void readsOfEveryCdbSizeReturnTheImage() throws Exception {
        start(false, false);
        assertSectors(good(rig.command(0, cdb(0x08, 0, 0, 5, 2, 0), null, 1024)).data(), 5, 2);
        assertSectors(good(rig.command(0, cdb(0x28, 0, 0, 0, 0, 10, 0, 0, 3, 0), null, 1536)).data(), 10, 3);
        assertSectors(good(rig.command(0, cdb(0xA8, 0, 0, 0, 0x07, 0xFE, 0, 0, 0, 2, 0, 0), null, 1024)).data(), 2046, 2);
        assertSectors(good(rig.command(0, cdb(0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 0, 0), null, 512)).data(), 64, 1);
        ScsiRig.Reply r = good(rig.command(0, cdb(0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0), null, 4096));
        assertEquals(3584, r.residual(), "a larger buffer than the transfer leaves a residual");
        assertEquals(108 + 512, r.used(), "response structure plus the data read");
        assertSectors(Arrays.copyOf(r.data(), 512), 1, 1);
    }

    @Test
    void readSixWithLengthZeroMeans256Blocks() throws Exception {
        start(false, false);
        assertSectors(good(rig.command(0, cdb(0x08, 0, 1, 0, 0, 0), null, 256 * 512)).data(), 256, 256);
    }

    @Test
    void writesOfEveryCdbSizeReachTheImage() throws Exception {
        Path img = start(false, false);
        byte[] block = new byte[512];
        Arrays.fill(block, (byte) 0xA5);
        good(rig.command(0, cdb(0x0A, 0, 0, 100, 1, 0), block, 0));
        good(rig.command(0, cdb(0x2A, 0x08, 0, 0, 0, 101, 0, 0, 1, 0), block, 0)); // FUA
        good(rig.command(0, cdb(0xAA, 0, 0, 0, 0, 102, 0, 0, 0, 1, 0, 0), block, 0));
        good(rig.command(0, cdb(0x8A, 0, 0, 0, 0, 0, 0, 0, 0, 103, 0, 0, 0, 1, 0, 0), block, 0));
        good(rig.command(0, cdb(0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0), null, 0));
        good(rig.command(0, cdb(0x91, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), null, 0));
        byte[] file = Files.readAllBytes(img);
        for (int s = 100; s < 104; s++) {
            assertArrayEquals(block, Arrays.copyOfRange(file, s * 512, s * 512 + 512), "sector " + s);
        }
        assertEquals(99, file[99 * 512]);
        assertEquals(104, file[104 * 512]);
    }

    @Test
    void rangeChecksAndReservedFields() throws Exception {
        start(false, false);
        check(rig.command(0, cdb(0x28, 0, 0, 0, 0x07, 0xFF, 0, 0, 2, 0), null, 1024), "5/21/00");
        check(rig.command(0, cdb(0x88, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0, 0), null, 512),
                "5/21/00");
        check(rig.command(0, cdb(0x08, 0, 0x1F, 0xFF, 0xFF, 1), null, 512), "5/21/00");
        ScsiRig.Reply r = check(rig.command(0, cdb(0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0), null, 512), "5/24/00");
        assertArrayEquals(cdb(0x70, 0, 0x05, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x24, 0, 0, 0xC0, 0, 1),
                Arrays.copyOf(r.sense(), 18), "fixed sense: ILLEGAL REQUEST, INVALID FIELD IN CDB, field pointer byte 1");
        check(rig.command(0, cdb(0xA8, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0), null, 512), "5/24/00"); // > max transfer
        good(rig.command(0, cdb(0x28, 0, 0, 0, 0x08, 0x00, 0, 0, 0, 0), null, 0)); // 0 blocks at the end: fine
        ScsiRig.Reply bad = check(rig.command(0, cdb(0xE7, 0, 0, 0, 0, 0), null, 0), "5/20/00");
        assertArrayEquals(cdb(0x70, 0, 0x05, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0),
                Arrays.copyOf(bad.sense(), 18), "INVALID COMMAND OPERATION CODE, no field pointer");
    }

    @Test
    void buffersThatDoNotFitAreOverruns() throws Exception {
        start(false, false);
        ScsiRig.Reply r = rig.command(0, cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 2, 0), null, 512);
        assertEquals(VirtioScsi.S_OVERRUN, r.response());
        assertEquals(512, r.residual());
        r = rig.command(0, cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0), new byte[512], 0);
        assertEquals(VirtioScsi.S_OVERRUN, r.response(), "data-out buffer for a read");
        r = rig.command(0, cdb(0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0), null, 512);
        assertEquals(VirtioScsi.S_OVERRUN, r.response(), "data-in buffer for a write");
    }

    @Test
    void readOnlyImageRefusesEveryWriteWithDataProtect() throws Exception {
        Path img = start(true, false);
        byte[] before = Files.readAllBytes(img);
        byte[] block = new byte[512];
        check(rig.command(0, cdb(0x2A, 0, 0, 0, 0, 1, 0, 0, 1, 0), block, 0), "7/27/00");
        check(rig.command(0, cdb(0x0A, 0, 0, 1, 1, 0), block, 0), "7/27/00");
        check(rig.command(0, cdb(0x93, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0), block, 0), "7/27/00");
        check(rig.command(0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), new byte[24], 0), "7/27/00");
        good(rig.command(0, cdb(0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0), null, 0));
        byte[] mode = good(rig.command(0, cdb(0x1A, 0, 0x08, 0, 64, 0), null, 64)).data();
        assertEquals((byte) 0x90, mode[2], "WP | DPOFUA in the mode parameter header");
        assertSectors(good(rig.command(0, cdb(0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0), null, 512)).data(), 1, 1);
        assertArrayEquals(before, Files.readAllBytes(img));
    }

    @Test
    void backendFailuresAreMediumErrors() throws Exception {
        Path img = ScsiRig.image(dir, "direct.img", SECTORS);
        rig = ScsiRig.of(new BlockOptions(img.toString(), false, true, false, 0, 0, false, 2));
        // O_DIRECT with a buffer cut into 256-byte pieces cannot be bounced: the host I/O fails.
        long h = rig.header(0, 0, 1, cdb(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0));
        long resp = rig.guest.alloc(108, 8);
        long a = rig.guest.alloc(256, 512);
        long b = rig.guest.alloc(256, 512);
        var q = rig.driver.queues[ScsiRig.REQUEST];
        q.add(new org.jbhyve.virtio.MockQueue.Buf(h, 51, false), new org.jbhyve.virtio.MockQueue.Buf(resp, 108, true),
                new org.jbhyve.virtio.MockQueue.Buf(a, 256, true), new org.jbhyve.virtio.MockQueue.Buf(b, 256, true));
        rig.driver.kick(ScsiRig.REQUEST);
        ScsiRig.await(q);
        check(rig.reply(resp, 0, 0, 0), "3/11/00");
        h = rig.header(0, 0, 2, cdb(0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0));
        q.add(new org.jbhyve.virtio.MockQueue.Buf(h, 51, false), new org.jbhyve.virtio.MockQueue.Buf(a, 256, false),
                new org.jbhyve.virtio.MockQueue.Buf(b, 256, false), new org.jbhyve.virtio.MockQueue.Buf(resp, 108, true));
        rig.driver.kick(ScsiRig.REQUEST);
        ScsiRig.await(q);
        check(rig.reply(resp, 0, 0, 0), "3/0C/00");
    }

    @Test
    void verifyChecksOnlyTheRange() throws Exception {
        start(false, false);
        good(rig.command(0, cdb(0x2F, 0, 0, 0, 0, 0, 0, 0, 16, 0), null, 0));
        check(rig.command(0, cdb(0x2F, 0, 0, 0, 0x07, 0xFF, 0, 0, 2, 0), null, 0), "5/21/00");
        check(rig.command(0, cdb(0x2F, 0x02, 0, 0, 0, 0, 0, 0, 1, 0), new byte[512], 0), "5/24/00"); // BYTCHK
        check(rig.command(0, cdb(0x35, 0, 0, 0, 0x08, 0x01, 0, 0, 0, 0), null, 0), "5/21/00");
    }

    @Test
    void unmapDeallocatesAndChecksItsParameterList() throws Exception {
        Path img = start(false, false);
        byte[] list = new byte[8 + 16];
        list[1] = 22;
        list[3] = 16;
        list[15] = 20; // LBA 20
        list[19] = 4; // 4 blocks
        good(rig.command(0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), list, 0));
        byte[] file = Files.readAllBytes(img);
        assertArrayEquals(new byte[4 * 512], Arrays.copyOfRange(file, 20 * 512, 24 * 512), "hole punched");
        assertEquals(24, file[24 * 512]);
        check(rig.command(0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 4, 0), new byte[4], 0), "5/1A/00");
        list[14] = 0x08; // LBA 0x800 + 20: past the end
        check(rig.command(0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), list, 0), "5/21/00");
        check(rig.command(0, cdb(0x42, 1, 0, 0, 0, 0, 0, 0, 24, 0), list, 0), "5/24/00"); // ANCHOR
        byte[] many = new byte[8 + 16 * 257];
        many[2] = (byte) ((16 * 257) >> 8);
        many[3] = (byte) (16 * 257);
        ScsiRig.Reply r = check(rig.command(0, cdb(0x42, 0, 0, 0, 0, 0, 0, many.length >> 8, many.length & 0xFF, 0),
                many, 0), "5/26/00");
        assertEquals(0x80, r.sense()[15] & 0xC0, "SKSV, in the parameter list (C/D 0)");
        good(rig.command(0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0), null, 0)); // empty list: nothing to do
    }

    @Test
    void unmapIsAnUnknownCommandWithNodelete() throws Exception {
        start(false, true);
        check(rig.command(0, cdb(0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0), new byte[24], 0), "5/20/00");
        byte[] d = good(rig.command(0, cdb(0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0), null, 32)).data();
        assertEquals(0, d[14], "no LBPME without discard");
    }

    @Test
    void writeSameRepeatsOneBlockOrZeroes() throws Exception {
        Path img = start(false, false);
        byte[] block = new byte[512];
        Arrays.fill(block, (byte) 0x3C);
        good(rig.command(0, cdb(0x93, 0, 0, 0, 0, 0, 0, 0, 0, 30, 0, 0, 0, 3, 0, 0), block, 0));
        good(rig.command(0, cdb(0x93, 0x08, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 2, 0, 0), new byte[512], 0)); // UNMAP
        good(rig.command(0, cdb(0x93, 0x01, 0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 1, 0, 0), null, 0)); // NDOB
        byte[] file = Files.readAllBytes(img);
        for (int s = 30; s < 33; s++) {
            assertArrayEquals(block, Arrays.copyOfRange(file, s * 512, s * 512 + 512));
        }
        assertEquals(33, file[33 * 512]);
        assertArrayEquals(new byte[1024], Arrays.copyOfRange(file, 40 * 512, 42 * 512));
        assertArrayEquals(new byte[512], Arrays.copyOfRange(file, 50 * 512, 51 * 512));
        check(rig.command(0, cdb(0x93, 0, 0, 0, 0, 0, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0), block, 0), "5/24/00");
        check(rig.command(0, cdb(0x93, 0x10, 0, 0, 0, 0, 0, 0, 0, 30, 0, 0, 0, 1, 0, 0), block, 0), "5/24/00");
        check(rig.command(0, cdb(0x93, 0, 0, 0, 0, 0, 0, 0, 0x07, 0xFF, 0, 0, 0, 2, 0, 0), block, 0), "5/21/00");
    }
}
