package org.jbhyve.machine.boot;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.memory.MemoryMap;

/**
 * The physical memory map handed to a guest (PVH start info memmap, Linux boot_params e820),
 * built as bhyve's e820.c builds it: RAM [0, lowmem) and [4 GiB, 4 GiB + highmem), with the
 * legacy VGA and ROM window [0xA0000, 0x100000) left out (firmware tables live there).
 */
public final class E820Map {
    public static final int TYPE_RAM = 1;
    public static final int TYPE_RESERVED = 2;
    public static final long LEGACY_HOLE_START = 0xA0000;
    public static final long LEGACY_HOLE_END = 0x100000;

    /** One range: [address, address + size) of {@code type}. */
    public record Entry(long address, long size, int type) {}

    private E820Map() {}

    public static List<Entry> of(MemoryMap map) {
        List<Entry> entries = new ArrayList<>();
        long low = map.lowMemory();
        entries.add(new Entry(0, Math.min(low, LEGACY_HOLE_START), TYPE_RAM));
        if (low > LEGACY_HOLE_END) {
            entries.add(new Entry(LEGACY_HOLE_END, low - LEGACY_HOLE_END, TYPE_RAM));
        }
        if (map.highMemory() > 0) {
            entries.add(new Entry(MemoryMap.HIGHMEM_BASE, map.highMemory(), TYPE_RAM));
        }
        return List.copyOf(entries);
    }
}
