package org.jbhyve.devices.virtio.scsi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPciFunction;

/**
 * A virtio-scsi adapter in a mock guest, driven as Linux's virtio_scsi does it (modern, MSI-X,
 * all queues): sends one command at a time on request queue 2 and returns what came back.
 */
final class ScsiRig implements AutoCloseable {
    static final int REQUEST = VirtioScsi.FIRST_REQUEST;
    final MockGuest guest = new MockGuest(16 << 20);
    final VirtioScsi device;
    final VirtioPciFunction function;
    final MockDriver driver;

    /** What came back for one command. */
    record Reply(int response, int status, int senseLength, long residual, byte[] sense, byte[] data, int used) {
        /** The sense key, ASC and ASCQ of a CHECK CONDITION. */
        String sense3() {
            return String.format("%X/%02X/%02X", sense[2] & 0xF, sense[12] & 0xFF, sense[13] & 0xFF);
        }
    }

    ScsiRig(Map<Integer, BlockOptions> luns) {
        this(luns, -1L);
    }

    ScsiRig(Map<Integer, BlockOptions> luns, long features) {
        Map<Integer, ScsiDisk> disks = new LinkedHashMap<>();
        luns.forEach((lun, o) -> disks.put(lun, new ScsiDisk(BlockBackend.open(o), "SER" + lun, lun,
                ScsiDisk.NON_ROTATING)));
        device = new VirtioScsi(new ScsiTarget(disks), 1);
        function = new VirtioPciFunction(device, guest.memory, guest, GuestDoorbells.NONE, true);
        driver = new MockDriver(function, guest);
        driver.startModern(features, 64, true);
    }

    static ScsiRig of(BlockOptions lun0) {
        return new ScsiRig(Map.of(0, lun0));
    }

    /** An image of {@code sectors} 512-byte sectors, every byte of sector n being n (mod 256). */
    static Path image(Path dir, String name, int sectors) throws Exception {
        Path p = dir.resolve(name);
        byte[] content = new byte[sectors * 512];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i / 512);
        }
        Files.write(p, content);
        return p;
    }

    static BlockOptions options(Path p, boolean readOnly, boolean noDelete) {
        return new BlockOptions(p.toString(), readOnly, false, false, 0, 0, noDelete, 2);
    }

    static byte[] cdb(int... bytes) {
        byte[] b = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            b[i] = (byte) bytes[i];
        }
        return b;
    }

    /** The 51-byte request header for target/LUN with {@code cdb} (zero-padded to 32 bytes). */
    long header(int target, int lun, long tag, byte[] cdb) {
        long h = guest.alloc(19 + 32, 8);
        guest.memory.putByte(h, (byte) 1);
        guest.memory.putByte(h + 1, (byte) target);
        guest.memory.putByte(h + 2, (byte) (0x40 | lun >> 8));
        guest.memory.putByte(h + 3, (byte) lun);
        guest.memory.putLong(h + 8, tag);
        guest.memory.write(h + 19, cdb);
        return h;
    }

    Reply command(int lun, byte[] cdb, byte[] dataOut, int dataIn) throws Exception {
        return command(0, lun, cdb, dataOut, dataIn);
    }

    /** Sends one command (data-out and data-in buffers as given; empty/0 for none) and waits for it. */
    Reply command(int target, int lun, byte[] cdb, byte[] dataOut, int dataIn) throws Exception {
        Sent s = send(target, lun, cdb, dataOut, dataIn);
        MockQueue.Used u = await(driver.queues[REQUEST]);
        assertEquals(s.head(), u.head());
        return s.reply(u.length());
    }

    /** A command made available and kicked: its chain head and where its answer will be. */
    record Sent(ScsiRig rig, int head, long resp, long in, int dataIn) {
        Reply reply(int used) {
            return rig.reply(resp, in, dataIn, used);
        }
    }

    /** Makes one command available on the request queue and kicks it, without waiting. */
    Sent send(int target, int lun, byte[] cdb, byte[] dataOut, int dataIn) {
        long h = header(target, lun, 7, cdb);
        long resp = guest.alloc(12 + 96, 8);
        guest.memory.write(resp, new byte[12 + 96]);
        guest.memory.putByte(resp + 11, (byte) 0x55);
        java.util.List<MockQueue.Buf> bufs = new java.util.ArrayList<>();
        bufs.add(new MockQueue.Buf(h, 51, false));
        if (dataOut != null && dataOut.length > 0) {
            long out = guest.alloc(dataOut.length, 8);
            guest.memory.write(out, dataOut);
            bufs.add(new MockQueue.Buf(out, dataOut.length, false));
        }
        bufs.add(new MockQueue.Buf(resp, 108, true));
        long in = 0;
        if (dataIn > 0) {
            in = guest.alloc(dataIn, 8);
            guest.memory.write(in, new byte[dataIn]);
            bufs.add(new MockQueue.Buf(in, dataIn, true));
        }
        MockQueue q = driver.queues[REQUEST];
        int head = q.add(bufs.toArray(MockQueue.Buf[]::new));
        driver.kick(REQUEST);
        return new Sent(this, head, resp, in, dataIn);
    }

    Reply reply(long resp, long in, int dataIn, int used) {
        byte[] r = guest.memory.read(resp, 108);
        int senseLength = guest.memory.getInt(resp);
        long residual = Integer.toUnsignedLong(guest.memory.getInt(resp + 4));
        byte[] sense = java.util.Arrays.copyOfRange(r, 12, 12 + 96);
        byte[] data = dataIn > 0 ? guest.memory.read(in, dataIn) : new byte[0];
        return new Reply(r[11] & 0xFF, r[10] & 0xFF, senseLength, residual, sense, data, used);
    }

    /** Waits (up to 5 s) for the next used entry of {@code q}. */
    static MockQueue.Used await(MockQueue q) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < end) {
            MockQueue.Used u = q.poll();
            if (u != null) {
                return u;
            }
            Thread.sleep(0, 200_000);
        }
        throw new AssertionError("no completion within 5 s");
    }

    /** Asserts GOOD with virtio response OK. */
    static Reply good(Reply r) {
        assertEquals(VirtioScsi.S_OK, r.response(), "virtio response");
        assertEquals(ScsiSense.GOOD, r.status(), () -> "status, sense " + r.sense3());
        assertEquals(0, r.senseLength());
        return r;
    }

    /** Asserts CHECK CONDITION with sense key/ASC/ASCQ {@code expected} ("5/24/00"). */
    static Reply check(Reply r, String expected) {
        assertEquals(VirtioScsi.S_OK, r.response(), "virtio response");
        assertEquals(ScsiSense.CHECK_CONDITION, r.status(), "status");
        assertEquals(18, r.senseLength());
        assertEquals(0x70, r.sense()[0] & 0xFF, "fixed format, current");
        assertEquals(expected, r.sense3());
        return r;
    }

    void assertNoFailures() {
        assertEquals(0, device.failures());
        assertEquals(0, driver.status() & 0x40, "no NEEDS_RESET");
    }

    @Override
    public void close() {
        function.close();
        guest.close();
    }
}
