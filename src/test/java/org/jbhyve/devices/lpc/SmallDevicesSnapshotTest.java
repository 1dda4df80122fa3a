package org.jbhyve.devices.lpc;

import org.jbhyve.snapshot.CorruptBlobs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.jbhyve.snapshot.StateRoundTrip;
import org.junit.jupiter.api.Test;

/** Snapshots of pc-testdev, the POST ports and the reset control registers. */
class SmallDevicesSnapshotTest {
    private static final int PINS = 24;

    private static PcTestDev testdev(Map<Integer, RecordingIrqLine> lines) {
        return new PcTestDev(status -> {}, pin -> lines.computeIfAbsent(pin, p -> new RecordingIrqLine()), PINS);
    }

    private static PcTestDev busyTestdev(Map<Integer, RecordingIrqLine> lines) {
        PcTestDev dev = testdev(lines);
        dev.ioport().write(0, 4, 0xDEADBEEFL);
        dev.iomem().write(0x10, 8, 0x0123_4567_89AB_CDEFL);
        dev.iomem().write(PcTestDev.IOMEM_LEN - 1, 1, 0x42);
        dev.irq().write(5, 1, 1);
        dev.irq().write(17, 1, 1);
        dev.irq().write(17, 1, 0);
        return dev;
    }

    @Test
    void pcTestdevScratchMemoryAndPinLevelsSurvive() {
        PcTestDev dev = busyTestdev(new HashMap<>());
        Map<Integer, RecordingIrqLine> lines = new HashMap<>();
        PcTestDev fresh = testdev(lines);
        StateRoundTrip.assertRoundTrip(dev, fresh);
        assertEquals(0xDEADBEEFL, fresh.ioport().read(0, 4));
        assertEquals(0x0123_4567_89AB_CDEFL, fresh.iomem().read(0x10, 8));
        assertEquals(0x42, fresh.iomem().read(PcTestDev.IOMEM_LEN - 1, 1));
        assertTrue(lines.get(5).level(), "pin 5 is raised again");
        assertEquals(1, lines.size(), "no other pin is touched");
        fresh.irq().write(5, 1, 0);
        assertFalse(lines.get(5).level());
    }

    @Test
    void pcTestdevDamagedBlobs() {
        CorruptBlobs.assertOnlySnapshotExceptions(() -> testdev(new HashMap<>()),
                StateRoundTrip.save(busyTestdev(new HashMap<>())));
    }

    @Test
    void postPortKeepsItsLastCode() {
        PostPort port = new PostPort();
        port.write(0, 1, 0x1AB);
        PostPort fresh = new PostPort();
        StateRoundTrip.assertRoundTrip(port, fresh);
        assertEquals(0xAB, fresh.lastCode());
        StateRoundTrip.assertRoundTrip(new PostPort(), fresh);
        assertEquals(-1, fresh.lastCode(), "none written");
        CorruptBlobs.assertOnlySnapshotExceptions(PostPort::new, StateRoundTrip.save(port));
    }

    private static ResetControl busyReset() {
        ResetControl reset = new ResetControl(() -> {});
        reset.resetRegister().write(0, 1, 0x02);
        reset.keyboardCommand().write(0, 1, ResetControl.CMD_SELF_TEST); // answer 0x55 waits
        reset.keyboardCommand().write(0, 1, ResetControl.CMD_WRITE_CCB); // the next data byte is the command byte
        return reset;
    }

    @Test
    void resetControlRegistersAndAPendingCommandSurvive() {
        int[] resets = new int[1];
        ResetControl fresh = new ResetControl(() -> resets[0]++);
        StateRoundTrip.assertRoundTrip(busyReset(), fresh);
        assertEquals(0x02, fresh.resetRegister().read(0, 1));
        int status = (int) fresh.keyboardCommand().read(0, 1);
        assertEquals(ResetControl.STS_OBF | ResetControl.STS_A2, status & (ResetControl.STS_OBF | ResetControl.STS_A2));
        assertEquals(0x55, fresh.keyboardData().read(0, 1));
        fresh.keyboardData().write(0, 1, 0x01); // completes the pending write-command-byte
        fresh.keyboardCommand().write(0, 1, ResetControl.CMD_READ_CCB);
        assertEquals(0x01, fresh.keyboardData().read(0, 1));
        assertEquals(0, resets[0]);
    }

    @Test
    void resetControlDamagedBlobs() {
        CorruptBlobs.assertOnlySnapshotExceptions(() -> new ResetControl(() -> {}), StateRoundTrip.save(busyReset()));
    }
}
