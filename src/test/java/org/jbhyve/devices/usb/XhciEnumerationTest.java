package org.jbhyve.devices.usb;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.jbhyve.devices.usb.XhciDriver.Event;
import org.jbhyve.devices.usb.XhciDriver.Ring;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The tablet brought up the way Linux's xhci-hcd and usbhid do it, through registers and guest
 * memory only: port reset, Enable Slot, Address Device, descriptors over EP0,
 * SET_CONFIGURATION, Configure Endpoint for endpoint 1 IN, and reports on pointer motion.
 */
class XhciEnumerationTest {
    private XhciDriver d;
    private Ring ep0;
    private int slot;
    private long output;

    @BeforeEach
    void bringUp() {
        d = new XhciDriver(1 << 20).start();
        assertEquals(RootPort.CSC, d.portsc(1) & RootPort.CSC);
        d.portsc(1, RootPort.PP | RootPort.CSC);                         // acknowledge the connect
        d.portsc(1, RootPort.PP | RootPort.PR);
        Event reset = d.nextEvent();
        assertEquals(Trb.PORT_STATUS_CHANGE, reset.type());
        assertEquals(1, reset.port());
        int portsc = d.portsc(1);
        assertEquals(RootPort.PRC | RootPort.PED | RootPort.CCS,
                portsc & (RootPort.PRC | RootPort.PED | RootPort.CCS | RootPort.PR));
        d.portsc(1, RootPort.PP | RootPort.PRC);

        slot = d.enableSlot();
        assertEquals(1, slot);
        output = d.deviceContext(slot);
        ep0 = d.new Ring(16);
        Event addressed = d.command(d.addressInput(1, ep0, 512), Trb.ADDRESS_DEVICE << 10 | slot << 24);
        assertEquals(Trb.CC_SUCCESS, addressed.code());
        assertEquals(slot, addressed.slot());
    }

    @AfterEach
    void close() {
        d.close();
    }

    @Test
    void addressDeviceFillsTheOutputContextAndSetsTheAddress() {
        GuestMem m = new GuestMem(d);
        assertEquals(Contexts.SLOT_ADDRESSED, m.dword(output + 12) >>> 27);
        assertEquals(slot, m.dword(output + 12) & 0xFF);
        assertEquals(1, m.dword(output + 4) >>> 16 & 0xFF, "root hub port copied");
        assertEquals(Contexts.EP_RUNNING, m.dword(output + 32) & 7);
        assertEquals(512, m.dword(output + 32 + 4) >>> 16);
        assertEquals(slot, d.tablet.address());
    }

    @Test
    void deviceDescriptorReadsBackAsEighteenBytes() {
        long buf = d.guest.alloc(64, 16);
        List<Event> ev = d.control(ep0, slot, XhciDriver.setup(0x80, 6, 0x0100, 0, 18), buf, 18);
        assertEquals(1, ev.size(), "only the status stage has IOC");
        assertEquals(Trb.TRANSFER_EVENT, ev.getFirst().type());
        assertEquals(Trb.CC_SUCCESS, ev.getFirst().code());
        assertEquals(slot, ev.getFirst().slot());
        assertEquals(1, ev.getFirst().endpoint());
        assertArrayEquals(TabletDescriptors.DEVICE_DESCRIPTOR, d.guest.memory.read(buf, 18));
        byte[] dev = d.guest.memory.read(buf, 18);
        assertEquals(18, dev[0]);
        assertEquals(0x0300, (dev[2] & 0xFF) | (dev[3] & 0xFF) << 8);
        assertEquals(0xFB5D, (dev[8] & 0xFF) | (dev[9] & 0xFF) << 8);
    }

