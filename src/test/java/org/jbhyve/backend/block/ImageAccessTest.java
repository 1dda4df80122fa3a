package org.jbhyve.backend.block;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jbhyve.devices.virtio.block.VirtioBlock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How an image is opened: the lock that keeps a second VM off it, and the read-only fallback for
 * an image that cannot be written (bhyve's blockif), which the guest then sees as read-only.
 */
class ImageAccessTest {
    @TempDir
    Path dir;
    private Path image;

    @BeforeEach
    void makeImage() throws Exception {
        image = dir.resolve("disk.img");
        Files.write(image, new byte[1 << 20]);
    }

    private BlockOptions options(boolean readOnly) {
        return new BlockOptions(image.toString(), readOnly, false, false, 0, 0, false, 2);
    }

    @Test
    void aSecondWriterOfTheSameImageIsRefusedWithOneLine() {
        try (BlockBackend first = BlockBackend.open(options(false))) {
            ImageLockedException e = assertThrows(ImageLockedException.class, () -> BlockBackend.open(options(false)));
            long self = ProcessHandle.current().pid();
            assertEquals("disk image " + image + ": in use by another VM (locked by pid " + self
                    + "; nolock shares it)", e.getMessage());
            assertEquals(List.of(self), e.holders());
            assertThrows(ImageLockedException.class, () -> BlockBackend.open(options(true)),
                    "a reader would see the writer's disk change under it");
        }
        BlockBackend.open(options(false)).close(); // the lock went with the first backend
    }

    @Test
    void readersShareAnImageButKeepWritersOff() {
        try (BlockBackend a = BlockBackend.open(options(true)); BlockBackend b = BlockBackend.open(options(true))) {
            assertTrue(a.readOnly() && b.readOnly());
            assertThrows(ImageLockedException.class, () -> BlockBackend.open(options(false)));
        }
    }

    @Test
    void nolockOptsOut() {
        try (BlockBackend a = BlockBackend.open(options(false));
             BlockBackend b = BlockBackend.open(options(false).withNoLock(true))) {
            assertFalse(b.readOnly());
        }
    }

    @Test
    void aWriteProtectedImageIsOpenedReadOnlyWithANotice() throws Exception {
        Files.setPosixFilePermissions(image, PosixFilePermissions.fromString("r--r--r--"));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        BlockBackend disk;
        try {
            disk = BlockBackend.open(options(false));
        } finally {
            System.setErr(saved);
        }
        try (disk) {
            assertEquals(List.of("bhyve: disk image " + image + ": its mode 0444 lets no one write it; the guest gets"
                    + " it read-only"), err.toString(StandardCharsets.UTF_8).lines().toList());
            assertTrue(disk.readOnly());
            assertFalse(disk.canDelete());
            CompletableFuture<Long> write = new CompletableFuture<>();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(512, 512);
                disk.writeAsync(0, new MemorySegment[] {buf}, 1, write::complete);
                assertEquals(-30L, write.get(10, TimeUnit.SECONDS), "EROFS");
            }
            VirtioBlock blk = new VirtioBlock(disk, null);
            assertTrue((blk.features() & 1L << VirtioBlock.F_RO) != 0, "virtio-blk announces VIRTIO_BLK_F_RO");
            // a read-only image takes a shared lock: another reader may share it
            BlockBackend.open(options(true)).close();
        }
    }

    @Test
    void anImageAskedForReadOnlyGivesNoNotice() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try (BlockBackend disk = BlockBackend.open(options(true))) {
            assertTrue(disk.readOnly());
        } finally {
            System.setErr(saved);
        }
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }
}
