package org.jbhyve.devices.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.devices.input.I8042Test.Line;
import org.jbhyve.snapshot.CorruptBlobs;
import org.jbhyve.snapshot.StateRoundTrip;
import org.junit.jupiter.api.Test;

/** The 8042's snapshot with its keyboard and mouse: buffers, modes and IRQ levels survive. */
class I8042SnapshotTest {
    private final Line irq1 = new Line(), irq12 = new Line();
    private final I8042 kbc = new I8042(irq1, irq12, () -> {});

    private static void command(I8042 c, int v) {
        c.commandPort().write(0, 1, v);
    }

    private static void data(I8042 c, int v) {
        c.dataPort().write(0, 1, v);
    }

    private static List<Integer> drain(I8042 c) {
        List<Integer> out = new ArrayList<>();
        while ((c.commandPort().read(0, 1) & I8042.STS_OBF) != 0 && out.size() < 200) {
            out.add((int) c.dataPort().read(0, 1));
        }
        return out;
    }

    private static void type(I8042 c, int keysym) {
        c.keyboardInput().key(true, keysym, 0);
        c.keyboardInput().key(false, keysym, 0);
    }

    /**
     * The mouse port on with its IRQ, the mouse an IntelliMouse reporting at resolution 3 with two
     * packets queued; the keyboard with LEDs 5 and a set-LEDs command waiting for its argument;
     * "a" and "b" typed, the make code of "a" in the output buffer.
     */
    private void busy() {
        command(kbc, I8042.CMD_WRITE_RAM);
        data(kbc, I8042.CB_TRANSLATE | I8042.CB_SYS | I8042.CB_KBD_INT | I8042.CB_AUX_INT);
        for (int v : new int[] {0xF3, 200, 0xF3, 100, 0xF3, 80, 0xE8, 3, 0xF4}) {
            command(kbc, I8042.CMD_WRITE_AUX);
            data(kbc, v);
        }
        data(kbc, Ps2Keyboard.CMD_SET_LEDS);
        data(kbc, 0x05);
        data(kbc, Ps2Keyboard.CMD_SET_LEDS);
        drain(kbc);
        type(kbc, 'a');
        kbc.mouseInput().pointer(0, 100, 100, 640, 480);
        kbc.mouseInput().pointer(1, 130, 90, 640, 480);
        type(kbc, 'b');
    }

    @Test
    void buffersModesAndIrqLevelsSurvive() {
        busy();
        assertTrue(irq1.level);
        Line fresh1 = new Line(), fresh12 = new Line();
        I8042 fresh = new I8042(fresh1, fresh12, () -> {});
        StateRoundTrip.assertRoundTrip(kbc, fresh);
        assertTrue(fresh1.level, "IRQ 1 is driven to the saved level");
        assertFalse(fresh12.level);

        List<Integer> expected = drain(kbc);
        assertEquals(List.of(0x1E, 0x9E, 0x30, 0xB0, 0x08, 0, 0, 0, 0x09, 30, 10, 0), expected,
                "a and b in set 1, then 4-byte IntelliMouse packets: the first position, then left button,"
                        + " 30 right and 10 up");
        assertEquals(expected, drain(fresh), "the restored controller delivers the same bytes");
        assertFalse(fresh1.level);

        data(fresh, 0x07); // the argument of the waiting set-LEDs command
        assertEquals(List.of(Ps2Keyboard.ACK), drain(fresh), "accepted as an argument, not a command");
        command(fresh, I8042.CMD_WRITE_AUX);
        data(fresh, Ps2Mouse.CMD_STATUS);
        assertEquals(List.of(Ps2Mouse.ACK, 0x20 | 0x04, 3, 80), drain(fresh),
                "reporting on, left button held, resolution 3, rate 80");
        command(fresh, I8042.CMD_WRITE_AUX);
        data(fresh, Ps2Mouse.CMD_IDENTIFY);
        assertEquals(List.of(Ps2Mouse.ACK, 3), drain(fresh), "still an IntelliMouse");
        assertTrue(fresh12.edges > 0, "mouse bytes raise IRQ 12");
    }

    @Test
    void mouseDataInTheOutputBufferRaisesIrq12AfterRestore() {
        busy();
        drain(kbc);
        kbc.mouseInput().pointer(0, 140, 90, 640, 480);
        assertTrue(irq12.level);
        Line fresh1 = new Line(), fresh12 = new Line();
        StateRoundTrip.assertRoundTrip(kbc, new I8042(fresh1, fresh12, () -> {}));
        assertTrue(fresh12.level);
        assertFalse(fresh1.level);
    }

    @Test
    void damagedBlobsGiveOnlySnapshotExceptions() {
        busy();
        CorruptBlobs.assertOnlySnapshotExceptions(() -> new I8042(new Line(), new Line(), () -> {}),
                StateRoundTrip.save(kbc));
    }
}
