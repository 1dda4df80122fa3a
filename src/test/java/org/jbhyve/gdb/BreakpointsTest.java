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

/**
 * Software breakpoints in debug-register slots, planted int3s and their original bytes when
 * the slots are taken; hardware breakpoints and watchpoints, the slots they take from software
 * breakpoints, and the DR7 they make.
 */
class BreakpointsTest {
    private final byte[] ram = new byte[0x10000];
    private final GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, MemorySegment.ofArray(ram))));
    private final Breakpoints b = new Breakpoints(memory);

    /** Takes all four debug registers with hardware breakpoints, so software ones are planted. */
    private void takeAllSlots() {
        for (int i = 0; i < 4; i++) {
            assertTrue(b.insertHardware(Breakpoints.EXEC, 0x7000_0000L + i, 1));
        }
    }

    @Test
    void aSoftwareBreakpointTakesASlotAndWritesNoMemory() {
        ram[0x1234] = 0x55;
        byte[] before = ram.clone();
        assertTrue(b.insertSoftware(0xFFFF_8000_0000_1234L, 0x1234));
        assertArrayEquals(before, ram, "nothing planted");
        assertTrue(b.inSlot(0xFFFF_8000_0000_1234L));
        assertFalse(b.plantedAt(0x1234));
        GuestDebug d = b.guestDebug();
        assertFalse(d.softwareBreakpoints(), "no int3 to intercept");
        assertTrue(d.hardware());
        assertArrayEquals(new long[] {0xFFFF_8000_0000_1234L, 0, 0, 0}, d.addresses(), "the linear address");
        assertEquals(0b10 | 0x600, d.dr7(), "G0, R/W0 00 (execute), LEN0 00 (one byte)");
        assertEquals(Breakpoints.SOFTWARE, b.hardwareHit(0b0001).type());
        assertEquals(0xFFFF_8000_0000_1234L, b.hardwareHit(0b0001).address());
        byte[] seen = {0, 0x55, 0};
        b.overlay(0x1233, seen, 0, 3);
        assertArrayEquals(new byte[] {0, 0x55, 0}, seen, "reads show memory as it is");
        assertFalse(b.removeHardware(Breakpoints.EXEC, 0xFFFF_8000_0000_1234L, 1), "it is no hardware breakpoint");
        assertTrue(b.removeSoftware(0xFFFF_8000_0000_1234L));
        assertFalse(b.inSlot(0xFFFF_8000_0000_1234L));
        assertNull(b.hardwareHit(0b0001));
        assertEquals(0, b.guestDebug().dr7());
        assertFalse(b.guestDebug().hardware());
        assertArrayEquals(before, ram);
    }

    @Test
    void removingAHardwareBreakpointLeavesTheSoftwareOnesSlot() {
        assertTrue(b.insertHardware(Breakpoints.EXEC, 0x9000, 1));
        assertTrue(b.insertSoftware(0x400, 0x400));
        assertTrue(b.removeHardware(Breakpoints.EXEC, 0x9000, 1));
        assertTrue(b.inSlot(0x400));
        assertEquals(Breakpoints.SOFTWARE, b.hardwareHit(0b0010).type());
        assertEquals(0b1000 | 0x600, b.guestDebug().dr7());
        assertTrue(b.removeSoftware(0x400));
        assertEquals(0, b.guestDebug().dr7());
    }

    @Test
    void theFifthSoftwareBreakpointIsPlanted() {
        ram[0x500] = 0x48;
        byte[] before = ram.clone();
        for (int i = 0; i < 4; i++) {
            assertTrue(b.insertSoftware(0x400 + i, 0x400 + i));
        }
        assertArrayEquals(before, ram, "four in the debug registers");
        assertTrue(b.insertSoftware(0x500, 0x500));
        assertFalse(b.inSlot(0x500));
        assertEquals((byte) 0xCC, ram[0x500], "the fifth is an int3");
        assertTrue(b.plantedAt(0x500));
        GuestDebug d = b.guestDebug();
        assertTrue(d.softwareBreakpoints() && d.hardware());
        assertArrayEquals(new long[] {0x400, 0x401, 0x402, 0x403}, d.addresses());
        assertEquals(0xAA | 0x600, d.dr7(), "four execute slots of one byte");
        assertTrue(b.removeSoftware(0x500));
        assertEquals(0x48, ram[0x500], "unplanted");
        assertFalse(b.guestDebug().softwareBreakpoints());
        assertTrue(b.removeSoftware(0x402));
        assertEquals(0x8A | 0x600, b.guestDebug().dr7(), "slot 2 freed");
        assertTrue(b.insertSoftware(0x500, 0x500));
        assertTrue(b.inSlot(0x500), "and taken by the next one");
        assertEquals(0x48, ram[0x500]);
        b.clear();
        assertEquals(0, b.guestDebug().dr7());
        assertArrayEquals(before, ram);
    }

    @Test
    void hardwareRequestsTakeSlotsFromSoftwareBreakpoints() {
        for (int i = 0; i < 4; i++) {
            ram[0x400 + i] = (byte) (0x10 + i);
        }
        byte[] before = ram.clone();
        for (int i = 0; i < 4; i++) {
            assertTrue(b.insertSoftware(0x8000_0400L + i, 0x400 + i));
        }
        assertTrue(b.insertHardware(Breakpoints.EXEC, 0x9000, 1), "a Z1 is not refused for Z0s");
        assertFalse(b.inSlot(0x8000_0400L), "the Z0 in slot 0 gave it up");
        assertEquals((byte) 0xCC, ram[0x400], "and is planted now");
        assertTrue(b.plantedAt(0x400));
        assertEquals(Breakpoints.EXEC, b.hardwareHit(0b0001).type());
        assertEquals(0x9000, b.guestDebug().addresses()[0]);
        assertTrue(b.guestDebug().softwareBreakpoints());

        assertTrue(b.insertHardware(Breakpoints.WRITE, 0x2003, 2), "two slots: 1 @2003, 1 @2004");
        assertEquals((byte) 0xCC, ram[0x401]);
        assertEquals((byte) 0xCC, ram[0x402]);
        assertTrue(b.inSlot(0x8000_0403L), "the last Z0 keeps its slot");
        assertEquals(0x13, ram[0x403]);
        assertEquals(Breakpoints.SOFTWARE, b.hardwareHit(0b1000).type());
        assertEquals(Breakpoints.WRITE, b.hardwareHit(0b0100).type());
        assertFalse(b.insertHardware(Breakpoints.WRITE, 0x3001, 7), "needs three: only one can be given up");
        assertEquals(0x13, ram[0x403], "a refused request converts nothing");
        assertTrue(b.insertHardware(Breakpoints.ACCESS, 0x3000, 4));
        assertEquals((byte) 0xCC, ram[0x403]);
        assertFalse(b.insertHardware(Breakpoints.EXEC, 0x9100, 1), "all four held by hardware requests");
        byte[] seen = new byte[4];
        System.arraycopy(ram, 0x400, seen, 0, 4);
        b.overlay(0x400, seen, 0, 4);
        assertArrayEquals(new byte[] {0x10, 0x11, 0x12, 0x13}, seen, "reads show the original bytes");

        assertTrue(b.removeHardware(Breakpoints.ACCESS, 0x3000, 4));
        assertEquals(Breakpoints.WRITE, b.hardwareHit(0b0100).type(), "removing one frees only its slots");
        assertTrue(b.removeHardware(Breakpoints.WRITE, 0x2003, 2));
        assertTrue(b.removeHardware(Breakpoints.EXEC, 0x9000, 1));
        assertFalse(b.guestDebug().hardware(), "converted breakpoints stay planted");
        for (int i = 0; i < 4; i++) {
            assertTrue(b.removeSoftware(0x8000_0400L + i));
        }
        assertArrayEquals(before, ram, "every byte is back");
        assertFalse(b.guestDebug().softwareBreakpoints());
        assertEquals(0, b.guestDebug().dr7());
    }

    @Test
    void aPlantKeepsTheOriginalByteAndRemovingPutsItBack() {
        takeAllSlots();
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
        takeAllSlots();
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
        takeAllSlots();
        ram[0x200] = 0x11;
        b.insertSoftware(0x200, 0x200);
        ram[0x200] = 0x22; // the guest rewrote its code
        b.removeSoftware(0x200);
        assertEquals(0x22, ram[0x200]);
    }

    @Test
    void plantingOutsideRamFailsWithoutTouchingAnything() {
        assertThrows(GuestMemoryException.class, () -> b.insertSoftware(0x1_0000, 0x1_0000), "for a slot too");
        assertFalse(b.hasSoftware());
        assertFalse(b.guestDebug().hardware());
        takeAllSlots();
        assertThrows(GuestMemoryException.class, () -> b.insertSoftware(0x1_0000, 0x1_0000));
        assertFalse(b.hasSoftware());
    }

    @Test
    void debuggerWritesOverAPlantChangeTheKeptByte() {
        takeAllSlots();
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
        assertEquals(Breakpoints.READ, b.hardwareHit(0b0100).type(), "and the others keep theirs");
        assertEquals(Breakpoints.ACCESS, b.hardwareHit(0b1000).type());
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
        assertTrue(b.inSlot(0x100000) && !b.inSlot(0x100004), "the first four in slots, the rest planted");
        b.clear();
        for (int i = 0; i < 0x100; i++) {
            assertEquals(0, ram[0x1000 + i]);
        }
    }
}
