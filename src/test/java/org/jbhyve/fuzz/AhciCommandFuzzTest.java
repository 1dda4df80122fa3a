package org.jbhyve.fuzz;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.devices.storage.ahci.AhciController;
import org.jbhyve.devices.storage.ahci.AhciDrive;
import org.jbhyve.devices.storage.ahci.AhciDriver;
import org.jbhyve.virtio.MockGuest;
import org.junit.jupiter.api.Test;

/**
 * AHCI commands: the input is one command slot's contents as a guest writes them: the command
 * header's flags dword (CFL, ATAPI, write, PRDTL), the 64-byte command FIS area, the 16-byte
 * ATAPI packet, up to 8 PRDT entries, then the port (disk or CD), the slot and whether the
 * command is queued (PxSACT). Seeds are IDENTIFY (PACKET) DEVICE, READ/WRITE DMA EXT, NCQ
 * READ/WRITE FPDMA QUEUED, SET FEATURES, FLUSH, and ATAPI INQUIRY, READ(10), READ CAPACITY,
 * MODE SENSE, GET CONFIGURATION, whose PRDTs point into a data window; mutations hit opcodes,
 * counts, LBAs, PRDT lengths and addresses (outside RAM, straddling its end).
 *
 * <p>A crash is an exception out of a register write, an escaped exception on the block
 * backend's workers, the command neither completing nor failing with a task file error
 * within 5 s, DMA into a canary page no PRDT seed names, or either port not serving IDENTIFY
 * after the port's recovery.
 */
class AhciCommandFuzzTest {
    private static final long RAM = 4 << 20;
    private static final long WINDOW = 2 << 20;
    private static final int CMD = 0x18, CI = 0x38, SACT = 0x34, IS = 0x10, TFD = 0x20;
    private static final int HEADER = 4 + 64 + 16 + 8 * 16 + 3;

