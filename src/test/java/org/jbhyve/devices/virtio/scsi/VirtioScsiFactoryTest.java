package org.jbhyve.devices.virtio.scsi;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.jbhyve.backend.block.BlockBackendException;
import org.jbhyve.devices.virtio.block.VirtioBlock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The config node to device step, and the transport-independent use of a disk's commands. */
class VirtioScsiFactoryTest {
    @TempDir
    Path dir;

    private static VirtioScsi create(Map<String, String> node) {
        return VirtioScsiFactory.create(k -> Optional.ofNullable(node.get(k)),
                k -> node.containsKey(k) && !node.get(k).equals("false"), node.keySet());
    }

    /** INQUIRY VPD page 0x80 sent straight to a disk, without virtio. */
    private static String serial(ScsiDisk disk) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(64);
            ScsiCommand c = new ScsiCommand(new byte[] {0x12, 1, (byte) 0x80, 0, 64, 0}, ScsiData.of(in), ScsiData.EMPTY);
            disk.execute(c, () -> {});
            assertEquals(ScsiSense.GOOD, c.status());
            byte[] page = in.asSlice(0, c.transferred()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            return new String(page, 4, page.length - 4, StandardCharsets.US_ASCII);
        }
    }

    @Test
    void camTargetPathsGetOneLine() {
        for (String p : new String[] {"/dev/cam/ctl", "/dev/cam/ctl2.3"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VirtioScsiFactory.checkPath(p));
            assertEquals("virtio-scsi: " + p + " is FreeBSD's CAM target layer; on Linux give a disk image or block device",
                    e.getMessage());
        }
        VirtioScsiFactory.checkPath("/dev/camera0");
        VirtioScsiFactory.checkPath("/var/vm/disk.img");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> create(Map.of("iid", "3")));
        assertTrue(e.getMessage().contains("/dev/cam/ctl is FreeBSD's CAM target layer"), "bhyve's default dev");
    }

    @Test
    void devAndLunKeysBuildTheTarget() throws Exception {
        Path a = ScsiRig.image(dir, "a.img", 64);
        Path b = ScsiRig.image(dir, "b.img", 32);
        Map<String, String> node = new HashMap<>(Map.of("dev", a.toString(), "lun3", b.toString(), "ro", "true",
                "ser", "MYDISK", "iid", "0"));
        try (VirtioScsi dev = create(node)) {
            assertArrayEquals(new int[] {0, 3}, dev.target().lunNumbers());
            ScsiDisk lun0 = dev.target().lun(0);
            assertTrue(lun0.readOnly());
            assertTrue(dev.target().lun(3).readOnly(), "block options apply to every LUN");
            assertEquals(64, lun0.blocks());
            assertEquals("MYDISK", serial(lun0));
            assertEquals(VirtioBlock.defaultSerial(b.toString()), serial(dev.target().lun(3)));
            assertEquals(3, dev.queueCount());
        }
    }

    @Test
    void sectorSizeAndNodelete() throws Exception {
        Path a = dir.resolve("a.img");
        Files.write(a, new byte[64 * 1024]);
        try (VirtioScsi dev = create(Map.of("dev", a.toString(), "sectorsize", "4096", "nodelete", "true"))) {
            assertEquals(4096, dev.target().lun(0).blockSize());
            assertEquals(16, dev.target().lun(0).blocks());
            assertFalse(dev.target().lun(0).canUnmap());
        }
    }

    @Test
    void badOptionsAreOneLineErrors() throws Exception {
        Path a = ScsiRig.image(dir, "a.img", 8);
        String img = a.toString();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> create(Map.of("dev", img, "lun0", img)))
                .getMessage().contains("1 to 16383"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> create(Map.of("dev", img, "lun16384", img)))
                .getMessage().contains("1 to 16383"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> create(Map.of("dev", img, "lun2", "true")))
                .getMessage().contains("lun2 needs a path"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> create(Map.of("dev", img, "lun2", "/dev/cam/ctl1.0")))
                .getMessage().contains("CAM target layer"));
        assertThrows(BlockBackendException.class, () -> create(Map.of("dev", img, "lun1", dir.resolve("none").toString())));
        assertThrows(BlockBackendException.class, () -> create(Map.of("dev", img, "sectorsize", "1000")));
        Path tiny = dir.resolve("tiny.img");
        Files.write(tiny, new byte[100]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> create(Map.of("dev", tiny.toString())));
        assertEquals("virtio-scsi: " + tiny + " is smaller than one 512-byte block", e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
