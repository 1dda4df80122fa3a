package org.jbhyve.devices.firmware;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Intel command set of {@link CfiFlash}, driven through its MMIO handler. */
class CfiFlashTest {
    private static final int BLOCK = CfiFlash.QEMU_PC_BLOCK_SIZE;
    private static final int SIZE = 16 * BLOCK;

    private final byte[] image = pattern();
    private final List<Boolean> calls = new ArrayList<>();
    private final CfiFlash flash = new CfiFlash(MemorySegment.ofArray(image), BLOCK, false, calls::add);

    private static byte[] pattern() {
        byte[] b = new byte[SIZE];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }

    @Test
    void arrayReadsReturnLittleEndianContents() {
        assertEquals(image[0x40] & 0xFF, flash.read(0x40, 1));
        assertEquals((image[0x40] & 0xFF) | (image[0x41] & 0xFF) << 8, flash.read(0x40, 2));
        long four = 0;
        for (int i = 3; i >= 0; i--) {
            four = four << 8 | (image[0x40 + i] & 0xFF);
        }
        assertEquals(four, flash.read(0x40, 4));
        assertTrue(calls.isEmpty());
    }

    @Test
    void wideProgramStoresEveryByteAndStatusRepeatsPerLane() {
        flash.write(0x100, 1, 0x40);
        assertEquals(0x80, flash.read(0x100, 1), "program setup reads status");
        flash.write(0x100, 4, 0x4433_2211L);
        assertArrayEquals(new byte[] {0x11, 0x22, 0x33, 0x44}, Arrays.copyOfRange(image, 0x100, 0x104));
        assertEquals(0x8080_8080L, flash.read(0x200, 4));
        assertEquals(0x8080, flash.read(0x200, 2));
        flash.write(0, 1, 0xFF);
        assertEquals(0x4433_2211L, flash.read(0x100, 4));
        assertEquals(List.of(false, true), calls);
    }

    @Test
    void eraseUsesTheConfirmAddressAndAbortsOnReadArray() {
        flash.write(2 * BLOCK, 1, 0x20);
        flash.write(2 * BLOCK, 1, 0xFF);
        assertArrayEquals(pattern(), image, "0xFF after erase setup aborts");
        assertTrue(flash.inArrayMode());

        flash.write(2 * BLOCK, 1, 0x20);
        flash.write(4 * BLOCK + 0x7FF, 1, 0xD0);
        byte[] expected = pattern();
        Arrays.fill(expected, 4 * BLOCK, 5 * BLOCK, (byte) 0xFF);
        assertArrayEquals(expected, image);
        assertEquals(0x80, flash.read(0, 1));
    }

    @Test
    void malformedEraseSetsSequenceErrorAndClearStatusClearsIt() {
        flash.write(BLOCK, 1, 0x20);
        flash.write(BLOCK, 1, 0x42);
        assertArrayEquals(pattern(), image);
        assertFalse(flash.inArrayMode());
        assertEquals(0xB0, flash.read(BLOCK, 1));

        flash.write(BLOCK, 1, 0x50);
        assertTrue(flash.inArrayMode());
        assertEquals(0x00, flash.status());
        flash.write(BLOCK, 1, 0x70);
        assertEquals(0x00, flash.read(BLOCK, 1));
    }

    @Test
    void blockLockCommandsAreAcceptedOrFlaggedAsSequenceErrors() {
        flash.write(0, 1, 0x60);
        flash.write(0, 1, 0xD0);
        assertEquals(0x80, flash.read(0, 1));
        flash.write(0, 1, 0x60);
        flash.write(0, 1, 0x01);
        assertEquals(0x80, flash.read(0, 1));
        flash.write(0, 1, 0x60);
        flash.write(0, 1, 0x77);
        assertEquals(0xB0, flash.read(0, 1));
        assertArrayEquals(pattern(), image);
    }

    @Test
    void identifierModeAnswersQemuCodesInsteadOfData() {
        assertTrue(image[0] != 0 && image[1] != 0, "the test needs non-zero data under the ID addresses");
        flash.write(0, 1, 0x90);
        assertEquals(CfiFlash.MANUFACTURER_ID, flash.read(0, 1));
        assertEquals(CfiFlash.DEVICE_ID, flash.read(1, 1));
        assertEquals(0, flash.read(2, 1), "block lock status: unlocked");
        assertEquals(0, flash.read(BLOCK + 1, 4));
        flash.write(0, 1, 0xFF);
        assertEquals(image[1] & 0xFF, flash.read(1, 1));
    }

