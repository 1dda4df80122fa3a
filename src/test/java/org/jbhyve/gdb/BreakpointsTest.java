package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;
import org.junit.jupiter.api.Test;

/** Planted int3s and their original bytes; debug-register slots and the DR7 they make. */
class BreakpointsTest {
    private final byte[] ram = new byte[0x10000];
    private final GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, MemorySegment.ofArray(ram))));
    private final Breakpoints b = new Breakpoints(memory);

    @Test
    void aPlantKeepsTheOriginalByteAndRemovingPutsItBack() {
        ram[0x1234] = 0x55;
        assertTrue(b.insertSoftware(0xFFFF_8000_0000_1234L, 0x1234));
        assertEquals((byte) 0xCC, ram[0x1234]);
        assertTrue(b.plantedAt(0x1234));
        assertTrue(b.insertSoftware(0xFFFF_8000_0000_1234L, 0x1234), "setting it again is fine");
        byte[] seen = {0, (byte) 0xCC, 0};
        b.overlay(0x1233, seen, 0, 3);
        assertArrayEquals(new byte[] {0, 0x55, 0}, seen);
        assertTrue(b.removeSoftware(0xFFFF_8000_0000_1234L));
        assertEquals(0x55, ram[0x1234]);
        assertFalse(b.plantedAt(0x1234));
        assertFalse(b.removeSoftware(0xFFFF_8000_0000_1234L));
    }

    @Test
    void twoAddressesOfOneByteShareThePlant() {
        ram[0x100] = 0x48;
        b.insertSoftware(0x100, 0x100);
        b.insertSoftware(0xFFFF_FFFF_8000_0100L, 0x100);
        b.removeSoftware(0x100);
        assertEquals((byte) 0xCC, ram[0x100], "the alias still holds it");
        b.removeSoftware(0xFFFF_FFFF_8000_0100L);
        assertEquals(0x48, ram[0x100]);
    }

    @Test
    void aByteTheGuestOverwroteIsLeftAlone() {
        ram[0x200] = 0x11;
        b.insertSoftware(0x200, 0x200);
        ram[0x200] = 0x22; // the guest rewrote its code
        b.removeSoftware(0x200);
        assertEquals(0x22, ram[0x200]);
    }

    @Test
    void plantingOutsideRamFailsWithoutTouchingAnything() {
        assertThrows(GuestMemoryException.class, () -> b.insertSoftware(0x1_0000, 0x1_0000));
        assertFalse(b.hasSoftware());
    }

    @Test
    void debuggerWritesOverAPlantChangeTheKeptByte() {
        ram[0x300] = 1;
        b.insertSoftware(0x300, 0x300);
        assertArrayEquals(new byte[] {9, (byte) 0xCC, 7}, b.mask(0x2FF, new byte[] {0, 9, 8, 7}, 1, 3));
        b.clear();
        assertEquals(8, ram[0x300]);
        assertFalse(b.hasSoftware());
    }

    @Test
    void hardwareSlotsMakeDr7() {
        assertTrue(b.insertHardware(Breakpoints.EXEC, 0x401000, 1));
        assertTrue(b.insertHardware(Breakpoints.WRITE, 0x8000, 4));
        assertTrue(b.insertHardware(Breakpoints.READ, 0x9000, 8));
        assertTrue(b.insertHardware(Breakpoints.ACCESS, 0xA002, 2));
        GuestDebug d = b.guestDebug();
        assertTrue(d.hardware());
        assertFalse(d.softwareBreakpoints());
        assertArrayEquals(new long[] {0x401000, 0x8000, 0x9000, 0xA002}, d.addresses());
        // G0-G3, GE and bit 10; slot 1: R/W 01 LEN 11; slot 2: R/W 11 LEN 10; slot 3: R/W 11 LEN 01
        long expected = 0xAA | 0x600 | (0b1101L << 20) | (0b1011L << 24) | (0b0111L << 28);
        assertEquals(expected, d.dr7());
        assertFalse(b.insertHardware(Breakpoints.EXEC, 0x402000, 1), "all four slots are taken");
        assertEquals(Breakpoints.WRITE, b.hardwareHit(0b0010).type());
        assertEquals(0x9000, b.hardwareHit(0b0100).address());
        assertTrue(b.removeHardware(Breakpoints.WRITE, 0x8000, 4));
        assertNull(b.hardwareHit(0b0010), "a freed slot reports nothing");
        assertTrue(b.insertHardware(Breakpoints.EXEC, 0x402000, 1));
        assertEquals(0x402000, b.guestDebug().addresses()[1]);
    }

    @Test
    void anUnalignedWatchTakesSeveralSlotsOrFails() {
        assertTrue(b.insertHardware(Breakpoints.WRITE, 0x1003, 6)); // 1 @1003, 4 @1004, 1 @1008
        GuestDebug d = b.guestDebug();
        assertArrayEquals(new long[] {0x1003, 0x1004, 0x1008, 0}, d.addresses());
        assertEquals(0b01L, (d.dr7() >>> 16) & 0xF, "slot 0: write, one byte");
        assertEquals(0b1101L, (d.dr7() >>> 20) & 0xF, "slot 1: write, four bytes");
        assertEquals(b.hardwareHit(0b100).address(), 0x1003, "each slot reports the whole watch");
        assertFalse(b.insertHardware(Breakpoints.WRITE, 0x2001, 7), "needs three more slots");
        assertFalse(b.insertHardware(Breakpoints.WRITE, 0x3000, 0));
        assertFalse(b.insertHardware(Breakpoints.WRITE, 0x3000, 33));
        assertTrue(b.removeHardware(Breakpoints.WRITE, 0x1003, 6));
        assertFalse(b.guestDebug().hardware());
        assertEquals(0, b.guestDebug().dr7());
    }

    @Test
    void softwareBreakpointsAreCapped() {
        for (int i = 0; i < Breakpoints.MAX_SOFTWARE; i++) {
            assertTrue(b.insertSoftware(0x100000 + i, 0x1000 + (i % 0x100)));
        }
        assertFalse(b.insertSoftware(0x200000, 0x2000));
        b.clear();
        for (int i = 0; i < 0x100; i++) {
            assertEquals(0, ram[0x1000 + i]);
        }
    }
}
