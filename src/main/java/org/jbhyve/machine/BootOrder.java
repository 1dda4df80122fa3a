package org.jbhyve.machine;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jbhyve.config.ConfigTree;

/**
 * The fw_cfg {@code bootorder} file: which devices the firmware tries, first to last.
 *
 * <p>bhyve 14 takes a per-device {@code bootindex=N} ({@code -s 3,virtio-blk,disk.img,bootindex=1});
 * devices with one come first, lowest index first; the other boot-capable devices follow in slot
 * order. Each entry is the Open Firmware device path QEMU writes for the same device, which is
 * what SeaBIOS ({@code bootprio_find_*}) and OVMF ({@code QemuBootOrderLib}) match against:
 *
 * <pre>
 * virtio-blk   /pci@i0cf8/scsi@SLOT[,FN]/disk@0,0
 * virtio-scsi  /pci@i0cf8/scsi@SLOT[,FN]/channel@0/disk@0,0   (target 0, LUN 0)
 * ahci port P  /pci@i0cf8/pci8086,2922@SLOT[,FN]/drive@P/disk@0   (bootindex per port or per controller)
 * nvme         /pci@i0cf8/pci8086,5845@SLOT[,FN]/namespace@1,0
 * NICs         /pci@i0cf8/ethernet@SLOT[,FN]    (only with bootindex: no option ROM to boot from)
 * </pre>
 * The file is the paths separated by newlines and NUL-terminated. Only devices on PCI bus 0 get
 * paths (bhyve's firmware sees only bus 0 devices as boot devices too).
 */
final class BootOrder {
    static final String FILE = "bootorder";
    private static final String ROOT = "/pci@i0cf8";

    private record Entry(int index, int order, String path) {}

    private BootOrder() {}

    /** The entries in boot order; a bad or repeated bootindex is a one-line MachineException. */
    static List<String> paths(List<MachineSpec.PciSlot> slots, ConfigTree tree) {
        List<Entry> entries = new ArrayList<>();
        Map<Integer, String> seen = new java.util.HashMap<>();
        for (MachineSpec.PciSlot s : slots) {
            // Slot order is bus, slot, function, then the device's own order (AHCI ports),
            // whatever order -s gave the slots in.
            int order = ((s.bus() * 32 + s.slot()) * 8 + s.function()) * 64;
            for (Device d : devices(s, tree)) {
                Optional<String> text = tree.get(d.node() + ".bootindex");
                int index = text.map(t -> parseIndex(d.node(), t)).orElse(Integer.MAX_VALUE);
                if (text.isPresent()) {
                    String other = seen.putIfAbsent(index, d.node());
                    if (other != null) {
                        throw new MachineException(d.node() + ": bootindex " + index + " is already used by " + other);
                    }
                } else if (!d.bootsByDefault()) {
                    continue;
                }
                entries.add(new Entry(index, order++, d.path()));
            }
        }
        entries.sort((a, b) -> a.index() != b.index() ? Integer.compare(a.index(), b.index())
                : Integer.compare(a.order(), b.order()));
        return entries.stream().map(Entry::path).toList();
    }

    /** The bootorder file's bytes. */
    static byte[] file(List<String> paths) {
        return (String.join("\n", paths) + "\0").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * One bootable thing: its firmware path, the config node its {@code bootindex} sits on (an
     * AHCI port has its own: {@code ahci-cd,x.iso,bootindex=1} stores it on port 0), and whether
     * it is listed without a bootindex.
     */
    private record Device(String path, String node, boolean bootsByDefault) {}

    private static List<Device> devices(MachineSpec.PciSlot s, ConfigTree tree) {
        if (s.bus() != 0) {
            return List.of();
        }
        String at = "@" + Integer.toHexString(s.slot()) + (s.function() == 0 ? "" : "," + Integer.toHexString(s.function()));
        String node = s.node();
        return switch (s.device()) {
            case "virtio-blk" -> List.of(new Device(ROOT + "/scsi" + at + "/disk@0,0", node, true));
            case "virtio-scsi" -> List.of(new Device(ROOT + "/scsi" + at + "/channel@0/disk@0,0", node, true));
            case "nvme" -> List.of(new Device(ROOT + "/pci8086,5845" + at + "/namespace@1,0", node, true));
            case "ahci" -> {
                List<Device> ports = new ArrayList<>();
                for (String p : tree.children(node + ".port")) {
                    String portNode = node + ".port." + p;
                    String path = ROOT + "/pci8086,2922" + at + "/drive@" + Integer.toHexString(Integer.parseInt(p))
                            + "/disk@0";
                    boolean own = tree.has(portNode + ".bootindex");
                    ports.add(new Device(path, own ? portNode : node, true));
                }
                yield ports;
            }
            case "virtio-net", "e1000" -> List.of(new Device(ROOT + "/ethernet" + at, node, false));
            default -> List.of();
        };
    }

    private static int parseIndex(String node, String text) {
        try {
            int v = Integer.parseInt(text.trim());
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new MachineException(node + ": bootindex must be a number 0 or above, not '" + text + "'");
        }
    }
}
