package org.jbhyve.devices.storage.ahci;

import org.jbhyve.snapshot.CorruptBlobs;
import static org.jbhyve.devices.storage.ahci.AhciPort.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.devices.storage.ahci.AhciDriver.Prd;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateRoundTrip;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AHCI snapshots: the state after real commands survives save and restore into a controller
 * built from the same command line, commands keep working on the restored ports, a quiesce
 * finishes the command in flight and holds back the rest, and a blob that does not fit fails
 * with one {@link SnapshotException}.
 */
class AhciSnapshotTest {
    private static final int IDENTIFY = 0xEC, SET_MULTIPLE = 0xC6, READ_DMA_EXT = 0x25, WRITE_DMA_EXT = 0x35;
    private static final int PACKET = 0xA0;
    @TempDir
    Path dir;
    private AhciFixture f;
    private Path disk;
    private Path iso;
    private final java.util.List<AhciController> others = new java.util.ArrayList<>();

    @BeforeEach
    void images() throws Exception {
        f = new AhciFixture(dir, 8 << 20);
        disk = f.disk("d.img", 1 << 20);
        iso = f.iso("c.iso", 64);
    }

    @AfterEach
    void close() {
        others.forEach(AhciController::close);
        f.close();
    }

    /** Images opened without the image lock, so a second controller can open them as a restore would. */
    private static BlockBackend open(Path p, boolean readOnly, int workers) {
        return BlockBackend.open(new BlockOptions(p.toString(), readOnly, false, false, 0, 0, false, workers, true));
    }

    private Map<Integer, AhciDrive> drives(int workers) {
        return Map.of(0, AhciDrive.disk(open(disk, false, workers)), 1, AhciDrive.cd(open(iso, true, workers)));
    }

    /** Another controller on the same guest (its RAM stands for the restored RAM). */
    private AhciController controller(Map<Integer, AhciDrive> drives) {
        AhciController c = new AhciController(drives, f.guest.memory, f.guest);
        others.add(c);
        return c;
    }

    private static byte[] cdb(int... bytes) {
        byte[] c = new byte[16];
        for (int i = 0; i < bytes.length; i++) {
            c[i] = (byte) bytes[i];
        }
        return c;
    }

