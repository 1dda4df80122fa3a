package org.jbhyve.devices.storage.nvme;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.jbhyve.memory.GuestMemory;

/**
 * A hostile guest: random admin and I/O commands with random data pointers, queue ids, sizes,
 * flags and namespaces, random doorbell and register writes, random PRP lists. Nothing may escape
 * the controller (an unexpected exception inside it would complete the command with Internal
 * Error), every command completes once under its own id with the status its fields call for, and
 * the controller still works afterwards.
 *
 * <p>The driver's queues live in the first megabyte of the 4 MiB guest; the random data pointers
 * that land in RAM land above it (or anywhere outside RAM), so the device's DMA cannot scribble
 * over the test's own bookkeeping. The last property lets the chaos reach everything.
 */
class NvmeHostilePropertiesTest {
    private static final long GUEST = 4 << 20;
    private static final long DATA = 1 << 20;

    record Cmd(int opcode, int flags, int nsid, long prp1, long prp2, int cdw10, int cdw11, int cdw12, int cdw13) {}

    private static Arbitrary<Long> pointers() {
        return Arbitraries.oneOf(
                Arbitraries.longs().between(DATA / 4096, GUEST / 4096 - 1).map(p -> p * 4096),
                Arbitraries.longs().between(DATA, GUEST - 1).map(p -> p & ~3L),
                Arbitraries.longs().between(GUEST - 8192, GUEST + 8192),
                Arbitraries.longs(),
                Arbitraries.of(GUEST - 4096, GUEST - 8, GUEST, -4096L, DATA + 2));
    }

    private static Arbitrary<Integer> dwords() {
        return Arbitraries.oneOf(Arbitraries.integers(), Arbitraries.integers().between(0, 70),
                Arbitraries.integers().between(0, 0xFF).map(v -> v << 16 | 1), Arbitraries.of(0, 1, -1, 0xFFFF));
    }

