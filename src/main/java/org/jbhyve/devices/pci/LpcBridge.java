package org.jbhyve.devices.pci;

import org.jbhyve.pci.ConfigSpaceFunction;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciFunction;

/**
 * The PCI side of bhyve's {@code lpc}: an Intel 82371SB-style PCI-ISA bridge (8086:7000, class
 * 06/01/00). The ISA devices behind it (COM ports, RTC, pc-testdev) live on the port bus;
 * this function only makes the bridge visible. bhyve allows it on bus 0 only.
 *
 * <p>Snapshot state (layout 1): the function state only (config space and BAR addresses, as
 * {@link PciFunction} saves it); the bridge has no other state.
 */
public final class LpcBridge extends ConfigSpaceFunction {
    public static final int VENDOR = 0x8086, DEVICE = 0x7000;
    private static final int CLASS_ISA_BRIDGE = 0x060100;

    public LpcBridge() {
        super(new PciConfigSpace(VENDOR, DEVICE, CLASS_ISA_BRIDGE, 0));
    }
}
