package org.jbhyve.devices.usb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.jbhyve.snapshot.CorruptBlobs;
import org.jbhyve.devices.usb.XhciDriver.Event;
import org.jbhyve.devices.usb.XhciDriver.Ring;
import org.jbhyve.snapshot.SnapshotException;
import org.jbhyve.snapshot.StateRoundTrip;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The controller and its tablet saved and restored after Linux-style enumeration: a fresh
 * controller over the same guest RAM goes on where the first stopped (command ring, event ring
 * with its cycle state, endpoint rings, the tablet's configuration and idle/protocol settings).
 */
class XhciSnapshotTest {
    private static final int IDLE = 0x12, PROTOCOL = 0;

    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private XhciDriver d;
    private Ring ep0;
    private Ring intr;
    private int slot;
    private long report;
    private long pendingTrb;

    /** Enumerates and configures the tablet, sets idle and protocol, wraps the event ring, leaves a report TD pending. */
    @BeforeEach
    void enumerate() {
        d = new XhciDriver(1 << 20, true, clock::get).start();
        d.portsc(1, RootPort.PP | RootPort.CSC);
        d.portsc(1, RootPort.PP | RootPort.PR);
        assertEquals(Trb.PORT_STATUS_CHANGE, d.nextEvent().type());
        d.portsc(1, RootPort.PP | RootPort.PRC);
        ep0 = d.new Ring(16);
        slot = d.addressTablet(ep0);
        intr = d.configureTablet(ep0, slot);
        assertEquals(Trb.CC_SUCCESS, d.control(ep0, slot, XhciDriver.setup(0x21, UsbTablet.SET_IDLE, IDLE << 8, 0, 0),
                0, 0).getLast().code());
        assertEquals(Trb.CC_SUCCESS, d.control(ep0, slot,
                XhciDriver.setup(0x21, UsbTablet.SET_PROTOCOL, PROTOCOL, 0, 0), 0, 0).getLast().code());
        while (d.eventCycle()) {
            d.command(0, Trb.NOOP_COMMAND << 10);              // until the event ring has wrapped
        }
        report = d.guest.alloc(8, 8);
        pendingTrb = intr.put(report, 8, Trb.NORMAL << 10 | Trb.ISP | Trb.IOC);
        d.doorbell(slot, 3);
        assertNull(d.nextEvent(), "nothing moved: the report TD stays pending");
        clock.addAndGet(3_000_000L);                             // MFINDEX 24
    }

    @AfterEach
    void close() {
        d.close();
    }

    private UsbTablet freshTablet;

    private XhciController fresh() {
        freshTablet = new UsbTablet();
        return new XhciController(List.of(freshTablet), d.guest.memory, d.guest, clock::get);
    }

    private int operational(int register) {
        return d.read(XhciDriver.OP + register);
    }

    @Test
    void registersReadBackAfterRestore() {
        int[] before = {operational(XhciController.USBCMD), operational(XhciController.USBSTS),
            operational(XhciController.CONFIG), operational(XhciController.DCBAAP_LO), d.portsc(1),
            d.read(XhciDriver.IR0 + Interrupter.IMAN), d.read(XhciDriver.IR0 + Interrupter.ERSTBA_LO),
            d.read(XhciDriver.IR0 + Interrupter.ERDP_LO), d.read(XhciLayout.RTSOFF)};
        assertEquals(24, before[8], "MFINDEX");
        XhciController restored = fresh();
        StateRoundTrip.assertRoundTrip(d.hc, restored);
        d.continueWith(restored, freshTablet);
        int[] after = {operational(XhciController.USBCMD), operational(XhciController.USBSTS),
            operational(XhciController.CONFIG), operational(XhciController.DCBAAP_LO), d.portsc(1),
            d.read(XhciDriver.IR0 + Interrupter.IMAN), d.read(XhciDriver.IR0 + Interrupter.ERSTBA_LO),
            d.read(XhciDriver.IR0 + Interrupter.ERDP_LO), d.read(XhciLayout.RTSOFF)};
        assertArrayEquals(before, after);
        clock.addAndGet(125_000L);
        assertEquals(25, d.read(XhciLayout.RTSOFF), "MFINDEX counts on from the saved value");
        assertEquals(slot, freshTablet.address());
    }

    @Test
    void aCommandAfterRestoreLandsInTheEventRingWithTheWrappedCycleBit() {
        XhciController restored = fresh();
        StateRoundTrip.assertRoundTrip(d.hc, restored);
        d.continueWith(restored, freshTablet);
        assertFalse(d.eventCycle(), "the ring wrapped before the snapshot");
        Event e = d.command(0, Trb.NOOP_COMMAND << 10);          // found only with the expected cycle bit
        assertEquals(Trb.CC_SUCCESS, e.code());
        assertEquals(0, e.control() & Trb.CYCLE);
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.NOOP_COMMAND << 10).code(), "the command ring goes on");
    }

    @Test
    void aTabletReportAfterRestoreCompletesTheTdPendingAtTheSnapshot() {
        XhciController restored = fresh();
        StateRoundTrip.assertRoundTrip(d.hc, restored);
        d.continueWith(restored, freshTablet);
        freshTablet.pointer(0b001, 400, 300, 800, 600);
        Event e = d.nextEvent();
        assertNotNull(e, "the report's Transfer Event, with the cycle bit the consumer expects");
        assertEquals(Trb.TRANSFER_EVENT, e.type());
        assertEquals(pendingTrb, e.parameter());
        assertEquals(slot, e.slot());
        assertEquals(3, e.endpoint());
        assertEquals(Trb.CC_SHORT_PACKET, e.code());
        byte[] r = d.guest.memory.read(report, 6);
        assertEquals(1, r[0]);
        assertEquals(0x4000, (r[1] & 0xFF) | (r[2] & 0xFF) << 8);
        assertTrue(d.guest.intxLevel, "INTx carries the event");

        long buf = d.guest.alloc(8, 8);
        d.control(ep0, slot, XhciDriver.setup(0xA1, UsbTablet.GET_IDLE, 0, 0, 1), buf, 1);
        assertEquals(IDLE, d.guest.memory.read(buf, 1)[0], "EP0's ring and the tablet's idle rate came back");
        d.control(ep0, slot, XhciDriver.setup(0xA1, UsbTablet.GET_PROTOCOL, 0, 0, 1), buf, 1);
        assertEquals(PROTOCOL, d.guest.memory.read(buf, 1)[0]);
    }

    @Test
    void anOwedReportIsSavedWithTheTablet() {
        d.hc.quiesce();
        d.tablet.pointer(0b100, 0, 0, 800, 600);                 // right button; held by the quiesced controller
        assertNull(d.nextEvent());
        XhciController restored = fresh();
        StateRoundTrip.assertRoundTrip(d.hc, restored);
        UsbResponse owed = freshTablet.in(UsbTablet.ENDPOINT, 8);
        assertEquals(UsbResponse.Status.ACK, owed.status());
        assertEquals(0b010, owed.data()[0]);
        restored.close();
    }

    @Test
    void quiesceHoldsDeviceWakeUpsUntilResume() {
        d.hc.quiesce();
        d.tablet.pointer(0b001, 10, 10, 800, 600);
        assertNull(d.nextEvent(), "no transfer completes while quiesced");
        assertArrayEquals(StateRoundTrip.save(d.hc), StateRoundTrip.save(d.hc));
        d.hc.resumeAfterSnapshot();
        Event e = d.nextEvent();
        assertNotNull(e);
        assertEquals(pendingTrb, e.parameter());
    }

    @Test
    void aSnapshotWithAnotherDeviceOnAPortIsRefused() {
        byte[] blob = StateRoundTrip.save(d.hc);
        XhciController bare = new XhciController(List.of(), d.guest.memory, d.guest, clock::get);
        SnapshotException e = assertThrows(SnapshotException.class, () -> StateRoundTrip.restore(bare, 1, blob));
        assertTrue(e.getMessage().contains("tablet on root port 1, the command line none"), e.getMessage());
        bare.close();
    }

    @Test
    void damagedSnapshotsAreRefusedWithSnapshotExceptionsOnly() {
        byte[] blob = StateRoundTrip.save(d.hc);
        XhciController restored = fresh();
        CorruptBlobs.assertOnlySnapshotExceptions(restored, blob);
        restored.close();
    }
}
