package org.jbhyve.machine;

import org.jbhyve.config.ConfigTree;
import org.jbhyve.irq.GuestDoorbells;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciInterrupts;

/**
 * What a PCI device factory gets: its config node, the whole tree (for cross-references and
 * VM-wide keys such as {@code virtio_msix}), guest memory for DMA, its interrupts (INTx, MSI,
 * irqfd-backed MSI vectors), doorbells (ioeventfd-backed guest writes served on the event
 * loop), and the VM name.
 */
public record DeviceContext(MachineSpec.PciSlot slot, ConfigTree tree, GuestMemory memory,
                            PciInterrupts interrupts, GuestDoorbells doorbells, String vmName,
                            GraphicsConsole console) {
    /** A key of this device's config node, e.g. {@code option("path")}. */
    public java.util.Optional<String> option(String key) {
        return tree.get(slot.node() + "." + key);
    }

    /** A boolean key of this device's node in bhyve's spellings. */
    public boolean flag(String key) {
        return tree.getBoolean(slot.node() + "." + key, false);
    }

    /** Whether virtio devices use MSI-X (the default) rather than MSI ({@code -W}, C20). */
    public boolean virtioMsix() {
        return tree.getBoolean("virtio_msix", true);
    }
}
