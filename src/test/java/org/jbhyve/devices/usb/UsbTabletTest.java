package org.jbhyve.devices.usb;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** bhyve's HID tablet on its own: descriptors, standard and HID requests, reports and NAKs. */
class UsbTabletTest {
    private final UsbTablet t = new UsbTablet();

    private UsbResponse request(int type, int request, int value, int index, int length) {
        return t.control(new SetupPacket(type, request, value, index, length), new byte[0]);
    }

    private byte[] in(int type, int request, int value, int index, int length) {
        UsbResponse r = request(type, request, value, index, length);
        assertEquals(UsbResponse.Status.ACK, r.status());
        return r.data();
    }

    @Test
    void descriptorsAreBhyves() {
        byte[] dev = in(0x80, 6, 0x0100, 0, 64);
        assertEquals(18, dev.length);
        assertArrayEquals(new byte[] {18, 1, 0, 3, 0, 0, 0, 8, 0x5D, (byte) 0xFB, 1, 0, 0, 0, 1, 2, 3, 1}, dev);
        byte[] conf = in(0x80, 6, 0x0200, 0, 9);
        assertEquals(9, conf.length, "wLength cuts the answer");
        assertEquals(40, conf[2]);
        byte[] all = in(0x80, 6, 0x0200, 0, 1000);
        assertEquals(40, all.length);
        assertEquals((byte) 0xA0, all[7], "bus powered, remote wake-up");
        assertEquals(0x21, all[18 + 1], "HID descriptor after the interface");
        assertEquals(TabletDescriptors.REPORT_DESCRIPTOR.length, all[18 + 7]);
        assertEquals(0x30, all[34 + 1], "SuperSpeed endpoint companion last");
        assertEquals(74, TabletDescriptors.REPORT_DESCRIPTOR.length);
        byte[] bos = in(0x80, 6, 0x0F00, 0, 255);
        assertEquals(15, bos.length);
        assertEquals(3, bos[5 + 2], "SuperSpeed USB device capability");
        assertArrayEquals(new byte[] {4, 3, 9, 4}, in(0x80, 6, 0x0300, 0, 255));
        assertEquals("BHYVE", new String(in(0x80, 6, 0x0301, 0x409, 255), 2, 10,
                java.nio.charset.StandardCharsets.UTF_16LE));
        assertEquals(UsbResponse.Status.STALL, request(0x80, 6, 0x0305, 0, 255).status(), "no string 5");
        assertEquals(UsbResponse.Status.STALL, request(0x80, 6, 0x0600, 0, 10).status(), "no device qualifier");
        assertEquals(UsbResponse.Status.STALL, request(0x80, 6, 0x0101, 0, 18).status(), "one device descriptor");
        assertArrayEquals(TabletDescriptors.HID_DESCRIPTOR, in(0x81, 6, 0x2100, 0, 9));
    }

    @Test
    void reportsFollowThePointerAndNakOtherwise() {
        List<Integer> wakeUps = new ArrayList<>();
        t.setWakeUp(wakeUps::add);
        assertEquals(UsbResponse.Status.NAK, t.in(1, 8).status(), "unconfigured");
        assertEquals(UsbResponse.Status.ACK, request(0x00, 9, 1, 0, 0).status());
        assertArrayEquals(new byte[] {1}, in(0x80, 8, 0, 0, 1));
        assertEquals(UsbResponse.Status.NAK, t.in(1, 8).status(), "nothing moved");
        t.pointer(0b010, 1024, 768, 1024, 768);                   // middle button, bottom-right corner
        assertEquals(List.of(1), wakeUps);
        byte[] r = t.in(1, 8).data();
        assertEquals(6, r.length);
        assertEquals(0b100, r[0], "middle is HID button 3");
        assertEquals(0x7FFF, (r[1] & 0xFF) | (r[2] & 0xFF) << 8, "clamped to the logical maximum");
        assertEquals(0x7FFF, (r[3] & 0xFF) | (r[4] & 0xFF) << 8);
        assertEquals(UsbResponse.Status.NAK, t.in(1, 8).status(), "one report per event");
        t.pointer(1 << 3, -5, 0, 100, 100);                        // wheel up, left of the screen
        r = t.in(1, 8).data();
        assertEquals(1, r[5]);
        assertEquals(0, r[1] | r[2]);
        t.pointer(1, 1, 1, 0, 0);                                  // no screen: ignored
        assertEquals(UsbResponse.Status.NAK, t.in(1, 8).status());
        assertEquals(UsbResponse.Status.STALL, t.in(2, 8).status(), "no endpoint 2");
    }

