package org.jbhyve.devices.usb;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.jbhyve.backend.display.InputRouter;
import org.jbhyve.log.LazyLogger;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciInterrupts;

/**
 * Builds an {@code xhci} function from its config node, as pci_xhci_parse_devices() reads it:
 *
 * <pre>
 * pci.B.S.F.device=xhci
 * pci.B.S.F.slot.N.device=tablet      N = 1-64 (the order of the nodes decides the ports)
 * </pre>
 * {@code -s 30,xhci,tablet} arrives as {@code slot.1.device=tablet}. The only USB device model
 * is bhyve's {@code tablet}; a USB 3 device takes the next of ports 1-4, a USB 2 device the next
 * of 5-8. A tablet takes its pointer events from the console's {@link InputRouter} with bhyve's
 * tablet priority. Unusable settings are an {@link IllegalArgumentException} whose message is
 * bhyve's one line.
 */
public final class XhciFactory {
    private static final LazyLogger LOG = new LazyLogger(XhciFactory.class);

    private XhciFactory() {}

    /**
     * The controller for a node: {@code option} looks up a key relative to it (e.g.
     * {@code slot.1.device}), {@code slots} are the names of the children of its {@code slot}
     * node in order; tablets register with {@code input}.
     */
    public static XhciController create(Function<String, Optional<String>> option, List<String> slots,
                                        GuestMemory memory, PciInterrupts interrupts, InputRouter input) {
        List<UsbDevice> devices = devices(option, slots);
        if (devices.isEmpty()) {
            LOG.get().warning("pci_xhci no USB devices configured");
        }
        XhciController controller = new XhciController(devices, memory, interrupts);
        for (UsbDevice d : devices) {
            if (d instanceof UsbTablet t) {
                input.registerPointer(t, InputRouter.PRIORITY_TABLET);
            }
        }
        return controller;
    }

    /** The USB devices of the {@code slot.N} nodes, in order; checks what bhyve checks. */
    static List<UsbDevice> devices(Function<String, Optional<String>> option, List<String> slots) {
        List<UsbDevice> devices = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        int usb3 = 0;
        int usb2 = 0;
        for (String name : slots) {
            long slot = parseSlot(name);
            if (slot <= 0 || slot > Commands.MAX_SLOTS) {
                throw new IllegalArgumentException("pci_xhci: invalid slot '" + name + "'");
            }
            if (!seen.add(slot)) {
                throw new IllegalArgumentException("pci_xhci: duplicate slot '" + name + "'");
            }
            String model = option.apply("slot." + name + ".device").orElseThrow(() -> new IllegalArgumentException(
                    "pci_xhci: missing \"device\" value for slot '" + name + "'"));
            UsbDevice device = switch (model) {
                case UsbTablet.NAME -> new UsbTablet();
                default -> throw new IllegalArgumentException("pci_xhci: unknown device model \"" + model + "\"");
            };
            if (device.usb3() ? ++usb3 > XhciLayout.PORTS_PER_PROTOCOL : ++usb2 > XhciLayout.PORTS_PER_PROTOCOL) {
                throw new IllegalArgumentException("pci_xhci max number of USB " + (device.usb3() ? 3 : 2)
                        + " devices reached, max " + XhciLayout.PORTS_PER_PROTOCOL);
            }
            devices.add(device);
        }
        return devices;
    }

    /** A slot name as strtol(name, &amp;end, 0) takes it whole: decimal, 0x hex or 0 octal; -1 if not a number. */
    private static long parseSlot(String name) {
        try {
            String n = name.trim();
            if (!n.equals(name) || n.isEmpty() || n.startsWith("+") || n.startsWith("-")) {
                return -1;
            }
            if (n.startsWith("0x") || n.startsWith("0X")) {
                return Long.parseLong(n.substring(2), 16);
            }
            if (n.length() > 1 && n.startsWith("0")) {
                return Long.parseLong(n.substring(1), 8);
            }
            return Long.parseLong(n);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
