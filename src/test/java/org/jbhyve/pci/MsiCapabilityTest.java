package org.jbhyve.pci;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.irq.MsiVector;
import org.junit.jupiter.api.Test;

/** The single-message, 64-bit MSI capability through config-space writes, as a guest programs it. */
class MsiCapabilityTest {
    private final PciConfigSpace config = new PciConfigSpace(0x8086, 0x2821, 0x010601, 0);
    private final List<long[]> sent = new ArrayList<>();
    private final MsiCapability msi = new MsiCapability(config, MsiVector.direct((a, d) -> sent.add(new long[] {a, d})));

    private void write(int offset, int size, long value) {
        config.write(offset, size, value);
        msi.configWritten(offset, size);
    }

    @Test
    void layoutIsAChainedCapabilityWithOneMessageAnd64BitAddresses() {
        int at = msi.offset();
        assertEquals(at, config.get8(PciConfigSpace.CAPABILITIES));
        assertEquals(MsiCapability.ID, config.get8(at));
        assertEquals(0, config.get8(at + 1));
        assertEquals(0x0080, config.get16(at + MsiCapability.CONTROL));
        assertNotEquals(0, config.get16(PciConfigSpace.STATUS) & PciConfigSpace.STATUS_CAPABILITIES);
    }

    @Test
    void onlyTheEnableBitAddressAndDataAreWritable() {
        int at = msi.offset();
        write(at + MsiCapability.CONTROL, 2, 0xFFFF);
        assertEquals(0x0081, config.get16(at + MsiCapability.CONTROL), "no multiple messages can be enabled");
        write(at + MsiCapability.ADDRESS_LOW, 4, 0xFFFFFFFFL);
        assertEquals(0xFFFFFFFC, config.get32(at + MsiCapability.ADDRESS_LOW));
        write(at, 2, 0);
        assertEquals(MsiCapability.ID, config.get8(at), "the header is read-only");
    }

    @Test
    void firesTheProgrammedMessageOnlyWhileEnabled() {
        int at = msi.offset();
        assertFalse(msi.fire());
        write(at + MsiCapability.ADDRESS_LOW, 4, 0xFEE00000L);
        write(at + MsiCapability.ADDRESS_HIGH, 4, 0x1);
        write(at + MsiCapability.DATA, 2, 0x4041);
        assertFalse(msi.enabled());
        assertFalse(msi.configWritten(at + MsiCapability.CONTROL, 2), "no change of the enable bit yet");
        config.write(at + MsiCapability.CONTROL, 2, 1);
        assertTrue(msi.configWritten(at + MsiCapability.CONTROL, 2), "enable changed");
        assertTrue(msi.enabled());
        assertTrue(msi.fire());
        assertEquals(1, sent.size());
        assertEquals(0x1FEE00000L, sent.getFirst()[0]);
        assertEquals(0x4041, sent.getFirst()[1]);
        write(at + MsiCapability.DATA, 2, 0x4042);
        msi.fire();
        assertEquals(0x4042, sent.getLast()[1], "a new message takes effect at once");
        write(at + MsiCapability.CONTROL, 2, 0);
        assertFalse(msi.fire());
        assertEquals(2, sent.size());
        assertFalse(msi.configWritten(0x04, 2), "writes elsewhere are not ours");
    }
}
