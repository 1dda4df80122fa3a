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

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.OptionalLong;
import org.jbhyve.snapshot.CorruptBlobs;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.snapshot.StateRoundTrip;
import org.junit.jupiter.api.Test;

/** The HPET's snapshot: registers, a counter that goes on from its saved value, timers re-armed. */
class HpetSnapshotTest {
    private static final int COUNTER_AT = 16; // GEN_CONF and GINTR_STA come first

    private final HpetFixture f = new HpetFixture();

    /**
     * Enabled; timer 0 periodic (one interrupt on pin 21 already delivered), timer 2 a level
     * interrupt on pin 20 that fired and is still active, timer 5 an FSB one-shot far ahead,
     * timer 3 a 32-bit one-shot.
     */
    private void busy() {
        f.enable();
        long c0 = f.counter();
        f.write(timer(0, CFG), INT_ENB | TYPE_PERIODIC | VAL_SET | route(21));
        f.write(timer(0, CMP), c0 + TICKS);
        f.write(timer(0, CMP), TICKS);
        f.write(timer(2, CFG), INT_ENB | INT_TYPE_LEVEL | route(20));
        f.write(timer(2, CMP), c0 + 2 * TICKS);
        f.write(timer(5, FSB), 0xFEE0_0000L << 32 | 0x41);
        f.write(timer(5, CFG), INT_ENB | FSB_EN);
        f.write(timer(5, CMP), c0 + 1000 * TICKS);
        f.write(timer(3, CFG), MODE32);
        f.write(timer(3, CMP), 0x1234_5678L);
        f.advance(2 * NANOS + 5);
    }

    private static long savedCounter(byte[] blob) {
        return ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN).getLong(COUNTER_AT);
    }

    @Test
    void aRunningHpetGoesOnFromItsSavedCounterWithItsTimersArmed() {
        busy();
        assertEquals(1, f.pin(21).rises());
        assertTrue(f.pin(20).level());
        long counter = f.counter();
        long comparator0 = f.read(timer(0, CMP));

        HpetFixture g = new HpetFixture();
        g.now = 1_000; // a new process on a host whose clock is far behind
        byte[] blob = StateRoundTrip.assertRoundTrip(f.hpet, g.hpet);
        assertEquals(counter, savedCounter(blob));

        assertTrue(g.pin(20).level(), "the level interrupt is active again");
        assertEquals(1L << 2, g.read(Hpet.STATUS));
        assertEquals(Hpet.ENABLE, g.read(Hpet.CONFIG));
        assertEquals(counter, g.counter(), "the counter goes on from the saved value");
        assertEquals(comparator0, g.read(timer(0, CMP)));
        assertEquals(0xFEE0_0000L << 32 | 0x41, g.read(timer(5, FSB)));
        assertEquals(0x1234_5678L, g.read(timer(3, CMP)));
        OptionalLong wake = g.hpet.nextWakeup();
        assertTrue(wake.isPresent(), "the periodic timer is re-armed");
        assertEquals(1_000 + NANOS, wake.getAsLong(), "at its next period (the 5 ns past a tick were less than a tick)");

        g.advance(NANOS);
        assertTrue(g.counter() > counter, "and keeps counting");
        assertEquals(1, g.pin(21).rises(), "the next period fires on the restored device");
        g.write(Hpet.STATUS, 1L << 2);
        assertFalse(g.pin(20).level(), "clearing the status lowers the restored level");
    }

    @Test
    void aStoppedHpetKeepsItsCounterStill() {
        f.write(Hpet.COUNTER, 0x1_0000_0000L);
        f.write(Hpet.CONFIG, Hpet.LEGACY);
        HpetFixture g = new HpetFixture();
        StateRoundTrip.assertRoundTrip(f.hpet, g.hpet);
        g.now += 10 * NANOS;
        assertEquals(0x1_0000_0000L, g.counter());
        assertEquals(Hpet.LEGACY, g.read(Hpet.CONFIG));
        assertEquals(OptionalLong.empty(), g.hpet.nextWakeup());
    }

    @Test
    void savesWhileTheThreadFiresAreWholeAndTheCounterNeverGoesBack() throws Exception {
        IrqLine none = level -> {};
        try (Hpet live = new Hpet(pin -> none, (address, data) -> {})) {
            live.write(Hpet.CONFIG, 8, Hpet.ENABLE);
            long c0 = live.read(Hpet.COUNTER, 8);
            live.write(timer(0, CFG), 8, INT_ENB | TYPE_PERIODIC | VAL_SET | route(21));
            live.write(timer(0, CMP), 8, c0 + 1_000);
            live.write(timer(0, CMP), 8, 1_000); // about every 60 µs
            live.write(timer(1, CFG), 8, INT_ENB | INT_TYPE_LEVEL | route(22));
            live.write(timer(1, CMP), 8, c0 + 3_000);
            long last = 0;
            for (int i = 0; i < 200; i++) {
                byte[] blob = StateRoundTrip.save(live);
                long counter = savedCounter(blob);
                assertTrue(counter >= last, "save " + i + ": the counter went back");
                last = counter;
                HpetFixture g = new HpetFixture();
                StateRoundTrip.restore(g.hpet, 1, blob);
                long comparator = g.read(timer(0, CMP));
                assertTrue(comparator - g.counter() <= 1_000, "save " + i + ": the periodic comparator is on its grid");
                Thread.sleep(0, 50_000);
            }
        }
    }

    @Test
    void damagedBlobsGiveOnlySnapshotExceptions() {
        busy();
        CorruptBlobs.assertOnlySnapshotExceptions(() -> new HpetFixture().hpet, StateRoundTrip.save(f.hpet));
    }
}
