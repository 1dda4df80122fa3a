package org.jbhyve.devices.usb;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.Size;
import org.jbhyve.devices.usb.XhciDriver.Event;
import org.jbhyve.devices.usb.XhciDriver.Ring;

/**
 * Random TRBs on the command ring, the control endpoint and the interrupt endpoint, and random
 * register writes: whatever the guest writes, nothing throws out of the device, every command
 * gets exactly one completion, DMA stays out of memory no TRB names, and a controller reset
 * followed by a clean bring-up works afterwards.
 */
class XhciHostilePropertiesTest {
    private static final long RAM = 1 << 20;
    private static final long WINDOW = RAM / 2;           // random buffer pointers land at or above here

    /** A controller brought up to a configured tablet, with a canary page below the window. */
    private static final class Rig implements AutoCloseable {
        final XhciDriver d = new XhciDriver(RAM).start();
        final Ring ep0 = d.new Ring(32);
        final Ring intr;
        final int slot;
        final long canary;

        Rig() {
            slot = d.addressTablet(ep0);
            intr = d.configureTablet(ep0, slot);
            canary = d.guest.alloc(4096, 4096);
            assertTrue(canary + 4096 <= WINDOW);
            d.guest.ram.asSlice(canary, 4096).fill((byte) 0x5A);
        }

        boolean canaryIntact() {
            MemorySegment c = d.guest.ram.asSlice(canary, 4096);
            for (long i = 0; i < 4096; i++) {
                if (c.get(ValueLayout.JAVA_BYTE, i) != 0x5A) {
                    return false;
                }
            }
            return true;
        }

        /** HCRST and a clean bring-up: the controller still works. */
        void assertServes() {
            XhciDriver fresh = d;
            fresh.start();
            Ring ring = fresh.new Ring(8);
            int s = fresh.addressTablet(ring);
            long buf = fresh.guest.alloc(18, 8);
            List<Event> ev = fresh.control(ring, s, XhciDriver.setup(0x80, 6, 0x0100, 0, 18), buf, 18);
            assertEquals(Trb.CC_SUCCESS, ev.getLast().code());
            assertEquals(18, fresh.guest.memory.getByte(buf));
        }

        @Override
        public void close() {
            d.close();
        }
    }

    /** One TRB as software might write it: a pointer, a status word, a type and flag bits. */
    record RandomTrb(long parameter, int status, int type, int flags) {
        int control(int slot) {
            return (flags & ~(0x3F << 10) & 0x00FFFFFE) | type << 10 | slot << 24;
        }
    }

