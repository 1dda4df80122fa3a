package org.jbhyve.devices.timer;

import java.util.OptionalLong;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.log.LazyLogger;
import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The IA-PC High Precision Event Timer (HPET 1.0a): one block of 8 timers after bhyve's vhpet
 * (same clock, timer count and FSB/periodic capabilities), but with the 64-bit counter and the
 * legacy replacement route that the ACPI block id 0x8086A701 announces, which bhyve's kernel
 * model leaves out. It answers the 1 KiB MMIO window at 0xFED00000 (offsets below from there).
 *
 * <pre>
 * 0x000 GCAP_ID   RO  bits 63:32 counter period in femtoseconds (59604644: 2^24 Hz, as bhyve)
 *                     bits 31:16 vendor 0x8086, bit 15 LEG_RT_CAP, bit 13 COUNT_SIZE_CAP
 *                     (64-bit counter), bits 12:8 NUM_TIM_CAP (7 = 8 timers), bits 7:0 rev 1
 * 0x010 GEN_CONF      bit 0 ENABLE_CNF (the counter runs, interrupts may fire), bit 1
 *                     LEG_RT_CNF (timer 0 to ISA IRQ 0 = I/O APIC pin 2, timer 1 to IRQ 8)
 * 0x020 GINTR_STA     bit n: timer n's level-triggered interrupt is active; write 1 to clear
 * 0x0F0 MAIN_CNT      64-bit up-counter; writable only while ENABLE_CNF is 0
 * 0x100 + 0x20 * n    timer n: config/capabilities, comparator (+8), FSB route (+0x10);
 *                     see {@link HpetTimer}
 * </pre>
 *
 * Registers are 64 bits wide; 32-bit accesses to either half work (guests use them), reads of
 * 1 or 2 bytes return the addressed bytes, and misaligned or sub-dword writes are ignored.
 * Reserved offsets read 0. Nothing the guest writes can throw.
 *
 * Interrupts: a match of timer n with Tn_INT_ENB_CNF set goes to, in order of precedence, I/O
 * APIC pin 2 or 8 (timer 0 or 1 under LEG_RT_CNF), an FSB message (Tn_FSB_EN_CNF: the route
 * register's address and data through {@link MsiSender}), or the Tn_INT_ROUTE_CNF pin, one of
 * {@link #ALLOWED_PINS}. Edge-triggered timers pulse the pin. A level-triggered match sets the
 * timer's GINTR_STA bit (even with the interrupt disabled, as the specification says) and the pin
 * stays high while the bit is set, the interrupt enabled and ENABLE_CNF set; several timers on
 * one pin are OR-ed.
 *
 * Time: the counter is derived from a monotonic nanosecond clock while enabled. Due matches are
 * fired at the start of every register access, so the guest never sees the counter past a
 * comparator whose interrupt is still owed, and by {@link #runDueTimers()}, which one daemon
 * thread runs at the next match of a timer whose match has an effect (interrupt enabled or
 * level-triggered). Everything happens under one lock; interrupts are injected under it so a
 * level raise and the guest's clear reach the line in order.
 *
 * <p>Snapshot state (layout 1), in order: GEN_CONF and GINTR_STA (i64 each), the main counter's
 * value at the time of the save (i64), then each of the 8 timers as a nested blob (see
 * {@link HpetTimer}). Save runs under the device's lock, the same one the scheduler thread takes
 * to fire a timer, so a match firing meanwhile cannot leave a half-updated state: the blob is
 * before or after it, never across. Save has no side effects (a match already due is not fired
 * but saved as due; the first access or wake-up after the restore fires it). Restore makes the
 * counter go on from the saved value as of the restore, so the guest never sees it go back, drives
 * the level-triggered pins to what the status and config imply, and schedules the next wake-up,
 * which re-arms the scheduler thread. There is nothing to quiesce: the thread does all its work
 * under the lock.
 */
public final class Hpet implements IoHandler, AutoCloseable, Snapshottable {
    /** Length of the register window. */
    public static final int REGISTER_BLOCK_LENGTH = 0x400;
    public static final int TIMER_COUNT = 8;
    /** Counter frequency: 2^24 Hz (16.777216 MHz), bhyve's HPET_FREQ. */
    public static final long FREQUENCY_HZ = 1L << 24;
    /** The advertised tick period, 10^15 / 2^24 fs rounded down. */
    public static final long PERIOD_FS = 1_000_000_000_000_000L / FREQUENCY_HZ;
    /** GCAP_ID's low half, the ACPI HPET table's event timer block id. */
    public static final int BLOCK_ID = 0x8086 << 16 | 1 << 15 | 1 << 13 | (TIMER_COUNT - 1) << 8 | 1;
    /** Tn_INT_ROUTE_CAP: I/O APIC pins 20-23, what bhyve allows on a 24-pin I/O APIC. */
    public static final int ALLOWED_PINS = 0x00F0_0000;
    public static final int LEGACY_TIMER0_PIN = 2;
    public static final int LEGACY_TIMER1_PIN = 8;

    static final int CAPABILITIES = 0x000, CONFIG = 0x010, STATUS = 0x020, COUNTER = 0x0F0;
    static final int TIMER_BASE = 0x100, TIMER_STRIDE = 0x20;
    static final long ENABLE = 1, LEGACY = 2;
    private static final long CAPABILITIES_VALUE = PERIOD_FS << 32 | (BLOCK_ID & 0xFFFF_FFFFL);
    /** Waits are capped so a far match is re-examined now and then rather than computed exactly. */
    private static final long MAX_WAIT_TICKS = 1L << 40;
    private static final LazyLogger LOG = new LazyLogger(Hpet.class);

    /** Sends one FSB interrupt message: a 32-bit write of {@code data} at {@code address}. */
    @FunctionalInterface
    public interface MsiSender {
        void send(long address, int data);
    }

    private final Object lock = new Object();
    private final LongSupplier clock;
    private final MsiSender msi;
    private final IrqLine[] pins = new IrqLine[32];
    private final boolean[] pinLevel = new boolean[32];
    private final HpetTimer[] timers = new HpetTimer[TIMER_COUNT];
    private final HpetWakeup wakeup;
    private long config;
    private long status;
    private long counterBase;
    private long baseNanos;
    private boolean closed;

    /**
     * An HPET on the host's monotonic clock with its own scheduler thread ("hpet").
     *
     * @param ioapicPins the I/O APIC input for a pin number; asked once each for pins 2, 8 and
     *     20-23 here, and those lines are kept
     * @param msi where FSB messages go
     */
    public Hpet(IntFunction<IrqLine> ioapicPins, MsiSender msi) {
        this(ioapicPins, msi, System::nanoTime, true);
    }

    private Hpet(IntFunction<IrqLine> ioapicPins, MsiSender msi, LongSupplier clock, boolean thread) {
        this.clock = clock;
        this.msi = msi;
        pins[LEGACY_TIMER0_PIN] = ioapicPins.apply(LEGACY_TIMER0_PIN);
        pins[LEGACY_TIMER1_PIN] = ioapicPins.apply(LEGACY_TIMER1_PIN);
        for (int pin = 0; pin < 32; pin++) {
            if ((ALLOWED_PINS & 1 << pin) != 0) {
                pins[pin] = ioapicPins.apply(pin);
            }
        }
        for (int n = 0; n < TIMER_COUNT; n++) {
            timers[n] = new HpetTimer(ALLOWED_PINS);
        }
        wakeup = new HpetWakeup(thread ? this::runDueTimers : null);
    }

    /**
     * An HPET without a thread, on {@code clock}: matches are found only by register accesses
     * and {@link #runDueTimers()}.
     */
    static Hpet manual(IntFunction<IrqLine> ioapicPins, MsiSender msi, LongSupplier clock) {
        return new Hpet(ioapicPins, msi, clock, false);
    }

    /** Counter ticks in {@code nanos}: floor(nanos * 2^24 / 10^9), with 2^24 / 10^9 = 32768 / 1953125. */
    static long ticks(long nanos) {
        if (nanos <= 0) {
            return 0;
        }
        return nanos / 1_953_125 * 32_768 + nanos % 1_953_125 * 32_768 / 1_953_125;
    }

    /** The least nanoseconds holding {@code ticks} ticks (exact below 2^62 ticks, centuries). */
    static long nanosFor(long ticks) {
        return (ticks >>> 15) * 1_953_125 + ((ticks & 32_767) * 1_953_125 + 32_767) / 32_768;
    }

    private long counter(long now) {
        return (config & ENABLE) == 0 ? counterBase : counterBase + ticks(now - baseNanos);
    }

    @Override
    public long read(long offset, int size) {
        if (!validSize(size) || offset < 0 || offset >= REGISTER_BLOCK_LENGTH || (offset & (size - 1)) != 0) {
            LOG.get().fine(() -> String.format("hpet: %d-byte read at 0x%x ignored", size, offset));
            return 0;
        }
        synchronized (lock) {
            long now = clock.getAsLong();
            runDue(now);
            long reg = register((int) offset & ~7, now);
            reschedule(now);
            return (reg >>> (8 * (offset & 7))) & IoHandler.mask(size);
        }
    }

    private static boolean validSize(int size) {
        return size == 1 || size == 2 || size == 4 || size == 8;
    }

    private long register(int base, long now) {
        return switch (base) {
            case CAPABILITIES -> CAPABILITIES_VALUE;
            case CONFIG -> config;
            case STATUS -> status;
            case COUNTER -> counter(now);
            default -> {
                if (base < TIMER_BASE || base >= TIMER_BASE + TIMER_COUNT * TIMER_STRIDE) {
                    yield 0;
                }
                HpetTimer t = timers[(base - TIMER_BASE) / TIMER_STRIDE];
                yield switch ((base - TIMER_BASE) % TIMER_STRIDE) {
                    case 0x00 -> t.config();
                    case 0x08 -> t.comparator();
                    case 0x10 -> t.fsbRoute();
                    default -> 0;
                };
            }
        };
    }

    @Override
    public void write(long offset, int size, long value) {
        if ((size != 4 && size != 8) || offset < 0 || offset >= REGISTER_BLOCK_LENGTH || (offset & (size - 1)) != 0) {
            LOG.get().fine(() -> String.format("hpet: %d-byte write at 0x%x ignored", size, offset));
            return;
        }
        int shift = 8 * (int) (offset & 4);
        long mask = IoHandler.mask(size) << shift;
        long data = value << shift & mask;
        synchronized (lock) {
            long now = clock.getAsLong();
            runDue(now);
            writeRegister((int) offset & ~7, data, mask, now);
            updateLines();
            reschedule(now);
        }
    }

    private void writeRegister(int base, long data, long mask, long now) {
        switch (base) {
            case CONFIG -> writeConfig(data, mask, now);
            case STATUS -> status &= ~(data & mask);
            case COUNTER -> {
                if ((config & ENABLE) == 0) {
                    counterBase = (counterBase & ~mask) | (data & mask);
                } else {
                    LOG.get().fine("hpet: main counter write while running ignored");
                }
            }
            default -> {
                if (base >= TIMER_BASE && base < TIMER_BASE + TIMER_COUNT * TIMER_STRIDE) {
                    writeTimer((base - TIMER_BASE) / TIMER_STRIDE, (base - TIMER_BASE) % TIMER_STRIDE, data, mask, now);
                }
            }
        }
    }

    private void writeConfig(long data, long mask, long now) {
        long old = config;
        long next = (config & ~(mask & (ENABLE | LEGACY))) | (data & mask & (ENABLE | LEGACY));
        if (((old ^ next) & ENABLE) == 0) {
            config = next;
        } else if ((next & ENABLE) != 0) {
            config = next;
            baseNanos = now;
            for (HpetTimer t : timers) {
                t.arm(counterBase);
            }
        } else {
            counterBase = counter(now);
            config = next;
            for (HpetTimer t : timers) {
                t.disarm();
            }
        }
    }

    private void writeTimer(int n, int register, long data, long mask, long now) {
        HpetTimer t = timers[n];
        boolean running = (config & ENABLE) != 0;
        switch (register) {
            case 0x00 -> {
                if (t.writeConfig(data, mask) && running) {
                    t.arm(counter(now));
                }
                if (!t.is(HpetTimer.INT_TYPE_LEVEL) || fsbDelivery(n)) {
                    status &= ~(1L << n); // the status bit belongs to level-triggered pin delivery only
                }
            }
            case 0x08 -> {
                t.writeComparator(data, mask);
                if (running) {
                    t.arm(counter(now));
                }
            }
            case 0x10 -> t.writeFsbRoute(data, mask);
            default -> LOG.get().fine("hpet: write to a reserved timer register ignored");
        }
    }

    private boolean legacyRouted(int n) {
        return (config & LEGACY) != 0 && n < 2;
    }

    private boolean fsbDelivery(int n) {
        return !legacyRouted(n) && timers[n].is(HpetTimer.FSB_EN);
    }

    /** The pin timer n's interrupt goes to, or 0 when it has none (FSB or unrouted). */
    private int pinOf(int n) {
        if (legacyRouted(n)) {
            return n == 0 ? LEGACY_TIMER0_PIN : LEGACY_TIMER1_PIN;
        }
        return fsbDelivery(n) ? 0 : timers[n].routePin();
    }

    /**
     * Fires every timer whose match the counter has reached, as of {@code now}, and moves each
     * past it. One interrupt per timer per call, however many periods went by.
     */
    private void runDue(long now) {
        if ((config & ENABLE) == 0) {
            return;
        }
        long c = counter(now);
        boolean levelChange = false;
        for (int n = 0; n < TIMER_COUNT; n++) {
            HpetTimer t = timers[n];
            if (!t.due(c)) {
                continue;
            }
            t.advance(c);
            if (t.is(HpetTimer.INT_TYPE_LEVEL) && !fsbDelivery(n)) {
                levelChange |= (status & 1L << n) == 0;
                status |= 1L << n;
            } else if (t.is(HpetTimer.INT_ENB)) {
                if (fsbDelivery(n)) {
                    msi.send(t.fsbRoute() >>> 32, (int) t.fsbRoute());
                } else {
                    int pin = pinOf(n);
                    if (pin != 0 && !pinLevel[pin]) { // a pin held by a level timer stays high
                        pins[pin].pulse();
                    }
                }
            }
        }
        if (levelChange) {
            updateLines();
        }
    }

    /** Drives each pin to the OR of the level-triggered timers active on it. */
    private void updateLines() {
        boolean[] want = new boolean[32];
        if ((config & ENABLE) != 0) {
            for (int n = 0; n < TIMER_COUNT; n++) {
                HpetTimer t = timers[n];
                int pin = pinOf(n);
                if ((status & 1L << n) != 0 && t.is(HpetTimer.INT_ENB) && t.is(HpetTimer.INT_TYPE_LEVEL) && pin != 0) {
                    want[pin] = true;
                }
            }
        }
        for (int pin = 0; pin < 32; pin++) {
            if (want[pin] != pinLevel[pin]) {
                pinLevel[pin] = want[pin];
                pins[pin].set(want[pin]);
            }
        }
    }

    /** Points the scheduler at the next match that has an effect, if it moved. */
    private void reschedule(long now) {
        boolean any = false;
        long wait = 0;
        if ((config & ENABLE) != 0) {
            long elapsed = Math.max(0, now - baseNanos);
            long c = counterBase + ticks(elapsed);
            for (HpetTimer t : timers) {
                if (t.armed() && (t.is(HpetTimer.INT_ENB) || t.is(HpetTimer.INT_TYPE_LEVEL))) {
                    long until = t.ticksUntil(c);
                    long ahead = Long.compareUnsigned(until, MAX_WAIT_TICKS) > 0 ? MAX_WAIT_TICKS : until;
                    long w = nanosFor(ticks(elapsed) + ahead) - elapsed;
                    wait = any ? Math.min(wait, w) : w;
                    any = true;
                }
            }
        }
        if (any) {
            wakeup.at(now, wait);
        } else {
            wakeup.none();
        }
    }

    /**
     * Fires the timers whose match the counter has reached by the clock's current time and
     * schedules the next wake-up: what the scheduler thread runs, and what tests call after
     * moving a fake clock.
     */
    void runDueTimers() {
        try {
            synchronized (lock) {
                if (closed) {
                    return;
                }
                long now = clock.getAsLong();
                wakeup.fired();
                runDue(now);
                reschedule(now);
            }
        } catch (RuntimeException e) {
            LOG.get().log(Level.WARNING, "hpet: timer interrupt delivery failed", e);
        }
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public void saveState(StateWriter out) {
        synchronized (lock) {
            out.i64(config).i64(status).i64(counter(clock.getAsLong()));
            for (HpetTimer t : timers) {
                out.nested(t);
            }
        }
    }

    @Override
    public void restoreState(StateReader in, int version) {
        synchronized (lock) {
            long savedConfig = in.i64();
            long savedStatus = in.i64();
            long savedCounter = in.i64();
            if ((savedConfig & ~(ENABLE | LEGACY)) != 0) {
                throw in.invalid(String.format("GEN_CONF 0x%x has bits outside 0x%x", savedConfig, ENABLE | LEGACY));
            }
            if ((savedStatus & ~((1L << TIMER_COUNT) - 1)) != 0) {
                throw in.invalid(String.format("GINTR_STA 0x%x names a timer past %d", savedStatus, TIMER_COUNT - 1));
            }
            for (int n = 0; n < TIMER_COUNT; n++) {
                in.nested(timers[n], "timer" + n);
            }
            long now = clock.getAsLong();
            config = savedConfig;
            status = savedStatus;
            counterBase = savedCounter;
            baseNanos = now;
            updateLines();
            reschedule(now);
        }
    }

    /** The clock time the next wake-up is set for, if any. */
    OptionalLong nextWakeup() {
        synchronized (lock) {
            return wakeup.next();
        }
    }

    /**
     * Stops the scheduler thread and waits briefly for it; idempotent. Register accesses after
     * close still work but timers then fire only on accesses.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            wakeup.close();
        }
        wakeup.stop();
    }
}
