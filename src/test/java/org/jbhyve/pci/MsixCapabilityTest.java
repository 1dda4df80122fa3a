package org.jbhyve.pci;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.irq.IrqLine;
import org.jbhyve.irq.MsiVector;
import org.junit.jupiter.api.Test;

class MsixCapabilityTest {
    private final List<long[]> sent = new ArrayList<>();
    private final PciInterrupts interrupts = new PciInterrupts() {
        @Override
        public IrqLine intx() {
            return IrqLine.NONE;
        }

        @Override
        public void sendMsi(long address, int data) {
            sent.add(new long[] {address, data});
        }

        @Override
        public MsiVector msiVector() {
            return MsiVector.direct(this::sendMsi);
        }
    };

    private static void program(IoHandler table, int v, long address, int data) {
        table.write(16L * v, 8, address);
        table.write(16L * v + 8, 4, data);
        table.write(16L * v + 12, 4, 0);
    }

    @Test
    void layoutFollowsBhyve() {
        PciConfigSpace config = new PciConfigSpace(1, 2, 0x010802, 0);
        MsixCapability m = new MsixCapability(config, interrupts, 17, 4);
        int cap = m.offset();
        assertEquals(0x11, config.get8(cap));
        assertEquals(16, config.get16(cap + 2), "table size - 1");
        assertEquals(4, config.get32(cap + 4), "table at 0 in BAR4");
        assertEquals(4096 | 4, config.get32(cap + 8), "PBA after the table, rounded to 4 KiB");
        assertEquals(8192, m.barSize());
        assertEquals(1, m.handler().read(12, 4), "vectors start masked");
    }

    @Test
    void firesOnlyWhenEnabledAndUnmasked() {
        PciConfigSpace config = new PciConfigSpace(1, 2, 0, 0);
        MsixCapability m = new MsixCapability(config, interrupts, 4, 2);
        IoHandler table = m.handler();
        program(table, 2, 0xFEE01000L, 0x42);
        m.fire(2);
        assertTrue(sent.isEmpty(), "MSI-X disabled: nothing sent");
        assertFalse(m.pending(2), "and nothing remembered (the device uses INTx then)");

        config.write(m.offset() + 2, 2, 0x8000);
        m.configWritten();
        assertTrue(m.enabled());
        m.fire(2);
        assertEquals(1, sent.size());
        assertEquals(0xFEE01000L, sent.get(0)[0]);
        assertEquals(0x42, sent.get(0)[1]);
        m.fire(9);
        assertEquals(1, sent.size(), "out-of-range vector ignored");

        table.write(16 * 2 + 12, 4, 1);
        m.fire(2);
        assertEquals(1, sent.size());
        assertTrue(m.pending(2));
        assertEquals(1 << 2, table.read(4096, 4), "PBA bit");
        table.write(4096, 4, 0);
        assertTrue(m.pending(2), "the PBA is read-only");
        table.write(16 * 2 + 12, 4, 0);
        assertEquals(2, sent.size(), "unmasking sends it");
        assertFalse(m.pending(2));

        config.write(m.offset() + 2, 2, 0xC000); // function mask
        m.configWritten();
        m.fire(2);
        assertEquals(2, sent.size());
        config.write(m.offset() + 2, 2, 0x8000);
        m.configWritten();
        assertEquals(3, sent.size(), "function unmask sends pending vectors");
    }

    @Test
    void oddAccessesAreHarmless() {
        PciConfigSpace config = new PciConfigSpace(1, 2, 0, 0);
        MsixCapability m = new MsixCapability(config, interrupts, 2, 4);
        IoHandler table = m.handler();
        table.write(2, 2, 0xFFFF);
        table.write(1, 4, 0xFFFFFFFFL);
        table.write(1 << 20, 4, 1);
        assertEquals(0, table.read(0, 4));
        assertEquals(0, table.read(3, 4), "straddling read");
        assertEquals(0, table.read(-8, 8));
        program(table, 1, 0xFEE00000L, 7);
        assertEquals(0xFEE00000L, table.read(16, 8));
        assertEquals(0xFE, table.read(19, 1));
    }
}
