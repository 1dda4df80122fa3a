package org.jbhyve.machine;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.devices.pci.HostBridge;
import org.jbhyve.devices.pci.LpcBridge;
import org.jbhyve.pci.PciFunction;

/**
 * The PCI emulations this build implements, keyed by bhyve's names (rule: user-visible names are
 * exactly bhyve's). The command-line parser knows every name bhyve(8) documents; a name it knows
 * but this table lacks is refused here with a clear message.
 */
final class PciDeviceCatalog {
    /** Builds one function from its config node. */
    interface Factory {
        PciFunction create(DeviceContext context);
    }

    private static final Map<String, Factory> FACTORIES = new LinkedHashMap<>();

    static {
        FACTORIES.put("hostbridge", c -> hostBridge(c.slot(), c.tree()));
        FACTORIES.put("amd_hostbridge", c -> new HostBridge(HostBridge.AMD_VENDOR, HostBridge.AMD_DEVICE));
        FACTORIES.put("lpc", c -> {
            if (c.slot().bus() != 0) {
                throw new MachineException("lpc: the LPC bridge can only be configured on bus 0");
            }
            return new LpcBridge();
        });
        FACTORIES.put("e1000", c -> { try { return new org.jbhyve.devices.net.E1000(org.jbhyve.backend.net.NetConfig.open("e1000", c::option, c.slot().slot(), c.slot().function(), c.vmName()), c.memory(), c.interrupts()); } catch (org.jbhyve.backend.net.NetBackendException e) { throw new MachineException(e.getMessage()); } });
    }

    private PciDeviceCatalog() {}

    static PciFunction create(DeviceContext context) {
        MachineSpec.PciSlot slot = context.slot();
        Factory f = FACTORIES.get(slot.device());
        if (f == null) {
            throw new MachineException(String.format("pci %d:%d:%d: emulation '%s' is not available in this build",
                    slot.bus(), slot.slot(), slot.function(), slot.device()));
        }
        return f.create(context);
    }

    /** hostbridge honours current bhyve's vendor/devid keys (how amd_hostbridge is stored). */
    private static HostBridge hostBridge(MachineSpec.PciSlot slot, ConfigTree tree) {
        int vendor = parseId(tree.getString(slot.node() + ".vendor", "0x1275"), slot, "vendor");
        int device = parseId(tree.getString(slot.node() + ".devid", "0x1275"), slot, "devid");
        return new HostBridge(vendor, device);
    }

    private static int parseId(String text, MachineSpec.PciSlot slot, String key) {
        try {
            int v = Integer.decode(text);
            if (v < 0 || v > 0xFFFF) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new MachineException(slot.node() + "." + key + ": not a 16-bit id: " + text);
        }
    }

    static boolean isAvailable(String name) {
        return FACTORIES.containsKey(name);
    }
}
