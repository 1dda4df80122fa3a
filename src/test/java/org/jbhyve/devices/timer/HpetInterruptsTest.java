package org.jbhyve.devices.timer;

import static org.jbhyve.devices.timer.HpetFixture.CFG;
import static org.jbhyve.devices.timer.HpetFixture.CMP;
import static org.jbhyve.devices.timer.HpetFixture.FSB;
import static org.jbhyve.devices.timer.HpetFixture.NANOS;
import static org.jbhyve.devices.timer.HpetFixture.TICKS;
import static org.jbhyve.devices.timer.HpetFixture.route;
import static org.jbhyve.devices.timer.HpetFixture.timer;
import static org.jbhyve.devices.timer.HpetTimer.FSB_EN;
import static org.jbhyve.devices.timer.HpetTimer.INT_ENB;
import static org.jbhyve.devices.timer.HpetTimer.INT_TYPE_LEVEL;
import static org.jbhyve.devices.timer.HpetTimer.MODE32;
import static org.jbhyve.devices.timer.HpetTimer.TYPE_PERIODIC;
import static org.jbhyve.devices.timer.HpetTimer.VAL_SET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class HpetInterruptsTest {
    private final HpetFixture f = new HpetFixture();

    @Test
    void oneShotFiresOnceAtItsComparator() {
        f.enable();
        long t0 = f.now;
        f.write(timer(2, CFG), INT_ENB | route(20));
        f.write(timer(2, CMP), f.counter() + 3 * TICKS);
        assertEquals(OptionalLong.of(t0 + 3 * NANOS), f.hpet.nextWakeup(), "woken exactly at the match");
        f.advance(3 * NANOS - 1);
        assertEquals(0, f.pin(20).rises(), "one nanosecond early");
        f.advance(1);
        assertEquals(1, f.pin(20).rises());
        assertFalse(f.pin(20).level(), "edge-triggered: a pulse");
        assertEquals(0, f.read(Hpet.STATUS), "edge timers leave the status alone");
        f.advance(100_000_000_000L);
        assertEquals(1, f.pin(20).rises(), "a 64-bit one-shot does not match again");
        assertEquals(OptionalLong.empty(), f.hpet.nextWakeup());
        assertEquals(1, f.allRises(), "no other pin moved");
    }

    @Test
    void comparatorAlreadyReachedFiresAtOnceAndPastOneNever() {
        f.enable();
        f.now += 10 * NANOS;
        f.write(timer(2, CFG), INT_ENB | route(22));
        f.write(timer(2, CMP), f.counter());
        f.hpet.runDueTimers();
        assertEquals(1, f.pin(22).rises(), "equal to the counter: matches now");
        f.write(timer(2, CMP), f.counter() - 1);
        f.advance(1000 * NANOS);
        assertEquals(1, f.pin(22).rises(), "a 64-bit comparator behind the counter never matches");
    }

    @Test
    void periodicFiresEveryPeriodAndSkipsMissedOnes() {
        f.enable();
        long t0 = f.now;
        long c0 = f.counter();
        f.write(timer(0, CFG), INT_ENB | TYPE_PERIODIC | VAL_SET | route(21));
        f.write(timer(0, CMP), c0 + TICKS); // VAL_SET: the accumulator
        f.write(timer(0, CMP), TICKS); // then the period
        assertEquals(0, f.read(timer(0, CFG)) & VAL_SET, "VAL_SET clears after the write");
        assertEquals(c0 + TICKS, f.read(timer(0, CMP)));
        for (int i = 1; i <= 5; i++) {
            assertEquals(OptionalLong.of(t0 + i * NANOS), f.hpet.nextWakeup(), "period " + i);
            f.now = t0 + i * NANOS;
            f.hpet.runDueTimers();
            assertEquals(i, f.pin(21).rises());
            assertEquals(c0 + (i + 1) * TICKS, f.read(timer(0, CMP)), "the comparator moves by the period");
        }
        f.now = t0 + 15 * NANOS + 7;
        f.hpet.runDueTimers();
        assertEquals(6, f.pin(21).rises(), "ten periods late: one interrupt");
        assertEquals(c0 + 16 * TICKS, f.read(timer(0, CMP)), "and the next match is still on the period grid");
        assertEquals(OptionalLong.of(t0 + 16 * NANOS), f.hpet.nextWakeup());
    }

    @Test
    void periodicWriteWithoutValSetChangesOnlyThePeriod() {
        f.enable();
        long c0 = f.counter();
        f.write(timer(4, CFG), INT_ENB | TYPE_PERIODIC | VAL_SET | route(23));
        f.write(timer(4, CMP), c0 + TICKS);
        f.write(timer(4, CMP), 2 * TICKS);
        f.write(timer(4, CMP), 3 * TICKS);
        assertEquals(c0 + TICKS, f.read(timer(4, CMP)));
        f.advance(NANOS);
        f.advance(3 * NANOS);
        assertEquals(2, f.pin(23).rises());
        assertEquals(c0 + 7 * TICKS, f.read(timer(4, CMP)), "the last period written is used");
    }

    @Test
    void legacyReplacementRoutesTimers0And1ToPins2And8() {
        f.write(Hpet.CONFIG, Hpet.ENABLE | Hpet.LEGACY);
        long c = f.counter();
        f.write(timer(0, CFG), INT_ENB | route(20) | FSB_EN); // route and FSB have no effect
        f.write(timer(1, CFG), INT_ENB | route(20));
        f.write(timer(2, CFG), INT_ENB | route(20));
        for (int n = 0; n < 3; n++) {
            f.write(timer(n, CMP), c + TICKS);
        }
        f.advance(NANOS);
        assertEquals(1, f.pin(2).rises(), "timer 0: ISA IRQ 0 is I/O APIC pin 2");
        assertEquals(1, f.pin(8).rises(), "timer 1: IRQ 8");
        assertEquals(1, f.pin(20).rises(), "timer 2 keeps its own route");
        assertEquals(List.of(), f.messages);

        f.write(Hpet.CONFIG, Hpet.ENABLE);
        c = f.counter();
        f.write(timer(0, CFG), INT_ENB | route(20));
        f.write(timer(0, CMP), c + TICKS);
        f.advance(NANOS);
        assertEquals(1, f.pin(2).rises());
        assertEquals(2, f.pin(20).rises(), "without LEG_RT_CNF timer 0 uses its route");
    }

    @Test
    void levelTriggeredHoldsTheLineUntilTheStatusBitIsCleared() {
        f.enable();
        f.write(timer(3, CFG), INT_ENB | INT_TYPE_LEVEL | TYPE_PERIODIC | VAL_SET | route(21));
        f.write(timer(3, CMP), f.counter() + TICKS);
        f.write(timer(3, CMP), TICKS);
        f.advance(NANOS);
        assertEquals(1L << 3, f.read(Hpet.STATUS));
        assertTrue(f.pin(21).level());
        f.advance(NANOS);
        assertEquals(1, f.pin(21).rises(), "still held: no new edge");
        f.write(Hpet.STATUS, 1L << 2);
        assertTrue(f.pin(21).level(), "writing 1 to another bit clears nothing of timer 3");
        f.write32(Hpet.STATUS, 1L << 3);
        assertEquals(0, f.read(Hpet.STATUS));
        assertFalse(f.pin(21).level());
        f.advance(NANOS);
        assertEquals(2, f.pin(21).rises(), "the next match raises it again");
        f.write(Hpet.CONFIG, 0);
        assertFalse(f.pin(21).level(), "ENABLE_CNF off masks every interrupt");
        assertEquals(1L << 3, f.read(Hpet.STATUS), "the status stays");
    }

    @Test
    void levelStatusIsSetWithInterruptDisabledAndSharedPinsAreOred() {
        f.enable();
        long c = f.counter();
        f.write(timer(3, CFG), INT_TYPE_LEVEL | route(21));
        f.write(timer(4, CFG), INT_ENB | INT_TYPE_LEVEL | route(21));
        f.write(timer(3, CMP), c + TICKS);
        f.write(timer(4, CMP), c + TICKS);
        f.advance(NANOS);
        assertEquals(0b11000, f.read(Hpet.STATUS), "status set even with Tn_INT_ENB_CNF clear");
        assertTrue(f.pin(21).level());
        f.write(Hpet.STATUS, 1L << 4);
        assertFalse(f.pin(21).level(), "timer 3's interrupt is disabled");
        f.write(timer(3, CFG), INT_ENB | INT_TYPE_LEVEL | route(21));
        assertTrue(f.pin(21).level(), "enabling it with its status set raises the line");
        f.write(timer(4, CMP), f.counter() + TICKS);
        f.advance(NANOS);
        f.write(Hpet.STATUS, 1L << 3);
        assertTrue(f.pin(21).level(), "timer 4 still holds the shared pin");
        f.write(timer(4, CFG), INT_ENB | INT_TYPE_LEVEL | route(22));
        assertFalse(f.pin(21).level(), "re-routing moves the level");
        assertTrue(f.pin(22).level());
        f.write(timer(5, CFG), INT_ENB | route(22));
        f.write(timer(5, CMP), f.counter() + TICKS);
        f.advance(NANOS);
        assertTrue(f.pin(22).level(), "an edge timer's pulse does not drop a pin a level timer holds");
        f.write(timer(4, CFG), INT_ENB | route(22));
        assertFalse(f.pin(22).level(), "switching to edge drops the status and the line");
        assertEquals(0, f.read(Hpet.STATUS));
    }

    @Test
    void fsbDeliverySendsTheRouteRegistersMessage() {
        f.enable();
        f.write(timer(5, FSB), 0xFEE0_0000L << 32 | 0x4041);
        f.write(timer(5, CFG), INT_ENB | INT_TYPE_LEVEL | FSB_EN | route(20));
        f.write(timer(5, CMP), f.counter() + TICKS);
        f.advance(NANOS);
        assertEquals(List.of(new HpetFixture.Message(0xFEE0_0000L, 0x4041)), f.messages);
        assertEquals(0, f.allRises(), "no pin");
        assertEquals(0, f.read(Hpet.STATUS), "FSB messages are edges: no status");
        f.write(timer(5, CFG), FSB_EN);
        f.write(timer(5, CMP), f.counter() + TICKS);
        f.advance(NANOS);
        assertEquals(1, f.messages.size(), "nothing sent with the interrupt disabled");
    }

    @Test
    void mode32ComparesTheLowHalfAndMatchesAgainEachWrap() {
        f.write(Hpet.COUNTER, 0x5_FFFF_FF00L);
        f.write(timer(6, CFG), INT_ENB | MODE32 | route(20));
        f.write(timer(6, CMP), 0x100);
        f.write(timer(7, CFG), INT_ENB | route(23));
        f.write(timer(7, CMP), 0x100); // 64-bit: far behind the counter
        long t0 = f.now;
        f.enable();
        long wrap = 1L << 32; // ticks
        assertEquals(OptionalLong.of(t0 + Hpet.nanosFor(0x200)), f.hpet.nextWakeup(),
                "0x200 ticks ahead across the wrap");
        f.now = t0 + Hpet.nanosFor(0x200);
        f.hpet.runDueTimers();
        assertEquals(1, f.pin(20).rises());
        assertEquals(0x6_0000_0100L, f.counter());
        assertEquals(0x100L, f.read(timer(6, CMP)));
        assertEquals(OptionalLong.of(t0 + Hpet.nanosFor(0x200 + wrap)), f.hpet.nextWakeup(),
                "a one-shot 32-bit comparator matches again when the low half comes round");
        f.now = t0 + Hpet.nanosFor(0x200 + wrap) - 1;
        f.hpet.runDueTimers();
        assertEquals(1, f.pin(20).rises());
        f.advance(1);
        assertEquals(2, f.pin(20).rises(), "256 seconds later");
        assertEquals(0, f.pin(23).rises(), "the 64-bit timer with the same comparator never matched");
    }

    @Test
    void periodic32BitComparatorWraps() {
        f.write(Hpet.COUNTER, 0xFFFF_0000L);
        f.write(timer(2, CFG), INT_ENB | MODE32 | TYPE_PERIODIC | VAL_SET | route(20));
        f.write(timer(2, CMP), 0xFFFF_8000L);
        f.write(timer(2, CMP), TICKS);
        f.enable();
        f.advance(NANOS);
        assertEquals(1, f.pin(20).rises());
        assertEquals(0x0000_0000L, f.read(timer(2, CMP)), "0xFFFF8000 + 0x8000 wraps to 0");
        f.advance(NANOS);
        assertEquals(2, f.pin(20).rises());
        assertEquals(0x8000L, f.read(timer(2, CMP)));
        assertEquals(0x1_0000_0000L, f.counter(), "the main counter itself is 64 bits");
    }

    @Test
    void disablingStopsTimersAndEdgeTimersWithoutInterruptsAreNotWokenFor() {
        f.enable();
        f.write(timer(2, CFG), route(20));
        f.write(timer(2, CMP), f.counter() + TICKS);
        assertEquals(OptionalLong.empty(), f.hpet.nextWakeup(), "nothing to deliver, nothing to wake for");
        f.write(timer(2, CFG), INT_ENB | route(20));
        assertTrue(f.hpet.nextWakeup().isPresent());
        f.write(Hpet.CONFIG, 0);
        assertEquals(OptionalLong.empty(), f.hpet.nextWakeup());
        f.advance(10 * NANOS);
        assertEquals(0, f.pin(20).rises(), "halted: no match");
        f.enable();
        f.advance(NANOS);
        assertEquals(1, f.pin(20).rises(), "the counter resumed where it stopped, so did the timer");
    }
}