    private static Arbitrary<List<Cmd>> commands(Arbitrary<Integer> opcode) {
        Arbitrary<Integer> flags = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.just(0)), net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0, 255)));
        Arbitrary<Integer> nsid = Arbitraries.oneOf(Arbitraries.of(0, 1, 1, 1, 2, 0xFFFFFFFF), Arbitraries.integers());
        Arbitrary<Integer> lba = Arbitraries.oneOf(Arbitraries.integers().between(0, 1100), Arbitraries.integers());
        Arbitrary<Integer> count = Arbitraries.oneOf(Arbitraries.integers().between(0, 600), Arbitraries.integers());
        Arbitrary<int[]> head = Combinators.combine(opcode, flags).as((o, fl) -> new int[] {o, fl});
        return Combinators.combine(head, nsid, pointers(), pointers(), lba, dwords(), count, dwords())
                .as((h, ns, p1, p2, c10, c11, c12, c13) -> new Cmd(h[0], h[1], ns, p1, p2, c10, c11, c12, c13))
                .list().ofMinSize(1).ofMaxSize(12);
    }

    @Provide
    Arbitrary<List<Cmd>> adminCommands() {
        return commands(Arbitraries.oneOf(
                Arbitraries.of(0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0A, 0x10, 0x80, 0x81, 0x84),
                Arbitraries.integers().between(0, 255).filter(o -> o != NvmeAdmin.ASYNC_EVENT_REQUEST)));
    }

    @Provide
    Arbitrary<List<Cmd>> ioCommands() {
        return commands(Arbitraries.oneOf(Arbitraries.of(0x00, 0x01, 0x02, 0x08, 0x09),
                Arbitraries.integers().between(0, 255)));
    }

    @Property(tries = 60)
    void hostileAdminCommandsCompleteWithErrors(@ForAll("adminCommands") List<Cmd> cmds) throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, GUEST, "maxq=4", "qsz=64").started()) {
            for (Cmd c : cmds) {
                int cid = submit(f, f.driver.admin, c);
                MockNvmeDriver.Completion done = f.driver.await(f.driver.admin);
                assertEquals(cid, done.cid());
                assertNotEquals(NvmeStatus.INTERNAL_ERROR, done.status(), "something escaped: " + c);
                if ((c.flags() & 0xC3) != 0) {
                    assertEquals(NvmeStatus.INVALID_FIELD, done.status(), "SGL or fused: " + c);
                }
            }
            assertUsable(f);
        }
    }

    @Property(tries = 60)
    void hostileIoCommandsCompleteWithTheRightErrors(@ForAll("ioCommands") List<Cmd> cmds) throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, GUEST, "maxq=2", "dsm=enable").started()) {
            MockNvmeDriver.Pair q = f.driver.createPair(1, 16, true, 1);
            for (Cmd c : cmds) {
                int cid = submit(f, q, c);
                MockNvmeDriver.Completion done = f.driver.await(q);
                assertEquals(cid, done.cid());
                assertEquals(1, done.sqId());
                List<Integer> allowed = expectedIo(c);
                assertTrue(allowed.contains(done.status()),
                        "status " + Integer.toHexString(done.status()) + " for " + c + ", wanted one of " + allowed);
            }
            assertUsable(f);
        }
    }

    /** The statuses a command may get from its fields (the PRPs decide between the last ones). */
    private static List<Integer> expectedIo(Cmd c) {
        if (c.nsid() != 1) {
            return List.of(NvmeStatus.INVALID_NAMESPACE | NvmeStatus.DNR);
        }
        if ((c.flags() & 0xC3) != 0) {
            return List.of(NvmeStatus.INVALID_FIELD);
        }
        long blocks = 1024; // 4 MiB of 4 KiB blocks
        long lba = Integer.toUnsignedLong(c.cdw10()) | (long) c.cdw11() << 32;
        long n = (c.cdw12() & 0xFFFF) + 1L;
        boolean outOfRange = lba < 0 || lba >= blocks || n > blocks - lba;
        return switch (c.opcode()) {
            case NvmeIo.READ, NvmeIo.WRITE -> n * 4096 > NvmeIo.MAX_TRANSFER ? List.of(NvmeStatus.INVALID_FIELD)
                    : outOfRange ? List.of(NvmeStatus.LBA_OUT_OF_RANGE)
                    : (c.prp1() & 3) != 0 ? List.of(NvmeStatus.INVALID_FIELD)
                    : List.of(NvmeStatus.SUCCESS, NvmeStatus.DATA_TRANSFER_ERROR);
            case NvmeIo.WRITE_ZEROES -> List.of(outOfRange ? NvmeStatus.LBA_OUT_OF_RANGE : NvmeStatus.SUCCESS);
            case NvmeIo.FLUSH -> List.of(NvmeStatus.SUCCESS);
            case NvmeIo.DATASET_MANAGEMENT ->
                    List.of(NvmeStatus.SUCCESS, NvmeStatus.DATA_TRANSFER_ERROR, NvmeStatus.LBA_OUT_OF_RANGE);
            default -> List.of(NvmeStatus.INVALID_OPCODE);
        };
    }

    @Provide
    Arbitrary<List<long[]>> registerWrites() {
        Arbitrary<Long> offset = Arbitraries.oneOf(Arbitraries.longs().between(0, 0x4000),
                Arbitraries.longs().between(0x1000, 0x1100), Arbitraries.of(0x0CL, 0x10L, 0x1008L, 0x100CL, 0x1004L));
        Arbitrary<Long> size = Arbitraries.of(1L, 2L, 4L, 8L, 4L, 4L);
        Arbitrary<Long> value = Arbitraries.oneOf(Arbitraries.longs(), Arbitraries.longs().between(0, 300));
        return Combinators.combine(offset, size, value).as((o, s, v) -> new long[] {o, s, v}).list().ofMaxSize(40);
    }

    @Property(tries = 60)
    void randomDoorbellAndRegisterWritesAreHarmless(@ForAll("registerWrites") List<long[]> writes) throws Exception {
        try (NvmeFixture f = NvmeFixture.ram(4, GUEST, "maxq=4").started()) {
            f.driver.createPair(1, 16, true, 1);
            for (long[] w : writes) {
                long from = w[0];
                long to = w[0] + w[1];
                boolean control = from < NvmeController.CC + 4 && to > NvmeController.CC;
                boolean adminBell = from < NvmeController.DOORBELLS + 8 && to > NvmeController.DOORBELLS;
                if (!control && !adminBell) { // the driver keeps its admin queue; the rest is fair game
                    f.driver.registers.write(w[0], (int) w[1], w[2]);
                }
                f.driver.registers.read(w[0], (int) w[1]);
            }
            f.driver.write32(NvmeController.INTMC, -1);
            assertUsable(f);
        }
    }

    @Property(tries = 40)
    void chaosOnEveryRegisterNeverThrows(@ForAll("registerWrites") List<long[]> writes,
                                         @ForAll @Size(max = 6) List<@From("adminCommands") List<Cmd>> garbage) {
        try (NvmeFixture f = NvmeFixture.ram(4, GUEST, "maxq=2")) {
            f.driver.enableDevice();
            long ring = f.guest.alloc(8192, 4096); // a plausible admin queue full of random commands
            f.driver.write32(NvmeController.AQA, 15 << 16 | 15);
            f.driver.registers.write(NvmeController.ASQ, 8, ring);
            f.driver.registers.write(NvmeController.ACQ, 8, ring + 4096);
            int slot = 0;
            for (List<Cmd> batch : garbage) {
                for (Cmd c : batch) {
                    long at = ring + 64L * (slot++ % 16);
                    f.guest.memory.putInt(at, c.opcode() | c.flags() << 8);
                    f.guest.memory.putInt(at + 4, c.nsid());
                    f.guest.memory.putLong(at + 24, c.prp1());
                    f.guest.memory.putLong(at + 32, c.prp2());
                    f.guest.memory.putInt(at + 40, c.cdw10());
                    f.guest.memory.putInt(at + 44, c.cdw11());
                    f.guest.memory.putInt(at + 48, c.cdw12());
                }
            }
            f.driver.write32(NvmeController.CC, 1);
            for (long[] w : writes) {
                f.driver.registers.write(w[0], (int) w[1], w[2]);
                f.driver.registers.read(w[0] ^ 4, (int) w[1]);
                f.driver.msixTable.write(w[0] & 0x1FFF, (int) w[1], w[2]);
            }
        }
    }

    @Property(tries = 400)
    void prpWalkStaysInsideRam(@ForAll("listPointer") long prp1, @ForAll("listPointer") long prp2,
                               @ForAll("transferLength") long length,
                               @ForAll @Size(max = 64) List<@From("listEntry") Long> entries) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment low = arena.allocate(64 * 1024, 4096);
            MemorySegment high = arena.allocate(64 * 1024, 4096);
            GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, low),
                    new GuestMemory.Region(0x20000, high)));
            for (int i = 0; i < entries.size(); i++) {
                if (memory.contains(prp2 + 8L * i, 8)) {
                    memory.putLong(prp2 + 8L * i, entries.get(i));
                }
            }
            MemorySegment[] segs = new MemorySegment[Prp.maxSegments(length)];
            int n = Prp.map(memory, prp1, prp2, length, segs);
            if (n >= 0) {
                long total = 0;
                for (int i = 0; i < n; i++) {
                    total += segs[i].byteSize();
                    assertTrue(inside(segs[i], low) || inside(segs[i], high));
                }
                assertEquals(length, total);
                assertEquals(0, prp1 & 3, "PRP1 must be dword aligned");
            } else {
                assertTrue(n == Prp.BAD_PRP1 || n == Prp.BAD_ENTRY);
            }
        }
    }

    @Provide
    Arbitrary<Long> listPointer() {
        return Arbitraries.oneOf(Arbitraries.longs().between(0, 0x30000), Arbitraries.longs(),
                Arbitraries.longs().between(0, 0x2F).map(p -> p * 4096), Arbitraries.of(0xFFF8L, 0x2FFF8L, 0x10000L, 0x1FFCL));
    }

    @Provide
    Arbitrary<Long> listEntry() {
        return Arbitraries.oneOf(Arbitraries.longs().between(0, 0x2F).map(p -> p * 4096), Arbitraries.longs(),
                Arbitraries.longs().between(0, 0x30000));
    }

    @Provide
    Arbitrary<Long> transferLength() {
        return Arbitraries.oneOf(Arbitraries.longs().between(1, 3 * 4096), Arbitraries.longs().between(1, 300 * 1024),
                Arbitraries.of(4096L, 8192L, 12288L, 2L << 20));
    }

    private static boolean inside(MemorySegment s, MemorySegment region) {
        return s.address() >= region.address() && s.address() + s.byteSize() <= region.address() + region.byteSize();
    }

    private static int submit(NvmeFixture f, MockNvmeDriver.Pair q, Cmd c) {
        return f.driver.submitWithFlags(q, c.opcode(), c.flags(), c.nsid(), c.prp1(), c.prp2(), c.cdw10(), c.cdw11(),
                c.cdw12(), c.cdw13());
    }

    /** The controller still answers an Identify on its admin queue. */
    private static void assertUsable(NvmeFixture f) throws Exception {
        long buf = f.guest.alloc(4096, 4096);
        MockNvmeDriver.Completion c = f.driver.admin(NvmeAdmin.IDENTIFY, 0, buf, 0, 1);
        assertTrue(c.ok(), "identify after the storm: " + Integer.toHexString(c.status()));
        assertEquals(0xFB5D, f.guest.memory.getShort(buf) & 0xFFFF);
    }
}
