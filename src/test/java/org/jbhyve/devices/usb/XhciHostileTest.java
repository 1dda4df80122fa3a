package org.jbhyve.devices.usb;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.jbhyve.devices.usb.XhciDriver.Event;
import org.jbhyve.devices.usb.XhciDriver.Ring;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A guest that lies: rings and contexts outside RAM, loops of Link TRBs, bad slot ids, event
 * rings that do not exist. Each mistake fails its own command or transfer with the completion
 * code the controller documents (or HSE when no event can be written), and the controller
 * keeps serving well-formed requests.
 */
class XhciHostileTest {
    private static final long RAM = 1 << 20;
    private static final long OUTSIDE = 0x7000_0000L;
    private final XhciDriver d = new XhciDriver(RAM);

    @AfterEach
    void close() {
        d.close();
    }

    private int usbsts() {
        return d.read(XhciDriver.OP + XhciController.USBSTS);
    }

    @Test
    void aCommandRingOutsideRamCompletesWithTrbErrorAndStops() {
        d.start();
        d.write64(XhciDriver.OP + XhciController.CRCR_LO, OUTSIDE | 1);
        d.doorbell(0, 0);
        Event e = d.nextEvent();
        assertEquals(Trb.COMMAND_COMPLETION, e.type());
        assertEquals(Trb.CC_TRB, e.code());
        assertEquals(OUTSIDE, e.parameter());
        assertEquals(0, d.read(XhciDriver.OP + XhciController.CRCR_LO), "ring stopped");
        d.write64(XhciDriver.OP + XhciController.CRCR_LO, d.commands.base + d.commands.index * 16L | 1);
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.NOOP_COMMAND << 10).code());
    }

    @Test
    void aLoopOfLinkTrbsIsATrbErrorNotAHang() {
        d.start();
        long loop = d.guest.alloc(32, 64);
        d.guest.memory.putLong(loop, loop + 16);
        d.guest.memory.putInt(loop + 12, Trb.LINK << 10 | 1);
        d.guest.memory.putLong(loop + 16, loop);
        d.guest.memory.putInt(loop + 28, Trb.LINK << 10 | 1);
        d.write64(XhciDriver.OP + XhciController.CRCR_LO, loop | 1);
        d.doorbell(0, 0);
        assertEquals(Trb.CC_TRB, d.nextEvent().code());
    }

    @Test
    void badSlotIdsAreSlotNotEnabled() {
        d.start();
        for (int slot : new int[] {0, 5, 64, 65, 255}) {
            assertEquals(Trb.CC_SLOT_NOT_ENABLED, d.command(0, Trb.ADDRESS_DEVICE << 10 | slot << 24).code());
            assertEquals(Trb.CC_SLOT_NOT_ENABLED, d.command(0, Trb.STOP_ENDPOINT << 10 | 1 << 16 | slot << 24).code());
        }
        assertEquals(Trb.CC_TRB, d.command(0, 63 << 10).code(), "unknown command type");
        d.doorbell(7, 1);                                   // a doorbell for a slot nobody enabled
        assertNull(d.nextEvent());
    }

    @Test
    void slotsBeyondMaxSlotsEnAreNotGiven() {
        d.start();
        d.write(XhciDriver.OP + XhciController.CONFIG, 2);
        assertEquals(1, d.enableSlot());
        assertEquals(2, d.enableSlot());
        Event e = d.command(0, Trb.ENABLE_SLOT << 10);
        assertEquals(Trb.CC_NO_SLOTS, e.code());
        assertEquals(0, e.slot());
    }

    @Test
    void addressDeviceChecksItsPointersFlagsAndPort() {
        d.start();
        int slot = d.enableSlot();
        Ring ep0 = d.new Ring(8);
        int cmd = Trb.ADDRESS_DEVICE << 10 | slot << 24;
        assertEquals(Trb.CC_TRB, d.command(OUTSIDE, cmd).code(), "input context outside RAM");
        assertEquals(Trb.CC_TRB, d.command(RAM - 512, cmd).code(), "input context straddling the end");
        long input = d.addressInput(1, ep0, 512);
        assertEquals(Trb.CC_TRB, d.command(input, cmd).code(), "DCBAA entry 0");
        d.guest.memory.putLong(d.dcbaa + 8L * slot, OUTSIDE);
        assertEquals(Trb.CC_TRB, d.command(input, cmd).code(), "device context outside RAM");
        d.deviceContext(slot);
        d.guest.memory.putInt(input + 4, 0x7);
        assertEquals(Trb.CC_PARAMETER, d.command(input, cmd).code(), "A2 with Address Device");
        d.guest.memory.putInt(input + 4, 0x3);
        d.guest.memory.putInt(input + 32 + 4, 5 << 16);
        assertEquals(Trb.CC_TRANSACTION, d.command(input, cmd).code(), "nobody on port 5");
        d.guest.memory.putInt(input + 32 + 4, 200 << 16);
        assertEquals(Trb.CC_TRANSACTION, d.command(input, cmd).code(), "no port 200");
        d.guest.memory.putInt(input + 32 + 4, 1 << 16);
        assertEquals(Trb.CC_SUCCESS, d.command(input, cmd).code());
        assertEquals(Trb.CC_CONTEXT_STATE, d.command(input, cmd).code(), "already addressed");
        assertEquals(Trb.CC_CONTEXT_STATE, d.command(0, Trb.RESET_ENDPOINT << 10 | 1 << 16 | slot << 24).code(),
                "EP0 is not halted");
        assertEquals(Trb.CC_TRB, d.command(OUTSIDE, Trb.CONFIGURE_ENDPOINT << 10 | slot << 24).code());
    }

    @Test
    void noEventRingIsAHostSystemErrorAndResetRecovers() {
        d.setUp();
        d.write(XhciDriver.IR0 + Interrupter.ERSTSZ, 0);
        d.write64(XhciDriver.IR0 + Interrupter.ERSTBA_LO, d.erst);
        d.write(XhciDriver.OP + XhciController.USBCMD, XhciController.CMD_RS);
        assertEquals(XhciController.STS_HSE | XhciController.STS_HCH,
                usbsts() & (XhciController.STS_HSE | XhciController.STS_HCH), "the connect event had nowhere to go");
        d.start();
        assertEquals(0, usbsts() & (XhciController.STS_HSE | XhciController.STS_HCH));
    }

    @Test
    void segmentSizesOutOfRangeOrOutsideRamMakeTheRingUnusable() {
        // {segment size, segment address (0: the good one), table address (0: the good one)}
        long[][] cases = {{0xFFFF, 0, 0}, {8, 0, 0}, {16, OUTSIDE, 0}, {4096, RAM - 4096, 0}, {16, 0, OUTSIDE}};
        for (long[] bad : cases) {
            d.setUp();
            long table = bad[2] != 0 ? bad[2] : d.erst;
            if (bad[1] != 0) {
                d.guest.memory.putLong(d.erst, bad[1]);
            }
            d.guest.memory.putInt(d.erst + 8, (int) bad[0]);
            d.write64(XhciDriver.IR0 + Interrupter.ERSTBA_LO, table);
            d.write(XhciDriver.OP + XhciController.USBCMD, XhciController.CMD_RS);
            assertEquals(XhciController.STS_HSE, usbsts() & XhciController.STS_HSE, java.util.Arrays.toString(bad));
        }
    }

    @Test
    void aTransferRingOutsideRamHaltsTheEndpointWithTrbError() {
        d.start();
        Ring ep0 = d.new Ring(8);
        int slot = d.addressTablet(ep0);
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.STOP_ENDPOINT << 10 | 1 << 16 | slot << 24).code());
        assertEquals(Trb.CC_TRB, d.command(OUTSIDE | 1, Trb.SET_TR_DEQUEUE << 10 | 1 << 16 | slot << 24).code(),
                "Set TR Dequeue refuses a pointer outside RAM");
        // point the ring itself at a Link TRB that leaves RAM
        Ring bad = d.new Ring(4);
        bad.put(0, 0, 0);                                       // placeholder, overwritten below
        d.guest.memory.putLong(bad.base, OUTSIDE);
        d.guest.memory.putInt(bad.base + 12, Trb.LINK << 10 | 1);
        assertEquals(Trb.CC_SUCCESS, d.command(bad.base | 1, Trb.SET_TR_DEQUEUE << 10 | 1 << 16 | slot << 24).code());
        d.doorbell(slot, 1);
        Event e = d.nextEvent();
        assertEquals(Trb.TRANSFER_EVENT, e.type());
        assertEquals(Trb.CC_TRB, e.code());
        assertEquals(OUTSIDE, e.parameter());
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.RESET_ENDPOINT << 10 | 1 << 16 | slot << 24).code());
    }

    @Test
    void dataBuffersOutsideRamAndMalformedControlTdsFailOnlyThatTransfer() {
        d.start();
        Ring ep0 = d.new Ring(16);
        int slot = d.addressTablet(ep0);
        List<Event> ev = d.control(ep0, slot, XhciDriver.setup(0x80, 6, 0x0100, 0, 18), OUTSIDE, 18);
        assertEquals(1, ev.size());
        assertEquals(Trb.CC_TRB, ev.getFirst().code());
        recover(ep0, slot);
        long status = ep0.put(0, 0, Trb.STATUS_STAGE << 10 | Trb.IOC);      // no Setup Stage first
        d.doorbell(slot, 1);
        Event e = d.nextEvent();
        assertEquals(Trb.CC_TRB, e.code());
        assertEquals(status, e.parameter());
        recover(ep0, slot);
        ep0.put(XhciDriver.setup(0x80, 6, 0x0100, 0, 18), 8, Trb.SETUP_STAGE << 10);   // IDT missing
        d.doorbell(slot, 1);
        assertEquals(Trb.CC_TRB, d.nextEvent().code());
        recover(ep0, slot);
        long buf = d.guest.alloc(64, 16);
        ev = d.control(ep0, slot, XhciDriver.setup(0x80, 6, 0x0100, 0, 18), buf, 18);
        assertEquals(Trb.CC_SUCCESS, ev.getFirst().code(), "the endpoint serves again");
    }

    @Test
    void anUnfinishedTdWaitsForItsLastTrb() {
        d.start();
        Ring ep0 = d.new Ring(16);
        int slot = d.addressTablet(ep0);
        ep0.put(XhciDriver.setup(0x80, 6, 0x0100, 0, 18), 8, Trb.SETUP_STAGE << 10 | Trb.IDT | 3 << 16);
        d.doorbell(slot, 1);
        assertNull(d.nextEvent(), "no Status Stage yet");
        long buf = d.guest.alloc(64, 16);
        ep0.put(buf, 18, Trb.DATA_STAGE << 10 | Trb.DIR_IN);
        ep0.put(0, 0, Trb.STATUS_STAGE << 10 | Trb.IOC);
        d.doorbell(slot, 1);
        assertEquals(Trb.CC_SUCCESS, d.nextEvent().code());
        assertEquals(18, d.guest.memory.getByte(buf));
    }

    /** Reset Endpoint, then Set TR Dequeue Pointer to where software will write next. */
    private void recover(Ring ep0, int slot) {
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.RESET_ENDPOINT << 10 | 1 << 16 | slot << 24).code());
        long next = ep0.base + ep0.index * 16L;
        assertEquals(Trb.CC_SUCCESS,
                d.command(next | (ep0.cycle ? 1 : 0), Trb.SET_TR_DEQUEUE << 10 | 1 << 16 | slot << 24).code());
    }
}
