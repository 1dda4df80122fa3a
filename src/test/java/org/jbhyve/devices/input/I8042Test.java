package org.jbhyve.devices.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.backend.display.InputRouter;
import org.jbhyve.irq.IrqLine;
import org.junit.jupiter.api.Test;

/** The i8042 through ports 0x60/0x64 with console input, as a guest driver sees it. */
class I8042Test {
    /** Records an IRQ line's level and how many rising edges it had. */
    static final class Line implements IrqLine {
        boolean level;
        int edges;

        @Override
        public synchronized void set(boolean on) {
            if (on && !level) {
                edges++;
            }
            level = on;
        }
    }

    private final Line irq1 = new Line(), irq12 = new Line();
    private final AtomicInteger resets = new AtomicInteger();
    private final I8042 kbc = new I8042(irq1, irq12, resets::incrementAndGet);
    private final InputRouter console = new InputRouter();

    {
        kbc.attach(console);
    }

    private int status() {
        return (int) kbc.commandPort().read(0, 1);
    }

    private void command(int c) {
        kbc.commandPort().write(0, 1, c);
    }

    private void data(int d) {
        kbc.dataPort().write(0, 1, d);
    }

    /** Everything the guest can read now, as a driver polling OBF would. */
    private List<Integer> drain() {
        List<Integer> out = new ArrayList<>();
        while ((status() & 0x01) != 0 && out.size() < 100) {
            out.add((int) kbc.dataPort().read(0, 1));
        }
        return out;
    }

    private void type(int keysym) {
        console.key(true, keysym, 0);
        console.key(false, keysym, 0);
    }

    @Test
    void startsAsABiosLeavesIt() {
        assertEquals(0x14, status(), "empty, system flag, not inhibited");
        command(0x20);
        assertEquals(0x1D, status(), "a byte waits; the last write was a command");
        assertEquals(List.of(0x65), drain(), "translate, system flag, mouse port off, keyboard IRQ");
    }

    @Test
    void selfTestsAndPortTests() {
        command(0xAA);
        command(0xAB);
        command(0xA9);
        assertEquals(List.of(0x55, 0x00, 0x00), drain());
        command(0xC0);
        assertEquals(List.of(0x00), drain(), "input port");
        command(0xD0);
        assertEquals(List.of(0x03), drain(), "output port: reset line high, A20 on, buffers empty");
    }

    @Test
    void commandByteAndControllerRam() {
        command(0x60);
        data(0x00);
        command(0x20);
        assertEquals(List.of(0x00), drain());
        assertEquals(0x18, status(), "no system flag: it follows the command byte");
        command(0x65);
        data(0x5A);
        command(0x25);
        assertEquals(List.of(0x5A), drain());
    }

    @Test
    void keysArriveTranslatedToSet1WithIrq1() {
        type('a');
        assertEquals(1, irq1.edges);
        assertTrue(irq1.level);
        assertEquals(List.of(0x1E, 0x9E), drain(), "make and break of A in set 1");
        assertFalse(irq1.level, "low once the buffer is empty");
        assertEquals(2, irq1.edges, "a new edge for the second byte");
        type(0xff52); // Up: a grey key
        assertEquals(List.of(0xE0, 0x48, 0xE0, 0xC8), drain());
    }

    @Test
    void withoutTranslationTheGuestSeesSet2() {
        command(0x60);
        data(0x05); // keyboard IRQ, system flag, no translation
        type('a');
        console.key(true, 0xffe4, 0); // right Ctrl
        console.key(false, 0xffe4, 0);
        assertEquals(List.of(0x1C, 0xF0, 0x1C, 0xE0, 0x14, 0xE0, 0xF0, 0x14), drain());
    }

    @Test
    void keyboardCommandsAnswerThroughTheController() {
        data(0xFF); // reset
        data(0xF2); // identify: AB 83, translated to AB 41 as on a PC
        data(0xEE); // echo
        data(0xF0);
        data(0x00); // which scan code set?
        data(0xED);
        data(0x07); // LEDs
        data(0x99); // not a command
        assertEquals(List.of(0xFA, 0xAA, 0xFA, 0xAB, 0x41, 0xEE, 0xFA, 0xFA, 0x41, 0xFA, 0xFA, 0xFE), drain(),
                "set 2 is reported as 0x41 through the translation, as on a PC");
    }

