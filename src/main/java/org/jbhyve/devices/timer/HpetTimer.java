package org.jbhyve.devices.timer;

import org.jbhyve.snapshot.Snapshottable;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * One HPET comparator ("timer N"): its three guest-visible registers and the hidden state that
 * decides when it next matches the main counter. Not thread-safe: {@link Hpet} holds its lock.
 *
 * <pre>
 * 0x00 Tn_CONFIG_CAP   bit 1  Tn_INT_TYPE_CNF   0 = edge, 1 = level
 *                      bit 2  Tn_INT_ENB_CNF    interrupt enable (status still works when 0)
 *                      bit 3  Tn_TYPE_CNF       1 = periodic
 *                      bit 4  Tn_PER_INT_CAP    RO 1: periodic capable
 *                      bit 5  Tn_SIZE_CAP       RO 1: 64-bit comparator
 *                      bit 6  Tn_VAL_SET_CNF    next comparator write also sets the accumulator
 *                      bit 8  Tn_32MODE_CNF     behave as a 32-bit timer
 *                      bits 13:9 Tn_INT_ROUTE_CNF  I/O APIC pin (must be in the cap mask)
 *                      bit 14 Tn_FSB_EN_CNF     deliver by FSB message (MSI) instead
 *                      bit 15 Tn_FSB_INT_DEL_CAP RO 1: FSB capable
 *                      bits 63:32 Tn_INT_ROUTE_CAP  RO: bit n set = I/O APIC pin n allowed
 * 0x08 Tn_COMPARATOR   the counter value of the next match; in periodic mode a write sets the
 *                      period, and the comparator too when VAL_SET was set (which then clears)
 * 0x10 Tn_FSB_ROUTE    bits 31:0 message data, bits 63:32 message address
 * </pre>
 *
 * A timer matches when the main counter (its low 32 bits in 32-bit mode) reaches the
 * comparator. The model keeps that as "armed at counter value {@code armBase}, matches
 * {@code delta} ticks later", compared without sign, so a 32-bit comparator behind the counter
 * waits for the wrap and a 64-bit one behind the counter never matches, as in hardware. After a
 * match a periodic timer's comparator moves past the counter by whole periods (missed periods
 * collapse into one interrupt, as in bhyve); a one-shot 32-bit timer matches again one wrap
 * later; a one-shot 64-bit timer is done until its comparator or the counter is written.
 *
 * <p>Snapshot state (layout 1), in order: the writable config bits, comparator, period and FSB
 * route (i64 each), then whether it is armed and its {@code armBase} and {@code delta} (i64
 * each). The match is in counter ticks, not clock time, so it stays right when the counter goes on
 * from its saved value; {@link Hpet} re-schedules its wake-up after restoring every timer.
 */
final class HpetTimer implements Snapshottable {
    static final long INT_TYPE_LEVEL = 1L << 1;
    static final long INT_ENB = 1L << 2;
    static final long TYPE_PERIODIC = 1L << 3;
    static final long PER_INT_CAP = 1L << 4;
    static final long SIZE_CAP = 1L << 5;
    static final long VAL_SET = 1L << 6;
    static final long MODE32 = 1L << 8;
    static final int ROUTE_SHIFT = 9;
    static final long ROUTE_MASK = 0x1FL << ROUTE_SHIFT;
    static final long FSB_EN = 1L << 14;
    static final long FSB_INT_DEL_CAP = 1L << 15;
    /** The bits a guest may change. */
    static final long WRITABLE = INT_TYPE_LEVEL | INT_ENB | TYPE_PERIODIC | VAL_SET | MODE32 | ROUTE_MASK | FSB_EN;
    private static final long LOW32 = 0xFFFF_FFFFL;

    private final long capabilities;
    private long config;
    private long comparator = -1L;
    private long period;
    private long fsbRoute;
    private boolean armed;
    private long armBase;
    private long delta;

    /** @param allowedPins Tn_INT_ROUTE_CAP: bit n set if I/O APIC pin n may be chosen */
    HpetTimer(int allowedPins) {
        capabilities = (allowedPins & LOW32) << 32 | PER_INT_CAP | SIZE_CAP | FSB_INT_DEL_CAP;
    }

    long config() {
        return capabilities | config;
    }

    boolean is(long bit) {
        return (config & bit) != 0;
    }

    /** The chosen I/O APIC pin, 0 for none (pin 0 is never in the allowed mask). */
    int routePin() {
        return (int) ((config & ROUTE_MASK) >>> ROUTE_SHIFT);
    }

