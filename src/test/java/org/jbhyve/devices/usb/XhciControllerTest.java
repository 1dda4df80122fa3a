package org.jbhyve.devices.usb;

import static org.junit.jupiter.api.Assertions.*;

import org.jbhyve.devices.usb.XhciDriver.Event;
import org.jbhyve.pci.MsiCapability;
import org.jbhyve.pci.PciBar;
import org.jbhyve.pci.PciConfigSpace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The controller through config space and BAR0: identity, capabilities, reset, run, ports, interrupts, rings. */
class XhciControllerTest {
    private static final int USBCMD = XhciDriver.OP + XhciController.USBCMD;
    private static final int USBSTS = XhciDriver.OP + XhciController.USBSTS;
    private final XhciDriver d = new XhciDriver(1 << 20);

    @AfterEach
    void close() {
        d.close();
    }

    @Test
    void pciFunctionIsBhyvesIntelXhciWithA32BitBarMsiAndIntA() {
        PciConfigSpace c = d.hc.config();
        assertEquals(0x8086, c.get16(PciConfigSpace.VENDOR));
        assertEquals(0x1E31, c.get16(PciConfigSpace.DEVICE));
        assertEquals(0x0C, c.get8(0x0B));
        assertEquals(0x03, c.get8(0x0A));
        assertEquals(0x30, c.get8(PciConfigSpace.PROG_IF));
        assertEquals(0x30, c.get8(0x60), "SBRN: USB 3.0");
        assertEquals(1, c.get8(PciConfigSpace.INTERRUPT_PIN));
        PciBar bar = d.hc.bars().getFirst();
        assertEquals(0, bar.index());
        assertEquals(PciBar.Kind.MEMORY32, bar.kind());
        assertEquals(0x1000, bar.size());
        int cap = c.get8(PciConfigSpace.CAPABILITIES);
        assertEquals(MsiCapability.ID, c.get8(cap));
    }

    @Test
    void capabilityRegistersDescribeBhyvesLayout() {
        assertEquals(0x20, d.bar.read(0, 1));
        assertEquals(0x0100, d.bar.read(2, 2));
        int hcs1 = d.read(0x04);
        assertEquals(64, hcs1 & 0xFF, "MaxSlots");
        assertEquals(1, hcs1 >>> 8 & 0x7FF, "MaxIntrs");
        assertEquals(8, hcs1 >>> 24, "MaxPorts");
        assertEquals(0, d.read(0x08) >>> 4 & 0xF, "ERST Max");
        int hcc1 = d.read(0x10);
        assertEquals(1, hcc1 & 1, "AC64");
        assertEquals(0, hcc1 >>> 2 & 1, "32-byte contexts");
        assertEquals(0x4A0, d.read(0x14));
        assertEquals(0xCC0, d.read(0x18));
        int xecp = (hcc1 >>> 16) * 4;
        assertEquals(0xD00, xecp);
        // walk the extended capability list: USB 2.0 on ports 5-8, then USB 3.0 on ports 1-4
        int[] first = new int[4];
        int[] count = new int[4];
        for (int at = xecp, n = 0; n < 4; n++) {
            int dw0 = d.read(at);
            assertEquals(2, dw0 & 0xFF, "Supported Protocol");
            assertEquals(0x20425355, d.read(at + 4), "\"USB \"");
            int major = dw0 >>> 24;
            first[major] = d.read(at + 8) & 0xFF;
            count[major] = d.read(at + 8) >>> 8 & 0xFF;
            if ((dw0 >>> 8 & 0xFF) == 0) {
                break;
            }
            at += (dw0 >>> 8 & 0xFF) * 4;
        }
        assertEquals(5, first[2], "USB 2 ports from 5");
        assertEquals(1, first[3], "USB 3 ports from 1");
        assertEquals(4, count[2]);
        assertEquals(4, count[3]);
    }

