package org.jbhyve.devices.storage.ahci;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.devices.storage.ahci.AhciDriver.Prd;

/**
 * Hostile guests: command tables with random FISes, packets and PRDTs (entries outside RAM,
 * straddling its end, 4 MiB long, tables longer than RAM), random slots and SActive bits, and
 * random register writes. Whatever the guest does, nothing throws out of the device, every
 * command completes or fails with a task file error, DMA touches only what the PRDT names, and
 * the controller serves a well-formed command afterwards.
 */
class AhciHostilePropertiesTest {
    private static final long RAM = 2 << 20;
    private static final long WINDOW = RAM / 2;          // PRDT data buffers point at or above here
    private static final int[] OPCODES = {0xEC, 0xA1, 0xA0, 0x20, 0x24, 0x25, 0x29, 0x30, 0x34, 0x35, 0x39, 0xC4,
        0xC5, 0xC8, 0xCA, 0x60, 0x61, 0x64, 0x06, 0xE7, 0xEA, 0x2F, 0x47, 0xEF, 0xC6, 0xE5, 0x40, 0x00, 0xFF};
    private static final int[] PACKETS = {0x00, 0x03, 0x12, 0x1B, 0x1E, 0x25, 0x28, 0xA8, 0x43, 0x46, 0x4A, 0x5A,
        0xA0, 0x2A, 0xAA, 0xBE, 0xFF};
    private static Path dir;
    private static Path disk;
    private static Path iso;

    @BeforeContainer
    static void images() throws IOException {
        dir = Files.createTempDirectory("ahci-props");
        try (AhciFixture f = new AhciFixture(dir, 4096)) {
            disk = f.disk("disk.img", 256 * 1024);
            iso = f.iso("cd.iso", 32);
        }
    }

