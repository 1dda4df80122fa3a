package org.jbhyve.machine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockBackendException;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.backend.net.NetConfig;
import org.jbhyve.devices.net.E1000;
import org.jbhyve.devices.pci.HostBridge;
import org.jbhyve.devices.storage.ahci.AhciFactory;
import org.jbhyve.devices.storage.nvme.NvmeFactory;
import org.jbhyve.devices.virtio.block.VirtioBlock;
import org.jbhyve.devices.virtio.console.VirtioConsole;
import org.jbhyve.devices.virtio.net.VirtioNet;
import org.jbhyve.devices.virtio.rng.EntropySource;
import org.jbhyve.devices.virtio.rng.VirtioRng;
import org.jbhyve.devices.virtio.scsi.VirtioScsiFactory;
import org.jbhyve.devices.pci.LpcBridge;
import org.jbhyve.pci.PciFunction;
import org.jbhyve.virtio.VirtioDevice;
import org.jbhyve.virtio.VirtioPciFunction;

/**
 * The PCI emulations this build implements, keyed by bhyve's names (rule: user-visible names are
 * exactly bhyve's). The command-line parser knows every name bhyve(8) documents; {@code -s help}
 * lists only those this table has, and {@link MachineSpec} refuses the others before KVM is opened.
 */
public final class PciDeviceCatalog {
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
        FACTORIES.put("e1000", c -> new E1000(network("e1000", c), c.memory(), c.interrupts()));
        FACTORIES.put("virtio-blk", c -> virtio(c, virtioBlock(c)));
        FACTORIES.put("virtio-rnd", c -> virtio(c, virtioRng(c)));
        FACTORIES.put("virtio-console", c -> virtio(c, virtioConsole(c)));
        FACTORIES.put("virtio-net", c -> virtio(c, new VirtioNet(network("virtio-net", c))));
        FACTORIES.put("virtio-scsi", c -> virtio(c, virtioScsi(c)));
        FACTORIES.put("nvme", c -> {
            try {
                return NvmeFactory.create(c::option, c::flag, c.vmName(), c.slot().bus(), c.slot().slot(),
                        c.slot().function(), c.memory(), c.interrupts());
            } catch (IllegalArgumentException | BlockBackendException e) {
                throw new MachineException(c.slot().node() + ": " + e.getMessage(), e);
            }
        });
        FACTORIES.put("fbuf", c -> c.console().createFbuf(c));
        FACTORIES.put("xhci", c -> c.console().createXhci(c));
        FACTORIES.put("ahci", c -> {
            try {
                return AhciFactory.create(c.slot().node(), c::option, c::flag, c.memory(), c.interrupts());
            } catch (IllegalArgumentException e) {
                throw new MachineException(e.getMessage(), e);
            }
        });
    }

    private static PciFunction virtio(DeviceContext c, VirtioDevice device) {
        return new VirtioPciFunction(device, c.memory(), c.interrupts(), c.doorbells(), c.virtioMsix());
    }

    /** A NIC's backend, MAC and MTU from its node (bhyve's backend, mac=, mtu=; its default MAC rule). */
    private static NetConfig network(String device, DeviceContext c) {
        return NetConfig.open(device, c::option, c.slot().slot(), c.slot().function(), c.vmName());
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

    /*
     * virtio models from their config nodes (bhyve's keys: virtio-blk's path, ro, nocache, direct,
     * sectorsize, nodelete, ser; virtio-console's port.N.name/path); unusable options become
     * one-line MachineExceptions.
     */
    private static VirtioBlock virtioBlock(DeviceContext c) {
        String where = c.slot().node();
        String path = c.option("path").orElseThrow(() -> new MachineException(where + ": virtio-blk needs a path"));
        try {
            int logical = 0;
            int physical = 0;
            if (c.option("sectorsize").isPresent()) {
                int[] s = BlockOptions.parseSectorSize(c.option("sectorsize").get());
                logical = s[0];
                physical = s[1];
            }
            BlockOptions o = new BlockOptions(path, c.flag("ro"), c.flag("nocache"), c.flag("direct"), logical,
                    physical, c.flag("nodelete"), BlockOptions.DEFAULT_WORKERS).withNoLock(c.flag("nolock"));
            BlockBackend disk = BlockBackend.open(o);
            return new VirtioBlock(disk, c.option("ser").orElse(null));
        } catch (BlockBackendException e) {
            throw new MachineException(where + ": " + e.getMessage(), e);
        }
    }

    /** virtio-scsi's keys: dev (LUN 0), lunN, ro, nocache, direct, sectorsize, nodelete, ser, iid (ignored). */
    private static VirtioDevice virtioScsi(DeviceContext c) {
        try {
            return VirtioScsiFactory.create(c::option, c::flag, c.tree().children(c.slot().node()));
        } catch (IllegalArgumentException | BlockBackendException e) {
            throw new MachineException(c.slot().node() + ": " + e.getMessage(), e);
        }
    }

    private static VirtioRng virtioRng(DeviceContext c) {
        return new VirtioRng(EntropySource.secureRandom(), VirtioRng.DEFAULT_RATE);
    }

    private static VirtioConsole virtioConsole(DeviceContext c) {
        String node = c.slot().node() + ".port";
        List<VirtioConsole.PortSpec> ports = new ArrayList<>();
        for (String child : c.tree().children(node)) {
            String name = c.tree().get(node + "." + child + ".name").orElse(child);
            String path = c.tree().get(node + "." + child + ".path")
                    .orElseThrow(() -> new MachineException(node + "." + child + ": virtio-console port needs a path"));
            ports.add(new VirtioConsole.PortSpec(name, Path.of(path)));
        }
        if (ports.size() > VirtioConsole.MAX_PORTS) {
            throw new MachineException(c.slot().node() + ": virtio-console supports at most "
                    + VirtioConsole.MAX_PORTS + " ports");
        }
        try {
            return new VirtioConsole(ports);
        } catch (IllegalArgumentException e) {
            throw new MachineException(e.getMessage());
        }
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

    /** Whether this build implements the model {@code device} (a {@code device} key's value, not an alias). */
    public static boolean isAvailable(String device) {
        return FACTORIES.containsKey(device);
    }
}
