package org.jbhyve.devices.virtio.scsi;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jbhyve.backend.block.BlockBackend;
import org.jbhyve.backend.block.BlockOptions;
import org.jbhyve.devices.virtio.block.VirtioBlock;

/**
 * Builds virtio-scsi from its config node ({@code -s 6,virtio-scsi,dev[,options]}, stored by
 * the slot parser as {@code dev} and then generic keys):
 *
 * <pre>
 * dev=PATH        LUN 0 of target 0: a disk image or block device (bhyve's default and any
 *                 /dev/cam/ path are FreeBSD's CAM target layer: refused with one line)
 * lunN=PATH       more LUNs, N from 1 to 16383 (a jbhyve extension; bhyve's CTL configures
 *                 LUNs with ctladm instead)
 * ro, nocache, direct, sectorsize=L[/P], nodelete   block options (B1), for every LUN
 * ser=S           LUN 0's serial number (VPD page 0x80); other LUNs get bhyve's default
 *                 serial from their path
 * iid=N           the CTL initiator id: meaningless here, accepted and ignored
 * </pre>
 * Errors are {@link IllegalArgumentException}s (and the backend's
 * {@link org.jbhyve.backend.block.BlockBackendException}s) with one-line messages; images
 * opened before a failure are closed again.
 */
public final class VirtioScsiFactory {
    /** bhyve's default {@code dev}: the CAM target layer's control device. */
    public static final String DEFAULT_DEV = "/dev/cam/ctl";
    private static final Pattern LUN_KEY = Pattern.compile("lun([0-9]+)");

    private VirtioScsiFactory() {}

    /**
     * Refuses a FreeBSD CAM target path ({@code /dev/cam/ctl[pp.vp][,iid=N]}) with the one line
     * a user needs on Linux.
     */
    public static void checkPath(String path) {
        if (path.equals("/dev/cam") || path.startsWith("/dev/cam/")) {
            throw new IllegalArgumentException("virtio-scsi: " + path
                    + " is FreeBSD's CAM target layer; on Linux give a disk image or block device");
        }
    }

    /**
     * The device for a config node.
     *
     * @param option a key of the device's node ({@code dev}, {@code lun1}, {@code ser}...)
     * @param flag   a boolean key of the node in bhyve's spellings ({@code ro}, {@code nocache}...)
     * @param keys   the names of the node's keys (to find the {@code lunN} ones)
     */
    public static VirtioScsi create(Function<String, Optional<String>> option, Predicate<String> flag,
                                    Collection<String> keys) {
        Map<Integer, String> paths = lunPaths(option, keys);
        paths.values().forEach(VirtioScsiFactory::checkPath);
        int logical = 0;
        int physical = 0;
        if (option.apply("sectorsize").isPresent()) {
            int[] s = BlockOptions.parseSectorSize(option.apply("sectorsize").get());
            logical = s[0];
            physical = s[1];
        }
        List<BlockBackend> opened = new ArrayList<>();
        try {
            Map<Integer, ScsiDisk> disks = new LinkedHashMap<>();
            for (var e : paths.entrySet()) {
                BlockOptions o = new BlockOptions(e.getValue(), flag.test("ro"), flag.test("nocache"),
                        flag.test("direct"), logical, physical, flag.test("nodelete"), BlockOptions.DEFAULT_WORKERS)
                        .withNoLock(flag.test("nolock"));
                BlockBackend backend = BlockBackend.open(o);
                opened.add(backend);
                String serial = e.getKey() == 0 ? option.apply("ser").orElse(null) : null;
                try {
                    disks.put(e.getKey(), new ScsiDisk(backend, serial != null ? serial
                            : VirtioBlock.defaultSerial(e.getValue()), e.getKey(), ScsiDisk.NON_ROTATING));
                } catch (IllegalArgumentException x) {
                    throw new IllegalArgumentException("virtio-scsi: " + x.getMessage());
                }
            }
            return new VirtioScsi(new ScsiTarget(disks), 1);
        } catch (RuntimeException e) {
            opened.forEach(BlockBackend::close);
            throw e;
        }
    }

    /** LUN number to path: {@code dev} (or bhyve's default) at 0, then every {@code lunN}. */
    static Map<Integer, String> lunPaths(Function<String, Optional<String>> option, Collection<String> keys) {
        Map<Integer, String> paths = new TreeMap<>();
        paths.put(0, option.apply("dev").filter(s -> !s.isEmpty()).orElse(DEFAULT_DEV));
        for (String key : keys) {
            Matcher m = LUN_KEY.matcher(key);
            if (!m.matches()) {
                continue;
            }
            int lun;
            try {
                lun = Integer.parseInt(m.group(1));
            } catch (NumberFormatException e) {
                lun = -1;
            }
            if (lun < 1 || lun > ScsiTarget.MAX_LUN) {
                throw new IllegalArgumentException("virtio-scsi: " + key + ": LUN numbers for lunN= are 1 to "
                        + ScsiTarget.MAX_LUN + " (LUN 0 is the first option, dev=)");
            }
            String path = option.apply(key).orElse("");
            if (path.isEmpty() || path.equals("true")) {
                throw new IllegalArgumentException("virtio-scsi: " + key + " needs a path (" + key + "=/path/to/disk)");
            }
            paths.put(lun, path);
        }
        return paths;
    }
}