    @Test
    void shortReadsReportTheResidueOnTheDataStage() {
        long buf = d.guest.alloc(256, 16);
        List<Event> ev = d.control(ep0, slot, XhciDriver.setup(0x80, 6, 0x0200, 0, 255), buf, 255);
        assertEquals(2, ev.size());
        assertEquals(Trb.CC_SHORT_PACKET, ev.get(0).code());
        assertEquals(255 - 40, ev.get(0).length());
        assertEquals(Trb.CC_SUCCESS, ev.get(1).code());
        byte[] config = d.guest.memory.read(buf, 40);
        assertEquals(2, config[1]);
        assertEquals(40, config[2]);
        assertEquals(3, config[9 + 5], "interface class HID");
        assertEquals((byte) 0x81, config[27 + 2], "endpoint 1 IN");
        assertEquals(3, config[27 + 3], "interrupt");
    }

    @Test
    void stringsAndTheReportDescriptor() {
        long buf = d.guest.alloc(256, 16);
        d.control(ep0, slot, XhciDriver.setup(0x80, 6, 0x0302, 0x0409, 255), buf, 255);
        byte[] s = d.guest.memory.read(buf, 22);
        assertEquals(22, s[0]);
        assertEquals("HID Tablet", new String(s, 2, 20, java.nio.charset.StandardCharsets.UTF_16LE));
        List<Event> ev = d.control(ep0, slot, XhciDriver.setup(0x81, 6, 0x2200, 0, 255), buf, 255);
        assertEquals(255 - TabletDescriptors.REPORT_DESCRIPTOR.length, ev.getFirst().length());
        assertArrayEquals(TabletDescriptors.REPORT_DESCRIPTOR,
                d.guest.memory.read(buf, TabletDescriptors.REPORT_DESCRIPTOR.length));
    }