    @Test
    void afterResetTheControllerIsHaltedAndTheTabletSitsOnUsb3PortOne() {
        assertEquals(XhciController.STS_HCH, d.read(USBSTS));
        assertEquals(1, d.read(XhciDriver.OP + XhciController.PAGESIZE));
        int p1 = d.portsc(1);
        assertEquals(RootPort.CCS | RootPort.PED | RootPort.PP, p1 & (RootPort.CCS | RootPort.PED | RootPort.PP));
        assertEquals(RootPort.U0, p1 >>> 5 & 0xF);
        assertEquals(3, p1 >>> 10 & 0xF, "high speed, as bhyve's tablet");
        int p5 = d.portsc(5);
        assertEquals(RootPort.PP | RootPort.RX_DETECT << 5, p5);
        assertEquals(0, d.portsc(2) & RootPort.CCS);
    }

    @Test
    void runReportsTheConnectAndStopHalts() throws Exception {
        d.setUp();
        d.write(USBCMD, XhciController.CMD_RS);
        assertEquals(0, d.read(USBSTS) & XhciController.STS_HCH);
        assertEquals(XhciController.STS_PCD, d.read(USBSTS) & XhciController.STS_PCD);
        Event e = d.nextEvent();
        assertEquals(Trb.PORT_STATUS_CHANGE, e.type());
        assertEquals(1, e.port());
        assertEquals(Trb.CC_SUCCESS, e.code());
        assertNull(d.nextEvent(), "only the occupied port reports");
        assertEquals(RootPort.CSC | RootPort.CCS, d.portsc(1) & (RootPort.CSC | RootPort.CCS));
        int mf = d.read(XhciLayout.RTSOFF);
        Thread.sleep(5);
        assertNotEquals(mf, d.read(XhciLayout.RTSOFF), "MFINDEX counts while running");
        d.write(USBCMD, 0);
        assertEquals(XhciController.STS_HCH, d.read(USBSTS) & XhciController.STS_HCH);
        mf = d.read(XhciLayout.RTSOFF);
        Thread.sleep(2);
        assertEquals(mf, d.read(XhciLayout.RTSOFF), "and holds while halted");
        d.write(USBSTS, XhciController.STS_PCD);
        assertEquals(0, d.read(USBSTS) & XhciController.STS_PCD, "PCD is write-1-to-clear");
    }

    @Test
    void hostControllerResetClearsTheOperationalAndRuntimeRegisters() {
        d.start();
        d.write(USBCMD, XhciController.CMD_HCRST);
        assertEquals(0, d.read(USBCMD));
        assertEquals(XhciController.STS_HCH, d.read(USBSTS));
        assertEquals(0, d.read(XhciDriver.OP + XhciController.DCBAAP_LO));
        assertEquals(0, d.read(XhciDriver.OP + XhciController.CONFIG));
        assertEquals(0, d.read(XhciDriver.IR0 + Interrupter.IMAN));
        assertEquals(0, d.read(XhciDriver.IR0 + Interrupter.ERSTBA_LO));
        assertEquals(0, d.portsc(1) & RootPort.CSC);
    }

    @Test
    void portChangeBitsAreWriteOneToClearAndOnlyTheFirstRaisesAnEvent() {
        d.start();
        d.portsc(1, RootPort.PP);                                  // writing 0 leaves CSC
        assertEquals(RootPort.CSC, d.portsc(1) & RootPort.CSC);
        d.portsc(1, RootPort.PP | RootPort.PR);                   // CSC still set: no new event
        assertNull(d.nextEvent());
        assertEquals(RootPort.CSC | RootPort.PRC, d.portsc(1) & RootPort.CHANGES);
        d.portsc(1, RootPort.PP | RootPort.CSC | RootPort.PRC);
        assertEquals(0, d.portsc(1) & RootPort.CHANGES);
        d.portsc(1, RootPort.PP | RootPort.WPR);                  // warm reset of a USB3 port
        assertEquals(1, d.nextEvent().port());
        assertEquals(RootPort.PRC | RootPort.WRC, d.portsc(1) & RootPort.CHANGES);
        assertEquals(0, d.portsc(1) & (RootPort.PR | RootPort.WPR), "resets complete at once");
    }

