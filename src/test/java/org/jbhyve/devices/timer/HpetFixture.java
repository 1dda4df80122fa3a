package org.jbhyve.devices.timer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jbhyve.irq.IrqLine;

/**
 * An HPET without its thread on a fake nanosecond clock, with a recording line per I/O APIC pin
 * and a list of the FSB messages sent, plus register helpers.
 */
class HpetFixture {
    static final int CFG = 0x00, CMP = 0x08, FSB = 0x10;
    /** 32768 counter ticks take exactly 1953125 ns at 2^24 Hz. */
    static final long TICKS = 32_768, NANOS = 1_953_125;

    /** One pin: its level, how many times it rose, every level it was set to. */
    static final class Pin implements IrqLine {
        final List<Boolean> history = new ArrayList<>();
        private boolean level;
        private int rises;

        @Override
        public synchronized void set(boolean level) {
            if (level && !this.level) {
                rises++;
            }
            this.level = level;
            history.add(level);
        }

        synchronized boolean level() {
            return level;
        }

        synchronized int rises() {
            return rises;
        }
    }

    record Message(long address, int data) {}

    long now = 5_000_000_000L;
    final Map<Integer, Pin> pins = new ConcurrentHashMap<>();
    final List<Message> messages = new ArrayList<>();
    final Hpet hpet = Hpet.manual(pin -> pins.computeIfAbsent(pin, p -> new Pin()),
            (address, data) -> messages.add(new Message(address, data)), () -> now);

    Pin pin(int n) {
        return pins.get(n);
    }

    long read(int offset) {
        return hpet.read(offset, 8);
    }

    long read32(int offset) {
        return hpet.read(offset, 4);
    }

    void write(int offset, long value) {
        hpet.write(offset, 8, value);
    }

    void write32(int offset, long value) {
        hpet.write(offset, 4, value);
    }

    static int timer(int n, int register) {
        return Hpet.TIMER_BASE + Hpet.TIMER_STRIDE * n + register;
    }

    static long route(int pin) {
        return (long) pin << HpetTimer.ROUTE_SHIFT;
    }

    void enable() {
        write(Hpet.CONFIG, read(Hpet.CONFIG) | Hpet.ENABLE);
    }

    long counter() {
        return read(Hpet.COUNTER);
    }

    /** Moves the clock on and lets the device fire what is due, as its thread would. */
    void advance(long nanos) {
        now += nanos;
        hpet.runDueTimers();
    }

    /** Total rises over every pin. */
    int allRises() {
        return pins.values().stream().mapToInt(Pin::rises).sum();
    }
}
