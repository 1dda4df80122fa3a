package org.jbhyve.devices.lpc;

import static org.jbhyve.devices.lpc.RtcCmos.*;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class RtcCmosTest {
    private static final long MIB = 1024L * 1024;
    private static final long GIB = 1024 * MIB;
    // 2026-03-14 15:09:26.5 UTC, a Saturday; in Europe/Paris (UTC+1 in March) 16:09:26.
    private static final Instant T = Instant.parse("2026-03-14T15:09:26.500Z");
    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

    private static MutableClock clock(Instant t) {
        return new MutableClock(t, PARIS);
    }

    private static int reg(RtcCmos rtc, int r) {
        rtc.write(0, 1, r);
        return (int) rtc.read(1, 1);
    }

    private static void set(RtcCmos rtc, int r, int v) {
        rtc.write(0, 1, r);
        rtc.write(1, 1, v);
    }

    @Test
    void localTimeInBcdAnd24HourByDefault() {
        RtcCmos rtc = new RtcCmos(256 * MIB, 0, false, clock(T));
        assertEquals(0x26, reg(rtc, SEC));
        assertEquals(0x09, reg(rtc, MIN));
        assertEquals(0x16, reg(rtc, HOUR), "Paris is UTC+1");
        assertEquals(0x07, reg(rtc, DOW), "Saturday = 7");
        assertEquals(0x14, reg(rtc, DAY));
        assertEquals(0x03, reg(rtc, MONTH));
        assertEquals(0x26, reg(rtc, YEAR));
        assertEquals(0x20, reg(rtc, CENTURY));
        assertEquals(0x26, reg(rtc, REG_A));
        assertEquals(0x02, reg(rtc, REG_B));
        assertEquals(0x80, reg(rtc, REG_D));
    }

    @Test
    void utcWhenConfigured() {
        RtcCmos rtc = new RtcCmos(256 * MIB, 0, true, clock(T));
        assertEquals(0x15, reg(rtc, HOUR));
    }

    @Test
    void binaryAnd12HourModes() {
        RtcCmos rtc = new RtcCmos(256 * MIB, 0, true, clock(T));
        set(rtc, REG_B, B_DM_BINARY | B_24H);
        assertEquals(26, reg(rtc, SEC));
        assertEquals(15, reg(rtc, HOUR));
        assertEquals(26, reg(rtc, YEAR));
        set(rtc, REG_B, B_DM_BINARY);
        assertEquals(0x80 | 3, reg(rtc, HOUR), "3 PM");
        set(rtc, REG_B, 0);
        assertEquals(0x80 | 0x03, reg(rtc, HOUR), "3 PM in BCD");
        RtcCmos midnight = new RtcCmos(256 * MIB, 0, true, clock(Instant.parse("2026-01-01T00:30:00Z")));
        set(midnight, REG_B, 0);
        assertEquals(0x12, reg(midnight, HOUR), "00:30 is 12 AM");
    }

    @Test
    void guestSetTimeIsKeptAsAnOffsetAndKeepsRunning() {
        MutableClock c = clock(T);
        RtcCmos rtc = new RtcCmos(256 * MIB, 0, true, c);
        set(rtc, REG_B, B_SET | B_24H);
        set(rtc, HOUR, 0x08);
        set(rtc, MIN, 0x00);
        set(rtc, SEC, 0x00);
        set(rtc, DAY, 0x01);
        set(rtc, MONTH, 0x01);
        set(rtc, YEAR, 0x99);
        set(rtc, CENTURY, 0x19);
        assertEquals(0x08, reg(rtc, HOUR), "frozen while SET");
        set(rtc, REG_B, B_24H);
        assertEquals(0x99, reg(rtc, YEAR));
        assertEquals(0x19, reg(rtc, CENTURY));
        c.advance(65);
        assertEquals(0x01, reg(rtc, MIN));
        assertEquals(0x05, reg(rtc, SEC));
        assertEquals(0x08, reg(rtc, HOUR));
    }

    @Test
    void singleFieldWriteWithoutSetAndInvalidTimesIgnored() {
        RtcCmos rtc = new RtcCmos(256 * MIB, 0, true, clock(T));
        set(rtc, MIN, 0x42);
        assertEquals(0x42, reg(rtc, MIN));
        assertEquals(0x15, reg(rtc, HOUR));
        set(rtc, MONTH, 0x13); // month 13
        assertEquals(0x03, reg(rtc, MONTH));
        set(rtc, SEC, 0x5A); // bad BCD
        assertEquals(0x26, reg(rtc, SEC));
    }

    @Test
    void updateInProgressNearTheEndOfASecond() {
        assertEquals(0, reg(new RtcCmos(0, 0, true, clock(T)), REG_A) & A_UIP);
        Instant late = Instant.parse("2026-03-14T15:09:26.999900Z");
        assertEquals(A_UIP, reg(new RtcCmos(0, 0, true, clock(late)), REG_A) & A_UIP);
    }

    @Test
    void registerCLatchesUpdateAndClearsOnRead() {
        MutableClock c = clock(T);
        RecordingIrqLine irq = new RecordingIrqLine();
        RtcCmos rtc = new RtcCmos(256 * MIB, 0, true, c, irq);
        set(rtc, REG_A, 0x20); // periodic rate off
        reg(rtc, REG_C);
        assertEquals(0, reg(rtc, REG_C));
        c.advance(1);
        assertEquals(C_UF, reg(rtc, REG_C), "update flag without UIE: no IRQF");
        assertEquals(0, reg(rtc, REG_C), "cleared by the read");
        set(rtc, REG_B, B_24H | B_UIE);
        c.advance(1);
        rtc.tick();
        assertTrue(irq.level());
        assertEquals(C_IRQF | C_UF, reg(rtc, REG_C));
        assertFalse(irq.level(), "reading C lowers IRQ 8");
    }

    @Test
    void alarmFlag() {
        MutableClock c = clock(T);
        RtcCmos rtc = new RtcCmos(256 * MIB, 0, true, c);
        set(rtc, REG_A, 0x20);
        set(rtc, SEC_ALARM, 0x27);
        set(rtc, MIN_ALARM, 0xFF); // don't care
        set(rtc, HOUR_ALARM, 0xC0);
        reg(rtc, REG_C);
        c.advance(1);
        assertEquals(C_UF | C_AF, reg(rtc, REG_C));
    }

    @Test
    void indexBitSevenIsTheNmiMaskAndTheExtendedBankIsSeparate() {
        RtcCmos rtc = new RtcCmos(256 * MIB, 0, true, clock(T));
        rtc.write(0, 1, 0x80 | 0x40);
        rtc.write(1, 1, 0xAB);
        assertEquals(0xAB, reg(rtc, 0x40));
        rtc.write(2, 1, 0x40);
        assertEquals(0, rtc.read(3, 1));
        rtc.write(3, 1, 0xCD);
        assertEquals(0xCD, rtc.read(3, 1));
        assertEquals(0xAB, reg(rtc, 0x40));
        assertEquals(0xCD, rtc.cmosByte(0xC0));
        assertEquals(0xFF, rtc.read(0, 1), "index port reads all ones");
    }

    @Test
    void memoryFieldsFor256M() {
        RtcCmos rtc = new RtcCmos(256 * MIB, 0, false, clock(T));
        assertEquals(640, rtc.cmosByte(0x15) | rtc.cmosByte(0x16) << 8);
        assertEquals(0xFFFF, rtc.cmosByte(0x17) | rtc.cmosByte(0x18) << 8, "255 MiB in KiB is capped");
        assertEquals(0xFFFF, rtc.cmosByte(0x30) | rtc.cmosByte(0x31) << 8);
        assertEquals((256 - 16) * 16, rtc.cmosByte(0x34) | rtc.cmosByte(0x35) << 8);
        assertEquals(0, rtc.cmosByte(0x5B) | rtc.cmosByte(0x5C) | rtc.cmosByte(0x5D));
    }

    @Test
    void memoryFieldsFor6G() {
        // bhyve puts at most 3 GiB below 4 GiB; the other 3 GiB go above.
        RtcCmos rtc = new RtcCmos(3 * GIB, 3 * GIB, false, clock(T));
        assertEquals((3 * 1024 - 16) * 16, rtc.cmosByte(0x34) | rtc.cmosByte(0x35) << 8);
        int high = rtc.cmosByte(0x5B) | rtc.cmosByte(0x5C) << 8 | rtc.cmosByte(0x5D) << 16;
        assertEquals(3 * 1024 * 16, high, "3 GiB in 64 KiB units");
    }

    @Test
    void smallGuestHasNoMemoryAbove16M() {
        RtcCmos rtc = new RtcCmos(8 * MIB, 0, false, clock(T));
        assertEquals(7 * 1024, rtc.cmosByte(0x17) | rtc.cmosByte(0x18) << 8);
        assertEquals(0, rtc.cmosByte(0x34) | rtc.cmosByte(0x35) << 8);
    }

    /** A clock the test moves by hand. */
    static final class MutableClock extends Clock {
        private Instant now;
        private final ZoneId zone;

        MutableClock(Instant now, ZoneId zone) {
            this.now = now;
            this.zone = zone;
        }

        void advance(long seconds) {
            now = now.plusSeconds(seconds);
        }

        @Override
        public ZoneId getZone() {
            return zone;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return new MutableClock(now, zone);
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