    @Test
    void suspendedLinkIsResumedByMotionAndThePendingReportFollowsResume() {
        d.start();
        d.portsc(1, RootPort.PP | RootPort.CSC);
        d.portsc(1, RootPort.PP | RootPort.LWS | RootPort.U3 << 5);
        assertEquals(RootPort.U3, d.portsc(1) >>> 5 & 0xF);
        assertNull(d.nextEvent(), "entering U3 on request is not reported");
        d.tablet.pointer(0, 1, 1, 10, 10);
        assertEquals(RootPort.RESUME, d.portsc(1) >>> 5 & 0xF);
        assertEquals(RootPort.PLC, d.portsc(1) & RootPort.PLC);
        assertEquals(1, d.nextEvent().port());
    }

    @Test
    void commandsCompleteWithEventsAndTheEventRingWrapsWithTheCycleBit() {
        d.start();
        long segment = d.events;
        for (int i = 0; i < 40; i++) {                          // the 8-entry command ring wraps too
            Event e = d.command(0, Trb.NOOP_COMMAND << 10);
            assertEquals(Trb.CC_SUCCESS, e.code());
        }
        // 1 port event + 40 completions: the ring of 16 went round twice and a half; the last
        // event (index 40 % 16 = 8) carries cycle 1 again after two toggles
        int control = d.guest.memory.getInt(segment + 8 * 16 + 12);
        assertEquals(1, control & 1);
        assertEquals(Trb.COMMAND_COMPLETION, control >>> 10 & 0x3F);
        int earlier = d.guest.memory.getInt(segment + 9 * 16 + 12);
        assertEquals(0, earlier & 1, "slot 9 still holds the previous lap's event");
    }

    @Test
    void aFullEventRingGetsAnEventRingFullErrorAndRecoversWhenErdpMoves() {
        d.start();
        for (int i = 0; i < 20; i++) {                          // never acknowledged
            d.commands.put(0, 0, Trb.NOOP_COMMAND << 10);
            d.doorbell(0, 0);
        }
        // start() consumed the port event at index 0: 15 completions fill indices 1-15, and the
        // slot before the dequeue pointer (index 0, next lap) takes the Event Ring Full Error
        long first = d.events;
        assertEquals(Trb.HOST_CONTROLLER_EVENT, d.guest.memory.getInt(first + 12) >>> 10 & 0x3F);
        assertEquals(Trb.CC_EVENT_RING_FULL, d.guest.memory.getInt(first + 8) >>> 24);
        assertEquals(0, d.guest.memory.getInt(first + 12) & 1, "written with the second lap's cycle");
        java.util.List<Event> all = d.drain();
        assertEquals(16, all.size());
        assertEquals(15, all.stream().filter(x -> x.type() == Trb.COMMAND_COMPLETION).count());
        assertEquals(Trb.HOST_CONTROLLER_EVENT, all.getLast().type());
        d.commands.put(0, 0, Trb.NOOP_COMMAND << 10);
        d.doorbell(0, 0);
        Event e = d.nextEvent();
        assertNotNull(e, "events flow again");
        assertEquals(Trb.COMMAND_COMPLETION, e.type());
    }

