package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.jbhyve.memory.GuestMemory;
import org.junit.jupiter.api.Test;

/**
 * Debugger reads and writes at virtual addresses: each page on its own translation, short
 * reads before an unmapped page, all-or-nothing writes, breakpoints invisible.
 */
class VirtualMemoryTest {
    private final byte[] ram = new byte[1 << 20];
    private final GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, MemorySegment.ofArray(ram))));
    private final Breakpoints breakpoints = new Breakpoints(memory);
    private final VirtualMemory vm = new VirtualMemory(memory, breakpoints);
    /** 32-bit paging: linear 0x400000 → 0x9000, 0x401000 → 0x5000 (reversed), 0x402000 unmapped. */
    private final Paging paging = new Paging(Paging.CR0_PE | Paging.CR0_PG, 0x1000, 0, 0);

    VirtualMemoryTest() {
        memory.putInt(0x1000 + 1 * 4, 0x2000 | 1);
        memory.putInt(0x2000, 0x9000 | 1);
        memory.putInt(0x2000 + 4, 0x5000 | 1);
        for (int i = 0; i < 0x1000; i++) {
            ram[0x9000 + i] = (byte) i;
            ram[0x5000 + i] = (byte) (0x80 + i);
        }
    }

    @Test
    void aReadAcrossAPageBoundaryFollowsEachPage() {
        byte[] got = vm.read(paging, 0x400FFE, 4);
        assertArrayEquals(new byte[] {(byte) 0xFE, (byte) 0xFF, (byte) 0x80, (byte) 0x81}, got);
    }

    @Test
    void aReadStopsBeforeAnUnmappedPageAndFailsWhenNothingIsReadable() {
        assertEquals(2, vm.read(paging, 0x401FFE, 16).length);
        assertThrows(PageWalker.UnmappedException.class, () -> vm.read(paging, 0x402000, 1));
        assertThrows(PageWalker.UnmappedException.class, () -> vm.read(new Paging(0, 0, 0, 0), 0x100000, 1),
                "identity-mapped but beyond RAM");
        assertEquals(16, vm.read(new Paging(0, 0, 0, 0), 0xFFFF0, 64).length, "up to the end of RAM");
    }

    @Test
    void aWriteIsAllOrNothing() {
        assertThrows(PageWalker.UnmappedException.class, () -> vm.write(paging, 0x401FFF, new byte[] {1, 2}));
        assertEquals((byte) 0x7F, ram[0x5FFF], "the mapped byte was not written either");
        vm.write(paging, 0x400FFF, new byte[] {0x11, 0x22});
        assertEquals(0x11, ram[0x9FFF]);
        assertEquals(0x22, ram[0x5000]);
    }

    @Test
    void breakpointsAreInvisibleToReadsAndKeptAcrossWrites() {
        for (int i = 0; i < 4; i++) { // the debug registers taken: the breakpoint is planted
            breakpoints.insertHardware(Breakpoints.EXEC, 0x7000_0000L + i, 1);
        }
        assertEquals(true, breakpoints.insertSoftware(0x401001, vm.physical(paging, 0x401001)));
        assertEquals((byte) 0xCC, ram[0x5001]);
        assertArrayEquals(new byte[] {(byte) 0x80, (byte) 0x81, (byte) 0x82}, vm.read(paging, 0x401000, 3));
        vm.write(paging, 0x401000, new byte[] {1, 2, 3});
        assertEquals((byte) 0xCC, ram[0x5001], "the int3 stays");
        assertArrayEquals(new byte[] {1, 2, 3}, vm.read(paging, 0x401000, 3), "the debugger sees its write");
        breakpoints.removeSoftware(0x401001);
        assertEquals(2, ram[0x5001], "removing puts the written byte in place");
    }
}
