package org.jbhyve.devices.usb;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.jbhyve.backend.display.InputRouter;
import org.jbhyve.virtio.MockGuest;
import org.junit.jupiter.api.Test;

/** The config keys bhyve's pci_xhci reads, its error messages, and the tablet's console hook-up. */
class XhciFactoryTest {
    private static Function<String, Optional<String>> keys(Map<String, String> m) {
        return k -> Optional.ofNullable(m.get(k));
    }

    private static String error(Map<String, String> m, List<String> slots) {
        return assertThrows(IllegalArgumentException.class, () -> XhciFactory.devices(keys(m), slots)).getMessage();
    }

    @Test
    void slotsBecomeDevicesInOrder() {
        List<UsbDevice> devices = XhciFactory.devices(keys(Map.of("slot.1.device", "tablet", "slot.0x2.device",
                "tablet")), List.of("1", "0x2"));
        assertEquals(2, devices.size());
        assertInstanceOf(UsbTablet.class, devices.getFirst());
        assertEquals(List.of(), XhciFactory.devices(keys(Map.of()), List.of()), "no devices is allowed");
    }

    @Test
    void badConfigurationsGetBhyvesMessages() {
        assertEquals("pci_xhci: invalid slot 'x'", error(Map.of(), List.of("x")));
        assertEquals("pci_xhci: invalid slot '0'", error(Map.of(), List.of("0")));
        assertEquals("pci_xhci: invalid slot '65'", error(Map.of(), List.of("65")));
        assertEquals("pci_xhci: duplicate slot '01'",
                error(Map.of("slot.1.device", "tablet", "slot.01.device", "tablet"), List.of("1", "01")));
        assertEquals("pci_xhci: missing \"device\" value for slot '1'", error(Map.of(), List.of("1")));
        assertEquals("pci_xhci: unknown device model \"kbd\"", error(Map.of("slot.1.device", "kbd"), List.of("1")));
        Map<String, String> five = Map.of("slot.1.device", "tablet", "slot.2.device", "tablet", "slot.3.device",
                "tablet", "slot.4.device", "tablet", "slot.5.device", "tablet");
        assertEquals("pci_xhci max number of USB 3 devices reached, max 4",
                error(five, List.of("1", "2", "3", "4", "5")));
    }

    @Test
    void theTabletTakesTheConsolePointerWithTabletPriority() {
        InputRouter router = new InputRouter();
        int[] ps2 = new int[1];
        router.registerPointer((b, x, y, w, h) -> ps2[0]++, InputRouter.PRIORITY_PS2);
        try (MockGuest guest = new MockGuest(1 << 20)) {
            XhciController hc = XhciFactory.create(keys(Map.of("slot.1.device", "tablet")), List.of("1"),
                    guest.memory, guest, router);
            assertEquals(RootPort.CCS, hc.port(1).read(RootPort.PORTSC) & RootPort.CCS);
            UsbTablet tablet = (UsbTablet) hc.port(1).device();
            tablet.control(new SetupPacket(0, SetupPacket.SET_CONFIGURATION, 1, 0, 0), new byte[0]);
            router.pointer(0, 10, 10, 20, 20);
            assertEquals(0, ps2[0], "the PS/2 mouse no longer gets motion");
            assertEquals(UsbResponse.Status.ACK, tablet.in(1, 8).status());
            hc.close();
        }
    }
}
