package org.jbhyve.devices.virtio.block;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockBackend.Engine;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPciFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** virtio-blk on both backend engines: many requests per kick, mixed types, interrupts per batch. */
class VirtioBlockEnginesTest {
    private static final int F_EVENT_IDX = 29;
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

    private Path image() throws Exception {
        Path p = dir.resolve("disk.img");
        byte[] content = new byte[1 << 20];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i / 512);
        }
        Files.write(p, content);
        return p;
    }

    private BlockBackend start(Path img, Engine engine, long features) {
        BlockBackend disk = BlockBackend.open(new BlockOptions(img.toString(), false, false, false, 0, 0, false, 4),
                engine);
        function = new VirtioPciFunction(new VirtioBlock(disk, null), guest.memory, guest, GuestDoorbells.NONE, true);
        driver = new MockDriver(function, guest);
        driver.startModern(features, 128, true);
        q = driver.queues[0];
        return disk;
    }

    /** Queues one request (header, optional data, status); returns the status address. */
    private long queue(int type, long sector, long data, int dataLen, boolean deviceWrites) {
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
        return status;
    }

    private int awaitUsed(int n) throws InterruptedException {
        int done = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (done < n && System.nanoTime() < deadline) {
            if (q.poll() != null) {
                done++;
            } else {
                guest.msis.tryAcquire(10, TimeUnit.MILLISECONDS);
            }
        }
        return done;
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void mixedRequestsInOneKickAllComplete(Engine engine) throws Exception {
        Path img = image();
        start(img, engine, -1L);
        long readBuf = guest.alloc(4096, 4096);
        long writeBuf = guest.alloc(1024, 512);
        for (int i = 0; i < 1024; i++) {
            guest.memory.putByte(writeBuf + i, (byte) 0xE5);
        }
        long range = guest.alloc(16, 16);
        guest.memory.putLong(range, 1000);
        guest.memory.putInt(range + 8, 4);
        long[] status = {
            queue(VirtioBlock.T_IN, 20, readBuf, 4096, true),
            queue(VirtioBlock.T_OUT, 300, writeBuf, 1024, false),
            queue(VirtioBlock.T_WRITE_ZEROES, 0, range, 16, false),
            queue(VirtioBlock.T_IN, 4096, readBuf, 512, true), // past the end: IOERR
            queue(VirtioBlock.T_GET_ID, 0, guest.alloc(20, 1), 20, true),
            queue(VirtioBlock.T_FLUSH, 0, 0, 0, false),
        };
        driver.kick(0);
        assertEquals(status.length, awaitUsed(status.length));
        int[] expected = {VirtioBlock.S_OK, VirtioBlock.S_OK, VirtioBlock.S_OK, VirtioBlock.S_IOERR, VirtioBlock.S_OK,
            VirtioBlock.S_OK};
        for (int i = 0; i < status.length; i++) {
            assertEquals(expected[i], guest.memory.getByte(status[i]), "request " + i);
        }
        assertEquals(20, guest.memory.getByte(readBuf));
        assertEquals(27, guest.memory.getByte(readBuf + 4095));
        byte[] onDisk = Files.readAllBytes(img);
        assertEquals((byte) 0xE5, onDisk[300 * 512 + 1023]);
        assertEquals(0, onDisk[1000 * 512 + 2047]);
        assertEquals((byte) 1004, onDisk[1004 * 512]);
    }

    @ParameterizedTest
    @EnumSource(Engine.class)
    void aFullRingOfReadsCompletesWithCorrectData(Engine engine) throws Exception {
        start(image(), engine, -1L);
        int n = 42; // three descriptors each: a full 128-entry ring
        long bufs = guest.alloc(4096L * n, 4096);
        long[] status = new long[n];
        for (int i = 0; i < n; i++) {
            status[i] = queue(VirtioBlock.T_IN, 8L * i, bufs + 4096L * i, 4096, true);
        }
        driver.kick(0);
        assertEquals(n, awaitUsed(n));
        for (int i = 0; i < n; i++) {
            assertEquals(VirtioBlock.S_OK, guest.memory.getByte(status[i]));
            assertEquals((byte) (8 * i + 7), guest.memory.getByte(bufs + 4096L * i + 4095), "request " + i);
        }
    }

    @Test
    void completionsOfOneBatchShareInterrupts() throws Exception {
        BlockBackend disk = start(image(), Engine.IO_URING, ~(1L << F_EVENT_IDX)); // an interrupt per notify
        assertEquals(Engine.IO_URING, disk.engine(), "this machine allows io_uring");
        int n = 32;
        long bufs = guest.alloc(512L * n, 512);
        for (int i = 0; i < n; i++) {
            queue(VirtioBlock.T_IN, i, bufs + 512L * i, 512, true);
        }
        driver.kick(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (q.usedIndex() != n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(n, q.usedIndex());
        Thread.sleep(50); // any straggling interrupt
        assertTrue(guest.msiCount.get() >= 1 && guest.msiCount.get() <= n / 4,
                "a few interrupts for " + n + " cached reads submitted together: " + guest.msiCount.get());
    }
}
