package org.jbhyve.devices.virtio.scsi;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.SeaBiosVirtioDriver;
import org.jbhyve.virtio.VirtioPciFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SeaBIOS's virtio-scsi boot path command for command (src/hw/virtio-scsi.c and blockcmd.c of
 * 1.16): one request queue (2), polling; for each target 0-255 a REPORT LUNS into a 16-byte
 * buffer (again with a bigger one if more LUNs are reported), then per LUN INQUIRY (36 bytes),
 * TEST UNIT READY, READ CAPACITY(10), and the boot sector with READ(10); INT 13h writes are
 * WRITE(10). A command succeeds for SeaBIOS when response and status are both 0.
 */
class SeaBiosScanTest {
    @TempDir
    Path dir;
    private final MockGuest guest = new MockGuest(4 << 20);
    private VirtioPciFunction function;
    private SeaBiosVirtioDriver bios;
    private VirtioScsi device;
    private final long req = guest.alloc(51, 8);
    private final long resp = guest.alloc(108, 8);
    private final long buf = guest.alloc(64 * 1024, 4096);

    @AfterEach
    void close() {
        if (function != null) {
            function.close();
        }
        guest.close();
    }

    private Path bootImage(String name, int sectors, int tag) throws Exception {
        Path p = ScsiRig.image(dir, name, sectors);
        byte[] b = Files.readAllBytes(p);
        b[0] = (byte) tag;
        b[510] = 0x55;
        b[511] = (byte) 0xAA;
        Files.write(p, b);
        return p;
    }

    private void start(Map<Integer, Path> luns, boolean modern) {
        Map<Integer, ScsiDisk> disks = new LinkedHashMap<>();
        luns.forEach((lun, p) -> disks.put(lun, new ScsiDisk(BlockBackend.open(ScsiRig.options(p, false, false)),
                "S", lun, 1)));
        device = new VirtioScsi(new ScsiTarget(disks), 1);
        function = new VirtioPciFunction(device, guest.memory, guest, GuestDoorbells.NONE, true);
        bios = new SeaBiosVirtioDriver(function, guest, modern, 2);
    }

    /** virtio_scsi_process_op: returns whether SeaBIOS sees DISK_RET_SUCCESS. */
    private boolean op(int target, int lun, byte[] cdb, int len, boolean datain) throws Exception {
        guest.memory.write(req, new byte[51]);
        guest.memory.putByte(req, (byte) 1);
        guest.memory.putByte(req + 1, (byte) target);
        guest.memory.putByte(req + 2, (byte) ((lun >> 8) | 0x40));
        guest.memory.putByte(req + 3, (byte) lun);
        guest.memory.write(req + 19, java.util.Arrays.copyOf(cdb, 16));
        guest.memory.putByte(resp + 11, (byte) 0x7F);
        guest.memory.putByte(resp + 10, (byte) 0x7F);
        int inNum = datain ? 2 : 1;
        int outNum = (len != 0 ? 3 : 2) - inNum;
        long[] a = new long[3];
        int[] l = new int[3];
        a[0] = req;
        l[0] = 51;
        a[outNum] = resp;
        l[outNum] = 108;
        if (len != 0) {
            a[datain ? 2 : 1] = buf;
            l[datain ? 2 : 1] = len;
        }
        bios.request(a, l, outNum, inNum);
        return guest.memory.getByte(resp + 11) == 0 && guest.memory.getByte(resp + 10) == 0;
    }

    private record Drive(int target, int lun, long sectors) {}

    /** init_virtio_scsi's scan: virtio_scsi_scan_target for 0-255 with scsi_rep_luns_scan and scsi_drive_setup. */
    private List<Drive> scan() throws Exception {
        List<Drive> drives = new ArrayList<>();
        for (int target = 0; target < 256; target++) {
            int maxLuns = 1;
            int n;
            while (true) {
                int size = 8 + 8 * maxLuns;
                byte[] cdb = {(byte) 0xA0, 0, 0, 0, 0, 0, 0, 0, (byte) (size >> 8), (byte) size, 0, 0};
                if (!op(target, 0, cdb, size, true)) {
                    n = -1;
                    break;
                }
                n = Integer.reverseBytes(guest.memory.getInt(buf)) / 8;
                if (n <= maxLuns) {
                    break;
                }
                maxLuns = n;
            }
            byte[] list = n > 0 ? guest.memory.read(buf + 8, 8 * n) : new byte[0]; // SeaBIOS keeps its own copy
            for (int i = 0; i < n; i++) {
                int lun = (list[8 * i] & 0xFF) << 8 | (list[8 * i + 1] & 0xFF);
                Drive d = setup(target, lun);
                if (d != null) {
                    drives.add(d);
                }
            }
        }
        return drives;
    }