    private static byte[] pattern(int seed, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (seed + i * 31);
        }
        return b;
    }

    /** Registers a restore must bring back, port by port. */
    private static int[] registers(AhciDriver d, int port) {
        int[] out = new int[15];
        int[] offsets = {CLB, CLBU, FB, FBU, IS, IE, CMD, TFD, SIG, SSTS, SCTL, SERR, SACT, CI};
        for (int i = 0; i < offsets.length; i++) {
            out[i] = d.read(0x100 + 0x80 * port + offsets[i]);
        }
        out[14] = d.read(AhciController.GHC);
        return out;
    }

    @Test
    void stateAfterCommandsSurvivesARestoreAndTheRestoredPortsKeepWorking() throws Exception {
        f.start(drives(2));
        AhciDriver d = f.driver;
        AhciDriver.Port hd = d.port(0);
        AhciDriver.Port cd = d.port(1);
        hd.start();
        cd.start();
        hd.reg(IE, IS_DHRS | IS_TFES);
        d.write(AhciController.GHC, AhciController.GHC_IE);
        long buf = f.guest.alloc(4096, 4096);
        f.guest.memory.write(buf, pattern(5, 1024));
        assertEquals(0x50, hd.run(0, AhciDriver.fis(WRITE_DMA_EXT, 0, 40, 2, 0x40), null, true, new Prd(buf, 1024)) & 0xF1);
        assertEquals(0x50, hd.run(1, AhciDriver.fis(SET_MULTIPLE, 0, 0, 16, 0), null, false) & 0xF1);
        int status = cd.run(0, AhciDriver.fis(PACKET, 1, 0, 0, 0), cdb(0xF7), false);   // unknown: ILLEGAL REQUEST
        assertEquals(1, status & 1);
        cd.recover();
        assertTrue(f.line(), "port 0's completion is pending on INTx");

        AhciController fresh = controller(drives(2));
        AhciDriver after = new AhciDriver(fresh, f.guest);
        StateRoundTrip.assertRoundTrip(f.hba, fresh);
        for (int port = 0; port < fresh.portCount(); port++) {
            assertArrayEquals(registers(d, port), registers(after, port), "port " + port + " registers");
        }
        assertEquals(d.read(AhciController.IS), after.read(AhciController.IS));
        assertEquals(f.hba.config().get16(PciConfigSpace.STATUS), fresh.config().get16(PciConfigSpace.STATUS));

        // The disk: IDENTIFY reports the multiple count set before, and the written data reads back.
        AhciDriver.Port hd2 = after.port(hd);
        long id = f.guest.alloc(512, 2);
        hd2.reg(IS, -1);
        assertEquals(0x50, hd2.run(2, AhciDriver.fis(IDENTIFY, 0, 0, 0, 0), null, false, new Prd(id, 512)) & 0xF1);
        assertEquals(0x110, f.guest.memory.getShort(id + 2 * 59) & 0x1FF, "word 59: multiple count 16, valid");
        long back = f.guest.alloc(1024, 4096);
        assertEquals(0x50, hd2.run(3, AhciDriver.fis(READ_DMA_EXT, 0, 40, 2, 0x40), null, false, new Prd(back, 1024)) & 0xF1);
        assertArrayEquals(pattern(5, 1024), f.guest.memory.read(back, 1024));
        assertEquals(IS_DHRS, hd2.reg(IS) & IS_DHRS);

        // The CD: the sense data of the failed packet is what REQUEST SENSE returns after the restore.
        AhciDriver.Port cd2 = after.port(cd);
        long sense = f.guest.alloc(18, 2);
        byte[] fis = AhciDriver.fis(PACKET, 1, 0, 0, 0);
        fis[5] = 18;
        assertEquals(0x50, cd2.run(1, fis, cdb(0x03, 0, 0, 0, 18), false, new Prd(sense, 18)) & 0xF1);
        byte[] s = f.guest.memory.read(sense, 18);
        assertEquals(5, s[2] & 0xF, "ILLEGAL REQUEST");
        assertEquals(0x20, s[12] & 0xFF, "INVALID COMMAND OPERATION CODE");
    }

    @Test
    void quiesceFinishesTheCommandInFlightAndTheRestoredControllerIssuesTheSlotHeldBack() throws Exception {
        BlockBackend backend = open(disk, false, 1);
        Map<Integer, AhciDrive> drives = new HashMap<>(Map.of(0, AhciDrive.disk(backend)));
        f.start(drives);
        AhciDriver.Port p = f.driver.port(0);
        p.start();
        long a = f.guest.alloc(512, 4096);
        long b = f.guest.alloc(512, 4096);
        p.prepare(0, AhciDriver.fis(READ_DMA_EXT, 0, 3, 1, 0x40), null, false, new Prd(a, 512));
        p.prepare(1, AhciDriver.fis(READ_DMA_EXT, 0, 9, 1, 0x40), null, false, new Prd(b, 512));
        CountDownLatch gate = new CountDownLatch(1);
        backend.submit(() -> {           // the only worker waits: slot 0's read stays in flight
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        p.reg(CI, 0b11);
        assertEquals(0b11, p.reg(CI));
        assertNotEquals(0, p.reg(TFD) & 0x80, "slot 0 is executing (BSY)");

        Thread quiesce = Thread.ofPlatform().start(f.hba::quiesce);
        quiesce.join(200);
        assertTrue(quiesce.isAlive(), "quiesce waits for the command in flight");
        gate.countDown();
        quiesce.join(TimeUnit.SECONDS.toMillis(10));
        assertFalse(quiesce.isAlive());

        assertEquals(0b10, p.reg(CI), "slot 0 completed, slot 1 held back");
        assertEquals(512, p.transferred(0));
        assertEquals(0x34, p.d2h()[0] & 0xFF, "the D2H FIS of slot 0 was posted");
        assertEquals(IS_DHRS, p.reg(IS) & IS_DHRS);
        byte[] expected = new byte[512];
        for (int i = 0; i < 512; i++) {
            expected[i] = (byte) (3 * 7 + i);
        }
        assertArrayEquals(expected, f.guest.memory.read(a, 512));
        assertEquals(0, p.transferred(1), "slot 1 was not issued");

        AhciController fresh = controller(Map.of(0, AhciDrive.disk(open(disk, false, 1))));
        AhciDriver after = new AhciDriver(fresh, f.guest);
        StateRoundTrip.restore(fresh, 1, StateRoundTrip.save(f.hba));
        AhciDriver.Port p2 = after.port(p);
        p2.waitDone(1);
        assertEquals(0, p2.reg(CI));
        assertEquals(512, p2.transferred(1), "slot 1 ran once, on the restored controller");
        for (int i = 0; i < 512; i++) {
            expected[i] = (byte) (9 * 7 + i);
        }
        assertArrayEquals(expected, f.guest.memory.read(b, 512));
    }

    @Test
    void resumeAfterSnapshotIssuesTheSlotsSetWhileQuiesced() throws Exception {
        f.start(drives(2));
        AhciDriver.Port p = f.driver.port(0);
        p.start();
        f.hba.quiesce();
        long buf = f.guest.alloc(512, 2);
        p.prepare(4, AhciDriver.fis(IDENTIFY, 0, 0, 0, 0), null, false, new Prd(buf, 512));
        p.reg(CI, 1 << 4);
        assertEquals(1 << 4, p.reg(CI), "not issued while quiesced");
        f.hba.resumeAfterSnapshot();
        p.waitDone(4);
        assertEquals(512, p.transferred(4));
    }

    @Test
    void aDriveOfAnotherSizeOrKindIsRefusedWithOneLineNamingThePort() throws Exception {
        f.start(drives(2));
        f.driver.port(0).start();
        byte[] blob = StateRoundTrip.save(f.hba);
        Path bigger = f.disk("big.img", 2 << 20);

        AhciController larger = controller(Map.of(0, AhciDrive.disk(open(bigger, false, 1)),
                1, AhciDrive.cd(open(iso, true, 1))));
        SnapshotException e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(larger, 1, blob));
        assertEquals("AhciController: port 0 has a disk of 4096 512-byte sectors, the snapshot a disk of 2048"
                + " 512-byte sectors", e.getMessage());

        AhciController swapped = controller(Map.of(0, AhciDrive.disk(open(disk, false, 1)),
                1, AhciDrive.disk(open(iso, true, 1))));
        e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(swapped, 1, blob));
        assertEquals("AhciController: port 1 has a disk of 256 512-byte sectors, the snapshot a CD of 64"
                + " 2048-byte sectors", e.getMessage());

        AhciController missing = controller(Map.of(0, AhciDrive.disk(open(disk, false, 1))));
        e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(missing, 1, blob));
        assertTrue(e.getMessage().endsWith("port 1 has no drive, the snapshot a CD of 64 2048-byte sectors"),
                e.getMessage());

        AhciController wider = controller(Map.of(0, AhciDrive.disk(open(disk, false, 1)),
                7, AhciDrive.cd(open(iso, true, 1))));
        e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(wider, 1, blob));
        assertEquals("AhciController: the controller has 8 ports, the snapshot 6", e.getMessage());
    }

    @Test
    void truncatedOrCorruptBlobsFailOnlyWithSnapshotExceptions() throws Exception {
        f.start(drives(2));
        AhciDriver.Port p = f.driver.port(1);
        p.start();
        int status = p.run(0, AhciDriver.fis(PACKET, 1, 0, 0, 0), cdb(0xF7), false);
        assertEquals(1, status & 1);
        byte[] blob = StateRoundTrip.save(f.hba);
        AhciController target = controller(drives(2));
        CorruptBlobs.assertOnlySnapshotExceptions(target, blob, PciConfigSpace.SIZE - 64);
        StateRoundTrip.restore(target, 1, blob);
        assertArrayEquals(blob, StateRoundTrip.save(target), "a valid blob still restores afterwards");
    }
}
