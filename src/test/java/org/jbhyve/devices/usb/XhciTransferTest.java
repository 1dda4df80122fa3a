package org.jbhyve.devices.usb;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.jbhyve.devices.usb.XhciDriver.Event;
import org.jbhyve.devices.usb.XhciDriver.Ring;
import org.jbhyve.pci.MsiCapability;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Transfer TDs in the shapes drivers other than Linux build: Data Stages chained to Normal
 * TRBs, Event Data TRBs (Windows), Block Event Interrupt, OUT data stages with immediate data,
 * No-Op TRBs.
 */
class XhciTransferTest {
    private XhciDriver d;
    private Ring ep0;
    private int slot;

    @BeforeEach
    void bringUp() {
        d = new XhciDriver(1 << 20);
        int msi = d.hc.config().get8(org.jbhyve.pci.PciConfigSpace.CAPABILITIES);
        d.hc.configWrite(msi + MsiCapability.ADDRESS_LOW, 4, 0xFEE00000L);
        d.hc.configWrite(msi + MsiCapability.CONTROL, 2, MsiCapability.ENABLE);
        d.start();
        ep0 = d.new Ring(16);
        slot = d.addressTablet(ep0);
    }

    @AfterEach
    void close() {
        d.close();
    }

    @Test
    void aDataStageChainedToNormalTrbsIsFilledInOrder() {
        long a = d.guest.alloc(16, 16);
        long b = d.guest.alloc(64, 16);
        ep0.put(XhciDriver.setup(0x80, 6, 0x0200, 0, 80), 8, Trb.SETUP_STAGE << 10 | Trb.IDT | 3 << 16);
        ep0.put(a, 16, Trb.DATA_STAGE << 10 | Trb.DIR_IN | Trb.CHAIN);
        long second = ep0.put(b, 64, Trb.NORMAL << 10 | Trb.ISP);
        ep0.put(0, 0, Trb.STATUS_STAGE << 10 | Trb.IOC);
        d.doorbell(slot, 1);
        List<Event> ev = d.drain();
        assertEquals(2, ev.size());
        assertEquals(Trb.CC_SHORT_PACKET, ev.get(0).code());
        assertEquals(second, ev.get(0).parameter(), "the short packet ended in the Normal TRB");
        assertEquals(64 - 24, ev.get(0).length());
        byte[] got = new byte[40];
        System.arraycopy(d.guest.memory.read(a, 16), 0, got, 0, 16);
        System.arraycopy(d.guest.memory.read(b, 24), 0, got, 16, 24);
        assertArrayEquals(TabletDescriptors.CONFIGURATION_DESCRIPTOR, got);
    }

    @Test
    void eventDataTrbsReportTheirParameterAndTheBytesTransferred() {
        long buf = d.guest.alloc(64, 16);
        ep0.put(XhciDriver.setup(0x80, 6, 0x0100, 0, 64), 8, Trb.SETUP_STAGE << 10 | Trb.IDT | 3 << 16);
        ep0.put(buf, 64, Trb.DATA_STAGE << 10 | Trb.DIR_IN | Trb.CHAIN);
        ep0.put(0xCAFE_0001L, 0, Trb.EVENT_DATA << 10 | Trb.IOC);
        ep0.put(0, 0, Trb.STATUS_STAGE << 10 | Trb.CHAIN);
        ep0.put(0xCAFE_0002L, 0, Trb.EVENT_DATA << 10 | Trb.IOC);
        d.doorbell(slot, 1);
        List<Event> ev = d.drain();
        assertEquals(2, ev.size());
        assertEquals(0xCAFE_0001L, ev.get(0).parameter());
        assertEquals(Trb.EVENT_DATA_FLAG, ev.get(0).control() & Trb.EVENT_DATA_FLAG);
        assertEquals(Trb.CC_SHORT_PACKET, ev.get(0).code());
        assertEquals(18, ev.get(0).length(), "EDTLA: bytes transferred");
        assertEquals(0xCAFE_0002L, ev.get(1).parameter());
        assertEquals(Trb.CC_SUCCESS, ev.get(1).code());
        assertEquals(0, ev.get(1).length());
    }

    @Test
    void anOutDataStageWithImmediateDataReachesTheDevice() {
        ep0.put(XhciDriver.setup(0x00, 48, 0, 0, 6), 8, Trb.SETUP_STAGE << 10 | Trb.IDT | 2 << 16);
        ep0.put(0x0000_0605_0403_0201L, 6, Trb.DATA_STAGE << 10 | Trb.IDT);
        ep0.put(0, 0, Trb.STATUS_STAGE << 10 | Trb.DIR_IN | Trb.IOC);
        d.doorbell(slot, 1);
        Event e = d.nextEvent();
        assertEquals(Trb.CC_SUCCESS, e.code());
        assertNull(d.nextEvent());
    }

    @Test
    void immediateDataOnAnInDataStageIsATrbError() {
        ep0.put(XhciDriver.setup(0x80, 6, 0x0100, 0, 8), 8, Trb.SETUP_STAGE << 10 | Trb.IDT | 3 << 16);
        long data = ep0.put(0, 8, Trb.DATA_STAGE << 10 | Trb.IDT | Trb.DIR_IN);
        ep0.put(0, 0, Trb.STATUS_STAGE << 10 | Trb.IOC);
        d.doorbell(slot, 1);
        Event e = d.nextEvent();
        assertEquals(Trb.CC_TRB, e.code());
        assertEquals(data, e.parameter());
    }

    @Test
    void blockEventInterruptWritesTheEventWithoutAnMsi() {
        Ring intr = d.configureTablet(ep0, slot);
        long buf = d.guest.alloc(8, 8);
        intr.put(buf, 8, Trb.NORMAL << 10 | Trb.IOC | Trb.BEI);
        d.doorbell(slot, 3);
        int before = d.guest.msiCount.get();
        d.tablet.pointer(0, 0, 0, 10, 10);
        assertEquals(before, d.guest.msiCount.get());
        Event e = d.nextEvent();
        assertEquals(Trb.CC_SHORT_PACKET, e.code());
        intr.put(buf, 8, Trb.NORMAL << 10 | Trb.IOC);
        d.doorbell(slot, 3);
        d.tablet.pointer(0, 5, 5, 10, 10);
        assertEquals(before + 1, d.guest.msiCount.get());
    }

    @Test
    void aNoOpTransferTrbCompletesOnItsOwn() {
        long noop = ep0.put(0, 0, Trb.NOOP_TRANSFER << 10 | Trb.IOC);
        d.doorbell(slot, 1);
        Event e = d.nextEvent();
        assertEquals(Trb.CC_SUCCESS, e.code());
        assertEquals(noop, e.parameter());
    }

    @Test
    void aReportLongerThanTheTdIsBabbleAndHalts() {
        Ring intr = d.configureTablet(ep0, slot);
        long buf = d.guest.alloc(8, 8);
        long trb = intr.put(buf, 4, Trb.NORMAL << 10 | Trb.IOC);
        d.doorbell(slot, 3);
        d.tablet.pointer(1, 5, 5, 10, 10);
        Event e = d.nextEvent();
        assertEquals(Trb.CC_BABBLE, e.code());
        assertEquals(trb, e.parameter());
        assertEquals(1, d.guest.memory.getByte(buf), "what fit was written");
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.RESET_ENDPOINT << 10 | 3 << 16 | slot << 24).code());
    }
}