    @Test
    void cfiQueryDescribesTheGeometry() {
        flash.write(0x55, 1, 0x98);
        assertEquals('Q', flash.read(0x10, 1));
        assertEquals('R' << 8 | 'Q', flash.read(0x10, 2));
        assertEquals('Y', flash.read(0x12, 1));
        assertEquals(0x0001, flash.read(0x13, 2), "Intel command set");
        assertEquals(0x31, flash.read(0x15, 1));
        assertEquals(16, flash.read(0x27, 1), "2^16 bytes");
        assertEquals(1, flash.read(0x2C, 1), "one erase region");
        long blocks = flash.read(0x2D, 2) + 1;
        long blockSize = flash.read(0x2F, 2) * 256;
        assertEquals(16, blocks);
        assertEquals(BLOCK, blockSize);
        assertEquals(0, flash.read(0x20, 1), "no buffered writes offered");
        assertEquals('P' | 'R' << 8 | 'I' << 16 | '1' << 24, flash.read(0x31, 4));
        assertEquals(0, flash.read(0x50, 1), "past the table");
        assertEquals('Q', flash.read(BLOCK + 0x10, 1), "query addresses repeat every 256 bytes");
        flash.write(0, 1, 0x70);
        assertEquals(0x80, flash.read(0x10, 1), "a command leaves query mode");
    }

    @Test
    void cfiDeviceSizeRoundsUpToAPowerOfTwo() {
        byte[] t = CfiQueryTable.build(0x84, BLOCK);
        assertEquals(20, t[0x27], "528 KiB needs a 1 MiB address space");
        assertEquals(0x83, t[0x2D] & 0xFF);
        assertEquals(0x00, t[0x2E]);
        assertEquals(0x10, t[0x2F]);
    }

    @Test
    void nonCommandWritesInArrayModeAreDropped() {
        flash.write(0x300, 1, 0x12);
        flash.write(0x301, 2, 0x3456);
        assertArrayEquals(pattern(), image);
        assertTrue(flash.inArrayMode());
        assertEquals(0x80, flash.status());
        assertTrue(calls.isEmpty());
    }

    @Test
    void writeProtectedChipRefusesProgramAndErase() {
        List<Boolean> modes = new ArrayList<>();
        CfiFlash wp = new CfiFlash(MemorySegment.ofArray(image), BLOCK, true, modes::add);
        wp.write(0x10, 1, 0x10);
        wp.write(0x10, 1, 0x00);
        assertEquals(0x90, wp.read(0x10, 1));
        wp.write(0, 1, 0x20);
        wp.write(0, 1, 0xD0);
        assertEquals(0xB0, wp.read(0, 1));
        assertArrayEquals(pattern(), image);
        wp.write(0, 1, 0x50);
        assertEquals(0, wp.status());
        assertEquals(List.of(false, true), modes);
    }

    @Test
    void accessesOutsideTheChipFailWithoutTouchingIt() {
        assertEquals(0xFFFF, flash.read(SIZE - 1, 2));
        assertEquals(0xFF, flash.read(-1, 1));
        assertEquals(0xFFFF_FFFFL, flash.read(Long.MAX_VALUE, 4));

        flash.write(SIZE, 1, 0x70);
        assertTrue(flash.inArrayMode(), "a command outside the chip is dropped");
        assertEquals(0x80 | CfiFlash.STATUS_SEQUENCE_ERROR, flash.status());
        flash.write(0, 1, 0x50);

        flash.write(SIZE - 2, 1, 0x10);
        flash.write(SIZE - 2, 4, 0xAABB_CCDDL);
        assertEquals(0x90, flash.read(0, 1));
        flash.write(0, 1, 0x20);
        flash.write(Long.MIN_VALUE, 1, 0xD0);
        assertEquals(0xB0, flash.read(0, 1));
        assertArrayEquals(pattern(), image);
        assertEquals(List.of(false), calls);
    }

    @Test
    void callbackRunsExactlyWhenArrayModeChanges() {
        int[][] steps = {
            {0x50}, {0xFF}, {0x70, 0}, {0x90}, {0x98}, {0xFF, 1}, {0xFF}, {0x12},
            {0x20, 0}, {0xFF, 1}, {0x70, 0}, {0x33, 1}, {0x10, 0}, {0x99}, {0x00, 1}, {0xF0},
        };
        List<Boolean> expected = new ArrayList<>();
        for (int[] step : steps) {
            flash.write(0x800, 1, step[0]);
            if (step.length > 1) {
                expected.add(step[1] == 1);
            }
            assertEquals(expected, calls, "after command 0x" + Integer.toHexString(step[0]));
            assertEquals(calls.isEmpty() || calls.getLast(), flash.inArrayMode());
        }
        flash.reset();
        assertEquals(expected, calls, "reset in array mode changes nothing");
        flash.write(0, 1, 0x90);
        flash.reset();
        expected.addAll(List.of(false, true));
        assertEquals(expected, calls);
        assertEquals(0x80, flash.status());
    }

    @Test
    void impossibleGeometriesAreRejectedAtConstruction() {
        CfiFlash.RomMode none = direct -> { };
        assertThrows(IllegalArgumentException.class,
                () -> new CfiFlash(MemorySegment.ofArray(new byte[BLOCK + 1]), BLOCK, false, none));
        assertThrows(IllegalArgumentException.class,
                () -> new CfiFlash(MemorySegment.ofArray(new byte[0]), BLOCK, false, none));
        assertThrows(IllegalArgumentException.class,
                () -> new CfiFlash(MemorySegment.ofArray(new byte[3 * 1000]), 1000, false, none));
        assertThrows(IllegalArgumentException.class,
                () -> new CfiFlash(MemorySegment.ofArray(new byte[128]), 128, false, none));
    }
}
