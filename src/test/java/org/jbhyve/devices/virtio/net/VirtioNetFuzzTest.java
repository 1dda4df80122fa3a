package org.jbhyve.devices.virtio.net;

import org.jbhyve.backend.net.FakeNetBackend;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.OptionalInt;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.jbhyve.backend.net.MacAddress;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.virtio.MockDriver;
import org.jbhyve.virtio.MockGuest;
import org.jbhyve.virtio.MockQueue;
import org.jbhyve.virtio.VirtioPci;
import org.jbhyve.virtio.VirtioPciFunction;

/**
 * Hostile drivers on both data queues: random descriptor tables (addresses in and out of RAM,
 * any lengths, any flags including INDIRECT and WRITE in the wrong places, looping next
 * pointers), random heads and random frames and headers from both sides. The device may only
 * drop frames, return chains or set NEEDS_RESET: no worker failure, the VMM goes on.
 */
class VirtioNetFuzzTest {
    private static final long RAM = 256 * 1024;
    private static final int SIZE = 16;

    record Desc(long addr, int len, int flags, int next) {}

    @Provide
    Arbitrary<Desc> descriptor() {
        Arbitrary<Long> addr = Arbitraries.oneOf(Arbitraries.longs().between(0, RAM + 64),
                Arbitraries.longs(), Arbitraries.of(0x20000L, RAM - 12, RAM - 1));
        Arbitrary<Integer> len = Arbitraries.oneOf(Arbitraries.integers().between(0, 2048),
                Arbitraries.integers(), Arbitraries.of(0, 1, 10, 12, 14, 26, 72, 4096, 65548));
        return Combinators.combine(addr, len, Arbitraries.integers().between(0, 7),
                Arbitraries.integers().between(0, SIZE + 2)).as(Desc::new);
    }

    @Provide
    Arbitrary<List<Desc>> table() {
        return descriptor().list().ofMaxSize(SIZE);
    }

    @Provide
    Arbitrary<List<byte[]>> frames() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(3000).list().ofMaxSize(6);
    }

    @Property(tries = 150)
    void hostileQueuesOnlyDropFramesOrBreakTheQueue(@ForAll("table") List<Desc> txTable,
                                                    @ForAll("table") List<Desc> rxTable,
                                                    @ForAll @Size(max = 12) List<@IntRange(max = 20) Integer> txHeads,
                                                    @ForAll @Size(max = 12) List<@IntRange(max = 20) Integer> rxHeads,
                                                    @ForAll("frames") List<byte[]> incoming,
                                                    @ForAll boolean mergeable) throws Exception {
        FakeNetBackend backend = new FakeNetBackend();
        try (MockGuest guest = new MockGuest(RAM)) {
            VirtioNet net = new VirtioNet(backend, MacAddress.generate(2, 0, "fuzz"), OptionalInt.empty());
            VirtioPciFunction function = new VirtioPciFunction(net, guest.memory, guest, GuestDoorbells.NONE, true);
            try {
                MockDriver driver = new MockDriver(function, guest);
                long features = mergeable ? -1L : ~(1L << VirtioNet.F_MRG_RXBUF);
                driver.startModern(features, SIZE, true);
                fill(driver.queues[VirtioNet.TX], txTable, txHeads);
                fill(driver.queues[VirtioNet.RX], rxTable, rxHeads);
                for (byte[] f : incoming) {
                    backend.inject(f, f.length > 10 ? java.util.Arrays.copyOf(f, 10) : null);
                }
                driver.kick(VirtioNet.TX);
                driver.kick(VirtioNet.RX);
                long end = System.nanoTime() + 2_000_000_000L;
                while (!net.idle() && System.nanoTime() < end) {
                    Thread.sleep(1);
                }
                assertTrue(net.idle(), "device settles");
                assertEquals(0, net.workerFailures());
                int status = driver.status();
                assertEquals(VirtioPci.STATUS_DRIVER_OK, status & VirtioPci.STATUS_DRIVER_OK);
                for (byte[] sent : backend.sent()) {
                    assertTrue(sent.length >= 12 + 14, "only frames with a header and an Ethernet header go out");
                }
            } finally {
                function.close();
            }
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