    @AfterContainer
    static void removeImages() throws IOException {
        try (var files = Files.list(dir)) {
            files.forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        Files.delete(dir);
    }

    /** A controller with the disk on port 0 and the CD on port 1; backends kept for draining. */
    private static final class Rig implements AutoCloseable {
        final AhciFixture f = new AhciFixture(dir, RAM);
        final AhciDrive hd = AhciFixture.hd(disk);
        final AhciDrive cd = AhciFixture.cd(iso);
        final long canary;

        Rig() {
            f.start(Map.of(0, hd, 1, cd));
            canary = f.guest.alloc(4096, 4096);
            f.guest.ram.asSlice(canary, 4096).fill((byte) 0x5A);
        }

        /** Waits until every request already queued on both backends has finished. */
        void drain() throws InterruptedException {
            for (BlockBackend b : List.of(hd.backend(), cd.backend())) {
                CountDownLatch all = new CountDownLatch(4);
                for (int i = 0; i < 4; i++) {
                    b.submit(() -> {
                        all.countDown();
                        try {
                            all.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                }
                assertTrue(all.await(10, TimeUnit.SECONDS), "backend drained");
            }
        }

        boolean canaryIntact() {
            MemorySegment c = f.guest.ram.asSlice(canary, 4096);
            for (long i = 0; i < 4096; i++) {
                if (c.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != 0x5A) {
                    return false;
                }
            }
            return true;
        }

        /** A well-formed IDENTIFY (PACKET) on each port, after a fresh start of the port. */
        void assertServes() {
            for (int n = 0; n < 2; n++) {
                AhciDriver.Port p = f.driver.port(n);
                p.start();
                long buf = f.guest.alloc(512, 512);
                assertEquals(0x50, p.run(0, AhciDriver.fis(n == 0 ? 0xEC : 0xA1, 0, 0, 0, 0), null, false,
                        new Prd(buf, 512)), "port " + n + " serves IDENTIFY");
            }
        }

        @Override
        public void close() {
            f.close();
        }
    }

    record Entry(long address, int dbc) {}

    @Provide
    Arbitrary<Entry> entries() {
        Arbitrary<Long> address = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.longs().between(WINDOW, RAM - 65536)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(RAM - 4096, RAM + 4096)),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(RAM, 1L << 48)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(-2L, 1L << 63, 0xFFFFFFFFL)));
        Arbitrary<Integer> dbc = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, Arbitraries.integers().between(511, 16383)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, (1 << 22) - 1)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers()));
        return Combinators.combine(address, dbc).as(Entry::new);
    }

    @Provide
    Arbitrary<Integer> opcodes() {
        return Arbitraries.oneOf(Arbitraries.of(java.util.Arrays.stream(OPCODES).boxed().toList()),
                Arbitraries.integers().between(0, 255));
    }

    @Provide
    Arbitrary<Integer> packets() {
        return Arbitraries.oneOf(Arbitraries.of(java.util.Arrays.stream(PACKETS).boxed().toList()),
                Arbitraries.integers().between(0, 255));
    }

    @Property(tries = 150)
    void hostileCommandTablesFailOnlyThatCommand(@ForAll @IntRange(max = 1) int port,
                                                 @ForAll @IntRange(max = 31) int slot,
                                                 @ForAll("opcodes") int command,
                                                 @ForAll("packets") int packet,
                                                 @ForAll @Size(20) List<Byte> fisBytes,
                                                 @ForAll @Size(16) List<Byte> cdbBytes,
                                                 @ForAll @Size(max = 6) List<@net.jqwik.api.From("entries") Entry> prdt,
                                                 @ForAll @IntRange(max = 4096) int claimedEntries,
                                                 @ForAll boolean honestCount,
                                                 @ForAll boolean queued,
                                                 @ForAll boolean sane,
                                                 @ForAll @IntRange(max = 600) int lba,
                                                 @ForAll @IntRange(min = 1, max = 8) int count) throws Exception {
        try (Rig rig = new Rig()) {
            AhciDriver.Port p = rig.f.driver.port(port);
            p.start();
            p.reg(AhciPort.IE, -1);
            long table = p.tables[slot];
            byte[] fis = new byte[20];
            for (int i = 0; i < 20; i++) {
                fis[i] = fisBytes.get(i);
            }
            fis[0] = 0x27;
            fis[1] |= (byte) 0x80;
            fis[2] = (byte) command;
            List<Entry> entries = prdt;
            if (sane) {                                  // a plausible request, so transfers happen too
                int op = port == 1 ? 0xA0 : OPCODES[Math.floorMod(command, OPCODES.length)];
                boolean ncq = op == 0x60 || op == 0x61;
                byte[] plausible = AhciDriver.fis(op, ncq ? count : fis[3] & 0xFF, lba, ncq ? slot << 3 : count, 0x40);
                System.arraycopy(plausible, 0, fis, 0, 14);
                entries = new java.util.ArrayList<>(prdt);
                entries.addFirst(new Entry(WINDOW + 4096L * slot, 0xFFFF));
            }
            rig.f.guest.memory.write(table, fis);
            byte[] cdb = new byte[16];
            for (int i = 0; i < 16; i++) {
                cdb[i] = cdbBytes.get(i);
            }
            cdb[0] = (byte) packet;
            if (sane) {
                cdb[0] = (byte) PACKETS[Math.floorMod(packet, PACKETS.length)];
                cdb[1] = 1;
                cdb[2] = cdb[3] = 0;
                cdb[4] = (byte) 0x10;
                cdb[5] = (byte) (lba / 32);
                cdb[6] = cdb[7] = 0;
                cdb[8] = (byte) count;
            }
            rig.f.guest.memory.write(table + 0x40, cdb);
            for (int i = 0; i < entries.size(); i++) {
                rig.f.guest.memory.putLong(table + 0x80 + 16L * i, entries.get(i).address());
                rig.f.guest.memory.putInt(table + 0x80 + 16L * i + 12, entries.get(i).dbc());
            }
            int prdtl = honestCount || sane ? entries.size() : claimedEntries;
            long header = p.list + 32L * slot;
            rig.f.guest.memory.putInt(header, 5 | prdtl << 16 | (port == 1 ? 1 << 5 : 0));
            rig.f.guest.memory.putLong(header + 8, table);
            if (queued) {
                p.reg(AhciPort.SACT, 1 << slot);
            }
            p.reg(AhciPort.CI, 1 << slot);
            p.waitDone(slot);
            p.recover();                                 // ST off waits for anything in flight (CR)
            rig.drain();
            assertTrue(rig.canaryIntact(), "DMA outside the PRDT");
            rig.assertServes();
        }
    }

    @Property(tries = 120)
    void randomRegisterTrafficNeverBreaksTheController(
            @ForAll @Size(max = 40) List<@IntRange(max = 0x4FF) Integer> offsets,
            @ForAll @Size(max = 40) List<Integer> values,
            @ForAll @Size(max = 40) List<@IntRange(min = 0, max = 3) Integer> widths) throws Exception {
        try (Rig rig = new Rig()) {
            var abar = rig.f.hba.bars().getFirst().handler();
            int n = Math.min(offsets.size(), Math.min(values.size(), widths.size()));
            for (int i = 0; i < n; i++) {
                int size = 1 << widths.get(i);
                int offset = offsets.get(i) & ~(i % 3 == 0 ? 0 : size - 1);
                abar.write(offset, size, Integer.toUnsignedLong(values.get(i)));
                abar.read(offsets.get(i), size);
            }
            for (int port = 0; port < AhciController.MIN_PORTS; port++) {
                AhciDriver.Port p = rig.f.driver.port(port);
                p.reg(AhciPort.CMD, 0);
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while ((p.reg(AhciPort.CMD) & AhciPort.CMD_CR) != 0) {
                    assertTrue(System.nanoTime() < end, "port " + port + " never stopped");
                    Thread.onSpinWait();
                }
            }
            rig.drain();
            rig.f.driver.write(AhciController.GHC, AhciController.GHC_HR);
            rig.assertServes();
        }
    }

    @Property(tries = 400)
    void thePrdtWalkYieldsExactlyTheRequestedBytesInsideRamOrNothing(
            @ForAll @Size(max = 8) List<@net.jqwik.api.From("entries") Entry> prdt,
            @ForAll @IntRange(max = 0xFFFF) int claimedEntries,
            @ForAll @IntRange(max = 16 << 20) int length) {
        try (AhciFixture f = new AhciFixture(dir, RAM)) {
            long table = (RAM - 0x80 - 16 * 8) & ~127L;        // the last table that fits in RAM
            for (int i = 0; i < prdt.size(); i++) {
                f.guest.memory.putLong(table + 0x80 + 16L * i, prdt.get(i).address());
                f.guest.memory.putInt(table + 0x80 + 16L * i + 12, prdt.get(i).dbc());
            }
            long header = f.guest.alloc(32, 32);
            f.guest.memory.putInt(header, 5 | Math.min(claimedEntries, prdt.size()) << 16);
            f.guest.memory.putLong(header + 8, table);
            AhciCommand c = AhciCommand.read(null, f.guest.memory, 0, 0, header);
            assertNotNull(c);
            MemorySegment[] parts = c.buffers(length);
            if (parts != null) {
                long total = 0;
                for (MemorySegment s : parts) {
                    assertTrue(s.byteSize() > 0 && s.byteSize() <= 1 << 22);
                    total += s.byteSize();
                }
                assertEquals(length, total);
            }
            int copied = c.copyOut(new byte[Math.min(length, 1 << 16)], Math.min(length, 1 << 16));
            assertTrue(copied >= -1 && copied <= Math.min(length, 1 << 16));
            // The copy may have overwritten the header: an entry that points into the table has
            // the copy rewrite the entries after it, one of which may then point at the header.
            f.guest.memory.putInt(header, 5 | claimedEntries << 16);
            f.guest.memory.putLong(header + 8, table);
            AhciCommand tooLong = AhciCommand.read(null, f.guest.memory, 0, 0, header);
            assertEquals(table + 0x80 + 16L * claimedEntries > RAM, tooLong == null, "a table running past RAM");
        }
    }
}
