package org.jbhyve.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.jbhyve.bus.IoBus;
import org.jbhyve.devices.lpc.RtcCmos;
import org.junit.jupiter.api.Test;

/** bhyvectl's RTC requests against the real MC146818 model, through its ports as a guest would. */
class RtcPortsTest {
    private static final Instant T = Instant.parse("2026-03-14T15:09:26Z"); // a Saturday

    private final IoBus ports = new IoBus("ports");
    private final RtcPorts rtc = new RtcPorts(ports);

    RtcPortsTest() {
        ports.register(RtcCmos.PORT_BASE, RtcCmos.PORT_COUNT, "rtc",
                new RtcCmos(256L << 20, 0, true, Clock.fixed(T, ZoneOffset.UTC)));
    }

    @Test
    void timeIsTheClockInSeconds() {
        assertEquals(T.getEpochSecond(), rtc.time());
    }

    @Test
    void aSetTimeIsWhatTheGuestThenReads() {
        rtc.setTime(1_700_000_000L); // 2023-11-14 22:13:20, a Tuesday
        assertEquals(1_700_000_000L, rtc.time());
        assertEquals(0x22, rtc.read(RtcPorts.HOUR), "BCD, 24-hour: the power-on coding");
        assertEquals(3, rtc.read(RtcPorts.DOW), "Tuesday is day 3 when Sunday is 1");
        assertEquals(0x20, rtc.read(RtcPorts.CENTURY));
        assertEquals(0, rtc.read(RtcPorts.REG_B) & RtcPorts.B_SET, "SET is released again");
    }

    @Test
    void theGuestsCodingIsFollowedBinaryAnd12Hour() {
        rtc.write(RtcPorts.REG_B, RtcPorts.B_BINARY); // binary, 12-hour
        assertEquals(T.getEpochSecond(), rtc.time());
        assertEquals(3 | 0x80, rtc.read(RtcPorts.HOUR), "15:09 is 3 PM");
        rtc.setTime(T.getEpochSecond() - 15 * 3600); // 00:09:26: midnight hour is 12 AM
        assertEquals(12, rtc.read(RtcPorts.HOUR));
        assertEquals(T.getEpochSecond() - 15 * 3600, rtc.time());
    }

    @Test
    void nvramBytesReadAndWriteWithinBhyvesLimits() {
        rtc.setNvram(0x40, 0xA5);
        assertEquals(0xA5, rtc.nvram(0x40));
        assertEquals(0x80, rtc.nvram(0x0D), "register D: battery good");
        assertEquals(VmRequestException.ENOTSUP, assertThrows(VmRequestException.class, () -> rtc.nvram(0x0C)).errno());
        for (int bad : new int[] {-1, 128}) {
            assertEquals(VmRequestException.EINVAL, assertThrows(VmRequestException.class, () -> rtc.nvram(bad)).errno());
        }
        for (int bad : new int[] {0, 9, 13, 0x32, 128}) {
            assertEquals(VmRequestException.EINVAL,
                    assertThrows(VmRequestException.class, () -> rtc.setNvram(bad, 1)).errno(), "offset " + bad);
        }
    }

    @Test
    void timesOutsideTheClocksRangeAreRefused() {
        assertEquals(VmRequestException.EINVAL, assertThrows(VmRequestException.class, () -> rtc.setTime(-1)).errno());
        assertEquals(VmRequestException.EINVAL,
                assertThrows(VmRequestException.class, () -> rtc.setTime(Long.MAX_VALUE)).errno());
        assertEquals(T.getEpochSecond(), rtc.time(), "unchanged");
    }
}