    @Test
    void aDisabledKeyboardDropsKeysAndADisabledPortHoldsThem() {
        data(0xF5);
        assertEquals(List.of(0xFA), drain());
        type('b');
        assertEquals(List.of(), drain(), "scanning off");
        data(0xF4);
        assertEquals(List.of(0xFA), drain());
        command(0xAD); // keyboard port off
        type('b');
        assertEquals(List.of(), drain());
        command(0xAE);
        assertEquals(List.of(0x30, 0xB0), drain(), "held by the keyboard until the port is on again");
    }

    @Test
    void aKeyThatDoesNotFitIsDroppedWhole() {
        command(0xAD);
        for (int i = 0; i < 10; i++) {
            type(0xff52); // E0 75 and E0 F0 75: three presses and releases fit in 16 bytes
        }
        command(0xAE);
        List<Integer> got = drain();
        assertEquals(12, got.size(), "3 x E0 48 E0 C8, nothing of the fourth");
        assertEquals(List.of(0xE0, 0x48, 0xE0, 0xC8), got.subList(8, 12));
    }

    @Test
    void mousePacketsArriveOnIrq12WithAuxb() {
        command(0xA8); // mouse port on
        command(0x60);
        data(0x47); // both IRQs, translation
        command(0xD4);
        data(0xF4); // enable reporting
        assertEquals(0x35, status() & 0x35, "mouse byte waiting: OBF and AUXB");
        assertTrue(irq12.level);
        assertEquals(List.of(0xFA), drain());
        console.pointer(0, 100, 100, 800, 600); // the first position only sets the origin
        assertEquals(List.of(0x08, 0x00, 0x00), drain());
        console.pointer(1, 110, 90, 800, 600);
        assertEquals(List.of(0x09, 10, 10), drain(), "left button, right 10, up 10");
        console.pointer(4, 100, 100, 800, 600);
        assertEquals(List.of(0x3A, 0xF6, 0xF6), drain(), "right button, left 10, down 10: both signs");
        assertFalse(irq12.level);
        assertEquals(0, irq1.edges, "mouse bytes never raise IRQ 1");
    }

    @Test
    void mouseCommandsAndTheWheel() {
        command(0xA8);
        command(0xD4);
        data(0xFF);
        assertEquals(List.of(0xFA, 0xAA, 0x00), drain());
        for (int rate : new int[] {200, 100, 80}) {
            command(0xD4);
            data(0xF3);
            command(0xD4);
            data(rate);
        }
        command(0xD4);
        data(0xF2);
        command(0xD4);
        data(0xE9);
        assertEquals(List.of(0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x03, 0xFA, 0x00, 0x02, 80), drain());
        command(0xD4);
        data(0xF4);
        drain();
        console.pointer(0, 10, 10, 800, 600);
        drain();
        console.pointer(0x10, 10, 10, 800, 600); // wheel down
        assertEquals(List.of(0x08, 0, 0, 1), drain(), "IntelliMouse: a fourth byte");
    }

    @Test
    void aMousePortThatIsOffReportsNothing() {
        command(0xD4);
        data(0xF4);
        assertEquals(List.of(), drain(), "the port starts off, as SeaBIOS leaves it");
        command(0xA8);
        assertEquals(List.of(0xFA), drain());
    }

    @Test
    void writesToTheOutputBufferAppearAsDeviceData() {
        command(0xD2);
        data(0x42);
        assertEquals(0x1D & ~0x08 | 0x01, status() & 0x3D & ~0x08 | 0x01);
        assertEquals(List.of(0x42), drain());
        command(0xD3);
        data(0x43);
        assertEquals(0x20, status() & 0x20, "AUXB");
        assertEquals(List.of(0x43), drain());
    }

    @Test
    void pulsingTheResetLineResetsTheMachine() {
        command(0xFF); // pulse nothing
        assertEquals(0, resets.get());
        command(0xFE);
        assertEquals(1, resets.get());
        command(0xD1);
        data(0x02); // output port bit 0 low
        assertEquals(2, resets.get());
        command(0xD1);
        data(0x03);
        assertEquals(2, resets.get());
    }

    @Test
    void qemuKeyNumbersAreLayoutFree() {
        console.key(true, 0, 0x10);   // Q's position (A on AZERTY viewers)
        console.key(true, 0, 0xC8);   // E0 48: Up
        console.key(true, 0, 0xC6);   // Pause
        assertEquals(List.of(0x10, 0xE0, 0x48, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5), drain());
    }
}
