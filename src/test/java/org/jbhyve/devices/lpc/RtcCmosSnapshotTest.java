package org.jbhyve.devices.lpc;

import org.jbhyve.snapshot.CorruptBlobs;
import static org.jbhyve.devices.lpc.RtcCmos.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.ZoneOffset;
import org.jbhyve.devices.lpc.RtcCmosTest.MutableClock;
import org.jbhyve.snapshot.StateRoundTrip;
import org.junit.jupiter.api.Test;

/** The RTC's snapshot: CMOS bytes, the guest's time offset and the interrupt state survive. */
class RtcCmosSnapshotTest {
    private static final long MIB = 1024L * 1024;
    private static final Instant T = Instant.parse("2026-03-14T15:09:26.500Z");

    private final MutableClock clock = new MutableClock(T, ZoneOffset.UTC);
    private final RecordingIrqLine irq = new RecordingIrqLine();
    private final RtcCmos rtc = new RtcCmos(256 * MIB, 0, true, clock, irq);

    private static int reg(RtcCmos rtc, int r) {
        rtc.write(0, 1, r);
        return (int) rtc.read(1, 1);
    }

    private static void set(RtcCmos rtc, int r, int v) {
        rtc.write(0, 1, r);
        rtc.write(1, 1, v);
    }

    /** NVRAM in both banks written, the hour set to 03, periodic interrupts on and one pending. */
    private void busy() {
        set(rtc, 0x40, 0x77);
        rtc.write(2, 1, 0x10);
        rtc.write(3, 1, 0x55);
        set(rtc, HOUR, 0x03);
        set(rtc, REG_B, B_24H | B_PIE);
        clock.advance(1);
        rtc.tick();
        rtc.write(0, 1, 0x41); // leave the index somewhere else
    }

    @Test
    void nvramTimeAndAPendingPeriodicInterruptSurvive() {
        busy();
        assertTrue(irq.level());
        RecordingIrqLine freshIrq = new RecordingIrqLine();
        MutableClock freshClock = new MutableClock(clock.instant(), ZoneOffset.UTC);
        RtcCmos fresh = new RtcCmos(256 * MIB, 0, true, freshClock, freshIrq);
        StateRoundTrip.assertRoundTrip(rtc, fresh);

        assertTrue(freshIrq.level(), "IRQ 8 is driven to the saved level");
        assertEquals(0x00, fresh.read(1, 1), "index 0x41 kept: an NVRAM byte never written");
        assertEquals(0x77, reg(fresh, 0x40));
        assertEquals(0x55, fresh.read(3, 1), "the extended index and bank");
        assertEquals(0x03, reg(fresh, HOUR), "the guest's own time");
        assertEquals(0x27, reg(fresh, SEC));
        int c = reg(fresh, REG_C);
        assertEquals(C_IRQF | C_PF, c & (C_IRQF | C_PF));
        assertFalse(freshIrq.level(), "reading C lowers the line");

        freshClock.advance(30);
        assertEquals(0x57, reg(fresh, SEC), "the clock keeps running from the saved offset");
        assertEquals(0x03, reg(fresh, HOUR));
    }

    @Test
    void aLaterHostTimeMovesTheGuestClockOnByTheSameAmount() {
        busy();
        byte[] blob = StateRoundTrip.save(rtc);
        MutableClock later = new MutableClock(clock.instant().plusSeconds(3600), ZoneOffset.UTC);
        RtcCmos fresh = new RtcCmos(256 * MIB, 0, true, later, new RecordingIrqLine());
        StateRoundTrip.restore(fresh, 1, blob);
        assertEquals(0x04, reg(fresh, HOUR), "an hour later, as a battery-backed clock");
        assertEquals(C_UF, reg(fresh, REG_C) & C_UF, "the update that happened meanwhile is latched");
    }

    @Test
    void damagedBlobsGiveOnlySnapshotExceptions() {
        busy();
        CorruptBlobs.assertOnlySnapshotExceptions(
                () -> new RtcCmos(256 * MIB, 0, true, new MutableClock(T, ZoneOffset.UTC), new RecordingIrqLine()),
                StateRoundTrip.save(rtc));
    }
}