    static byte[] command(int flags, byte[] fis, byte[] cdb, int port, int slot, boolean queued, long[]... prdt) {
        ByteBuffer b = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, flags | prdt.length << 16);
        b.put(4, fis);
        if (cdb != null) {
            b.put(68, cdb);
        }
        for (int i = 0; i < prdt.length; i++) {
            b.putLong(84 + 16 * i, prdt[i][0]).putInt(84 + 16 * i + 12, (int) prdt[i][1] - 1);
        }
        b.put(HEADER - 3, (byte) port).put(HEADER - 2, (byte) slot).put(HEADER - 1, (byte) (queued ? 1 : 0));
        return b.array();
    }

    static List<byte[]> seeds() {
        long[] buf = {WINDOW, 512};
        long[] big = {WINDOW + 0x1000, 8192};
        List<byte[]> s = new ArrayList<>();
        s.add(command(5, AhciDriver.fis(0xEC, 0, 0, 0, 0), null, 0, 0, false, buf));
        s.add(command(5 | 1 << 5, AhciDriver.fis(0xA1, 0, 0, 0, 0), null, 1, 1, false, buf));
        s.add(command(5, AhciDriver.fis(0x25, 0, 7, 16, 0x40), null, 0, 2, false, buf, big));
        s.add(command(5 | 1 << 6, AhciDriver.fis(0x35, 0, 3, 2, 0x40), null, 0, 3, false, big));
        s.add(command(5, AhciDriver.fis(0x60, 4, 9, 5 << 3, 0x40), null, 0, 5, true, big));
        s.add(command(5 | 1 << 6, AhciDriver.fis(0x61, 2, 11, 6 << 3, 0x40), null, 0, 6, true, big));
        s.add(command(5, AhciDriver.fis(0xEF, 0x03, 0, 0x46, 0), null, 0, 7, false));
        s.add(command(5, AhciDriver.fis(0xEA, 0, 0, 0, 0), null, 0, 8, false));
        byte[] packet = AhciDriver.fis(0xA0, 1, 0, 0, 0);
        s.add(command(5 | 1 << 5, packet, new byte[] {0x12, 0, 0, 0, 36, 0}, 1, 9, false, buf));
        s.add(command(5 | 1 << 5, packet, new byte[] {0x28, 0, 0, 0, 0, 16, 0, 0, 2, 0}, 1, 10, false, big));
        s.add(command(5 | 1 << 5, packet, new byte[] {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1, 11, false, buf));
        s.add(command(5 | 1 << 5, packet, new byte[] {0x5A, 0, 0x2A, 0, 0, 0, 0, 0, (byte) 0xFF, 0}, 1, 12, false, buf));
        s.add(command(5 | 1 << 5, packet, new byte[] {0x46, 2, 0, 0, 0, 0, 0, 2, 0, 0}, 1, 13, false, big));
        s.add(command(5 | 1 << 5, packet, new byte[] {0x43, 2, 0, 0, 0, 0, 0, 0, 100, 0}, 1, 14, false, buf));
        return s;
    }

    static final class Target implements Fuzz.Target {
        private final Path dir;
        private final MockGuest guest = new MockGuest(RAM);
        private final AhciController hba;
        private final AhciDriver driver;
        private final AhciDriver.Port[] ports = new AhciDriver.Port[2];
        private final long canary;
        private final long identify;

        Target() throws IOException {
            dir = Files.createTempDirectory("fuzz-ahci");
            Path disk = dir.resolve("disk.img");
            Path iso = dir.resolve("cd.iso");
            Files.write(disk, new byte[256 * 1024]);
            byte[] cd = new byte[64 * 2048];
            System.arraycopy(new byte[] {1, 'C', 'D', '0', '0', '1', 1}, 0, cd, 16 * 2048, 7);
            Files.write(iso, cd);
            hba = new AhciController(Map.of(
                    0, AhciDrive.disk(BlockBackend.open(new BlockOptions(disk.toString(), false, false, false, 0, 0, false, 2))),
                    1, AhciDrive.cd(BlockBackend.open(new BlockOptions(iso.toString(), true, false, false, 0, 0, false, 2)))),
                    guest.memory, guest);
            driver = new AhciDriver(hba, guest);
            for (int n = 0; n < 2; n++) {
                ports[n] = driver.port(n);
                ports[n].start();
            }
            canary = guest.alloc(4096, 4096);
            guest.ram.asSlice(canary, 4096).fill((byte) 0x5A);
            identify = guest.alloc(512, 512);
        }

        @Override
        public List<byte[]> seeds() {
            return AhciCommandFuzzTest.seeds();
        }

        @Override
        public int maxRandomLength() {
            return HEADER;
        }

        @Override
        public void run(byte[] input) {
            byte[] in = Fuzz.fit(input, HEADER);
            ByteBuffer b = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN);
            AhciDriver.Port p = ports[in[HEADER - 3] & 1];
            int slot = in[HEADER - 2] & 31;
            boolean queued = (in[HEADER - 1] & 1) != 0;
            long table = p.tables[slot];
            guest.ram.asSlice(table, AhciDriver.TABLE_SIZE).fill((byte) 0);
            guest.memory.write(table, Fuzz.slice(in, 4, 84));
            guest.memory.write(table + 0x80, Fuzz.slice(in, 84, 84 + 8 * 16));
            long header = p.list + 32L * slot;
            guest.memory.putInt(header, b.getInt(0));
            guest.memory.putInt(header + 4, 0);
            guest.memory.putLong(header + 8, table);
            p.reg(IS, -1);
            if (queued) {
                p.reg(SACT, 1 << slot);
            }
            p.reg(CI, 1 << slot);
            long end = System.nanoTime() + 5_000_000_000L;
            while ((p.reg(CI) & 1 << slot) != 0 && (p.reg(SACT) & 1 << slot) != 0 == queued
                    && (p.reg(IS) & 1 << 30) == 0) {
                if (System.nanoTime() > end) {
                    throw new AssertionError("the command neither completed nor failed: CI "
                            + Integer.toHexString(p.reg(CI)) + " SACT " + Integer.toHexString(p.reg(SACT)));
                }
                Thread.onSpinWait();
            }
            p.recover();
            MemorySegment c = guest.ram.asSlice(canary, 4096);
            for (long i = 0; i < 4096; i++) {
                if (c.get(ValueLayout.JAVA_BYTE, i) != 0x5A) {
                    c.fill((byte) 0x5A);
                    long prdt = table + 0x80;
                    boolean named = false;
                    for (int e = 0; e < 8; e++) {
                        long a = guest.memory.getLong(prdt + 16L * e);
                        long n = (guest.memory.getInt(prdt + 16L * e + 12) & 0x3FFFFF) + 1L;
                        named |= a < canary + 4096 && a + n > canary;
                    }
                    if (!named) {
                        throw new AssertionError("DMA into a page no PRDT entry names");
                    }
                    break;
                }
            }
            for (int n = 0; n < 2; n++) {
                AhciDriver.Port q = ports[n];
                if ((q.reg(CMD) & 1) == 0 || (q.reg(TFD) & 0x89) != 0) {
                    q.start();
                }
                int status = q.run(0, AhciDriver.fis(n == 0 ? 0xEC : 0xA1, 0, 0, 0, 0), null, false,
                        new AhciDriver.Prd(identify, 512));
                if (status != 0x50) {
                    throw new AssertionError("port " + n + " answers IDENTIFY with status " + Integer.toHexString(status));
                }
            }
        }

        @Override
        public void close() throws IOException {
            hba.close();
            guest.close();
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    @Test
    void hostileCommandsFailOnlyThemselves() throws Exception {
        Fuzz.check("AHCI commands", 2000, new Target());
    }
}
