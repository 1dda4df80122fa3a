package org.jbhyve.devices.lpc;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ResetControlTest {
    private final AtomicInteger resets = new AtomicInteger();
    private final ResetControl rc = new ResetControl(resets::incrementAndGet);

    @Test
    void cf9ResetsWhenRstCpuIsSet() {
        rc.resetRegister().write(0, 1, 0x02);
        assertEquals(0, resets.get(), "SYS_RST alone only selects the reset type");
        assertEquals(0x02, rc.resetRegister().read(0, 1));
        rc.resetRegister().write(0, 1, 0x06);
        assertEquals(1, resets.get());
        rc.resetRegister().write(0, 1, 0x0E);
        assertEquals(2, resets.get());
    }

    @Test
    void keyboardControllerPulseResetLine() {
        assertEquals(0x14, rc.keyboardCommand().read(0, 1), "buffers empty, system flag, not inhibited");
        rc.keyboardCommand().write(0, 1, 0xFE);
        assertEquals(1, resets.get());
        rc.keyboardCommand().write(0, 1, 0xFF); // pulse nothing
        assertEquals(1, resets.get());
    }

    @Test
    void keyboardControllerCommandsAreAcceptedAndAnswered() {
        rc.keyboardCommand().write(0, 1, 0xAA);
        assertEquals(0x1D, rc.keyboardCommand().read(0, 1), "answer waiting, last write a command");
        assertEquals(0x55, rc.keyboardData().read(0, 1));
        assertEquals(0, rc.keyboardCommand().read(0, 1) & 0x01);
        rc.keyboardCommand().write(0, 1, 0x60);
        rc.keyboardData().write(0, 1, 0x47);
        rc.keyboardCommand().write(0, 1, 0x20);
        assertEquals(0x47, rc.keyboardData().read(0, 1));
        rc.keyboardCommand().write(0, 1, 0xAD); // disable keyboard: ignored
        rc.keyboardData().write(0, 1, 0xFF);    // a byte for the absent keyboard
        assertEquals(0, resets.get());
        rc.keyboardCommand().write(0, 1, 0xD1);
        rc.keyboardData().write(0, 1, 0xFE);    // output port bit 0 low: reset
        assertEquals(1, resets.get());
    }

    @Test
    void postPorts() {
        PostPort post = new PostPort();
        assertEquals(-1, post.lastCode());
        post.write(0, 1, 0x42);
        assertEquals(0x42, post.lastCode());
        assertEquals(0xFF, post.read(0, 1));
    }

    @Test
    void comPortTable() {
        assertEquals(0x3F8, LpcComPorts.COM1.base());
        assertEquals(4, LpcComPorts.COM1.irq());
        assertEquals(0x2F8, LpcComPorts.byName("com2").orElseThrow().base());
        assertEquals(3, LpcComPorts.COM2.irq());
        assertEquals(0x3E8, LpcComPorts.COM3.base());
        assertEquals(4, LpcComPorts.COM3.irq());
        assertEquals(0x2E8, LpcComPorts.COM4.base());
        assertEquals(3, LpcComPorts.COM4.irq());
        assertTrue(LpcComPorts.byName("com5").isEmpty());
    }
}
