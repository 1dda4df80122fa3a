package org.jbhyve.devices.lpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.jbhyve.irq.IrqLine;
import org.junit.jupiter.api.Test;

class AcpiPowerManagementTest {
    private final List<Boolean> sci = new ArrayList<>();
    private final List<Integer> sleeps = new ArrayList<>();
    private final AtomicLong now = new AtomicLong(1_000);
    private final AcpiPowerManagement pm = new AcpiPowerManagement(level -> sci.add(level), sleeps::add, now::get);

    private boolean sciLevel() {
        return !sci.isEmpty() && sci.get(sci.size() - 1);
    }

    @Test
    void powerButtonRaisesSciOnlyOnceArmedAndClearsOnWriteOne() {
        pm.pressPowerButton();
        assertFalse(sciLevel(), "not in ACPI mode yet");
        assertEquals(AcpiPowerManagement.STS_PWRBTN, pm.eventBlock().read(0, 2));
        pm.eventBlock().write(0, 2, AcpiPowerManagement.STS_PWRBTN);
        assertEquals(0, pm.eventBlock().read(0, 2));

        pm.smiCommand().write(0, 1, AcpiPowerManagement.ACPI_ENABLE);
        assertEquals(AcpiPowerManagement.CNT_SCI_EN, pm.controlBlock().read(0, 2) & 1);
        pm.eventBlock().write(2, 2, AcpiPowerManagement.STS_PWRBTN); // PM1_EN
        assertTrue(pm.powerButtonArmed());
        pm.pressPowerButton();
        assertTrue(sciLevel());
        pm.eventBlock().write(0, 2, AcpiPowerManagement.STS_PWRBTN);
        assertFalse(sciLevel(), "SCI lowered when the status is cleared");
        assertEquals(AcpiPowerManagement.STS_PWRBTN, pm.eventBlock().read(2, 2), "enable bits survive");
    }

    @Test
    void slpEnWithS5RequestsSleepState5() {
        pm.controlBlock().write(0, 2, (5 << 10) | AcpiPowerManagement.CNT_SLP_EN);
        assertEquals(List.of(5), sleeps);
        assertEquals(0, pm.controlBlock().read(0, 2) & AcpiPowerManagement.CNT_SLP_EN, "SLP_EN reads as 0");
        pm.controlBlock().write(0, 2, 5 << 10);
        assertEquals(List.of(5), sleeps, "no SLP_EN, no sleep");
    }

    @Test
    void timerCountsAt3579545Hz() {
        long t0 = pm.timerBlock().read(0, 4);
        now.addAndGet(1_000_000_000L);
        assertEquals(3_579_545L, pm.timerBlock().read(0, 4) - t0);
        now.addAndGet(3_600_000_000_000L); // an hour later: no overflow in the arithmetic
        long expected = (3_579_545L * 3601) & 0xFFFFFFFFL;
        assertEquals(expected, pm.timerBlock().read(0, 4));
    }
}