    @Provide
    Arbitrary<RandomTrb> trbs() {
        Arbitrary<Long> pointer = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.longs().between(WINDOW, RAM - 1)),
                Tuple.of(1, Arbitraries.longs().between(RAM - 64, RAM + 4096)),
                Tuple.of(1, Arbitraries.longs()),
                Tuple.of(1, Arbitraries.of(0L, -16L, 0xFFFFFFF0L)));
        Arbitrary<Integer> status = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.integers().between(0, 64)),
                Tuple.of(1, Arbitraries.integers().between(0, 0x1FFFF)),
                Tuple.of(1, Arbitraries.integers()));
        Arbitrary<Integer> type = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.integers().between(1, 17)),
                Tuple.of(1, Arbitraries.of(23, 6)),
                Tuple.of(1, Arbitraries.integers().between(0, 63)));
        Arbitrary<Integer> flags = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.of(0, Trb.IDT, Trb.IOC, Trb.CHAIN, Trb.ISP | Trb.IOC, Trb.IDT | 3 << 16,
                        Trb.DIR_IN | Trb.ISP, Trb.BSR, Trb.TOGGLE_CYCLE, 3 << 16, 1 << 17)),
                Tuple.of(1, Arbitraries.integers()));
        return Combinators.combine(pointer, status, type, flags).as(RandomTrb::new);
    }

    @Property(tries = 120)
    void randomCommandsEachCompleteOnce(@ForAll @Size(max = 6) List<@net.jqwik.api.From("trbs") RandomTrb> cmds,
                                        @ForAll @net.jqwik.api.constraints.IntRange(max = 70) int slotBias) {
        try (Rig rig = new Rig()) {
            for (RandomTrb t : cmds) {
                if (t.type() == Trb.LINK) {
                    continue;                       // a Link TRB is ring structure, not a command
                }
                int slot = slotBias % 3 == 0 ? rig.slot : slotBias;
                long at = rig.d.commands.put(t.parameter(), t.status(), t.control(slot));
                rig.d.doorbell(0, 0);
                Event e = rig.d.nextEvent();
                assertNotNull(e, "a completion for " + t);
                assertEquals(at, e.parameter());
                assertNull(rig.d.nextEvent(), "exactly one");
            }
            assertTrue(rig.canaryIntact());
            rig.assertServes();
        }
    }

    @Property(tries = 150)
    void randomTransferTrbsFailOnlyTheirEndpoint(@ForAll @Size(max = 8) List<@net.jqwik.api.From("trbs") RandomTrb> trbs,
                                                 @ForAll boolean interrupt,
                                                 @ForAll boolean motion,
                                                 @ForAll("requests") long setup) {
        try (Rig rig = new Rig()) {
            Ring ring = interrupt ? rig.intr : rig.ep0;
            if (!interrupt && setup != 0) {                // a real request, so data stages get exercised
                ring.put(setup, 8, Trb.SETUP_STAGE << 10 | Trb.IDT | 3 << 16);
            }
            for (RandomTrb t : trbs) {
                ring.put(t.parameter(), t.status(), t.control(0));
            }
            rig.d.doorbell(rig.slot, interrupt ? 3 : 1);
            if (motion) {
                rig.d.tablet.pointer(7, 3, 4, 10, 10);
            }
            List<Event> events = rig.d.drain();
            for (Event e : events) {
                assertTrue(e.type() == Trb.TRANSFER_EVENT || e.type() == Trb.PORT_STATUS_CHANGE, "event " + e);
            }
            assertTrue(rig.canaryIntact());
            rig.assertServes();
        }
    }

    @Provide
    Arbitrary<Long> requests() {
        return Arbitraries.of(0L, XhciDriver.setup(0x80, 6, 0x0100, 0, 18), XhciDriver.setup(0x80, 6, 0x0200, 0, 255),
                XhciDriver.setup(0x81, 6, 0x2200, 0, 74), XhciDriver.setup(0x00, 9, 1, 0, 0),
                XhciDriver.setup(0x21, 0x0A, 0, 0, 0), XhciDriver.setup(0xA1, 1, 0x0100, 0, 6),
                XhciDriver.setup(0x80, 6, 0x0600, 0, 10), XhciDriver.setup(0x00, 48, 0, 0, 6));
    }

    @Property(tries = 100)
    void randomRegisterWritesNeverThrow(@ForAll @Size(max = 40) List<@net.jqwik.api.From("writes") long[]> writes) {
        try (Rig rig = new Rig()) {
            for (long[] w : writes) {
                int size = (int) w[2];
                rig.d.bar.write(w[0], size, w[1]);
                rig.d.bar.read(w[0], size);
            }
            rig.d.tablet.pointer(1, 2, 3, 4, 5);
            assertTrue(rig.canaryIntact());
            rig.assertServes();
        }
    }

    @Provide
    Arbitrary<long[]> writes() {
        Arbitrary<Long> offset = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.longs().between(0, XhciLayout.BAR_SIZE - 1).map(o -> o & ~3L)),
                Tuple.of(1, Arbitraries.longs().between(-8, XhciLayout.BAR_SIZE + 8)));
        Arbitrary<Long> value = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.longs()),
                Tuple.of(1, Arbitraries.longs().between(WINDOW, RAM)),
                Tuple.of(1, Arbitraries.of(0L, 1L, 0xFFFFFFFFL, -1L)));
        return Combinators.combine(offset, value, Arbitraries.of(1L, 2L, 4L, 8L)).as((o, v, s) -> new long[] {o, v, s});
    }
}