    @Test
    void unsupportedRequestsStallAndHaltUntilResetEndpointAndSetDequeue() {
        long buf = d.guest.alloc(64, 16);
        long setupAt = ep0.base + ep0.index * 16L;
        List<Event> ev = d.control(ep0, slot, XhciDriver.setup(0x80, 6, 0x0600, 0, 10), buf, 10);
        assertEquals(1, ev.size());
        assertEquals(Trb.CC_STALL, ev.getFirst().code());
        assertEquals(setupAt, ev.getFirst().parameter());
        GuestMem m = new GuestMem(d);
        assertEquals(Contexts.EP_HALTED, m.dword(output + 32) & 7);
        assertEquals(setupAt, m.qword(output + 32 + 8) & ~0xFL, "dequeue left at the failed TD");

        assertEquals(Trb.CC_CONTEXT_STATE, d.command(0, Trb.SET_TR_DEQUEUE << 10 | 1 << 16 | slot << 24).code());
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.RESET_ENDPOINT << 10 | 1 << 16 | slot << 24).code());
        assertEquals(Contexts.EP_STOPPED, m.dword(output + 32) & 7);
        long next = ep0.base + ep0.index * 16L;
        assertEquals(Trb.CC_SUCCESS,
                d.command(next | (ep0.cycle ? 1 : 0), Trb.SET_TR_DEQUEUE << 10 | 1 << 16 | slot << 24).code());
        ev = d.control(ep0, slot, XhciDriver.setup(0x80, 6, 0x0100, 0, 18), buf, 18);
        assertEquals(Trb.CC_SUCCESS, ev.getFirst().code());
        assertEquals(Contexts.EP_RUNNING, m.dword(output + 32) & 7);
    }

    /** SET_CONFIGURATION and Configure Endpoint for DCI 3; returns the interrupt ring. */
    private Ring configure() {
        Ring intr = d.configureTablet(ep0, slot);
        GuestMem m = new GuestMem(d);
        assertEquals(Contexts.SLOT_CONFIGURED, m.dword(output + 12) >>> 27);
        assertEquals(3, m.dword(output) >>> 27);
        assertEquals(Contexts.EP_RUNNING, m.dword(output + 3 * 32) & 7);
        return intr;
    }

    @Test
    void pointerMotionCompletesThePendingInterruptTransferWithScaledCoordinates() {
        Ring intr = configure();
        long buf = d.guest.alloc(8, 8);
        long trb = intr.put(buf, 8, Trb.NORMAL << 10 | Trb.ISP | Trb.IOC);
        d.doorbell(slot, 3);
        assertNull(d.nextEvent(), "nothing moved: the device NAKs and the TRB stays pending");

        int before = d.guest.msiCount.get();
        d.tablet.pointer(0b101, 400, 300, 800, 600);                          // left + right at the centre
        Event e = d.nextEvent();
        assertNotNull(e);
        assertEquals(Trb.TRANSFER_EVENT, e.type());
        assertEquals(Trb.CC_SHORT_PACKET, e.code());
        assertEquals(2, e.length(), "8-byte buffer, 6-byte report");
        assertEquals(trb, e.parameter());
        assertEquals(3, e.endpoint());
        byte[] r = d.guest.memory.read(buf, 6);
        assertEquals(0b011, r[0], "left and right in HID order");
        assertEquals(0x4000, (r[1] & 0xFF) | (r[2] & 0xFF) << 8);
        assertEquals(0x4000, (r[3] & 0xFF) | (r[4] & 0xFF) << 8);
        assertEquals(0, r[5]);
        assertEquals(before, d.guest.msiCount.get(), "MSI is not enabled; INTx carries it");
        assertTrue(d.guest.intxLevel);

        intr.put(buf, 8, Trb.NORMAL << 10 | Trb.ISP | Trb.IOC);
        d.doorbell(slot, 3);
        assertNull(d.nextEvent(), "a report goes out once");
        d.tablet.pointer(1 << 4, 799, 0, 800, 600);                            // wheel down, right edge
        e = d.nextEvent();
        assertEquals(Trb.CC_SHORT_PACKET, e.code());
        r = d.guest.memory.read(buf, 6);
        assertEquals(0x8000 * 799 / 800, (r[1] & 0xFF) | (r[2] & 0xFF) << 8);
        assertEquals(0, (r[3] & 0xFF) | (r[4] & 0xFF) << 8);
        assertEquals(-1, r[5]);
    }

    @Test
    void theInterruptRingWrapsThroughItsLinkTrbWithToggledCycle() {
        Ring intr = configure();                                 // 8 slots: 7 TRBs and a Link TRB
        long buf = d.guest.alloc(8, 8);
        for (int i = 0; i < 20; i++) {
            long trb = intr.put(buf, 8, Trb.NORMAL << 10 | Trb.IOC);
            d.doorbell(slot, 3);
            d.tablet.pointer(0, i, 0, 32, 32);
            Event e = d.nextEvent();
            assertNotNull(e, "report " + i);
            assertEquals(trb, e.parameter());
            assertEquals(i * 1024, d.guest.memory.getShort(buf + 1) & 0xFFFF);
        }
    }

    @Test
    void pointerEventsFromAViewerThreadRaceDoorbellsSafely() {
        Ring intr = configure();
        long buf = d.guest.alloc(8, 8);
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(20), () -> {
            Thread viewer = new Thread(() -> {
                for (int i = 0; i < 5000; i++) {
                    d.tablet.pointer(0, i % 640, i % 480, 640, 480);
                }
            });
            viewer.start();
            int reports = 0;
            while (viewer.isAlive()) {
                intr.put(buf, 8, Trb.NORMAL << 10 | Trb.IOC);
                d.doorbell(slot, 3);
                Event e = null;
                while (e == null && viewer.isAlive()) {
                    e = d.nextEvent();
                    Thread.onSpinWait();
                }
                if (e == null) {
                    e = d.nextEvent();
                }
                if (e != null) {
                    assertEquals(Trb.CC_SHORT_PACKET, e.code());
                    reports++;
                } else {
                    break;                                   // the last TRB stays pending
                }
            }
            viewer.join();
            assertTrue(reports > 0);
            d.tablet.pointer(1, 320, 240, 640, 480);
            Event last = d.nextEvent();
            if (last == null) {                              // the final TRB had been consumed: queue one
                intr.put(buf, 8, Trb.NORMAL << 10 | Trb.IOC);
                d.doorbell(slot, 3);
                last = d.nextEvent();
            }
            assertNotNull(last);
            assertEquals(1, d.guest.memory.getByte(buf));
            assertEquals(0x4000, d.guest.memory.getShort(buf + 1) & 0xFFFF);
        });
    }

    @Test
    void motionBeforeTheTransferIsQueuedIsDeliveredWhenTheDoorbellRings() {
        Ring intr = configure();
        d.tablet.pointer(0, 10, 20, 100, 100);
        assertNull(d.nextEvent());
        long buf = d.guest.alloc(8, 8);
        intr.put(buf, 8, Trb.NORMAL << 10 | Trb.IOC);
        d.doorbell(slot, 3);
        Event e = d.nextEvent();
        assertEquals(Trb.CC_SHORT_PACKET, e.code(), "IOC alone reports the short packet too");
        assertEquals(0x8000 * 20 / 100, (d.guest.memory.getShort(buf + 3) & 0xFFFF));
    }

    @Test
    void stopEndpointStoresTheDequeuePointerAndADoorbellRestartsIt() {
        Ring intr = configure();
        long buf = d.guest.alloc(8, 8);
        long trb = intr.put(buf, 8, Trb.NORMAL << 10 | Trb.IOC);
        d.doorbell(slot, 3);
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.STOP_ENDPOINT << 10 | 3 << 16 | slot << 24).code());
        GuestMem m = new GuestMem(d);
        assertEquals(Contexts.EP_STOPPED, m.dword(output + 3 * 32) & 7);
        assertEquals(trb | 1, m.qword(output + 3 * 32 + 8), "pending TRB, cycle 1");
        d.tablet.pointer(0, 1, 1, 2, 2);
        assertNull(d.nextEvent(), "a stopped endpoint does not transfer");
        d.doorbell(slot, 3);
        assertEquals(Trb.CC_SHORT_PACKET, d.nextEvent().code());
    }

    @Test
    void deconfigureAndResetDeviceDropTheInterruptEndpoint() {
        configure();
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.CONFIGURE_ENDPOINT << 10 | Trb.DECONFIGURE | slot << 24).code());
        GuestMem m = new GuestMem(d);
        assertEquals(Contexts.SLOT_ADDRESSED, m.dword(output + 12) >>> 27);
        assertEquals(Contexts.EP_DISABLED, m.dword(output + 3 * 32) & 7);
        assertEquals(Trb.CC_ENDPOINT_NOT_ENABLED, d.command(0, Trb.STOP_ENDPOINT << 10 | 3 << 16 | slot << 24).code());
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.RESET_DEVICE << 10 | slot << 24).code());
        assertEquals(Contexts.SLOT_DEFAULT, m.dword(output + 12) >>> 27);
        assertEquals(0, m.dword(output + 12) & 0xFF, "address 0 in Default");
        assertEquals(Trb.CC_SUCCESS, d.command(0, Trb.DISABLE_SLOT << 10 | slot << 24).code());
        assertEquals(Trb.CC_SLOT_NOT_ENABLED, d.command(0, Trb.DISABLE_SLOT << 10 | slot << 24).code());
    }

    @Test
    void evaluateContextUpdatesEp0MaxPacketSize() {
        long input = d.guest.alloc(Contexts.INPUT_SIZE, 64);
        d.guest.memory.putInt(input + 4, 0x2);                                   // A1
        d.guest.memory.putInt(input + 64 + 4, 64 << 16 | Contexts.EP_TYPE_CONTROL << 3);
        assertEquals(Trb.CC_SUCCESS, d.command(input, Trb.EVALUATE_CONTEXT << 10 | slot << 24).code());
        assertEquals(64, new GuestMem(d).dword(output + 32 + 4) >>> 16);
    }

    /** Reads of guest memory in test terms. */
    private record GuestMem(XhciDriver d) {
        int dword(long at) {
            return d.guest.memory.getInt(at);
        }

        long qword(long at) {
            return d.guest.memory.getLong(at);
        }
    }
}