    /**
     * Merges {@code data} into the writable bits selected by {@code mask}. A route outside the
     * capability mask reads back as 0 (unrouted), as bhyve does. Entering 32-bit mode truncates
     * the comparator and period. Returns whether the match timing may have changed (periodic or
     * 32-bit mode toggled), in which case the caller re-arms the timer.
     */
    boolean writeConfig(long data, long mask) {
        long old = config;
        long next = (config & ~(mask & WRITABLE)) | (data & mask & WRITABLE);
        int pin = (int) ((next & ROUTE_MASK) >>> ROUTE_SHIFT);
        if (pin >= 32 || (capabilities >>> 32 & 1L << pin) == 0) {
            next &= ~ROUTE_MASK;
        }
        config = next;
        if (is(MODE32)) {
            comparator &= LOW32;
            period &= LOW32;
        }
        return ((old ^ next) & (TYPE_PERIODIC | MODE32)) != 0;
    }

    long comparator() {
        return comparator;
    }

    long period() {
        return period;
    }

    /**
     * A comparator write of the bits in {@code mask}: in periodic mode it sets the period, and
     * the comparator as well if VAL_SET is set; in one-shot mode it sets the comparator. In
     * 32-bit mode the upper half is not writable. VAL_SET clears. The caller re-arms.
     */
    void writeComparator(long data, long mask) {
        if (is(MODE32)) {
            mask &= LOW32;
        }
        if (is(TYPE_PERIODIC)) {
            period = (period & ~mask) | (data & mask);
            if (is(VAL_SET)) {
                comparator = (comparator & ~mask) | (data & mask);
            }
        } else {
            comparator = (comparator & ~mask) | (data & mask);
        }
        config &= ~VAL_SET;
    }

    long fsbRoute() {
        return fsbRoute;
    }

    void writeFsbRoute(long data, long mask) {
        fsbRoute = (fsbRoute & ~mask) | (data & mask);
    }

    /**
     * Arms the timer against main counter value {@code counter}: it matches when the counter
     * (its low half in 32-bit mode) next equals the comparator; a comparator equal to the
     * counter matches at once.
     */
    void arm(long counter) {
        armed = true;
        armBase = counter;
        delta = comparator - counter;
        if (is(MODE32)) {
            delta &= LOW32;
        }
    }

    @Override
    public int stateVersion() {
        return 1;
    }

    @Override
    public void saveState(StateWriter out) {
        out.i64(config).i64(comparator).i64(period).i64(fsbRoute);
        out.bool(armed).i64(armBase).i64(delta);
    }

    @Override
    public void restoreState(StateReader in, int version) {
        long savedConfig = in.i64();
        long savedComparator = in.i64();
        long savedPeriod = in.i64();
        long savedFsbRoute = in.i64();
        boolean savedArmed = in.bool();
        long savedArmBase = in.i64();
        long savedDelta = in.i64();
        if ((savedConfig & ~WRITABLE) != 0) {
            throw in.invalid(String.format("timer config 0x%x has bits outside 0x%x", savedConfig, WRITABLE));
        }
        int pin = (int) ((savedConfig & ROUTE_MASK) >>> ROUTE_SHIFT);
        if (pin != 0 && (capabilities >>> 32 & 1L << pin) == 0) {
            throw in.invalid("timer routed to I/O APIC pin " + pin + ", which it may not use");
        }
        if ((savedConfig & MODE32) != 0
                && ((savedComparator | savedPeriod) >>> 32 != 0 || Long.compareUnsigned(savedDelta, 1L << 32) > 0)) {
            throw in.invalid("a 32-bit timer has a 64-bit comparator, period or match");
        }
        config = savedConfig;
        comparator = savedComparator;
        period = savedPeriod;
        fsbRoute = savedFsbRoute;
        armed = savedArmed;
        armBase = savedArmBase;
        delta = savedDelta;
    }

    void disarm() {
        armed = false;
    }

    boolean armed() {
        return armed;
    }

    /** Whether the main counter, now at {@code counter}, has reached this timer's match. */
    boolean due(long counter) {
        return armed && Long.compareUnsigned(counter - armBase, delta) >= 0;
    }

    /** Counter ticks from {@code counter} to the match, without sign; 0 when due. */
    long ticksUntil(long counter) {
        return due(counter) ? 0 : delta - (counter - armBase);
    }

    /**
     * After a match (the counter, now at {@code counter}, is past it): moves a periodic
     * comparator past the counter by whole periods, or re-arms a one-shot 32-bit timer for the
     * next wrap, or disarms a one-shot 64-bit timer. A period of 0 acts as one-shot.
     */
    void advance(long counter) {
        long match = armBase + delta;
        if (is(TYPE_PERIODIC) && period != 0) {
            long step = (Long.divideUnsigned(counter - match, period) + 1) * period;
            comparator += step;
            if (is(MODE32)) {
                comparator &= LOW32;
            }
            armBase = match;
            delta = step;
        } else if (is(MODE32)) {
            armBase = match;
            delta = 1L << 32;
        } else {
            armed = false;
        }
    }
}
