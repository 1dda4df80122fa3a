package org.jbhyve.devices.virtio.scsi;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPci;

/**
 * A hostile driver: random CDBs (any opcode, any field) with data buffers of random size and
 * direction, random targets and LUNs and config sizes; and random descriptor tables (addresses
 * in and out of RAM, any lengths and flags, loops, indirect tables) on the request and control
 * queues. Every well-formed chain gets exactly one answer that is a proper SCSI status or virtio
 * response; nothing throws out of the device, no command fails with an exception, and a broken
 * ring only sets NEEDS_RESET.
 */
class VirtioScsiFuzzTest {
    private static final int RAM = 1 << 20;

    record Cmd(int target, int lun, byte[] cdb, int out, int in) {}

    @Provide
    Arbitrary<Cmd> command() {
        Arbitrary<Integer> opcode = Arbitraries.oneOf(Arbitraries.integers().between(0, 255),
                Arbitraries.of(0x00, 0x03, 0x08, 0x0A, 0x12, 0x15, 0x1A, 0x1B, 0x25, 0x28, 0x2A, 0x2F, 0x35, 0x42,
                        0x55, 0x5A, 0x88, 0x8A, 0x91, 0x93, 0x9E, 0xA0, 0xA8, 0xAA));
        Arbitrary<byte[]> rest = Arbitraries.oneOf(Arbitraries.bytes().array(byte[].class).ofSize(31),
                Arbitraries.bytes().between((byte) 0, (byte) 3).array(byte[].class).ofSize(31));
        Arbitrary<byte[]> cdb = Combinators.combine(opcode, rest).as((op, r) -> {
            byte[] c = new byte[32];
            c[0] = (byte) (int) op;
            System.arraycopy(r, 0, c, 1, 31);
            return c;
        });
        Arbitrary<Integer> size = Arbitraries.oneOf(Arbitraries.integers().between(0, 600),
                Arbitraries.of(0, 8, 16, 18, 36, 512, 1024, 4096, 8192));
        return Combinators.combine(Arbitraries.of(0, 0, 0, 1, 255), Arbitraries.of(0, 0, 1, 2, 300, 16383),
                cdb, size, size).as(Cmd::new);
    }

    @Property(tries = 60)
    void randomCommandsAlwaysGetAnAnswer(@ForAll @Size(max = 24) List<@net.jqwik.api.From("command") Cmd> cmds,
                                         @ForAll boolean readOnly) throws Exception {
        Path dir = Files.createTempDirectory("vscsi-fuzz");
        try (ScsiRig rig = new ScsiRig(Map.of(0, new BlockOptions(ScsiRig.image(dir, "a.img", 256).toString(),
                readOnly, false, false, 0, 0, false, 2), 2, ScsiRig.options(ScsiRig.image(dir, "b.img", 64), false, true)))) {
            for (Cmd c : cmds) {
                byte[] out = c.out() > 0 ? new byte[c.out()] : null;
                if (out != null) {
                    new Random(c.out()).nextBytes(out);
                }
                ScsiRig.Reply r = rig.command(c.target(), c.lun(), c.cdb(), out, c.in());
                if (c.target() != 0) {
                    assertEquals(VirtioScsi.S_BAD_TARGET, r.response());
                    continue;
                }
                assertTrue(r.response() == VirtioScsi.S_OK || r.response() == VirtioScsi.S_OVERRUN,
                        "response " + r.response());
                if (r.response() == VirtioScsi.S_OK) {
                    assertTrue(r.status() == ScsiSense.GOOD || r.status() == ScsiSense.CHECK_CONDITION);
                    assertEquals(r.status() == ScsiSense.GOOD ? 0 : 18, r.senseLength());
                    assertTrue(r.residual() <= Math.max(c.in(), c.out()));
                }
                assertTrue(r.used() >= 108 && r.used() <= 108 + c.in(), "used length " + r.used());
            }
            rig.assertNoFailures();
            assertEquals(0, rig.device.inProgress());
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    record Desc(long addr, int len, int flags, int next) {}

    @Provide
    Arbitrary<Desc> descriptor() {
        Arbitrary<Long> addr = Arbitraries.oneOf(Arbitraries.longs().between(0, RAM + 64), Arbitraries.longs(),
                Arbitraries.of(0x80000L, 0x80040L, RAM - 51L, RAM - 1L));
        Arbitrary<Integer> len = Arbitraries.oneOf(Arbitraries.integers().between(0, 700), Arbitraries.integers(),
                Arbitraries.of(0, 1, 12, 24, 51, 108, 512, 65536));
        return Combinators.combine(addr, len, Arbitraries.integers().between(0, 7),
                Arbitraries.integers().between(0, 18)).as(Desc::new);
    }

    @Property(tries = 80)
    void hostileRingsOnlyFailRequestsOrBreakTheQueue(@ForAll @Size(max = 16) List<@net.jqwik.api.From("descriptor") Desc> requests,
                                                     @ForAll @Size(max = 16) List<@net.jqwik.api.From("descriptor") Desc> controls,
                                                     @ForAll @Size(max = 10) List<@IntRange(max = 20) Integer> requestHeads,
                                                     @ForAll @Size(max = 6) List<@IntRange(max = 20) Integer> controlHeads,
                                                     @ForAll @IntRange(max = 300) int senseSize,
                                                     @ForAll @IntRange(max = 300) int cdbSize,
                                                     @ForAll long seed) throws Exception {
        Path dir = Files.createTempDirectory("vscsi-fuzz");
        try (ScsiRig rig = ScsiRig.of(ScsiRig.options(ScsiRig.image(dir, "a.img", 128), false, false))) {
            byte[] junk = new byte[0x10000];
            new Random(seed).nextBytes(junk);
            for (int i = 0; i < junk.length; i += 51) {
                junk[i] = 1; // many headers look like target 0
                if (i + 1 < junk.length) {
                    junk[i + 1] = 0;
                }
            }
            rig.guest.memory.write(0x80000, junk);
            rig.driver.modern().write(0x2000 + 20, 4, senseSize);
            rig.driver.modern().write(0x2000 + 24, 4, cdbSize);
            fill(rig.driver.queues[ScsiRig.REQUEST], requests, requestHeads);
            fill(rig.driver.queues[VirtioScsi.CONTROL], controls, controlHeads);
            rig.driver.kick(ScsiRig.REQUEST);
            rig.driver.kick(VirtioScsi.CONTROL);
            rig.driver.kick(VirtioScsi.EVENT);
            rig.driver.kick(7); // no such queue
            long end = System.nanoTime() + 3_000_000_000L;
            while (rig.device.inProgress() != 0 && System.nanoTime() < end) {
                Thread.sleep(1);
            }
            assertEquals(0, rig.device.inProgress(), "device settles");
            assertEquals(0, rig.device.failures());
            assertEquals(VirtioPci.STATUS_DRIVER_OK, rig.driver.status() & VirtioPci.STATUS_DRIVER_OK);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    private static void fill(MockQueue q, List<Desc> table, List<Integer> heads) {
        for (int i = 0; i < table.size(); i++) {
            Desc d = table.get(i);
            q.writeDescriptor(i, d.addr(), d.len(), d.flags(), d.next());
        }
        for (int h : heads) {
            q.publish(h);
        }
    }
}
