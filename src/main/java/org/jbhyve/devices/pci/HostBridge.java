package org.jbhyve.devices.pci;

import org.jbhyve.pci.ConfigSpaceFunction;
import org.jbhyve.pci.PciConfigSpace;
import org.jbhyve.pci.PciFunction;

/**
 * bhyve's {@code hostbridge} (vendor/device 1275:1275, NetApp's ids) and {@code amd_hostbridge}
 * (1022:7432): class 06/00/00, no BARs, and a PCI Express capability of type root port
 * (as bhyve's pci_hostbridge.c adds) so guests treat the hierarchy as PCIe.
 *
 * <p>Snapshot state (layout 1): the function state only (config space and BAR addresses, as
 * {@link PciFunction} saves it); the bridge has no other state.
 */
public final class HostBridge extends ConfigSpaceFunction {
    public static final int BHYVE_VENDOR = 0x1275, BHYVE_DEVICE = 0x1275;
    public static final int AMD_VENDOR = 0x1022, AMD_DEVICE = 0x7432;
    private static final int CLASS_HOST_BRIDGE = 0x060000;
    private static final int CAP_PCI_EXPRESS = 0x10;
    private static final int PCIE_CAP_VERSION_2 = 0x2;
    private static final int PCIE_TYPE_ROOT_PORT = 0x4;

    public HostBridge(int vendor, int device) {
        super(new PciConfigSpace(vendor, device, CLASS_HOST_BRIDGE, 0));
        int cap = config.addCapability(CAP_PCI_EXPRESS, 0x3C);
        config.put16(cap + 2, PCIE_CAP_VERSION_2 | PCIE_TYPE_ROOT_PORT << 4);
    }
}
