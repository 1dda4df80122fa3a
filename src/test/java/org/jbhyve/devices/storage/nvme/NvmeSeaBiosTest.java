package org.jbhyve.devices.storage.nvme;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.jbhyve.bus.IoHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SeaBIOS's src/hw/nvme.c, access by access: 32-bit register halves, doorbells at
 * 0x1000 + q_idx * stride (admin SQ 0, admin CQ 1, I/O SQ 2, I/O CQ 3), the command id equal to
 * the SQ tail, queue sizes from CAP.MQES capped at one page, polling on the phase bit without
 * interrupts, and reads through PRP1 only (unaligned inside one page), PRP1 + PRP2, a PRP list in
 * its page-aligned DMA buffer, and the bounce buffer.
 */
class NvmeSeaBiosTest {
    @TempDir
    Path dir;

    /** The firmware's view: raw register accesses and its own queue bookkeeping. */
    private static final class Firmware {
        final NvmeFixture f;
        final IoHandler reg;
        int stride;
        long adminSq, adminCq, ioSq, ioCq;
        int adminSqMask, adminCqMask, ioMask;
        int adminTail, adminCqHead, ioTail, ioCqHead;
        boolean adminPhase = true, ioPhase = true;

        Firmware(NvmeFixture f) {
            this.f = f;
            this.reg = f.driver.registers;
        }

        int readl(int off) {
            return (int) reg.read(off, 4);
        }

        void writel(int off, int value) {
            reg.write(off, 4, Integer.toUnsignedLong(value));
        }

        long cap() { // a volatile u64 read by 32-bit code: two dword reads
            return Integer.toUnsignedLong(readl(0)) | (long) readl(4) << 32;
        }

        void waitRdy(int rdy) throws InterruptedException {
            long end = System.nanoTime() + 500_000_000L * ((cap() >>> 24) & 0xFF);
            int csts;
            while (((csts = readl(NvmeController.CSTS)) & 1) != rdy) {
                assertEquals(0, csts & 2, "NVMe fatal error");
                assertTrue(System.nanoTime() < end, "CSTS.RDY timeout");
                Thread.sleep(1);
            }
        }

        /** nvme_get_next_sqe + nvme_commit_sqe on the admin or I/O queue. */
        int submit(boolean admin, int opc, int nsid, long prp1, long prp2, int dw10, int dw11, int dw12) {
            long base = admin ? adminSq : ioSq;
            int tail = admin ? adminTail : ioTail;
            long sqe = base + 64L * tail;
            f.guest.ram.asSlice(sqe, 64).fill((byte) 0);
            f.guest.memory.putInt(sqe, opc | tail << 16);
            f.guest.memory.putInt(sqe + 4, nsid);
            f.guest.memory.putInt(sqe + 24, (int) prp1);
            f.guest.memory.putInt(sqe + 32, (int) prp2);
            f.guest.memory.putInt(sqe + 40, dw10);
            f.guest.memory.putInt(sqe + 44, dw11);
            f.guest.memory.putInt(sqe + 48, dw12);
            if (admin) {
                adminTail = (adminTail + 1) & adminSqMask;
                writel(0x1000, adminTail);
            } else {
                ioTail = (ioTail + 1) & ioMask;
                writel(0x1000 + 2 * stride, ioTail);
            }
            return tail;
        }

        /** nvme_wait + nvme_consume_cqe; returns dword 3 (status << 16 | cid). */
        int await(boolean admin) throws InterruptedException {
            long cq = admin ? adminCq : ioCq;
            int head = admin ? adminCqHead : ioCqHead;
            boolean phase = admin ? adminPhase : ioPhase;
            long end = System.nanoTime() + 5_000_000_000L;
            while (((f.guest.memory.getInt(cq + 16L * head + 12) >>> 16) & 1) != (phase ? 1 : 0)) {
                assertTrue(System.nanoTime() < end, "nvme_wait timeout");
                Thread.sleep(0, 20_000);
            }
            int dw3 = f.guest.memory.getInt(cq + 16L * head + 12);
            int next = (head + 1) & (admin ? adminCqMask : ioMask);
            if (next < head) {
                phase = !phase;
            }
            if (admin) {
                adminCqHead = next;
                adminPhase = phase;
                writel(0x1000 + stride, next);
            } else {
                assertFalse(f.guest.intxLevel, "I/O completion queue created without interrupts");
                ioCqHead = next;
                ioPhase = phase;
                writel(0x1000 + 3 * stride, next);
            }
            return dw3;
        }

