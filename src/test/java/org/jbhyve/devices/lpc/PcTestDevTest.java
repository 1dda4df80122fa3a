package org.jbhyve.devices.lpc;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PcTestDevTest {
    @Test
    void debugExitStatusForEachWidth() {
        List<Integer> exits = new ArrayList<>();
        PcTestDev dev = new PcTestDev(exits::add);
        dev.debugExit().write(0, 1, 0x00);
        dev.debugExit().write(0, 1, 0x21);
        dev.debugExit().write(0, 2, 0x1234);
        dev.debugExit().write(0, 4, 0x0000_0003L);
        dev.debugExit().write(0, 1, 0x1FF); // only the access width counts
        assertEquals(List.of(1, 0x43, 0x2469, 7, 0x1FF), exits);
        assertEquals(0, dev.debugExit().read(0, 4));
    }

    @Test
    void scratchRegisterByteLanes() {
        PcTestDev dev = new PcTestDev(s -> fail("no exit"));
        dev.ioport().write(0, 4, 0xDEADBEEFL);
        assertEquals(0xDEADBEEFL, dev.ioport().read(0, 4));
        assertEquals(0xBE, dev.ioport().read(1, 1));
        dev.ioport().write(2, 2, 0x1234);
        assertEquals(0x1234BEEFL, dev.ioport().read(0, 4));
        assertEquals(0x1234, dev.ioport().read(2, 2));
    }

    @Test
    void irqPortsAssertAndDeassertLines() {
        Map<Integer, RecordingIrqLine> lines = new HashMap<>();
        PcTestDev dev = new PcTestDev(s -> {}, pin -> lines.computeIfAbsent(pin, p -> new RecordingIrqLine()), 24);
        dev.irq().write(5, 1, 1);
        assertTrue(lines.get(5).level());
        dev.irq().write(5, 1, 0);
        assertFalse(lines.get(5).level());
        dev.irq().write(20, 2, 1); // wider accesses refused
        assertNull(lines.get(20));
        assertEquals(0, dev.irq().read(3, 1));
    }

    @Test
    void iomemIsScratchMemory() {
        PcTestDev dev = new PcTestDev(s -> {});
        dev.iomem().write(0x100, 8, 0x0102030405060708L);
        assertEquals(0x0102030405060708L, dev.iomem().read(0x100, 8));
        assertEquals(0x07, dev.iomem().read(0x101, 1));
        assertEquals(0xFFFF_FFFFL, dev.iomem().read(PcTestDev.IOMEM_LEN - 2, 4), "out of range");
    }
}