    @Test
    void msiIsSentOncePerHandlerPassAndIpClearsItself() {
        PciConfigSpace c = d.hc.config();
        int msi = c.get8(PciConfigSpace.CAPABILITIES);
        d.hc.configWrite(msi + MsiCapability.ADDRESS_LOW, 4, 0xFEE00000L);
        d.hc.configWrite(msi + MsiCapability.DATA, 2, 0x41);
        d.hc.configWrite(msi + MsiCapability.CONTROL, 2, MsiCapability.ENABLE);
        d.setUp();
        d.write(USBCMD, XhciController.CMD_RS | XhciController.CMD_INTE);
        assertEquals(1, d.guest.msiCount.get());
        assertEquals(0x41, d.guest.lastMsiData);
        assertEquals(0, d.read(XhciDriver.IR0 + Interrupter.IMAN) & Interrupter.IMAN_IP, "IP cleared by the MSI");
        assertEquals(XhciController.STS_EINT, d.read(USBSTS) & XhciController.STS_EINT);
        assertFalse(d.guest.intxLevel);
        // EHB is set: a second event waits for the handler to finish
        d.commands.put(0, 0, Trb.NOOP_COMMAND << 10);
        d.doorbell(0, 0);
        assertEquals(1, d.guest.msiCount.get());
        d.nextEvent();                                          // acknowledges the port event, clears EHB
        assertEquals(2, d.guest.msiCount.get(), "an event is left: interrupt again");
        d.nextEvent();
        assertEquals(2, d.guest.msiCount.get(), "ring empty: no interrupt");
    }

    @Test
    void intxFollowsIpAndIeAndInte() {
        d.setUp();
        d.write(XhciDriver.IR0 + Interrupter.IMAN, 0);           // IE off
        d.write(USBCMD, XhciController.CMD_RS | XhciController.CMD_INTE);
        assertFalse(d.guest.intxLevel);
        assertEquals(Interrupter.IMAN_IP, d.read(XhciDriver.IR0 + Interrupter.IMAN) & Interrupter.IMAN_IP);
        d.write(XhciDriver.IR0 + Interrupter.IMAN, Interrupter.IMAN_IE);
        assertTrue(d.guest.intxLevel);
        assertTrue((d.hc.config().get16(PciConfigSpace.STATUS) & PciConfigSpace.STATUS_INTERRUPT) != 0);
        d.write(XhciDriver.IR0 + Interrupter.IMAN, Interrupter.IMAN_IE | Interrupter.IMAN_IP);
        assertFalse(d.guest.intxLevel, "IP is write-1-to-clear and lowers the line");
        d.hc.configWrite(PciConfigSpace.COMMAND, 2, PciConfigSpace.COMMAND_INTX_DISABLE);
        d.write(XhciDriver.IR0 + Interrupter.IMAN, Interrupter.IMAN_IE);
        d.nextEvent();                                           // EHB cleared, ring empty
        d.command(0, Trb.NOOP_COMMAND << 10);
        assertFalse(d.guest.intxLevel, "INTx disabled in the command register");
    }

    @Test
    void crcrReadsOnlyCrrAndAbortReportsCommandRingStopped() {
        d.start();
        assertEquals(0, d.read(XhciDriver.OP + XhciController.CRCR_LO));
        d.command(0, Trb.NOOP_COMMAND << 10);
        assertEquals(CommandRing.CRR, d.read(XhciDriver.OP + XhciController.CRCR_LO));
        long next = d.commands.base + d.commands.index * 16L;
        d.write64(XhciDriver.OP + XhciController.CRCR_LO, CommandRing.CA);   // old Linux: pointer 0
        Event e = d.nextEvent();
        assertEquals(Trb.CC_COMMAND_RING_STOPPED, e.code());
        assertEquals(next, e.parameter());
        assertEquals(0, d.read(XhciDriver.OP + XhciController.CRCR_LO));
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.NOOP_COMMAND << 10).code(), "resumes where it stopped");
    }

    @Test
    void narrowAndMisalignedWritesAreIgnoredAndQwordWritesSplit() {
        d.bar.write(XhciDriver.OP + XhciController.CONFIG, 1, 5);
        assertEquals(0, d.read(XhciDriver.OP + XhciController.CONFIG));
        d.bar.write(XhciDriver.OP + XhciController.DCBAAP_LO, 8, 0x1_2345_6780L);
        assertEquals(0x1_2345_6780L, d.bar.read(XhciDriver.OP + XhciController.DCBAAP_LO, 8));
        d.bar.write(0x10, 4, 0);
        assertEquals(XhciLayout.HCCPARAMS1, d.read(0x10), "capabilities are read-only");
        assertEquals(0, d.bar.read(0x4000, 4), "beyond the BAR");
    }
}