        static boolean success(int dw3) {
            return ((dw3 >>> 17) & 0xFF) == 0;
        }
    }

    @Test
    void seaBiosEnablesProbesAndReads() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, 4 << 20,
                "maxq=4", "qsz=256", "ioslots=16", "sectsz=512", "ser=SEABIOS-NVME-0001")) {
            f.driver.enableDevice();
            Firmware fw = new Firmware(f);
            long scratch = f.guest.alloc(1 << 20, 4096);

            int version = fw.readl(NvmeController.VS);
            assertEquals(0x10400, version);
            assertNotEquals(0, fw.cap() & 1L << 37, "CAP.CSS NVM");
            assertEquals(0, fw.cap() & 0xFL << 48, "MPSMIN 4 KiB");

            if ((fw.readl(NvmeController.CSTS) & 1) != 0) { // nvme_controller_shutdown (current SeaBIOS)
                fw.writel(NvmeController.CC, 1 << 14);
            }
            fw.writel(NvmeController.CC, 0);
            fw.waitRdy(0);
            fw.stride = 4 << ((fw.cap() >>> 32) & 0xF);
            assertEquals(4, fw.stride);

            fw.adminCq = scratch;
            fw.adminCqMask = 4096 / 16 - 1;
            fw.adminSq = scratch + 0x1000;
            fw.adminSqMask = 4096 / 64 - 1;
            fw.writel(NvmeController.AQA, fw.adminCqMask << 16 | fw.adminSqMask);
            fw.writel(NvmeController.ASQ, (int) fw.adminSq); // u64 store from 32-bit code: low, then high
            fw.writel(NvmeController.ASQ + 4, 0);
            fw.writel(NvmeController.ACQ, (int) fw.adminCq);
            fw.writel(NvmeController.ACQ + 4, 0);
            fw.writel(NvmeController.CC, 1 | 4 << 20 | 6 << 16);
            fw.waitRdy(1);

            long identify = scratch + 0x2000;
            int cid = fw.submit(true, NvmeAdmin.IDENTIFY, 0, identify, 0, 1, 0, 0);
            int dw3 = fw.await(true);
            assertTrue(Firmware.success(dw3));
            assertEquals(cid, dw3 & 0xFFFF);
            assertEquals(1, f.guest.memory.getInt(identify + 516), "nn");
            int mdts = f.guest.memory.getByte(identify + 77);
            assertEquals("SEABIOS-NVME-0001   ", new String(f.guest.memory.read(identify + 4, 20), StandardCharsets.US_ASCII));

            int length = (int) Math.min(1 + (fw.cap() & 0xFFFF), 4096 / 16);
            assertEquals(256, length);
            fw.ioMask = length - 1;
            fw.ioCq = scratch + 0x3000;
            fw.ioSq = scratch + 0x4000; // 256 * 64 bytes
            fw.submit(true, NvmeAdmin.CREATE_CQ, 0, fw.ioCq, 0, fw.ioMask << 16 | 1, 1, 0);
            assertTrue(Firmware.success(fw.await(true)), "create io cq");
            fw.submit(true, NvmeAdmin.CREATE_SQ, 0, fw.ioSq, 0, fw.ioMask << 16 | 1, 1 << 16 | 1, 0);
            assertTrue(Firmware.success(fw.await(true)), "create io sq");

            fw.submit(true, NvmeAdmin.IDENTIFY, 1, identify, 0, 0, 0, 0);
            assertTrue(Firmware.success(fw.await(true)));
            long nsze = f.guest.memory.getLong(identify);
            int flbas = f.guest.memory.getByte(identify + 26) & 0xF;
            int nlbaf = f.guest.memory.getByte(identify + 25);
            int lbads = f.guest.memory.getByte(identify + 128 + 4 * flbas + 2);
            assertTrue(flbas <= nlbaf);
            assertEquals(8192, nsze);
            assertEquals(512, 1 << lbads);
            int maxReq = (1 << mdts) * 4096 / 512;
            assertEquals(4096, maxReq);

            long dma = scratch + 0x10000; // nvme_dma_buffer, page aligned
            long mbr = scratch + 0x8000 + 0xC00; // the boot sector goes to 0:7c00: inside one page
            read(fw, 0, mbr, 0, 1);
            assertSectors(f, mbr, 0, 1);

            long two = scratch + 0x20000;
            read(fw, 100, two, two + 4096, 16); // two pages: PRP2 is the second page
            assertSectors(f, two, 100, 16);

            long big = scratch + 0x30000;
            for (int i = 1; i < 16; i++) {
                f.guest.memory.putLong(dma + 8L * (i - 1), big + 4096L * i);
            }
            read(fw, 1000, big, dma, 128); // 64 KiB through a 15-entry list in the DMA buffer
            assertSectors(f, big, 1000, 128);

            read(fw, 8190, dma, 0, 2); // bounce: the last two sectors into the DMA buffer
            assertSectors(f, dma, 8190, 2);

            fw.submit(false, NvmeIo.READ, 1, dma, 0, 8191, 0, 1 << 31 | 1);
            int bad = fw.await(false);
            assertEquals(NvmeStatus.LBA_OUT_OF_RANGE, NvmeStatus.fromField(bad >>> 16 & 0xFFFE), "past the end");
            assertFalse(f.guest.intxLevel);
            assertEquals(0, f.guest.msiCount.get(), "SeaBIOS never enables MSI-X");
        }
    }

    @Test
    void seaBiosRestartsAnEnabledController() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, 1 << 20, "maxq=4", "qsz=256", "ioslots=16", "sectsz=512").started()) {
            Firmware fw = new Firmware(f);
            int cc = fw.readl(NvmeController.CC);
            fw.writel(NvmeController.CC, cc | 1 << 14); // the previous OS shut the controller down, EN still set
            long osDone = System.nanoTime() + 5_000_000_000L;
            while ((fw.readl(NvmeController.CSTS) & 0xC) != 0x8) {
                assertTrue(System.nanoTime() < osDone, "the OS's shutdown completes");
                Thread.sleep(1);
            }
            assertEquals(1, fw.readl(NvmeController.CSTS) & 1);
            fw.writel(NvmeController.CC, 1 << 14); // SeaBIOS: shutdown request that also clears EN
            long end = System.nanoTime() + 5_000_000_000L;
            while ((fw.readl(NvmeController.CSTS) & 0xC) != 0x8) {
                assertTrue(System.nanoTime() < end, "SHST complete");
                Thread.sleep(1);
            }
            fw.writel(NvmeController.CC, 0);
            fw.waitRdy(0);
            f.driver.enable(64, 256);
            long buf = f.guest.alloc(4096, 4096);
            assertTrue(f.driver.admin(NvmeAdmin.IDENTIFY, 0, buf, 0, 1).ok(), "usable after the restart");
        }
    }

    private static void read(Firmware fw, long lba, long prp1, long prp2, int count) throws InterruptedException {
        int cid = fw.submit(false, NvmeIo.READ, 1, prp1, prp2, (int) lba, (int) (lba >>> 32), 1 << 31 | (count - 1));
        int dw3 = fw.await(false);
        assertTrue(Firmware.success(dw3), "read lba " + lba + " x" + count);
        assertEquals(cid, dw3 & 0xFFFF);
    }

    private static void assertSectors(NvmeFixture f, long at, long lba, int count) {
        byte[] got = f.guest.memory.read(at, count * 512);
        for (int i = 0; i < got.length; i++) {
            assertEquals(NvmeFixture.expected(lba * 512 + i), got[i], "byte " + i + " of lba " + lba);
        }
    }
}