    private Drive setup(int target, int lun) throws Exception {
        assertTrue(op(target, lun, new byte[] {0x12, 0, 0, 0, 36, 0}, 36, true), "INQUIRY");
        assertEquals(0, guest.memory.getByte(buf) & 0x1F, "a disk");
        assertEquals("FreeBSD", new String(guest.memory.read(buf + 8, 7), java.nio.charset.StandardCharsets.US_ASCII));
        assertTrue(op(target, lun, new byte[6], 0, false), "TEST UNIT READY");
        byte[] cap = new byte[10];
        cap[0] = 0x25;
        assertTrue(op(target, lun, cap, 8, true), "READ CAPACITY(10)");
        long last = Integer.toUnsignedLong(Integer.reverseBytes(guest.memory.getInt(buf)));
        int blksize = Integer.reverseBytes(guest.memory.getInt(buf + 4));
        assertNotEquals(0xFFFFFFFFL, last);
        assertEquals(512, blksize, "SeaBIOS only takes 512-byte blocks");
        return new Drive(target, lun, last + 1);
    }

    private byte[] read10(int target, int lun, long lba, int count) throws Exception {
        byte[] cdb = {0x28, 0, (byte) (lba >> 24), (byte) (lba >> 16), (byte) (lba >> 8), (byte) lba, 0,
                (byte) (count >> 8), (byte) count, 0};
        assertTrue(op(target, lun, cdb, count * 512, true), "READ(10)");
        return guest.memory.read(buf, count * 512);
    }

    @Test
    void modernSeaBiosFindsLunZeroAndBootsFromIt() throws Exception {
        Path img = bootImage("boot.img", 4096, 0xEB);
        start(Map.of(0, img), true);
        assertEquals(1, bios.config(0, 4), "num_queues");
        assertEquals(List.of(new Drive(0, 0, 4096)), scan());
        byte[] mbr = read10(0, 0, 0, 1);
        assertEquals((byte) 0xEB, mbr[0]);
        assertEquals((byte) 0xAA, mbr[511]);
        byte[] more = read10(0, 0, 1000, 16); // a multi-sector INT 13h read
        assertEquals((byte) 1000, more[0]);
        assertEquals((byte) 1015, more[15 * 512]);
        guest.memory.write(buf, "written by int13".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        byte[] write = {0x2A, 0, 0, 0, 0, 5, 0, 0, 1, 0};
        assertTrue(op(0, 0, write, 512, false), "WRITE(10)");
        assertEquals('w', Files.readAllBytes(img)[5 * 512]);
        assertEquals(0, device.failures());
        assertEquals(0, bios.status() & 0x40);
    }

    @Test
    void reportLunsRetryFindsEveryLun() throws Exception {
        start(Map.of(0, bootImage("a.img", 64, 1), 1, bootImage("b.img", 128, 2)), true);
        assertEquals(List.of(new Drive(0, 0, 64), new Drive(0, 1, 128)), scan());
        assertEquals(2, read10(0, 1, 0, 1)[0]);
    }

    @Test
    void legacySeaBiosProbesLunZeroOfEveryTarget() throws Exception {
        start(Map.of(0, bootImage("boot.img", 4096, 0xEB)), false);
        int found = 0;
        for (int target = 0; target < 256; target++) { // SeaBIOS 1.7-1.9: INQUIRY to LUN 0 of each target
            if (op(target, 0, new byte[] {0x12, 0, 0, 0, 36, 0}, 36, true)) {
                found++;
                assertNotNull(setup(target, 0));
            } else {
                assertEquals(VirtioScsi.S_BAD_TARGET, guest.memory.getByte(resp + 11));
            }
        }
        assertEquals(1, found);
        assertEquals((byte) 0xEB, read10(0, 0, 0, 1)[0]);
        assertEquals(0, device.failures());
    }
}
