package org.jbhyve.devices.storage.nvme;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Identify data as a driver reads it: serial, model, limits, namespace size, LBA format, EUI-64. */
class NvmeIdentifyTest {
    @TempDir
    Path dir;

    private static ByteBuffer identify(NvmeFixture f, int cns, int nsid, int expectedStatus) throws Exception {
        long buf = f.guest.alloc(4096, 4096);
        MockNvmeDriver.Completion c = f.driver.admin(NvmeAdmin.IDENTIFY, nsid, buf, 0, cns);
        assertEquals(expectedStatus, c.status(), "identify CNS " + cns + " NSID " + nsid);
        return ByteBuffer.wrap(f.guest.memory.read(buf, 4096)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String text(ByteBuffer b, int at, int length) {
        byte[] s = new byte[length];
        b.get(at, s);
        return new String(s, StandardCharsets.US_ASCII);
    }

    @Test
    void controllerDataCarriesSerialModelAndLimits() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, 1 << 20, "ser=SER-12345678901234567890", "maxq=4").started()) {
            ByteBuffer b = identify(f, 1, 0, 0);
            assertEquals(0xFB5D, b.getShort(0) & 0xFFFF);
            assertEquals("SER-1234567890123456", text(b, 4, 20), "serial cut to 20 characters");
            assertEquals("bhyve-NVMe" + " ".repeat(30), text(b, 24, 40));
            assertEquals("1.0     ", text(b, 64, 8));
            assertEquals(9, b.get(77), "MDTS 2 MiB");
            assertEquals(0x00010400, b.getInt(80));
            assertEquals(1, b.get(111), "I/O controller");
            assertEquals(2, b.getShort(256), "OACS: Format NVM");
            assertEquals(4, b.get(259), "AERL");
            assertEquals(0x66, b.get(512) & 0xFF);
            assertEquals(0x44, b.get(513) & 0xFF);
            assertEquals(1, b.getInt(516), "one namespace");
            assertEquals(NvmeIdentify.ONCS_DSM | NvmeIdentify.ONCS_WRITE_ZEROES, b.getShort(520),
                    "a file can deallocate: DSM offered (dsm=auto)");
            assertEquals(0x05, b.get(525), "volatile write cache present, no broadcast flush");
            assertEquals("nqn.2013-12.org.freebsd:bhyve-testvm-0-4-0", text(b, 768, 42));
        }
    }

    @Test
    void shortSerialIsSpacePaddedAndDefaultsFollowBhyve() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "ser=ABC").started()) {
            ByteBuffer b = identify(f, 1, 0, 0);
            assertEquals("ABC" + " ".repeat(17), text(b, 4, 20));
            assertEquals(NvmeIdentify.ONCS_WRITE_ZEROES, b.getShort(520), "RAM cannot deallocate: no DSM");
            assertEquals(0x04, b.get(525), "RAM: no volatile cache");
        }
        try (NvmeFixture f = NvmeFixture.ram(4).started()) {
            assertEquals("NVME-4-0" + " ".repeat(12), text(identify(f, 1, 0, 0), 4, 20));
        }
    }

    @Test
    void dsmOptionControlsOncs() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, 1 << 20, "dsm=disable").started()) {
            assertEquals(0, identify(f, 1, 0, 0).getShort(520) & NvmeIdentify.ONCS_DSM);
        }
        try (NvmeFixture f = NvmeFixture.ram(4, "dsm=enable").started()) {
            assertEquals(NvmeIdentify.ONCS_DSM, identify(f, 1, 0, 0).getShort(520) & NvmeIdentify.ONCS_DSM);
        }
    }

    @Test
    void namespaceSizeAndFormatFollowSectsz() throws Exception {
        try (NvmeFixture f = NvmeFixture.image(dir, 1 << 20, "sectsz=512").started()) {
            ByteBuffer b = identify(f, 0, 1, 0);
            assertEquals(2048, b.getLong(0), "NSZE");
            assertEquals(2048, b.getLong(8), "NCAP");
            assertEquals(2048, b.getLong(16), "NUSE");
            assertEquals(0, b.get(25), "one LBA format");
            assertEquals(0, b.get(26), "format 0 in use");
            assertEquals(9, b.get(130), "LBADS 512");
            assertEquals(0, b.get(99), "writable");
        }
        try (NvmeFixture f = NvmeFixture.image(dir, 1 << 20, "sectsz=4096", "ro").started()) {
            ByteBuffer b = identify(f, 0, 1, 0);
            assertEquals(256, b.getLong(0));
            assertEquals(12, b.get(130));
            assertEquals(1, b.get(99), "read-only image: write protected");
        }
        try (NvmeFixture f = NvmeFixture.ram(8).started()) {
            ByteBuffer b = identify(f, 0, 1, 0);
            assertEquals(2048, b.getLong(0), "ram= uses 4096-byte sectors");
            assertEquals(12, b.get(130));
        }
    }

    @Test
    void eui64FromTheOptionOrDerivedLikeBhyve() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, "eui64=0x0011223344556677").started()) {
            ByteBuffer b = identify(f, 0, 1, 0).order(ByteOrder.BIG_ENDIAN);
            assertEquals(0x0011223344556677L, b.getLong(120));
            ByteBuffer d = identify(f, 3, 1, 0).order(ByteOrder.BIG_ENDIAN);
            assertEquals(1, d.get(0), "EUI-64 descriptor");
            assertEquals(8, d.get(1));
            assertEquals(0x0011223344556677L, d.getLong(4));
            assertEquals(0, d.getLong(12), "nothing after it");
        }
        try (NvmeFixture f = NvmeFixture.ram(4).started()) {
            long eui = identify(f, 0, 1, 0).order(ByteOrder.BIG_ENDIAN).getLong(120);
            int crc = NvmeOptions.crc16("testvm040".getBytes(StandardCharsets.US_ASCII));
            assertEquals((0x589cfc200000L | crc) << 16 | 1, eui, "FreeBSD NVMe OUI, CRC-16 of name+bus+slot+func, NSID");
        }
        assertEquals(0xBB3D, NvmeOptions.crc16("123456789".getBytes(StandardCharsets.US_ASCII)), "CRC-16/ARC check value");
    }

    @Test
    void namespaceListsAndBadRequests() throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4).started()) {
            ByteBuffer list = identify(f, 2, 0, 0);
            assertEquals(1, list.getInt(0));
            assertEquals(0, list.getInt(4));
            assertEquals(0, identify(f, 2, 1, 0).getInt(0), "no namespace above 1");
            identify(f, 0, 2, NvmeStatus.INVALID_NAMESPACE);
            identify(f, 0, 0xFFFFFFFF, NvmeStatus.INVALID_NAMESPACE);
            identify(f, 3, 7, NvmeStatus.INVALID_NAMESPACE);
            identify(f, 0x13, 0, 0);
            identify(f, 0x05, 0, NvmeStatus.INVALID_FIELD);
            MockNvmeDriver.Completion c = f.driver.admin(NvmeAdmin.IDENTIFY, 0, 1L << 40, 0, 1);
            assertEquals(NvmeStatus.DATA_TRANSFER_ERROR, c.status(), "buffer outside RAM");
        }
    }
}