    @Test
    void scaleIsBhyvesFormula() {
        assertEquals(0, UsbTablet.scale(0, 800));
        assertEquals(0x4000, UsbTablet.scale(400, 800));
        assertEquals(0x8000 * 799 / 800, UsbTablet.scale(799, 800));
        assertEquals(0x7FFF, UsbTablet.scale(800, 800));
        assertEquals(0, UsbTablet.scale(-1, 800));
    }

    @Test
    void hidRequests() {
        t.pointer(1, 50, 50, 100, 100);
        byte[] report = in(0xA1, 1, 0x0100, 0, 6);
        assertEquals(1, report[0]);
        assertEquals(0x4000, (report[1] & 0xFF) | (report[2] & 0xFF) << 8);
        assertEquals(UsbResponse.Status.STALL, request(0xA1, 1, 0x0100, 0, 4).status(), "too short for a report");
        assertEquals(UsbResponse.Status.STALL, request(0xA1, 1, 0x0300, 0, 6).status(), "no feature report");
        assertArrayEquals(new byte[] {1}, in(0xA1, 3, 0, 0, 1), "report protocol after reset");
        assertEquals(UsbResponse.Status.ACK, request(0x21, 0x0B, 0, 0, 0).status());
        assertArrayEquals(new byte[] {0}, in(0xA1, 3, 0, 0, 1), "boot protocol");
        assertEquals(UsbResponse.Status.ACK, request(0x21, 0x0A, 0x0400, 0, 0).status());
        assertArrayEquals(new byte[] {4}, in(0xA1, 2, 0, 0, 1));
        assertEquals(UsbResponse.Status.ACK, request(0x21, 0x09, 0x0200, 0, 1).status(), "SET_REPORT ignored");
    }

    @Test
    void standardRequests() {
        assertArrayEquals(new byte[] {0, 0}, in(0x80, 0, 0, 0, 2));
        assertEquals(UsbResponse.Status.ACK, request(0x00, 3, 1, 0, 0).status());      // remote wake-up on
        assertArrayEquals(new byte[] {2, 0}, in(0x80, 0, 0, 0, 2));
        assertEquals(UsbResponse.Status.ACK, request(0x00, 1, 1, 0, 0).status());
        assertArrayEquals(new byte[] {0, 0}, in(0x80, 0, 0, 0, 2));
        assertEquals(UsbResponse.Status.ACK, request(0x00, 3, 48, 0, 0).status(), "U1 enable accepted");
        assertEquals(UsbResponse.Status.ACK, request(0x02, 1, 0, 0x81, 0).status(), "clear halt on 0x81");
        assertEquals(UsbResponse.Status.STALL, request(0x02, 1, 0, 0x82, 0).status());
        assertEquals(UsbResponse.Status.STALL, request(0x01, 3, 0, 0, 0).status(), "interface features stall");
        assertEquals(UsbResponse.Status.ACK, request(0x00, 5, 7, 0, 0).status());
        assertEquals(7, t.address());
        assertEquals(UsbResponse.Status.STALL, request(0x00, 9, 2, 0, 0).status(), "one configuration");
        assertArrayEquals(new byte[] {0}, in(0x81, 10, 0, 0, 1));
        assertEquals(UsbResponse.Status.STALL, request(0x81, 10, 0, 1, 1).status(), "one interface");
        assertEquals(UsbResponse.Status.ACK, request(0x01, 11, 0, 0, 0).status());
        assertEquals(UsbResponse.Status.STALL, request(0x01, 11, 1, 0, 0).status(), "no alternate setting 1");
        assertEquals(UsbResponse.Status.ACK, request(0x00, 48, 0, 0, 6).status(), "SET_SEL");
        assertEquals(UsbResponse.Status.ACK, request(0x00, 49, 40, 0, 0).status(), "SET_ISOCH_DELAY");
        assertEquals(UsbResponse.Status.STALL, request(0x40, 1, 0, 0, 0).status(), "vendor requests stall");
        t.reset();
        assertEquals(0, t.address());
        assertArrayEquals(new byte[] {0}, in(0x80, 8, 0, 0, 1), "unconfigured after a bus reset");
    }
}
