package org.jbhyve.devices.timer;

import static org.jbhyve.devices.timer.HpetFixture.CFG;
import static org.jbhyve.devices.timer.HpetFixture.CMP;
import static org.jbhyve.devices.timer.HpetFixture.FSB;
import static org.jbhyve.devices.timer.HpetFixture.timer;
import static org.jbhyve.devices.timer.HpetFixture.route;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HpetRegistersTest {
    private final HpetFixture f = new HpetFixture();

    @Test
    void capabilitiesWordIsBhyvesBlockIdWithA2To24HzPeriod() {
        assertEquals(0x8086_A701, Hpet.BLOCK_ID, "the ACPI HPET table's event timer block id");
        assertEquals(59_604_644L, Hpet.PERIOD_FS);
        assertEquals(59_604_644L << 32 | 0x8086_A701L, f.read(0x000));
        assertEquals(0x8086_A701L, f.read32(0x000));
        assertEquals(59_604_644L, f.read32(0x004));
        assertEquals(0x8086L, f.hpet.read(0x002, 2), "sub-dword reads return the addressed bytes");
        assertEquals(0xA7L, f.hpet.read(0x001, 1));
        f.write(0x000, 0);
        assertEquals(0x8086_A701L, f.read32(0x000), "read-only");
    }

    @Test
    void counterRunsOnlyWhileEnabledAt2To24Hz() {
        assertEquals(0, f.counter());
        f.now += 1_000_000_000L;
        assertEquals(0, f.counter(), "halted at reset");
        f.enable();
        f.now += 1_000_000_000L;
        assertEquals(16_777_216L, f.counter());
        f.now += 500_000_000L;
        assertEquals(16_777_216L + 8_388_608L, f.counter());
        f.now += 3_600_000_000_000L; // an hour on: no overflow in the arithmetic
        assertEquals(16_777_216L * 3601 + 8_388_608L, f.counter());
        f.write(Hpet.CONFIG, 0);
        long frozen = f.counter();
        f.now += 7_000_000_000L;
        assertEquals(frozen, f.counter(), "halted again");
        f.enable();
        f.now += HpetFixture.NANOS;
        assertEquals(frozen + HpetFixture.TICKS, f.counter(), "resumes from where it stopped");
    }

    @Test
    void counterHalvesAreWritableWhileHaltedAndCarry() {
        f.write32(Hpet.COUNTER, 0xFFFF_FFF0L);
        f.write32(Hpet.COUNTER + 4, 0x12L);
        assertEquals(0x12_FFFF_FFF0L, f.counter());
        assertEquals(0xFFFF_FFF0L, f.read32(Hpet.COUNTER));
        assertEquals(0x12L, f.read32(Hpet.COUNTER + 4));
        f.enable();
        f.now += 2 * HpetFixture.NANOS; // 65536 ticks: the low half wraps into the high one
        assertEquals(0x13_0000_FFF0L, f.counter());
        assertEquals(0x0000_FFF0L, f.read32(Hpet.COUNTER));
        assertEquals(0x13L, f.read32(Hpet.COUNTER + 4));
        f.write(Hpet.COUNTER, 5);
        assertEquals(0x13_0000_FFF0L, f.counter(), "not writable while running");
    }

    @Test
    void generalConfigurationKeepsOnlyEnableAndLegacyRoute() {
        f.write(Hpet.CONFIG, -1L);
        assertEquals(3, f.read(Hpet.CONFIG));
        f.write32(Hpet.CONFIG, 0);
        assertEquals(0, f.read(Hpet.CONFIG));
        f.write32(Hpet.CONFIG + 4, -1L);
        assertEquals(0, f.read(Hpet.CONFIG));
    }

    @Test
    void timerCapabilitiesAreReadOnlyAndRoutesChecked() {
        for (int n = 0; n < Hpet.TIMER_COUNT; n++) {
            long caps = HpetTimer.PER_INT_CAP | HpetTimer.SIZE_CAP | HpetTimer.FSB_INT_DEL_CAP;
            assertEquals(0x00F0_0000L << 32 | caps, f.read(timer(n, CFG)), "timer " + n);
            assertEquals(0x00F0_0000L, f.read32(timer(n, CFG) + 4));
            assertEquals(-1L, f.read(timer(n, CMP)), "comparator resets to all ones");
        }
        f.write(timer(2, CFG), -1L);
        long caps = HpetTimer.PER_INT_CAP | HpetTimer.SIZE_CAP | HpetTimer.FSB_INT_DEL_CAP;
        assertEquals(0x00F0_0000L << 32 | caps | (HpetTimer.WRITABLE & ~HpetTimer.ROUTE_MASK),
                f.read(timer(2, CFG)), "route 31 is not allowed and reads back as 0");
        f.write32(timer(3, CFG), route(21) | HpetTimer.INT_ENB);
        assertEquals(21, f.read32(timer(3, CFG)) >>> 9 & 0x1F);
        f.write32(timer(3, CFG), route(5));
        assertEquals(0, f.read32(timer(3, CFG)) >>> 9 & 0x1F, "pin 5 is not in the route capability");
        f.write32(timer(3, CFG), 0);
        assertEquals(caps, f.read32(timer(3, CFG)), "capability bits cannot be cleared");
        f.write32(timer(3, CFG) + 4, 0);
        assertEquals(0x00F0_0000L, f.read32(timer(3, CFG) + 4));
    }

    @Test
    void comparatorAndFsbRouteHalves() {
        f.write32(timer(1, CMP), 0x1234_5678L);
        f.write32(timer(1, CMP) + 4, 0x9ABCL);
        assertEquals(0x9ABC_1234_5678L, f.read(timer(1, CMP)));
        assertEquals(0x9ABCL, f.read32(timer(1, CMP) + 4));
        f.write32(timer(1, FSB) + 4, 0xFEE0_1000L);
        f.write32(timer(1, FSB), 0x4031L);
        assertEquals(0xFEE0_1000_0000_4031L, f.read(timer(1, FSB)));

        f.write(timer(1, CFG), HpetTimer.MODE32);
        assertEquals(0x1234_5678L, f.read(timer(1, CMP)), "32-bit mode drops the upper half");
        f.write32(timer(1, CMP) + 4, 7);
        assertEquals(0x1234_5678L, f.read(timer(1, CMP)), "and keeps it unwritable");
        f.write(timer(1, CMP), 0xAAAA_BBBB_CCCC_DDDDL);
        assertEquals(0xCCCC_DDDDL, f.read(timer(1, CMP)));
    }

    @Test
    void badOffsetsAndSizesFailQuietly() {
        f.enable();
        f.write(timer(2, CMP), 1000);
        long[] offsets = {-8, -1, 0x400, 0x1000, Long.MAX_VALUE, Long.MIN_VALUE, 0x3FF, 0x200, 0x118, 0x1F8};
        int[] sizes = {0, 1, 2, 3, 4, 5, 8, 16, -1, Integer.MAX_VALUE};
        for (long offset : offsets) {
            for (int size : sizes) {
                f.hpet.read(offset, size);
                f.hpet.write(offset, size, -1L);
            }
        }
        assertEquals(0, f.read(0x200), "reserved offsets read 0");
        assertEquals(0, f.read(timer(2, 0x18)));
        assertEquals(0, f.hpet.read(0x104, 8), "misaligned");
        assertEquals(0, f.hpet.read(0x400, 4), "past the window");
        f.hpet.write(Hpet.CONFIG, 1, 0); // byte writes are not HPET accesses
        f.hpet.write(Hpet.CONFIG, 2, 0);
        f.hpet.write(timer(2, CMP) + 4, 8, 0); // misaligned quadword
        assertEquals(Hpet.ENABLE, f.read(Hpet.CONFIG));
        assertEquals(1000, f.read(timer(2, CMP)));
    }

    @Test
    void randomAccessesNeverThrowNorChangeTheCapabilities() {
        Random r = new Random(42);
        int[] sizes = {1, 2, 4, 8, 3, 0};
        for (int i = 0; i < 200_000; i++) {
            long offset = r.nextInt(8) == 0 ? r.nextLong() : r.nextInt(0x420);
            int size = sizes[r.nextInt(sizes.length)];
            f.now += r.nextInt(1_000_000);
            if (r.nextBoolean()) {
                f.hpet.read(offset, size);
            } else {
                f.hpet.write(offset, size, r.nextLong());
            }
            if (i % 1000 == 0) {
                f.hpet.runDueTimers();
            }
        }
        assertEquals(59_604_644L << 32 | 0x8086_A701L, f.read(0x000));
        for (int n = 0; n < Hpet.TIMER_COUNT; n++) {
            assertEquals(0x00F0_0000L, f.read32(timer(n, CFG) + 4));
            int pin = (int) (f.read32(timer(n, CFG)) >>> 9 & 0x1F);
            assertEquals(true, pin == 0 || (pin >= 20 && pin <= 23), "route " + pin);
        }
    }
}
