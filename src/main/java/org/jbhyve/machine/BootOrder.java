package org.jbhyve.machine;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
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
 * ahci port P  /pci@i0cf8/pci8086,2922@SLOT[,FN]/drive@P/disk@0
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
        int order = 0;
        for (MachineSpec.PciSlot s : slots) {
            Optional<String> text = tree.get(s.node() + ".bootindex");
            int index = text.map(t -> parseIndex(s, t)).orElse(Integer.MAX_VALUE);
            if (text.isPresent()) {
                String other = seen.putIfAbsent(index, s.node());
                if (other != null) {
                    throw new MachineException(s.node() + ": bootindex " + index + " is already used by " + other);
                }
            }
            for (String path : devicePaths(s, tree, text.isPresent())) {
                entries.add(new Entry(index, order++, path));
            }
        }
        entries.sort(Comparator.comparingInt(Entry::index).thenComparingInt(Entry::order));
        return entries.stream().map(Entry::path).toList();
    }

    /** The bootorder file's bytes. */
    static byte[] file(List<String> paths) {
        return (String.join("\n", paths) + "\0").getBytes(StandardCharsets.US_ASCII);
    }

    private static List<String> devicePaths(MachineSpec.PciSlot s, ConfigTree tree, boolean explicit) {
        if (s.bus() != 0) {
            return List.of();
        }
        String at = "@" + Integer.toHexString(s.slot()) + (s.function() == 0 ? "" : "," + Integer.toHexString(s.function()));
        return switch (s.device()) {
            case "virtio-blk" -> List.of(ROOT + "/scsi" + at + "/disk@0,0");
            case "virtio-scsi" -> List.of(ROOT + "/scsi" + at + "/channel@0/disk@0,0");
            case "nvme" -> List.of(ROOT + "/pci8086,5845" + at + "/namespace@1,0");
            case "ahci" -> {
                List<String> ports = new ArrayList<>();
                for (String p : tree.children(s.node() + ".port")) {
                    ports.add(ROOT + "/pci8086,2922" + at + "/drive@" + Integer.toHexString(Integer.parseInt(p))
                            + "/disk@0");
                }
                yield ports;
            }
            case "virtio-net", "e1000" -> explicit ? List.of(ROOT + "/ethernet" + at) : List.of();
            default -> List.of();
        };
    }

    private static int parseIndex(MachineSpec.PciSlot s, String text) {
        try {
            int v = Integer.parseInt(text.trim());
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new MachineException(s.node() + ": bootindex must be a number 0 or above, not '" + text + "'");
        }
    }
}
