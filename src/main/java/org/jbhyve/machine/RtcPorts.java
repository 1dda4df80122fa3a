package org.jbhyve.machine;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import org.jbhyve.bus.IoBus;

/**
 * bhyvectl's RTC requests (vm_rtc_gettime/settime, vm_rtc_read/write) done the way a guest
 * driver does them, through the MC146818's index and data ports 0x70/0x71, with every vCPU
 * paused by the caller so no guest access interleaves:
 *
 * <ul>
 *   <li>time: register B says how the fields are coded (DM 0x04: binary, else BCD; 24/12 0x02:
 *       24-hour, else 1-12 with bit 7 for PM); seconds 0x00, minutes 0x02, hours 0x04, day of
 *       week 0x06 (1 = Sunday), day 0x07, month 0x08, year 0x09, century 0x32. The fields are
 *       read until two passes agree (an update may fall between them). A new time is written
 *       with SET (0x80) held in register B, then B is restored, which makes the RTC take it;</li>
 *   <li>CMOS bytes: 0-127 can be read, except register C (0x0C), whose read clears the
 *       guest's pending interrupt flags; 14-127 can be written, except the century byte
 *       (bhyve's rule: the clock registers are set through the time).</li>
 * </ul>
 * Seconds count the RTC's own wall-clock time as if it were UTC, as bhyve's do (with
 * rtc.use_localtime, the default, that is local time).
 *
 * <p>The index register is write-only, so the guest's last index cannot be put back: a guest
 * paused between writing 0x70 and reading 0x71 reads the byte this class last indexed.
 */
final class RtcPorts {
    static final int INDEX = 0x70, DATA = 0x71;
    static final int SEC = 0x00, MIN = 0x02, HOUR = 0x04, DOW = 0x06, DAY = 0x07, MONTH = 0x08, YEAR = 0x09;
    static final int REG_B = 0x0B, REG_C = 0x0C, NVRAM_START = 0x0E, CENTURY = 0x32, SIZE = 128;
    static final int B_SET = 0x80, B_BINARY = 0x04, B_24H = 0x02;

    private final IoBus ports;

    RtcPorts(IoBus ports) {
        this.ports = ports;
    }

    int read(int offset) {
        ports.write(INDEX, 1, offset);
        return (int) ports.read(DATA, 1) & 0xFF;
    }

    void write(int offset, int value) {
        ports.write(INDEX, 1, offset);
        ports.write(DATA, 1, value & 0xFF);
    }

    /** A CMOS byte, as bhyvectl --get-rtc-nvram shows it. */
    int nvram(int offset) {
        if (offset < 0 || offset >= SIZE) {
            throw new VmRequestException(VmRequestException.EINVAL, "rtc nvram offset " + offset + " is not 0-127");
        }
        if (offset == REG_C) {
            throw new VmRequestException(VmRequestException.ENOTSUP,
                    "rtc register C (offset 12) cannot be read without clearing the guest's interrupt flags");
        }
        return read(offset);
    }

    void setNvram(int offset, int value) {
        if (offset < NVRAM_START || offset >= SIZE || offset == CENTURY) {
            throw new VmRequestException(VmRequestException.EINVAL, "rtc nvram offset " + offset
                    + " cannot be written (14-127 except the century byte 50; set clock registers with --set-rtc-time)");
        }
        write(offset, value);
    }

    /** The RTC's time in seconds since the epoch. */
    long time() {
        int[] fields = fields();
        for (int tries = 0; tries < 3; tries++) {
            int[] again = fields();
            if (java.util.Arrays.equals(fields, again)) {
                break;
            }
            fields = again;
        }
        int b = read(REG_B);
        try {
            int hourByte = fields[2];
            int hour = decode(hourByte & 0x7F, b);
            if ((b & B_24H) == 0) {
                hour = hour % 12 + ((hourByte & 0x80) != 0 ? 12 : 0);
            }
            int year = decode(fields[6], b) * 100 + decode(fields[5], b);
            return LocalDateTime.of(year, decode(fields[4], b), decode(fields[3], b), hour, decode(fields[1], b),
                    decode(fields[0], b)).toEpochSecond(ZoneOffset.UTC);
        } catch (DateTimeException e) {
            throw new VmRequestException(VmRequestException.EINVAL, "the guest's RTC holds no valid time");
        }
    }

    private int[] fields() {
        return new int[] {read(SEC), read(MIN), read(HOUR), read(DAY), read(MONTH), read(YEAR), read(CENTURY)};
    }

    /** Sets the RTC to {@code seconds} since the epoch, in the coding the guest chose. */
    void setTime(long seconds) {
        LocalDateTime t;
        try {
            t = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC);
        } catch (DateTimeException e) {
            throw new VmRequestException(VmRequestException.EINVAL, "rtc time " + seconds + " is out of range");
        }
        if (seconds < 0 || t.getYear() > 9999) {
            throw new VmRequestException(VmRequestException.EINVAL, "rtc time " + seconds + " is out of range");
        }
        int b = read(REG_B);
        int hour = t.getHour();
        int hourByte;
        if ((b & B_24H) != 0) {
            hourByte = encode(hour, b);
        } else {
            hourByte = encode(hour % 12 == 0 ? 12 : hour % 12, b) | (hour >= 12 ? 0x80 : 0);
        }
        write(REG_B, b | B_SET);
        write(SEC, encode(t.getSecond(), b));
        write(MIN, encode(t.getMinute(), b));
        write(HOUR, hourByte);
        write(DOW, encode(t.getDayOfWeek().getValue() % 7 + 1, b));
        write(DAY, encode(t.getDayOfMonth(), b));
        write(MONTH, encode(t.getMonthValue(), b));
        write(YEAR, encode(t.getYear() % 100, b));
        write(CENTURY, encode(t.getYear() / 100, b));
        write(REG_B, b & ~B_SET);
    }

    private static int decode(int v, int regB) {
        return (regB & B_BINARY) != 0 ? v : (v >> 4) * 10 + (v & 0xF);
    }

    private static int encode(int v, int regB) {
        return (regB & B_BINARY) != 0 ? v : (v / 10) << 4 | v % 10;
    }
}
