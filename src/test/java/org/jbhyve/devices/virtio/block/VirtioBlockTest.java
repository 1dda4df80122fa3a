package org.jbhyve.devices.virtio.block;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockBackendException;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPciFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VirtioBlockTest {
    @TempDir
    Path dir;
    private final MockGuest guest = new MockGuest(8 << 20);
    private VirtioPciFunction function;
    private MockDriver driver;
    private MockQueue q;

    @AfterEach
    void close() {
        if (function != null) {
            function.close();
        }
        guest.close();
    }

    private Path image(int size) throws Exception {
        Path p = dir.resolve("disk.img");
        byte[] content = new byte[size];
        for (int i = 0; i < size; i++) {
            content[i] = (byte) (i / 512);
        }
        Files.write(p, content);
        return p;
    }

    private void start(BlockOptions options) {
        VirtioBlock dev = new VirtioBlock(BlockBackend.open(options), null);
        function = new VirtioPciFunction(dev, guest.memory, guest, GuestDoorbells.NONE, true);
        driver = new MockDriver(function, guest);
        driver.startModern(-1L, 64, true);
        q = driver.queues[0];
    }

    private static BlockOptions opts(Path p, boolean ro, boolean noCache, int logical, boolean noDelete) {
        return new BlockOptions(p.toString(), ro, noCache, false, logical, logical, noDelete, 4);
    }

    /** Sends one request and waits for its completion; returns the status byte. */
    private int request(int type, long sector, long data, int dataLen, boolean deviceWrites) throws Exception {
        long header = guest.alloc(16, 16);
        long status = guest.alloc(1, 1);
        guest.memory.putInt(header, type);
        guest.memory.putLong(header + 8, sector);
        guest.memory.putByte(status, (byte) 0x7F);
        if (dataLen > 0) {
            q.add(new MockQueue.Buf(header, 16, false), new MockQueue.Buf(data, dataLen, deviceWrites),
                    new MockQueue.Buf(status, 1, true));
        } else {
            q.add(new MockQueue.Buf(header, 16, false), new MockQueue.Buf(status, 1, true));
        }
        driver.kick(0);
        assertTrue(guest.msis.tryAcquire(5, TimeUnit.SECONDS), "completion interrupt");
        assertNotNull(q.poll());
        return guest.memory.getByte(status);
    }

    @Test
    void configAndFeaturesDescribeTheDisk() throws Exception {
        start(new BlockOptions(image(1 << 20).toString(), false, false, false, 512, 4096, false, 2));
        long f = driver.deviceFeatures();
        assertEquals(2048, driver.config(0, 8), "capacity in 512-byte sectors");
        assertEquals(126, driver.config(12, 4), "seg_max");
        assertEquals(512, driver.config(20, 4), "blk_size");
        assertEquals(3, driver.config(24, 1), "physical block exponent: 4096 = 512 << 3");
        assertNotEquals(0, f & 1L << VirtioBlock.F_FLUSH);
        assertNotEquals(0, f & 1L << VirtioBlock.F_DISCARD);
        assertEquals(0, f & 1L << VirtioBlock.F_RO);
    }

    @Test
    void readsWritesAndFlushReachTheFile() throws Exception {
        Path img = image(1 << 20);
        start(opts(img, false, false, 0, false));
        long buf = guest.alloc(4096, 4096);
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_IN, 8, buf, 1024, true));
        assertEquals(8, guest.memory.getByte(buf));
        assertEquals(9, guest.memory.getByte(buf + 512));
        byte[] hello = "hello, disk".getBytes(StandardCharsets.US_ASCII);
        guest.memory.write(buf, Arrays.copyOf(hello, 512));
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_OUT, 100, buf, 512, false));
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_FLUSH, 0, 0, 0, false));
        byte[] onDisk = Files.readAllBytes(img); // another descriptor sees the flushed data
        assertArrayEquals(hello, Arrays.copyOfRange(onDisk, 100 * 512, 100 * 512 + hello.length));
    }

    @Test
    void requestsPastTheEndFailWithIoerr() throws Exception {
        start(opts(image(1 << 20), false, false, 0, false));
        long buf = guest.alloc(4096, 4096);
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_IN, 2047, buf, 1024, true));
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_IN, Long.MAX_VALUE / 256, buf, 512, true));
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_IN, 2047, buf, 512, true));
    }

    @Test
    void readOnlyOffersRoAndFailsWritesLeavingTheFileAlone() throws Exception {
        Path img = image(1 << 20);
        byte[] before = Files.readAllBytes(img);
        start(opts(img, true, false, 0, false));
        assertNotEquals(0, driver.deviceFeatures() & 1L << VirtioBlock.F_RO);
        assertEquals(0, driver.deviceFeatures() & 1L << VirtioBlock.F_DISCARD);
        long buf = guest.alloc(512, 512);
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_OUT, 0, buf, 512, false));
        assertArrayEquals(before, Files.readAllBytes(img));
    }

    /** bhyve's serial: "BHYVE-" and the path's MD5, bytes 0-5 in upper-case hex (md5 of the path, checked outside). */
    @Test
    void defaultSerialIsTheFirstSixBytesOfThePathsMd5() {
        assertEquals("BHYVE-E0E5-1F76-3363", VirtioBlock.defaultSerial("/var/lib/vm/disk0.img"));
    }

    @Test
    void getIdReturnsBhyveStyleSerial() throws Exception {
        Path img = image(1 << 20);
        start(opts(img, false, false, 0, false));
        long buf = guest.alloc(20, 1);
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_GET_ID, 0, buf, 20, true));
        String id = new String(guest.memory.read(buf, 20), StandardCharsets.US_ASCII);
        assertEquals(VirtioBlock.defaultSerial(img.toString()), id);
        assertTrue(id.matches("BHYVE-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}"), id);
    }

    @Test
    void discardAndWriteZeroesUnlessNodelete() throws Exception {
        Path img = image(1 << 20);
        start(opts(img, false, false, 0, false));
        long range = guest.alloc(16, 16);
        guest.memory.putLong(range, 16);
        guest.memory.putInt(range + 8, 8);
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_WRITE_ZEROES, 0, range, 16, false));
        byte[] onDisk = Files.readAllBytes(img);
        assertEquals(0, onDisk[16 * 512 + 3]);
        assertEquals(24, onDisk[24 * 512]);
        function.close();
        function = null;
        start(opts(img, false, false, 0, true));
        assertEquals(0, driver.deviceFeatures() & 1L << VirtioBlock.F_DISCARD);
        assertEquals(VirtioBlock.S_UNSUPP, request(VirtioBlock.T_DISCARD, 0, range, 16, false));
    }

    @Test
    void unknownTypeIsUnsupported() throws Exception {
        start(opts(image(1 << 20), false, false, 0, false));
        assertEquals(VirtioBlock.S_UNSUPP, request(99, 0, 0, 0, false));
    }

    @Test
    void nocacheUsesODirectAndBouncesUnalignedBuffers() throws Exception {
        Path img = image(1 << 20);
        start(opts(img, false, true, 0, false));
        long aligned = guest.alloc(8192, 4096);
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_IN, 16, aligned, 4096, true));
        assertEquals(16, guest.memory.getByte(aligned));
        long unaligned = guest.alloc(8192, 4096) + 3;
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_IN, 17, unaligned, 512, true));
        assertEquals(17, guest.memory.getByte(unaligned));
    }

    @Test
    void manyRequestsInFlightComplete() throws Exception {
        start(opts(image(1 << 20), false, false, 0, false));
        int n = 16;
        long[] status = new long[n];
        long bufs = guest.alloc(512L * n, 512);
        for (int i = 0; i < n; i++) {
            long h = guest.alloc(16, 16);
            status[i] = guest.alloc(1, 1);
            guest.memory.putInt(h, VirtioBlock.T_IN);
            guest.memory.putLong(h + 8, i);
            q.add(new MockQueue.Buf(h, 16, false), new MockQueue.Buf(bufs + 512L * i, 512, true),
                    new MockQueue.Buf(status[i], 1, true));
        }
        driver.kick(0);
        int done = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (done < n && System.nanoTime() < deadline) {
            if (q.poll() != null) {
                done++;
            } else {
                guest.msis.tryAcquire(10, TimeUnit.MILLISECONDS);
            }
        }
        assertEquals(n, done);
        for (int i = 0; i < n; i++) {
            assertEquals(0, guest.memory.getByte(status[i]));
            assertEquals(i, guest.memory.getByte(bufs + 512L * i));
        }
    }

    @Test
    void missingImageIsAOneLineError() {
        BlockBackendException e = assertThrows(BlockBackendException.class,
                () -> BlockBackend.open(BlockOptions.of(dir.resolve("nope.img").toString())));
        assertTrue(e.getMessage().contains("nope.img"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
