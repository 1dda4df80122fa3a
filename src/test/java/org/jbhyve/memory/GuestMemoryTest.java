package org.jbhyve.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuestMemoryTest {
    private final Arena arena = Arena.ofAuto();
    private final GuestMemory memory = new GuestMemory(List.of(
            new GuestMemory.Region(0, arena.allocate(0x10000)),
            new GuestMemory.Region(0x100000, arena.allocate(0x1000))));

    @Test
    void littleEndianAccessesRoundTrip() {
        memory.putLong(0x100, 0x1122334455667788L);
        assertEquals(0x7788, memory.getShort(0x100) & 0xFFFF);
        assertEquals(0x55667788, memory.getInt(0x100));
        assertEquals((byte) 0x88, memory.getByte(0x100));
        memory.write(0x100FF0, new byte[] {1, 2, 3});
        assertEquals(0x030201, memory.getInt(0x100FF0) & 0xFFFFFF);
    }

    @Test
    void accessesOutsideRamAreRefused() {
        assertThrows(GuestMemoryException.class, () -> memory.getByte(0x10000), "first byte past region 0");
        assertThrows(GuestMemoryException.class, () -> memory.getInt(0xFFFE), "straddles the end");
        assertThrows(GuestMemoryException.class, () -> memory.slice(0x8000, 0x100000), "spans the hole");
        assertThrows(GuestMemoryException.class, () -> memory.slice(0x100, -1));
        assertThrows(GuestMemoryException.class, () -> memory.getLong(-8));
        assertThrows(GuestMemoryException.class, () -> memory.getByte(Long.MAX_VALUE));
        assertEquals(false, memory.contains(0x100FFF, 2));
        assertEquals(true, memory.contains(0x100FFF, 1));
    }

    @Test
    void memoryMapFollowsBhyve() {
        MemoryMap small = MemoryMap.forSize(256L << 20);
        assertEquals(256L << 20, small.lowMemory());
        assertEquals(0, small.highMemory());
        assertEquals(4L << 30, small.pci64Base(), "64-bit BARs start at 4 GiB when RAM ends below it");
        MemoryMap big = MemoryMap.forSize(5L << 30);
        assertEquals(3L << 30, big.lowMemory());
        assertEquals(2L << 30, big.highMemory());
        assertEquals(6L << 30, big.ramEnd());
        assertEquals(6L << 30, big.pci64Base());
        assertEquals(7L << 30, MemoryMap.forSize((5L << 30) + 4096).pci64Base(), "rounded up to 1 GiB");
        assertThrows(IllegalArgumentException.class, () -> MemoryMap.forSize(1000));
    }
}
