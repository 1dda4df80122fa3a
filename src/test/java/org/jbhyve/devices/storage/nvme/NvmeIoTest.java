package org.jbhyve.devices.storage.nvme;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The NVM command set through a queue pair: data paths, PRP forms, zeroing, deallocation and errors. */
class NvmeIoTest {
    private static final int MB = 1 << 20;

    @TempDir
    Path dir;

    private static MockNvmeDriver.Completion io(NvmeFixture f, MockNvmeDriver.Pair q, int opcode, long prp1, long prp2,
                                                long lba, int blocks, int cdw12Flags) throws Exception {
        f.driver.submit(q, opcode, 1, prp1, prp2, (int) lba, (int) (lba >>> 32), (blocks - 1) | cdw12Flags);
        return f.driver.await(q);
    }

    private static void assertImage(long offset, byte[] data) {
        for (int i = 0; i < data.length; i++) {
            assertEquals(NvmeFixture.expected(offset + i), data[i], "byte " + (offset + i));
        }
    }

    @Test
    void readsTheImageAndWritesReachTheFile() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, MB, "sectsz=512").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, true, 0);
            long buf = f.guest.alloc(8192, 4096);
            assertTrue(io(f, q, NvmeIo.READ, buf, buf + 4096, 10, 16, 0).ok(), "two pages: PRP2 is the second page");
            assertImage(10 * 512, f.guest.memory.read(buf, 8192));

            byte[] pattern = new byte[1024];
            Arrays.fill(pattern, (byte) 0x3C);
            f.guest.memory.write(buf, pattern);
            assertTrue(io(f, q, NvmeIo.WRITE, buf, 0, 3, 2, 0).ok());
            assertTrue(io(f, q, NvmeIo.FLUSH, 0, 0, 0, 1, 0).ok());
            byte[] file = Files.readAllBytes(f.image);
            assertArrayEquals(pattern, Arrays.copyOfRange(file, 3 * 512, 5 * 512));
            assertEquals(NvmeFixture.expected(5 * 512), file[5 * 512], "the next sector is untouched");

            long other = f.guest.alloc(1024, 4096);
            assertTrue(io(f, q, NvmeIo.READ, other, 0, 3, 2, 0).ok());
            assertArrayEquals(pattern, f.guest.memory.read(other, 1024));
        }
    }

    @Test
    void ramNamespaceRoundTripAndFua() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(16).started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            long buf = f.guest.alloc(3 * 4096, 4096);
            assertTrue(io(f, q, NvmeIo.READ, buf, 0, 100, 1, 0).ok());
            assertArrayEquals(new byte[4096], f.guest.memory.read(buf, 4096), "never written: zeros");
            byte[] data = new byte[8192];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 7);
            }
            f.guest.memory.write(buf, data);
            assertTrue(io(f, q, NvmeIo.WRITE, buf, buf + 4096, 255, 2, 1 << 30).ok(), "across a 1 MiB chunk, FUA");
            long back = f.guest.alloc(8192, 4096);
            assertTrue(io(f, q, NvmeIo.READ, back, back + 4096, 255, 2, 0).ok());
            assertArrayEquals(data, f.guest.memory.read(back, 8192));
            assertEquals(NvmeStatus.LBA_OUT_OF_RANGE, io(f, q, NvmeIo.READ, back, 0, 4096, 1, 0).status(),
                    "16 MiB of 4 KiB blocks ends at LBA 4095");
        }
    }

    @Test
    void prpListAcrossScatteredPagesAndAChainedListPage() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, 4 * MB, "sectsz=512").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            int pages = 20;
            long[] page = new long[pages];
            for (int i = 0; i < pages; i++) {
                page[i] = f.guest.alloc(4096, 4096);
                f.guest.alloc(4096, 4096); // a gap: no two data pages are contiguous
            }
            // The list starts 16 bytes before the end of its page: one data entry, then a chain pointer.
            long listPage = f.guest.alloc(4096, 4096);
            long second = f.guest.alloc(4096, 4096);
            long list = listPage + 4096 - 16;
            f.guest.memory.putLong(list, page[1]);
            f.guest.memory.putLong(list + 8, second);
            for (int i = 2; i < pages; i++) {
                f.guest.memory.putLong(second + 8L * (i - 2), page[i]);
            }
            assertTrue(io(f, q, NvmeIo.READ, page[0], list, 8, pages * 8, 0).ok());
            for (int i = 0; i < pages; i++) {
                assertImage(8 * 512 + 4096L * i, f.guest.memory.read(page[i], 4096));
            }
        }
    }

    @Test
    void dwordAlignedPrpListLikeOlderSeaBios() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, MB, "sectsz=512").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            long data = f.guest.alloc(3 * 4096, 4096);
            long list = f.guest.alloc(64, 16) + 4; // 4 mod 8
            f.guest.memory.putLong(list, data + 4096);
            f.guest.memory.putLong(list + 8, data + 8192);
            assertTrue(io(f, q, NvmeIo.READ, data, list, 0, 24, 0).ok());
            assertImage(0, f.guest.memory.read(data, 3 * 4096));
        }
    }

    @Test
    void firstPrpMayStartInsideItsPage() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, MB, "sectsz=512").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            long buf = f.guest.alloc(8192, 4096);
            long start = buf + 4096 - 512; // one sector at the end of the first page, three in the next
            assertTrue(io(f, q, NvmeIo.READ, start, buf + 4096, 40, 4, 0).ok());
            assertImage(40 * 512, f.guest.memory.read(start, 2048));
            assertEquals(0, f.guest.memory.getByte(buf), "nothing before PRP1's offset");
        }
    }

    @Test
    void writeZeroesClearsTheRange() throws Exception {
        for (String nodelete : new String[] {"nodelete=false", "nodelete"}) {
            try (NvmeFixture f = NvmeFixture.image(dir, MB, "sectsz=512", nodelete).started()) {
                MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
                assertTrue(io(f, q, NvmeIo.WRITE_ZEROES, 0, 0, 4, 3, 0).ok(), nodelete);
                byte[] file = Files.readAllBytes(f.image);
                assertArrayEquals(new byte[3 * 512], Arrays.copyOfRange(file, 4 * 512, 7 * 512), nodelete);
                assertEquals(NvmeFixture.expected(7 * 512), file[7 * 512]);
                assertEquals(NvmeFixture.expected(4 * 512 - 1), file[4 * 512 - 1]);
                assertEquals(NvmeStatus.LBA_OUT_OF_RANGE, io(f, q, NvmeIo.WRITE_ZEROES, 0, 0, 2047, 2, 0).status());
            }
        }
    }

    @Test
    void datasetManagementDeallocatesAndHonoursDsm() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, MB, "sectsz=512").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            long ranges = f.guest.alloc(4096, 4096);
            f.guest.memory.putInt(ranges + 4, 8);       // 8 blocks (4 KiB, a whole file-system block)
            f.guest.memory.putLong(ranges + 8, 16);     // from LBA 16
            f.guest.memory.putInt(ranges + 16 + 4, 0);  // an empty range is skipped
            f.guest.memory.putLong(ranges + 16 + 8, 1L << 40);
            f.driver.submit(q, NvmeIo.DATASET_MANAGEMENT, 1, ranges, 0, 1, 1 << 2);
            assertTrue(f.driver.await(q).ok());
            byte[] file = Files.readAllBytes(f.image);
            assertArrayEquals(new byte[4096], Arrays.copyOfRange(file, 16 * 512, 24 * 512), "hole punched");
            assertEquals(NvmeFixture.expected(24 * 512), file[24 * 512]);

            f.guest.memory.putInt(ranges + 4, 8);
            f.guest.memory.putLong(ranges + 8, 2045);
            f.driver.submit(q, NvmeIo.DATASET_MANAGEMENT, 1, ranges, 0, 0, 1 << 2);
            assertEquals(NvmeStatus.LBA_OUT_OF_RANGE, f.driver.await(q).status());
            f.driver.submit(q, NvmeIo.DATASET_MANAGEMENT, 1, 1L << 40, 0, 0, 1 << 2);
            assertEquals(NvmeStatus.DATA_TRANSFER_ERROR, f.driver.await(q).status(), "ranges outside RAM");
        }
        try (NvmeFixture f = NvmeFixture.image(dir, MB, "sectsz=512", "dsm=disable").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            long ranges = f.guest.alloc(4096, 4096);
            f.driver.submit(q, NvmeIo.DATASET_MANAGEMENT, 1, ranges, 0, 0, 1 << 2);
            assertEquals(NvmeStatus.INVALID_OPCODE, f.driver.await(q).status());
        }
        try (NvmeFixture f = NvmeFixture.image(dir, MB, "sectsz=512", "dsm=enable", "nodelete").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            long ranges = f.guest.alloc(4096, 4096);
            f.guest.memory.putInt(ranges + 4, 8);
            f.driver.submit(q, NvmeIo.DATASET_MANAGEMENT, 1, ranges, 0, 0, 1 << 2);
            assertTrue(f.driver.await(q).ok(), "advisory: success without deallocating");
            assertEquals(NvmeFixture.expected(0), Files.readAllBytes(f.image)[0]);
        }
    }

    @Test
    void badCommandsFailWithTheRightStatus() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, MB, "sectsz=512").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            long buf = f.guest.alloc(8192, 4096);
            assertEquals(NvmeStatus.LBA_OUT_OF_RANGE, io(f, q, NvmeIo.READ, buf, 0, 2047, 2, 0).status());
            assertEquals(NvmeStatus.LBA_OUT_OF_RANGE, io(f, q, NvmeIo.READ, buf, 0, -1L, 1, 0).status(), "LBA overflow");
            assertEquals(NvmeStatus.INVALID_FIELD, io(f, q, NvmeIo.READ, buf, 0, 0, 65536, 0).status(), "32 MiB > MDTS");
            assertEquals(NvmeStatus.INVALID_FIELD, io(f, q, NvmeIo.READ, buf + 2, 0, 0, 1, 0).status(), "PRP1 & 3");
            assertEquals(NvmeStatus.DATA_TRANSFER_ERROR, io(f, q, NvmeIo.READ, 1L << 40, 0, 0, 1, 0).status());
            assertEquals(NvmeStatus.DATA_TRANSFER_ERROR, io(f, q, NvmeIo.READ, buf, buf + 4097, 0, 16, 0).status(),
                    "PRP2 data page not aligned");
            assertEquals(NvmeStatus.DATA_TRANSFER_ERROR, io(f, q, NvmeIo.READ, buf, buf + 4098, 0, 24, 0).status(),
                    "PRP list not dword aligned");
            assertEquals(NvmeStatus.DATA_TRANSFER_ERROR, io(f, q, NvmeIo.READ, buf, buf + 4096 + 4092, 0, 24, 0).status(),
                    "PRP list with no whole entry left in its page");
            f.guest.memory.putLong(buf + 4096, 0x123);
            assertEquals(NvmeStatus.DATA_TRANSFER_ERROR, io(f, q, NvmeIo.READ, buf, buf + 4096, 0, 24, 0).status(),
                    "list entry not page aligned");
            f.driver.submit(q, NvmeIo.READ, 2, buf, 0, 0, 0, 0);
            assertEquals(NvmeStatus.INVALID_NAMESPACE | NvmeStatus.DNR, f.driver.await(q).status());
            f.driver.submit(q, 0x7F, 1, buf, 0, 0, 0, 0);
            assertEquals(NvmeStatus.INVALID_OPCODE, f.driver.await(q).status());
            assertTrue(io(f, q, NvmeIo.READ, buf, 0, 0, 1, 0).ok(), "the queue still works");
        }
        try (NvmeFixture f = NvmeFixture.image(dir, MB, "ro").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            long buf = f.guest.alloc(4096, 4096);
            assertEquals(NvmeStatus.NAMESPACE_WRITE_PROTECTED, io(f, q, NvmeIo.WRITE, buf, 0, 0, 1, 0).status());
            assertEquals(NvmeStatus.NAMESPACE_WRITE_PROTECTED, io(f, q, NvmeIo.WRITE_ZEROES, 0, 0, 0, 1, 0).status());
            assertTrue(io(f, q, NvmeIo.READ, buf, 0, 0, 1, 0).ok());
        }
    }

    @Test
    void smartLogCountsCommandsAndDataUnits() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(8).started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, false, 0);
            long buf = f.guest.alloc(4096, 4096);
            for (int i = 0; i < 3; i++) {
                assertTrue(io(f, q, NvmeIo.READ, buf, 0, i, 1, 0).ok());
            }
            assertTrue(io(f, q, NvmeIo.WRITE, buf, 0, 0, 1, 0).ok());
            long log = f.guest.alloc(512, 4096);
            assertTrue(f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0xFFFFFFFF, log, 0, 127 << 16 | NvmeLogPages.HEALTH).ok());
            assertEquals(1, f.guest.memory.getLong(log + 32), "24 sectors read: one data unit (rounded up)");
            assertEquals(1, f.guest.memory.getLong(log + 48));
            assertEquals(3, f.guest.memory.getLong(log + 64), "host read commands");
            assertEquals(1, f.guest.memory.getLong(log + 80), "host write commands");
        }
    }
}
