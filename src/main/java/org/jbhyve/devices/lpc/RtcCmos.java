package org.jbhyve.devices.lpc;

import java.time.Clock;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The MC146818 real-time clock and its CMOS RAM, behind the PC's index/data port pairs.
 *
 * <pre>
 * port 0x70  index (write; bit 7 is the NMI-disable gate, masked off)   offset 0
 * port 0x71  data of the indexed byte 0x00-0x7F                        offset 1
 * port 0x72  index into the extended bank                              offset 2
 * port 0x73  data of extended byte 0x80-0xFF                           offset 3
 *
 * 0x00 seconds  0x01 seconds alarm  0x02 minutes  0x03 minutes alarm  0x04 hours
 * 0x05 hours alarm  0x06 day of week (1 = Sunday)  0x07 day of month  0x08 month  0x09 year
 * 0x0A register A: UIP 0x80 (update in progress), divider bits 6:4 (010 = running),
 *      rate select bits 3:0 for the periodic interrupt; power-on 0x26
 * 0x0B register B: SET 0x80 (updates stopped while the time is written), PIE 0x40, AIE 0x20,
 *      UIE 0x10, SQWE 0x08, DM 0x04 (1 = binary, 0 = BCD), 24/12 0x02 (1 = 24 hour), DSE 0x01
 * 0x0C register C (read-only, clears on read): IRQF 0x80, PF 0x40, AF 0x20, UF 0x10
 * 0x0D register D: VRT 0x80 (battery good)
 * 0x15/0x16 base memory in KiB (640)        0x17/0x18 extended memory above 1 MiB in KiB
 * 0x30/0x31 the same (capped at 0xFFFF)     0x32 century
 * 0x34/0x35 memory from 16 MiB to the end of low memory, in 64 KiB units
 * 0x5B/0x5C/0x5D memory above 4 GiB in 64 KiB units (read by UEFI firmware)
 * </pre>
 *
 * In 12-hour mode the hours byte is 1-12 with bit 7 set for PM. Time fields follow DM (BCD or
 * binary), century included. Alarm fields 0xC0-0xFF mean "any".
 *
 * The clock runs on host time, local time unless {@code utc} (bhyve {@code -u},
 * {@code rtc.use_localtime=false}). A time the guest sets is kept as an offset from host time,
 * so it keeps running. Writes with SET held are collected and take effect when SET clears;
 * without SET a single field write takes effect at once. An invalid time is ignored.
 *
 * Interrupts (IRQ 8): the update, alarm and periodic flags are computed when register C is read
 * or {@link #tick()} runs; a machine that wants the RTC interrupt calls tick() from a timer (at
 * the periodic rate in use). The line stays raised until register C is read.
 *
 * <p>Snapshot state (layout 1), in order: the 256 CMOS bytes as they are stored (NVRAM, both
 * banks, registers A-D with C's latched flags, and the time fields written while SET is held;
 * the running time is not among them but is read from the clock); the two index registers (one
 * byte each); the guest's offset from host time in seconds (i64); the last RTC second and
 * periodic-interrupt period seen (i64 each), so that events that happen after the snapshot are
 * latched at the next look, as they would have been; and the IRQ 8 level. The clock keeps running
 * across a suspend as a battery-backed RTC does: after a restore the guest reads the host's time
 * plus its saved offset, so a guest that set its clock keeps that setting. The RTC has no timer
 * of its own (see {@link #tick()}), so there is none to re-arm.
 */
public final class RtcCmos implements IoHandler, Snapshottable {
    public static final int PORT_BASE = 0x70;
    public static final int PORT_COUNT = 4;
    public static final int IRQ = 8;

    static final int SEC = 0x00, SEC_ALARM = 0x01, MIN = 0x02, MIN_ALARM = 0x03, HOUR = 0x04;
    static final int HOUR_ALARM = 0x05, DOW = 0x06, DAY = 0x07, MONTH = 0x08, YEAR = 0x09;
    static final int REG_A = 0x0A, REG_B = 0x0B, REG_C = 0x0C, REG_D = 0x0D, CENTURY = 0x32;
    static final int A_UIP = 0x80;
    static final int B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_DM_BINARY = 0x04, B_24H = 0x02;
    static final int C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10;
    private static final int D_VRT = 0x80;
    private static final long UIP_NANOS = 244_000; // UIP rises 244 µs before each update
    /** Offsets beyond about 20000 years cannot come from a guest's write (years 0-9999). */
    private static final long MAX_OFFSET_SECONDS = 20_000L * 366 * 86_400;
    private static final long KIB = 1024, MIB = 1024 * KIB, M64K = 64 * KIB, M16 = 16 * MIB;

    private final Clock clock;
    private final ZoneId zone;
    private final IrqLine irq;
    private final byte[] cmos = new byte[256];
    private int index;
    private int extIndex;
    private long offsetSeconds;
    private long lastSecond;
    private long lastPeriod;
    private boolean irqRaised;

    public RtcCmos(long lowMemBytes, long highMemBytes, boolean utc, Clock clock) {
        this(lowMemBytes, highMemBytes, utc, clock, IrqLine.NONE);
    }

    public RtcCmos(long lowMemBytes, long highMemBytes, boolean utc, Clock clock, IrqLine irq) {
        this.clock = clock;
        this.zone = utc ? ZoneOffset.UTC : clock.getZone();
        this.irq = irq;
        cmos[REG_A] = 0x26;
        cmos[REG_B] = B_24H;
        cmos[REG_D] = (byte) D_VRT;
        put16(0x15, 640);
        long ext = Math.min(Math.max(lowMemBytes - MIB, 0) / KIB, 0xFFFF);
        put16(0x17, (int) ext);
        put16(0x30, (int) ext);
        put16(0x34, (int) Math.min(Math.max(lowMemBytes - M16, 0) / M64K, 0xFFFF));
        long high = highMemBytes / M64K;
        cmos[0x5B] = (byte) high;
        cmos[0x5C] = (byte) (high >> 8);
        cmos[0x5D] = (byte) (high >> 16);
        lastSecond = rtcSeconds();
        lastPeriod = periodIndex(clock.instant());
    }

    private void put16(int at, int value) {
        cmos[at] = (byte) value;
        cmos[at + 1] = (byte) (value >> 8);
    }

    @Override
    public synchronized long read(long offset, int size) {
        long value = 0;
        for (int i = 0; i < size; i++) {
            value |= (long) readPort((int) offset + i) << (8 * i);
        }
        return value;
    }

    @Override
    public synchronized void write(long offset, int size, long value) {
        for (int i = 0; i < size; i++) {
            writePort((int) offset + i, (int) (value >>> (8 * i)) & 0xFF);
        }
    }

    private int readPort(int port) {
        return switch (port) {
            case 1 -> readRegister(index);
            case 3 -> cmos[0x80 | extIndex] & 0xFF;
            default -> 0xFF; // index ports are write-only
        };
    }

    private void writePort(int port, int value) {
        switch (port) {
            case 0 -> index = value & 0x7F;
            case 1 -> writeRegister(index, value);
            case 2 -> extIndex = value & 0x7F;
            case 3 -> cmos[0x80 | extIndex] = (byte) value;
            default -> { }
        }
    }

    private boolean isTimeField(int reg) {
        return reg == SEC || reg == MIN || reg == HOUR || reg == DOW || reg == DAY || reg == MONTH
                || reg == YEAR || reg == CENTURY;
    }

    private boolean setHeld() {
        return (cmos[REG_B] & B_SET) != 0;
    }

    private int readRegister(int reg) {
        if (isTimeField(reg) && !setHeld()) {
            return encode(now(), reg);
        }
        switch (reg) {
            case REG_A: {
                int a = cmos[REG_A] & 0x7F;
                long nanos = clock.instant().getNano();
                boolean running = ((a >> 4) & 7) == 2 && !setHeld();
                return running && nanos >= 1_000_000_000L - UIP_NANOS ? a | A_UIP : a;
            }
            case REG_C: {
                refresh();
                int c = cmos[REG_C] & 0xFF;
                cmos[REG_C] = 0;
                setIrq(false);
                return c;
            }
            default:
                return cmos[reg] & 0xFF;
        }
    }

    private void writeRegister(int reg, int value) {
        if (isTimeField(reg)) {
            if (setHeld()) {
                cmos[reg] = (byte) value;
            } else {
                byte[] fields = snapshot(now());
                fields[reg] = (byte) value;
                apply(fields);
            }
            return;
        }
        switch (reg) {
            case REG_A -> cmos[REG_A] = (byte) (value & 0x7F);
            case REG_B -> {
                boolean wasSet = setHeld();
                boolean set = (value & B_SET) != 0;
                if (set && !wasSet) {
                    byte[] fields = snapshot(now(), value);
                    for (int r : new int[] {SEC, MIN, HOUR, DOW, DAY, MONTH, YEAR, CENTURY}) {
                        cmos[r] = fields[r];
                    }
                }
                cmos[REG_B] = (byte) (set ? value & ~B_UIE : value); // SET clears UIE
                if (!set && wasSet) {
                    apply(cmos.clone());
                }
                updateIrq();
            }
            case REG_C, REG_D -> { } // read-only
            default -> cmos[reg] = (byte) value;
        }
    }

    /** The clock's current date and time as the guest sees it. */
    private LocalDateTime now() {
        return LocalDateTime.ofInstant(clock.instant(), zone).plusSeconds(offsetSeconds);
    }

    private long rtcSeconds() {
        return now().toEpochSecond(ZoneOffset.UTC);
    }

    private byte[] snapshot(LocalDateTime t) {
        return snapshot(t, cmos[REG_B]);
    }

    private byte[] snapshot(LocalDateTime t, int regB) {
        byte[] f = new byte[256];
        for (int r : new int[] {SEC, MIN, HOUR, DOW, DAY, MONTH, YEAR, CENTURY}) {
            f[r] = (byte) encode(t, r, regB);
        }
        return f;
    }

    private int encode(LocalDateTime t, int reg) {
        return encode(t, reg, cmos[REG_B]);
    }

    private static int encode(LocalDateTime t, int reg, int regB) {
        boolean binary = (regB & B_DM_BINARY) != 0;
        return switch (reg) {
            case SEC -> toReg(t.getSecond(), binary);
            case MIN -> toReg(t.getMinute(), binary);
            case HOUR -> {
                int h = t.getHour();
                if ((regB & B_24H) != 0) {
                    yield toReg(h, binary);
                }
                int h12 = h % 12 == 0 ? 12 : h % 12;
                yield toReg(h12, binary) | (h >= 12 ? 0x80 : 0);
            }
            case DOW -> toReg(t.getDayOfWeek().getValue() % 7 + 1, binary);
            case DAY -> toReg(t.getDayOfMonth(), binary);
            case MONTH -> toReg(t.getMonthValue(), binary);
            case YEAR -> toReg(t.getYear() % 100, binary);
            case CENTURY -> toReg(t.getYear() / 100, binary);
            default -> throw new IllegalArgumentException("not a time register: " + reg);
        };
    }

    private static int toReg(int v, boolean binary) {
        return binary ? v : (v / 10) << 4 | (v % 10);
    }

    private static int fromReg(int v, boolean binary) {
        if (binary) {
            return v;
        }
        int hi = v >> 4, lo = v & 0xF;
        if (hi > 9 || lo > 9) {
            throw new DateTimeException("bad BCD byte " + v);
        }
        return hi * 10 + lo;
    }

    /** Sets the clock from raw field bytes in the current mode; an invalid time is ignored. */
    private void apply(byte[] f) {
        boolean binary = (cmos[REG_B] & B_DM_BINARY) != 0;
        try {
            int hourByte = f[HOUR] & 0xFF;
            int hour;
            if ((cmos[REG_B] & B_24H) != 0) {
                hour = fromReg(hourByte, binary);
            } else {
                int h12 = fromReg(hourByte & 0x7F, binary);
                if (h12 < 1 || h12 > 12) {
                    throw new DateTimeException("bad 12-hour value " + h12);
                }
                hour = h12 % 12 + ((hourByte & 0x80) != 0 ? 12 : 0);
            }
            int year = fromReg(f[CENTURY] & 0xFF, binary) * 100 + fromReg(f[YEAR] & 0xFF, binary);
            LocalDateTime wanted = LocalDateTime.of(year, fromReg(f[MONTH] & 0xFF, binary),
                    fromReg(f[DAY] & 0xFF, binary), hour, fromReg(f[MIN] & 0xFF, binary),
                    fromReg(f[SEC] & 0xFF, binary));
            LocalDateTime host = LocalDateTime.ofInstant(clock.instant(), zone).withNano(0);
            offsetSeconds = wanted.toEpochSecond(ZoneOffset.UTC) - host.toEpochSecond(ZoneOffset.UTC);
            lastSecond = rtcSeconds();
        } catch (DateTimeException e) {
            // A guest mistake: the clock keeps its previous time.
        }
    }

    /** Latches update, alarm and periodic events that happened since the last look. */
    private void refresh() {
        if (setHeld()) {
            return; // updates are stopped
        }
        int c = cmos[REG_C] & 0xFF;
        long second = rtcSeconds();
        if (second != lastSecond) {
            lastSecond = second;
            c |= C_UF;
            if (alarmMatches(now())) {
                c |= C_AF;
            }
        }
        long period = periodIndex(clock.instant());
        if (period != lastPeriod) {
            lastPeriod = period;
            if (period >= 0) {
                c |= C_PF;
            }
        }
        int b = cmos[REG_B];
        if ((c & b & (C_PF | C_AF | C_UF)) != 0) { // PF/AF/UF line up with PIE/AIE/UIE
            c |= C_IRQF;
        }
        cmos[REG_C] = (byte) c;
    }

    private boolean alarmMatches(LocalDateTime t) {
        return alarmField(SEC_ALARM, SEC, t) && alarmField(MIN_ALARM, MIN, t) && alarmField(HOUR_ALARM, HOUR, t);
    }

    private boolean alarmField(int alarmReg, int timeReg, LocalDateTime t) {
        int alarm = cmos[alarmReg] & 0xFF;
        return alarm >= 0xC0 || alarm == encode(t, timeReg);
    }

    /** Which periodic-interrupt period {@code now} falls in, or -1 when the rate is off. */
    private long periodIndex(Instant now) {
        int rate = cmos[REG_A] & 0x0F;
        if (rate == 0) {
            return -1;
        }
        if (rate < 3) {
            rate += 7; // with the 32.768 kHz time base, rates 1 and 2 act as 8 and 9
        }
        long periodNanos = (1_000_000_000L << (rate - 1)) / 32768;
        return (now.getEpochSecond() * 1_000_000_000L + now.getNano()) / periodNanos;
    }

    /** Timer hook: latches pending events and raises IRQ 8 if one is enabled. */
    public synchronized void tick() {
        refresh();
        updateIrq();
    }

    private void updateIrq() {
        int c = cmos[REG_C] & 0xFF;
        int enabled = cmos[REG_B] & (B_PIE | B_AIE | B_UIE);
        if ((c & enabled & (C_PF | C_AF | C_UF)) != 0) {
            cmos[REG_C] = (byte) (c | C_IRQF);
            setIrq(true);
        }
    }

    private void setIrq(boolean level) {
        if (level != irqRaised) {
            irqRaised = level;
            irq.set(level);
        }
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public synchronized void saveState(StateWriter out) {
        out.raw(cmos, 0, cmos.length);
        out.u8(index).u8(extIndex);
        out.i64(offsetSeconds).i64(lastSecond).i64(lastPeriod);
        out.bool(irqRaised);
    }

    @Override
    public synchronized void restoreState(StateReader in, int version) {
        byte[] savedCmos = in.raw(cmos.length);
        int savedIndex = in.u8();
        int savedExtIndex = in.u8();
        if (savedIndex > 0x7F || savedExtIndex > 0x7F) {
            throw in.invalid("CMOS index 0x" + Integer.toHexString(savedIndex) + " / 0x"
                    + Integer.toHexString(savedExtIndex) + " is past 0x7f");
        }
        long savedOffset = in.i64();
        if (savedOffset < -MAX_OFFSET_SECONDS || savedOffset > MAX_OFFSET_SECONDS) {
            throw in.invalid("the guest clock is " + savedOffset + " s away from the host's");
        }
        long savedSecond = in.i64();
        long savedPeriod = in.i64();
        boolean savedIrq = in.bool();
        System.arraycopy(savedCmos, 0, cmos, 0, cmos.length);
        index = savedIndex;
        extIndex = savedExtIndex;
        offsetSeconds = savedOffset;
        lastSecond = savedSecond;
        lastPeriod = savedPeriod;
        setIrq(savedIrq);
    }

    /** A CMOS byte as firmware sees it (0x00-0xFF; time registers read live, C not cleared). */
    public synchronized int cmosByte(int address) {
        return address < 0x80 && address != REG_C ? readRegister(address) : cmos[address & 0xFF] & 0xFF;
    }
}
