package org.jbhyve.devices.storage.ahci;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockBackendException;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.pci.PciInterrupts;

/**
 * Builds an {@link AhciController} from bhyve's configuration keys below the device node, as
 * pci_ahci_init() reads them:
 *
 * <pre>
 * port.N.type        hd | cd  (N = 0-31, decimal)
 * port.N.path        the image
 * port.N.ro, nocache, direct, nodelete, sectorsize=l[/p]   block backend options (B1)
 * port.N.ser, rev, model     IDENTIFY strings (20, 8, 40 characters; longer ones are cut)
 * port.N.nmrr        nominal media rotation rate (1 = solid state)
 * </pre>
 * {@code -s 4,ahci-hd,disk.img,ser=X}, {@code -s 4,ahci-cd,x.iso} and
 * {@code -s 4,ahci,hd:disk.img,nocache,cd:x.iso} all arrive here as such keys. CD images are
 * always opened read-only. Unusable settings are an {@link IllegalArgumentException} whose
 * message is one line naming the key; backends already opened are closed.
 */
public final class AhciFactory {
    private static final int CD_WORKERS = 4;

    private AhciFactory() {}

    /**
     * The controller for the node {@code node}: {@code option} looks up a key relative to it,
     * {@code flag} reads a boolean key in bhyve's spellings.
     */
    public static AhciController create(String node, Function<String, Optional<String>> option,
                                        Predicate<String> flag, GuestMemory memory, PciInterrupts interrupts) {
        Map<Integer, AhciDrive> drives = drives(node, option, flag);
        try {
            return new AhciController(drives, memory, interrupts);
        } catch (RuntimeException e) {
            drives.values().forEach(d -> d.backend().close());
            throw e;
        }
    }

    /** Opens the drive of every configured port; on an error, closes those opened and throws. */
    static Map<Integer, AhciDrive> drives(String node, Function<String, Optional<String>> option,
                                          Predicate<String> flag) {
        Map<Integer, AhciDrive> drives = new TreeMap<>();
        try {
            for (int n = 0; n < AhciController.MAX_PORTS; n++) {
                String port = "port." + n + ".";
                Optional<String> type = option.apply(port + "type");
                if (type.isEmpty()) {
                    if (option.apply(port + "path").isPresent()) {
                        throw new IllegalArgumentException(node + "." + port + "type: missing (hd or cd)");
                    }
                    continue;
                }
                drives.put(n, drive(node + "." + port, type.get(), k -> option.apply(port + k),
                        k -> flag.test(port + k)));
            }
            return drives;
        } catch (RuntimeException e) {
            drives.values().forEach(d -> d.backend().close());
            throw e;
        }
    }

    private static AhciDrive drive(String where, String type, Function<String, Optional<String>> option,
                                   Predicate<String> flag) {
        boolean cd = switch (type) {
            case "hd" -> false;
            case "cd" -> true;
            default -> throw new IllegalArgumentException(where + "type: '" + type + "' is not hd or cd");
        };
        String path = option.apply("path").orElseThrow(
                () -> new IllegalArgumentException(where + "path: missing (the " + (cd ? "CD" : "disk") + " image)"));
        int rate = 0;
        if (option.apply("nmrr").isPresent()) {
            String text = option.apply("nmrr").get();
            try {
                rate = Integer.decode(text.trim());
            } catch (NumberFormatException e) {
                rate = -1;
            }
            if (rate < 0 || rate > 0xFFFF) {
                throw new IllegalArgumentException(where + "nmrr: not a rotation rate 0-65535: " + text);
            }
        }
        int logical = 0;
        int physical = 0;
        BlockBackend backend;
        try {
            if (option.apply("sectorsize").isPresent()) {
                int[] s = BlockOptions.parseSectorSize(option.apply("sectorsize").get());
                logical = s[0];
                physical = s[1];
            }
            backend = BlockBackend.open(new BlockOptions(path, cd || flag.test("ro"), flag.test("nocache"),
                    flag.test("direct"), logical, physical, flag.test("nodelete"),
                    cd ? CD_WORKERS : BlockOptions.DEFAULT_WORKERS).withNoLock(flag.test("nolock")));
        } catch (BlockBackendException e) {
            throw new IllegalArgumentException(where.substring(0, where.length() - 1) + ": " + e.getMessage(), e);
        }
        String serial = option.apply("ser").orElse(AhciDrive.defaultSerial(path));
        String revision = option.apply("rev").orElse(AhciDrive.DEFAULT_REVISION);
        String model = option.apply("model").orElse(cd ? AhciDrive.CD_MODEL : AhciDrive.DISK_MODEL);
        return new AhciDrive(cd ? AhciDrive.Kind.CD : AhciDrive.Kind.HD, backend, serial, revision, model, rate);
    }
}
