package org.jbhyve.pci;

import org.jbhyve.memory.MemoryMap;

/**
 * Assigns BAR addresses at start-up the way bhyve does, each naturally aligned to its size:
 * I/O BARs from port 0x2000, 32-bit memory BARs in the PCI hole [0xC0000000, 0xE0000000),
 * 64-bit memory BARs from the first 1 GiB boundary above RAM.
 */
public final class BarAllocator {
    public static final long IO_BASE = 0x2000;
    public static final long IO_LIMIT = 0x10000;

    private long nextIo = IO_BASE;
    private long nextMem32 = MemoryMap.PCI32_BASE;
    private long nextMem64;
    private final long mem64Limit;

    public BarAllocator(MemoryMap map) {
        this.nextMem64 = map.pci64Base();
        this.mem64Limit = nextMem64 + MemoryMap.PCI64_SIZE;
    }

    /** The next free, aligned address for {@code bar}; throws when the window is full. */
    public long allocate(PciBar bar) {
        return switch (bar.kind()) {
            case IO -> {
                long at = align(nextIo, Math.max(bar.size(), 0x10));
                check(at + bar.size() <= IO_LIMIT, bar);
                nextIo = at + bar.size();
                yield at;
            }
            case MEMORY32 -> {
                long at = align(nextMem32, bar.size());
                check(at + bar.size() <= MemoryMap.PCI32_END, bar);
                nextMem32 = at + bar.size();
                yield at;
            }
            case MEMORY64 -> {
                long at = align(nextMem64, bar.size());
                check(at + bar.size() <= mem64Limit, bar);
                nextMem64 = at + bar.size();
                yield at;
            }
        };
    }

    /** Keeps [base, base+length) of port space out of I/O BAR allocation (a fixed legacy device is there). */
    public void reserveIo(long base, long length) {
        if (nextIo < base + length && nextIo + 1 > base) {
            nextIo = base + length;
        }
    }

    public long pci64Base() {
        return mem64Limit - MemoryMap.PCI64_SIZE;
    }

    public long pci64Limit() {
        return mem64Limit;
    }

    private static long align(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }

    private static void check(boolean fits, PciBar bar) {
        if (!fits) {
            throw new IllegalStateException("no room for a " + bar.size() + "-byte " + bar.kind() + " BAR");
        }
    }
}
