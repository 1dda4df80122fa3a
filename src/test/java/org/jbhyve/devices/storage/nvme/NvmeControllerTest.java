package org.jbhyve.devices.storage.nvme;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The PCI face and the controller registers: identity, CAP/VS, enable, reset, shutdown, interrupts. */
class NvmeControllerTest {
    @TempDir
    Path dir;

    @Test
    void pciFunctionLooksLikeBhyves() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, 1 << 20, "maxq=4")) {
            PciConfigSpace c = f.controller.config();
            assertEquals(0xFB5D, c.get16(PciConfigSpace.VENDOR));
            assertEquals(0x0A0A, c.get16(PciConfigSpace.DEVICE));
            assertEquals(0x02, c.get8(0x09), "prog-if NVMe");
            assertEquals(0x08, c.get8(0x0A), "subclass NVM");
            assertEquals(0x01, c.get8(0x0B), "class mass storage");
            assertEquals(1, c.get8(PciConfigSpace.INTERRUPT_PIN));
            PciBar bar0 = f.controller.bars().get(0);
            assertEquals(PciBar.Kind.MEMORY64, bar0.kind());
            assertEquals(0x4000, bar0.size());
            assertEquals(4, f.controller.bars().get(1).index());
            int msix = c.get8(PciConfigSpace.CAPABILITIES);
            assertEquals(0x11, c.get8(msix));
            assertEquals(4, c.get16(msix + 2) & 0x7FF, "maxq + 1 vectors, zero-based");
            assertEquals(4, c.get32(msix + 4) & 7, "table in BAR4");
            int express = c.get8(msix + 1);
            assertEquals(0x10, c.get8(express));
            assertEquals(0x92, c.get16(express + 2), "PCIe v2, root complex integrated endpoint");
        }
    }

    @Test
    void capabilitiesAndVersion() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, 1 << 20, "qsz=256")) {
            long cap = f.driver.read64(NvmeController.CAP);
            assertEquals(255, cap & 0xFFFF, "MQES = qsz - 1");
            assertEquals(1, (cap >>> 16) & 1, "contiguous queues required");
            assertEquals(60, (cap >>> 24) & 0xFF, "timeout 30 s");
            assertEquals(0, (cap >>> 32) & 0xF, "doorbell stride 4 bytes");
            assertEquals(1, (cap >>> 37) & 1, "NVM command set");
            assertEquals(0, (cap >>> 48) & 0xFF, "4 KiB pages only");
            assertEquals((int) cap, f.driver.read32(NvmeController.CAP), "32-bit halves read the same");
            assertEquals((int) (cap >>> 32), f.driver.read32(NvmeController.CAP + 4));
            assertEquals(0x00010400, f.driver.read32(NvmeController.VS));
            assertEquals(0x04, f.driver.registers.read(NvmeController.VS + 1, 1), "byte reads");
            f.driver.write32(NvmeController.CAP, 0);
            assertEquals((int) cap, f.driver.read32(NvmeController.CAP), "CAP is read-only");
        }
    }

    @Test
    void enableDisableAndReEnable() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4)) {
            f.driver.enableDevice();
            assertFalse(f.driver.ready());
            f.driver.enable(64, 64);
            assertTrue(f.driver.ready());
            assertEquals(1 | 4 << 20 | 6 << 16, f.driver.read32(NvmeController.CC));
            long buf = f.guest.alloc(4096, 4096);
            assertTrue(f.driver.admin(NvmeAdmin.IDENTIFY, 0, buf, 0, 1).ok());
            MockNvmeDriver.Pair oldAdmin = f.driver.admin;

            f.driver.write32(NvmeController.CC, 0);
            assertTrue(f.driver.waitReady(false, 1000), "RDY falls after CC.EN = 0");
            assertEquals(0, f.driver.read32(NvmeController.CSTS));
            f.driver.write32(NvmeController.DOORBELLS, 1); // doorbells are ignored while not ready
            Thread.sleep(20);
            assertNull(f.driver.poll(oldAdmin), "a reset controller does not fetch");

            f.driver.enable(16, 16);
            assertTrue(f.driver.admin(NvmeAdmin.IDENTIFY, 0, buf, 0, 1).ok(), "new admin queues work");
            assertEquals(16, f.driver.admin.sqEntries);
        }
    }

    @Test
    void unusableAdminQueuesSetFatalStatus() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4)) {
            f.driver.write32(NvmeController.AQA, 0); // one-entry queues
            f.driver.registers.write(NvmeController.ASQ, 8, 0x10000);
            f.driver.registers.write(NvmeController.ACQ, 8, 0x20000);
            f.driver.write32(NvmeController.CC, 1);
            assertEquals(NvmeController.CSTS_CFS, f.driver.read32(NvmeController.CSTS));
            f.driver.write32(NvmeController.CC, 0);
            assertEquals(0, f.driver.read32(NvmeController.CSTS), "reset clears CFS");

            f.driver.write32(NvmeController.AQA, 15 << 16 | 15);
            f.driver.registers.write(NvmeController.ASQ, 8, 1L << 40); // not RAM
            f.driver.write32(NvmeController.CC, 1);
            assertEquals(NvmeController.CSTS_CFS, f.driver.read32(NvmeController.CSTS));
            f.driver.write32(NvmeController.CC, 0);

            f.driver.registers.write(NvmeController.ASQ, 8, 0x10000);
            f.driver.write32(NvmeController.CC, 1 | 1 << 7); // 8 KiB pages
            assertEquals(NvmeController.CSTS_CFS, f.driver.read32(NvmeController.CSTS));
            f.driver.write32(NvmeController.CC, 0);
            f.driver.write32(NvmeController.CC, 1);
            assertEquals(NvmeController.CSTS_RDY, f.driver.read32(NvmeController.CSTS), "4 KiB pages work");
            assertEquals(3, f.controller.guestErrors(), "each refused enable is logged");
        }
    }

    @Test
    void adminQueueBasesIgnoreTheOffsetBitsAndTakeHalfWrites() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4)) {
            f.driver.write32(NvmeController.ASQ, 0x12345FFF);
            f.driver.write32(NvmeController.ASQ + 4, 0x1);
            assertEquals(0x112345000L, f.driver.read64(NvmeController.ASQ));
            f.driver.registers.write(NvmeController.ACQ, 8, 0xABCDE123L);
            assertEquals(0xABCDE000L, f.driver.read64(NvmeController.ACQ));
            f.driver.write32(NvmeController.AQA, 0xFFFFFFFF);
            assertEquals(0x0FFF0FFF, f.driver.read32(NvmeController.AQA));
        }
    }

    @Test
    void shutdownFlushesAndReportsComplete() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, 1 << 20).started()) {
            int cc = f.driver.read32(NvmeController.CC);
            f.driver.write32(NvmeController.CC, cc | 1 << 14);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while ((f.driver.read32(NvmeController.CSTS) >>> 2 & 3) != NvmeController.SHST_COMPLETE) {
                assertTrue(System.nanoTime() < end, "shutdown completes");
                Thread.sleep(1);
            }
            f.driver.write32(NvmeController.CC, 0);
            assertEquals(0, f.driver.read32(NvmeController.CSTS) >>> 2 & 3, "reset clears SHST");
        }
    }

    @Test
    void intxFollowsPendingCompletionsAndTheMask() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4).started()) {
            long buf = f.guest.alloc(4096, 4096);
            f.driver.submit(f.driver.admin, NvmeAdmin.IDENTIFY, 0, buf, 0, 1);
            awaitTrue(() -> f.guest.intxLevel);
            assertNotNull(f.driver.poll(f.driver.admin, false));
            assertTrue(f.guest.intxLevel, "still pending until the head doorbell");
            f.driver.ringHead(f.driver.admin);
            assertFalse(f.guest.intxLevel);

            f.driver.write32(NvmeController.INTMS, 1);
            assertEquals(1, f.driver.read32(NvmeController.INTMC));
            f.driver.submit(f.driver.admin, NvmeAdmin.IDENTIFY, 0, buf, 0, 1);
            Thread.sleep(20);
            assertFalse(f.guest.intxLevel, "masked");
            f.driver.write32(NvmeController.INTMC, 1);
            assertTrue(f.guest.intxLevel, "unmasking shows the pending completion");
            f.driver.await(f.driver.admin);
            assertFalse(f.guest.intxLevel);
            assertEquals(0, f.guest.msiCount.get());
        }
    }

    @Test
    void msixVectorPerCompletionQueue() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "maxq=4").started()) {
            f.driver.enableMsix(5);
            long buf = f.guest.alloc(4096, 4096);
            f.driver.admin(NvmeAdmin.IDENTIFY, 0, buf, 0, 1);
            assertEquals(0, f.guest.lastMsiData, "admin completions on vector 0");
            assertFalse(f.guest.intxLevel);
            MockNvmeDriver.Pair q = f.driver.createPair(2, 16, true, 3);
            int before = f.guest.msiCount.get();
            f.driver.submit(q, NvmeIo.READ, 1, buf, 0, 0, 0, 0);
            assertTrue(f.driver.await(q).ok());
            awaitTrue(() -> f.guest.msiCount.get() > before);
            assertEquals(3, f.guest.lastMsiData);
            assertEquals(MockNvmeDriver.MSI_ADDRESS, f.guest.lastMsiAddress);

            f.driver.msixTable.write(16 * 3 + 12, 4, 1); // mask vector 3
            int masked = f.guest.msiCount.get();
            f.driver.submit(q, NvmeIo.READ, 1, buf, 0, 0, 0, 0);
            assertTrue(f.driver.await(q).ok());
            Thread.sleep(20);
            assertEquals(masked, f.guest.msiCount.get(), "masked vector does not fire");
            assertTrue(f.controller.msix().pending(3));
            assertEquals(1L << 3, f.driver.msixTable.read(f.controller.msix().barSize() / 2, 8) & 0xFF,
                    "PBA bit");
            f.driver.msixTable.write(16 * 3 + 12, 4, 0);
            assertEquals(masked + 1, f.guest.msiCount.get(), "unmasking sends the pending message");
        }
    }

    private static NvmeController gated(GatedStorage storage, org.jbhyve.virtio.MockGuest guest) {
        NvmeOptions o = NvmeOptions.parse(k -> java.util.Optional.ofNullable(k.equals("ram") ? "4" : null), "vm", 0, 4, 0);
        return new NvmeController(o, storage, guest.memory, guest);
    }

    @Test
    void readyStaysUpWhileRequestsComeAndGo() throws Exception {
        GatedStorage storage = new GatedStorage(4 << 20);
        try (org.jbhyve.virtio.MockGuest guest = new org.jbhyve.virtio.MockGuest(8 << 20)) {
            NvmeController c = gated(storage, guest);
            MockNvmeDriver d = new MockNvmeDriver(c, guest);
            d.enableDevice();
            d.enable(16, 16);
            MockNvmeDriver.Pair q = d.createPair(1, 16, false, 0);
            long buf = d.guest.alloc(4096, 4096);
            d.submit(q, NvmeIo.READ, 1, buf, 0, 0, 0, 0);
            storage.awaitWaiting(1);
            Thread first = storage.lastWorker;
            synchronized (c) { // the first request's "all I/O done" must wait for the register lock...
                storage.release(1);
                awaitTrue(() -> first.getState() == Thread.State.BLOCKED);
                d.submit(q, NvmeIo.READ, 1, buf, 0, 1, 0, 0); // ...while a second one starts
                storage.awaitWaiting(1);
            }
            Thread.sleep(20);
            assertTrue(d.ready(), "RDY stays up while the controller is busy");
            storage.release(1);
            assertTrue(d.await(q).ok());
            assertTrue(d.await(q).ok());
            d.submit(q, NvmeIo.READ, 1, buf, 0, 2, 0, 0);
            storage.release(1);
            assertTrue(d.await(q).ok(), "doorbells are still taken");
            c.close();
        }
    }

    @Test
    void resetWaitsForRequestsInFlightAndDropsTheirCompletions() throws Exception {
        GatedStorage storage = new GatedStorage(4 << 20);
        try (org.jbhyve.virtio.MockGuest guest = new org.jbhyve.virtio.MockGuest(8 << 20)) {
            NvmeController c = gated(storage, guest);
            MockNvmeDriver d = new MockNvmeDriver(c, guest);
            d.enableDevice();
            d.enable(16, 16);
            MockNvmeDriver.Pair q = d.createPair(1, 16, false, 0);
            long buf = d.guest.alloc(4096, 4096);
            d.submit(q, NvmeIo.READ, 1, buf, 0, 0, 0, 0);
            storage.awaitWaiting(1);
            d.write32(NvmeController.CC, 0);
            assertTrue(d.ready(), "RDY stays up until the running request ends");
            d.write32(NvmeController.CC, 1 | 4 << 20 | 6 << 16); // re-enabled without waiting
            Thread.sleep(20);
            assertFalse(d.ready(), "not ready while the old session's request runs");
            storage.release(1);
            assertTrue(d.waitReady(true, 5000), "ready once it ended");
            assertNull(d.poll(q), "the old session's completion is dropped");
            c.close();
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "condition not reached");
            Thread.sleep(1);
        }
    }
}
