package org.jbhyve.machine;

import org.jbhyve.config.ConfigTree;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciInterrupts;

/**
 * What a PCI device factory gets: its config node, the whole tree (for cross-references and
 * VM-wide keys such as {@code virtio_msix}), guest memory for DMA, its interrupts, and the VM name.
 */
public record DeviceContext(MachineSpec.PciSlot slot, ConfigTree tree, GuestMemory memory,
                            PciInterrupts interrupts, String vmName) {
    /** A key of this device's config node, e.g. {@code option("path")}. */
    public java.util.Optional<String> option(String key) {
        return tree.get(slot.node() + "." + key);
    }
}
