package org.jbhyve.devices.firmware;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The flash as OVMF's QemuFlash.c drives it: detection, variable writes, block erases. */
class CfiFlashOvmfTest {
    /** OVMF_VARS_4M.fd: 132 blocks of 4 KiB. */
    private static final int VARS_4M = 0x84000;
    private static final int BLOCK = CfiFlash.QEMU_PC_BLOCK_SIZE;

    /** Begins like a real variable store: a 16-byte zero vector, then the FV GUID (8D 2B F1 FF ...). */
    static byte[] varsImage() {
        byte[] b = new byte[VARS_4M];
        Arrays.fill(b, (byte) 0xFF);
        Arrays.fill(b, 0, 16, (byte) 0);
        byte[] guid = {(byte) 0x8D, 0x2B, (byte) 0xF1, (byte) 0xFF, (byte) 0x96, 0x76, (byte) 0x8B, 0x4C};
        System.arraycopy(guid, 0, b, 16, guid.length);
        return b;
    }

    @Test
    void ovmfProbeSeesFlashAndLeavesItInArrayMode() {
        byte[] image = varsImage();
        GuestView g = GuestView.of(image);

        assertEquals(GuestView.Probe.FLASH, g.ovmfProbe(BLOCK));

        // CLEAR STATUS stays in array mode (no call); READ STATUS leaves it; READ ARRAY returns.
        assertEquals(List.of(false, true), g.calls);
        assertTrue(g.flash.inArrayMode());
        assertArrayEquals(varsImage(), image, "the probe must not change the store");
        assertEquals(0x00, g.flash.status(), "QEMU's clear status drops the ready bit too");
    }

    @Test
    void writeProtectedFlashStillProbesAsFlash() {
        GuestView g = new GuestView(MemorySegment.ofArray(varsImage()), true);
        assertEquals(GuestView.Probe.FLASH, g.ovmfProbe(BLOCK));
    }

    @Test
    void theProbeReplayTellsRomAndRamApart() {
        // Without the device: a slot that ignores writes is ROM, a writable one is RAM.
        byte[] rom = varsImage();
        assertEquals(GuestView.Probe.ROM, probeWithoutDevice(rom, false));
        byte[] ram = varsImage();
        assertEquals(GuestView.Probe.RAM, probeWithoutDevice(ram, true));
        assertArrayEquals(varsImage(), ram, "the RAM branch restores the byte");
    }

    private static GuestView.Probe probeWithoutDevice(byte[] bytes, boolean writable) {
        GuestView g = new GuestView(MemorySegment.ofArray(bytes), false) {
            @Override
            void writeByte(long offset, int value) {
                if (writable) {
                    bytes[(int) offset] = (byte) value;
                }
            }
        };
        return g.ovmfProbe(BLOCK);
    }

    @Test
    void ovmfVariableWriteProgramsEachByteWithOneModeRoundTrip() {
        byte[] image = varsImage();
        GuestView g = GuestView.of(image);
        byte[] data = "Boot0001".getBytes(StandardCharsets.US_ASCII);
        long at = 5L * BLOCK + 0x123;

        g.ovmfWrite(at, data);

        assertArrayEquals(data, Arrays.copyOfRange(image, (int) at, (int) at + data.length));
        assertEquals((byte) 0xFF, image[(int) at - 1]);
        assertEquals((byte) 0xFF, image[(int) at + data.length]);
        assertEquals(List.of(false, true), g.calls);
        assertTrue(g.slotMapped());
        assertEquals(CfiFlash.STATUS_READY, g.flash.status());
        for (int i = 0; i < data.length; i++) {
            assertEquals(data[i] & 0xFF, g.readByte(at + i));
        }
    }

    @Test
    void ovmfEraseClearsOneBlockAndReadsStatusUntilReadArray() {
        byte[] image = varsImage();
        Arrays.fill(image, 2 * BLOCK, 5 * BLOCK, (byte) 0x5A);
        GuestView g = GuestView.of(image);

        g.ovmfErase(3);

        for (int i = 3 * BLOCK; i < 4 * BLOCK; i++) {
            assertEquals((byte) 0xFF, image[i], "erased byte at " + i);
        }
        assertEquals((byte) 0x5A, image[3 * BLOCK - 1]);
        assertEquals((byte) 0x5A, image[4 * BLOCK]);
        // As in QEMU, OVMF's erase ends in read-status mode: reads anywhere return 0x80.
        assertFalse(g.slotMapped());
        assertEquals(0x80, g.readByte(2 * BLOCK));
        g.writeByte(0, 0xFF);
        assertEquals(0x5A, g.readByte(2 * BLOCK));
        assertEquals(List.of(false, true), g.calls);
    }

    @Test
    void programAndEraseReachTheMappedFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("OVMF_VARS.fd");
        Files.write(file, varsImage());
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, VARS_4M, arena);
            GuestView g = new GuestView(mapped, false);
            assertEquals(GuestView.Probe.FLASH, g.ovmfProbe(BLOCK));
            g.ovmfErase(1);
            g.ovmfWrite(BLOCK + 8, new byte[] {0x11, 0x22, 0x33});
            g.ovmfErase(7);

            byte[] onDisk = Files.readAllBytes(file);
            assertEquals(0x11, onDisk[BLOCK + 8]);
            assertEquals(0x22, onDisk[BLOCK + 9]);
            assertEquals(0x33, onDisk[BLOCK + 10]);
            assertEquals((byte) 0x8D, onDisk[16]);
        }
    }

    @Test
    void readOnlyVarsChangeNothingAndReportErrors() {
        byte[] image = varsImage();
        GuestView g = new GuestView(MemorySegment.ofArray(image).asReadOnly(), false);
        assertTrue(g.flash.writeProtected(), "a read-only segment is a write-protected chip");

        g.ovmfWrite(BLOCK, new byte[] {1, 2, 3});
        assertEquals(CfiFlash.STATUS_READY | CfiFlash.STATUS_PROGRAM_ERROR, g.flash.status());
        g.ovmfErase(0);
        assertEquals(0x80 | 0x20 | 0x10, g.readByte(0), "error bits are sticky until clear status");

        assertArrayEquals(varsImage(), image);
    }
}
