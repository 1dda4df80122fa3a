package org.jbhyve.devices.lpc;

import org.jbhyve.snapshot.CorruptBlobs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jbhyve.snapshot.StateRoundTrip;
import org.junit.jupiter.api.Test;

/** The ACPI PM registers' snapshot: PM1 registers, the SCI and a PM timer that never goes back. */
class AcpiPowerManagementSnapshotTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final AcpiPowerManagement pm = new AcpiPowerManagement(level -> {}, slpTyp -> {}, now::get);

    private static long timer(AcpiPowerManagement pm) {
        return pm.timerBlock().read(0, 4);
    }

    /** ACPI mode, the power button enabled and pressed (SCI up), the PM timer 2.5 s on. */
    private void busy() {
        pm.smiCommand().write(0, 1, AcpiPowerManagement.ACPI_ENABLE);
        pm.eventBlock().write(2, 2, AcpiPowerManagement.STS_PWRBTN | AcpiPowerManagement.STS_TMR);
        pm.controlBlock().write(0, 2, AcpiPowerManagement.CNT_SCI_EN | 3 << 10);
        pm.pressPowerButton();
        now.addAndGet(2_500_000_000L);
    }

    @Test
    void registersSciAndTimerSurviveOnAHostWhoseClockStartedAfresh() {
        busy();
        long saved = timer(pm);
        assertEquals(8_948_862, saved, "2.5 s at 3.579545 MHz");
        AtomicLong freshNow = new AtomicLong(7); // a new process: its clock starts low
        AtomicBoolean sci = new AtomicBoolean();
        AcpiPowerManagement fresh = new AcpiPowerManagement(sci::set, slpTyp -> {}, freshNow::get);
        StateRoundTrip.assertRoundTrip(pm, fresh);

        assertTrue(sci.get(), "the SCI is driven to the saved level");
        assertTrue(fresh.powerButtonArmed());
        assertEquals(AcpiPowerManagement.STS_PWRBTN, fresh.eventBlock().read(0, 2));
        assertEquals(AcpiPowerManagement.STS_PWRBTN | AcpiPowerManagement.STS_TMR, fresh.eventBlock().read(2, 2));
        assertEquals(AcpiPowerManagement.CNT_SCI_EN | 3 << 10, fresh.controlBlock().read(0, 2));
        assertEquals(saved, timer(fresh), "the timer goes on from its saved value");
        freshNow.addAndGet(1_000_000_000L);
        assertEquals(saved + 3_579_545, timer(fresh), "and keeps counting");
    }

    @Test
    void damagedBlobsGiveOnlySnapshotExceptions() {
        busy();
        CorruptBlobs.assertOnlySnapshotExceptions(
                () -> new AcpiPowerManagement(level -> {}, slpTyp -> {}, () -> 0), StateRoundTrip.save(pm));
    }
}
