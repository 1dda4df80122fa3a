package org.jbhyve.devices.timer;

import static org.jbhyve.devices.timer.HpetFixture.CFG;
import static org.jbhyve.devices.timer.HpetFixture.CMP;
import static org.jbhyve.devices.timer.HpetFixture.route;
import static org.jbhyve.devices.timer.HpetFixture.timer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.irq.IrqLine;
import org.junit.jupiter.api.Test;

/** The public constructor: host clock and the device's own scheduler thread. */
class HpetThreadTest {
    private final Map<Integer, AtomicInteger> pulses = new ConcurrentHashMap<>();
    private final CountDownLatch fired = new CountDownLatch(5);

    private IrqLine line(int pin) {
        AtomicInteger count = pulses.computeIfAbsent(pin, p -> new AtomicInteger());
        return level -> {
            if (level) {
                count.incrementAndGet();
                fired.countDown();
            }
        };
    }

    private static boolean hpetThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("hpet") && t.isAlive());
    }

    /** Whether an "hpet" thread is alive after up to a second (pool threads exit just after the pool terminates). */
    private static boolean hpetThreadLingers() throws InterruptedException {
        for (int i = 0; i < 100 && hpetThreadAlive(); i++) {
            Thread.sleep(10);
        }
        return hpetThreadAlive();
    }

    @Test
    void schedulerThreadFiresAPeriodicTimerWithoutAccessesAndCloseStopsIt() throws Exception {
        Hpet hpet = new Hpet(this::line, (address, data) -> {});
        try {
            hpet.write(Hpet.CONFIG, 8, Hpet.ENABLE);
            long period = Hpet.FREQUENCY_HZ / 200; // 5 ms
            hpet.write(timer(2, CFG), 8, HpetTimer.INT_ENB | HpetTimer.TYPE_PERIODIC | HpetTimer.VAL_SET | route(20));
            hpet.write(timer(2, CMP), 8, hpet.read(Hpet.COUNTER, 8) + period);
            hpet.write(timer(2, CMP), 8, period);
            long start = System.nanoTime();
            assertTrue(fired.await(60, TimeUnit.SECONDS), "five periods fired by the thread alone (a liveness bound, generous for loaded hosts)");
            assertTrue(System.nanoTime() - start >= 4 * 5_000_000L, "not before four periods passed");
            assertTrue(hpetThreadAlive());
        } finally {
            hpet.close();
        }
        assertFalse(hpetThreadLingers(), "close() ends the thread");
        int after = pulses.get(20).get();
        Thread.sleep(50);
        assertEquals(after, pulses.get(20).get(), "no interrupts after close");
        hpet.close(); // idempotent
        assertEquals(Hpet.ENABLE, hpet.read(Hpet.CONFIG, 8), "registers still answer after close");
    }

    @Test
    void concurrentVcpusSeeAMonotonicCounterAndPeriodicTimersKeepFiring() throws Exception {
        ExecutorService vcpus = Executors.newFixedThreadPool(4);
        try (Hpet hpet = new Hpet(this::line, (address, data) -> {})) {
            long period = 1000; // 60 us
            for (int n = 2; n < 6; n++) { // programmed while halted, so no match falls between the writes
                hpet.write(timer(n, CFG), 4, HpetTimer.INT_ENB | HpetTimer.TYPE_PERIODIC | HpetTimer.VAL_SET
                        | HpetTimer.MODE32 | route(18 + n));
                hpet.write(timer(n, CMP), 4, period);
                hpet.write(timer(n, CMP), 4, period);
            }
            hpet.write(Hpet.CONFIG, 8, Hpet.ENABLE);
            List<Future<?>> done = new ArrayList<>();
            for (int v = 0; v < 4; v++) {
                int n = 2 + v;
                done.add(vcpus.submit(() -> {
                    long last = 0;
                    for (int i = 0; i < 20_000; i++) {
                        long c = hpet.read(Hpet.COUNTER, 8);
                        assertTrue(c >= last, "counter went back from " + last + " to " + c);
                        long next = hpet.read(timer(n, CMP), 4);
                        last = hpet.read(Hpet.COUNTER, 8);
                        // at the comparator read the counter was in [c, last] and below the comparator
                        long ahead = (next - c) & 0xFFFF_FFFFL;
                        assertTrue(ahead > 0 && ahead <= last - c + period, "comparator " + ahead + " ahead");
                        hpet.write(Hpet.STATUS, 4, 1L << n);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            for (int pin = 20; pin < 24; pin++) {
                assertTrue(pulses.get(pin).get() > 0, "pin " + pin + " fired while other vCPUs used the device");
            }
        } finally {
            vcpus.shutdownNow();
        }
    }
}
