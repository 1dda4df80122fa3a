package org.jbhyve.devices.storage.nvme;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Features, log pages, asynchronous events, Format NVM and the other admin commands. */
class NvmeAdminTest {
    @TempDir
    Path dir;

    private static MockNvmeDriver.Completion get(NvmeFixture f, int fid, int select, int nsid) throws Exception {
        return f.driver.admin(NvmeAdmin.GET_FEATURES, nsid, 0, 0, select << 8 | fid);
    }

    private static MockNvmeDriver.Completion set(NvmeFixture f, int fid, int value, int nsid) throws Exception {
        return f.driver.admin(NvmeAdmin.SET_FEATURES, nsid, 0, 0, fid, value);
    }

    @Test
    void featuresKeepWhatIsSetAndReportDefaults() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "maxq=4").started()) {
            assertEquals(3 << 16 | 3, get(f, NvmeFeatures.NUMBER_OF_QUEUES, 0, 0).cdw0(), "maxq, zero-based");
            MockNvmeDriver.Completion c = set(f, NvmeFeatures.NUMBER_OF_QUEUES, 63 << 16 | 0, 0);
            assertTrue(c.ok());
            assertEquals(3 << 16, c.cdw0(), "one SQ, CQs clamped to maxq");
            assertEquals(3 << 16, get(f, NvmeFeatures.NUMBER_OF_QUEUES, 0, 0).cdw0());
            for (int fid : new int[] {NvmeFeatures.ARBITRATION, NvmeFeatures.POWER_MANAGEMENT,
                    NvmeFeatures.INTERRUPT_COALESCING, NvmeFeatures.WRITE_ATOMICITY}) {
                assertTrue(set(f, fid, 0x0101, 0).ok(), "set " + fid);
                assertEquals(0x0101, get(f, fid, 0, 0).cdw0(), "current " + fid);
                assertEquals(0, get(f, fid, 1, 0).cdw0(), "default " + fid);
                assertEquals(1 << 2, get(f, fid, 3, 0).cdw0(), "changeable, not namespace specific");
            }
            assertEquals(NvmeFeatures.ASYNC_EVENTS_DEFAULT, get(f, NvmeFeatures.ASYNC_EVENTS, 0, 0xFFFFFFFF).cdw0());
            assertEquals(NvmeStatus.INVALID_FIELD, set(f, NvmeFeatures.ASYNC_EVENTS, 0x4000, 0).status());
            assertEquals(NvmeStatus.FEATURE_NOT_NAMESPACE_SPECIFIC, set(f, NvmeFeatures.ARBITRATION, 1, 1).status());
            assertEquals(NvmeStatus.INVALID_NAMESPACE, set(f, NvmeFeatures.ERROR_RECOVERY, 1, 0).status());
            assertTrue(set(f, NvmeFeatures.ERROR_RECOVERY, 5, 1).ok());
            assertEquals(1 << 1 | 1 << 2, get(f, NvmeFeatures.ERROR_RECOVERY, 3, 1).cdw0(), "namespace specific");
            assertEquals(NvmeStatus.FEATURE_NOT_SAVEABLE, set(f, NvmeFeatures.ARBITRATION | 1 << 31, 1, 0).status());
            assertEquals(NvmeStatus.INVALID_FIELD, get(f, 0x0C, 0, 0).status(), "autonomous power states: no");
            assertEquals(NvmeStatus.INVALID_FIELD, get(f, NvmeFeatures.ARBITRATION, 4, 0).status(), "select 4");
            assertEquals(NvmeStatus.INVALID_FIELD, get(f, NvmeFeatures.WRITE_CACHE, 0, 0).status(), "RAM: no cache");

            f.driver.write32(NvmeController.CC, 0);
            f.driver.enable(16, 16);
            assertEquals(0, get(f, NvmeFeatures.ARBITRATION, 0, 0).cdw0(), "reset restores defaults");
            assertTrue(set(f, NvmeFeatures.NUMBER_OF_QUEUES, 1 << 16 | 1, 0).ok(), "may be set again after reset");
        }
    }

    @Test
    void interruptVectorConfigurationNeedsAVectorInUse() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "maxq=4").started()) {
            assertEquals(NvmeStatus.INVALID_FIELD, set(f, NvmeFeatures.INTERRUPT_VECTOR, 2, 0).status());
            f.driver.createPair(1, 16, true, 2);
            assertTrue(set(f, NvmeFeatures.INTERRUPT_VECTOR, 2, 0).ok());
            assertEquals(NvmeStatus.INVALID_FIELD, set(f, NvmeFeatures.INTERRUPT_VECTOR, 0, 0).status(),
                    "admin vector without coalescing disable");
            assertTrue(set(f, NvmeFeatures.INTERRUPT_VECTOR, 1 << 16, 0).ok());
        }
    }

    @Test
    void volatileWriteCacheOnFiles() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, 1 << 20).started()) {
            assertEquals(1, get(f, NvmeFeatures.WRITE_CACHE, 0, 0).cdw0(), "on by default");
            assertTrue(set(f, NvmeFeatures.WRITE_CACHE, 0, 0).ok());
            assertEquals(0, get(f, NvmeFeatures.WRITE_CACHE, 0, 0).cdw0());
            MockNvmeDriver.Pair q = f.driver.createPair(1, 8, false, 0);
            long buf = f.guest.alloc(4096, 4096);
            f.guest.memory.putInt(buf, 0x11223344);
            f.driver.submit(q, NvmeIo.WRITE, 1, buf, 0, 0, 0, 0);
            assertTrue(f.driver.await(q).ok(), "write-through works");
            assertEquals(0x44, Files.readAllBytes(f.image)[0]);
        }
    }

    @Test
    void temperatureThresholdRaisesASmartEvent() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4).started()) {
            assertEquals(NvmeStatus.INVALID_FIELD, set(f, NvmeFeatures.TEMPERATURE, 3 << 16 | 300, 0).status(), "TMPSEL 3");
            assertEquals(NvmeStatus.INVALID_FIELD, set(f, NvmeFeatures.TEMPERATURE, 2 << 20 | 300, 0).status(), "THSEL 2");
            int aer = f.driver.submit(f.driver.admin, NvmeAdmin.ASYNC_EVENT_REQUEST, 0, 0, 0);
            assertTrue(set(f, NvmeFeatures.TEMPERATURE, 300, 0).ok(), "over 300 K: not crossed");
            assertTrue(set(f, NvmeFeatures.TEMPERATURE, 290, 0).ok(), "over 290 K: crossed");
            MockNvmeDriver.Completion event = f.driver.await(f.driver.admin);
            assertEquals(aer, event.cid());
            assertEquals(NvmeLogPages.HEALTH << 16 | NvmeLogPages.WARNING_TEMPERATURE << 8 | AsyncEvents.TYPE_SMART,
                    event.cdw0());
            long log = f.guest.alloc(512, 4096);
            assertTrue(f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, log, 0, 127 << 16 | NvmeLogPages.HEALTH).ok());
            assertEquals(NvmeLogPages.WARNING_TEMPERATURE, f.guest.memory.getByte(log));
            assertTrue(set(f, NvmeFeatures.TEMPERATURE, 300, 0).ok());
            assertTrue(f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, log, 0, 127 << 16 | NvmeLogPages.HEALTH).ok());
            assertEquals(0, f.guest.memory.getByte(log), "cleared when no longer crossed");
        }
    }

    @Test
    void maskedSmartEventsWaitForTheConfiguration() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4).started()) {
            assertTrue(set(f, NvmeFeatures.ASYNC_EVENTS, 0, 0).ok());
            int aer = f.driver.submit(f.driver.admin, NvmeAdmin.ASYNC_EVENT_REQUEST, 0, 0, 0);
            assertTrue(set(f, NvmeFeatures.TEMPERATURE, 1 << 20 | 400, 0).ok(), "under 400 K: crossed");
            assertEquals(1, f.controller.events().outstanding(), "masked: the request stays held");
            set(f, NvmeFeatures.ASYNC_EVENTS, 0xFF, 0);
            MockNvmeDriver.Completion c = f.driver.await(f.driver.admin);
            assertEquals(aer, c.cid(), "enabling the warning delivers it");
            assertEquals(AsyncEvents.TYPE_SMART, c.cdw0() & 7);
        }
    }

    @Test
    void asyncEventRequestLimitAndReset() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4).started()) {
            for (int i = 0; i <= AsyncEvents.LIMIT_ZERO_BASED; i++) {
                f.driver.submit(f.driver.admin, NvmeAdmin.ASYNC_EVENT_REQUEST, 0, 0, 0);
            }
            int sixth = f.driver.submit(f.driver.admin, NvmeAdmin.ASYNC_EVENT_REQUEST, 0, 0, 0);
            MockNvmeDriver.Completion c = f.driver.await(f.driver.admin);
            assertEquals(sixth, c.cid());
            assertEquals(NvmeStatus.ASYNC_EVENT_LIMIT_EXCEEDED, c.status());
            assertEquals(5, f.controller.events().outstanding());
            f.driver.write32(NvmeController.CC, 0);
            assertEquals(0, f.controller.events().outstanding(), "reset drops held requests");
        }
    }

    @Test
    void logPages() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4).started()) {
            long log = f.guest.alloc(8192, 4096);
            f.guest.memory.write(log, new byte[] {1, 1, 1, 1});
            assertTrue(f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, log, 0, 15 << 16 | NvmeLogPages.ERROR).ok());
            assertEquals(0, f.guest.memory.getInt(log), "no errors logged");
            assertTrue(f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, log, 0, 127 << 16 | NvmeLogPages.HEALTH).ok());
            assertEquals(296, f.guest.memory.getShort(log + 1), "296 K");
            assertEquals(100, f.guest.memory.getByte(log + 3), "available spare");
            assertEquals(10, f.guest.memory.getByte(log + 4), "spare threshold");
            assertEquals(1, f.guest.memory.getLong(log + 112), "power cycles");
            assertTrue(f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, log, 0, 127 << 16 | NvmeLogPages.FIRMWARE).ok());
            assertEquals(1, f.guest.memory.getByte(log), "active slot 1");
            assertEquals("1.0     ", new String(f.guest.memory.read(log + 8, 8), "US-ASCII"));
            f.guest.memory.putLong(log + 8, -1L);
            assertTrue(f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, log, 0, 1 << 16 | NvmeLogPages.HEALTH, 0, 4).ok(),
                    "8 bytes from offset 4");
            assertEquals(10, f.guest.memory.getByte(log), "offset applied: the spare threshold comes first");
            assertEquals(-1L, f.guest.memory.getLong(log + 8), "no more than asked for");
            assertTrue(f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, log, log + 4096,
                    1023 << 16 | NvmeLogPages.CHANGED_NAMESPACES).ok());
            assertEquals(NvmeStatus.INVALID_LOG_PAGE, f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, log, 0, 0x70).status());
            assertEquals(NvmeStatus.INVALID_FIELD,
                    f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, log, 0, NvmeLogPages.HEALTH, 0, 512).status(), "offset past");
            assertEquals(NvmeStatus.INVALID_FIELD,
                    f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, log, 0, NvmeLogPages.HEALTH, 0, 2).status(), "not dword");
            assertEquals(NvmeStatus.INVALID_FIELD,
                    f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, log, 0, NvmeLogPages.HEALTH, 0x10).status(), "> MDTS");
            assertEquals(NvmeStatus.DATA_TRANSFER_ERROR,
                    f.driver.admin(NvmeAdmin.GET_LOG_PAGE, 0, 1L << 40, 0, NvmeLogPages.HEALTH).status());
        }
    }

    @Test
    void formatNvmChecksAndZeroes() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, 1 << 20, "sectsz=512").started()) {
            assertEquals(NvmeStatus.INVALID_FORMAT, f.driver.admin(NvmeAdmin.FORMAT_NVM, 1, 0, 0, 1).status());
            assertEquals(NvmeStatus.INVALID_FIELD, f.driver.admin(NvmeAdmin.FORMAT_NVM, 1, 0, 0, 2 << 9).status(), "SES 2");
            assertEquals(NvmeStatus.INVALID_FIELD, f.driver.admin(NvmeAdmin.FORMAT_NVM, 1, 0, 0, 1 << 5).status(), "PI");
            assertEquals(NvmeStatus.INVALID_NAMESPACE, f.driver.admin(NvmeAdmin.FORMAT_NVM, 2, 0, 0, 0).status());
            assertEquals(NvmeFixture.expected(4), Files.readAllBytes(f.image)[4]);
            assertTrue(f.driver.admin(NvmeAdmin.FORMAT_NVM, 1, 0, 0, 1 << 9).ok());
            assertArrayEquals(new byte[1 << 20], Files.readAllBytes(f.image), "user data erased");
        }
        try (NvmeFixture f = NvmeFixture.image(dir, 1 << 20, "ro").started()) {
            assertEquals(NvmeStatus.NAMESPACE_WRITE_PROTECTED, f.driver.admin(NvmeAdmin.FORMAT_NVM, 1, 0, 0, 0).status());
        }
    }

    @Test
    void otherAdminCommands() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4).started()) {
            MockNvmeDriver.Completion abort = f.driver.admin(NvmeAdmin.ABORT, 0, 0, 0, 5 << 16 | 1);
            assertTrue(abort.ok());
            assertEquals(1, abort.cdw0() & 1, "nothing aborted");
            assertEquals(NvmeStatus.INVALID_FIRMWARE_SLOT, f.driver.admin(NvmeAdmin.FIRMWARE_COMMIT, 0, 0, 0).status());
            assertEquals(NvmeStatus.INVALID_FIELD, f.driver.admin(0x81, 0, 0, 0).status(), "security send");
            assertEquals(NvmeStatus.INVALID_OPCODE, f.driver.admin(0x11, 0, 0, 0).status(), "firmware download");
            assertEquals(NvmeStatus.INVALID_OPCODE, f.driver.admin(0xC0, 0, 0, 0).status(), "vendor specific");
            MockNvmeDriver.Completion c = f.driver.admin(NvmeAdmin.IDENTIFY, 0, 0, 0, 1);
            assertEquals(f.driver.admin.sqTail, c.sqHead(), "SQ head reported");
            assertEquals(0, c.sqId());
        }
    }
}
