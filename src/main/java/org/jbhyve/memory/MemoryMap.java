package org.jbhyve.memory;

/**
 * bhyve's guest-physical layout for a given RAM size.
 *
 * <pre>
 * [0, lowmem)                 RAM, lowmem = min(size, 3 GiB)
 * [lowmem, 0xC0000000)        hole
 * [0xC0000000, 0xE0000000)    32-bit PCI BARs
 * [0xE0000000, 0xF0000000)    PCIe ECAM (256 buses x 1 MiB)
 * [0xF0000000, 4 GiB)         IOAPIC 0xFEC00000, HPET 0xFED00000, LAPIC 0xFEE00000, boot ROM at the top
 * [4 GiB, 4 GiB + highmem)    the rest of RAM
 * [pci64Base, +pci64Size)     64-bit PCI BARs, from the first 1 GiB boundary above RAM
 * </pre>
 */
public record MemoryMap(long lowMemory, long highMemory) {
    public static final long KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;
    public static final long LOWMEM_LIMIT = 3 * GiB;
    public static final long HIGHMEM_BASE = 4 * GiB;
    public static final long PCI32_BASE = 0xC000_0000L;
    public static final long PCI32_END = 0xE000_0000L;
    public static final long ECAM_BASE = 0xE000_0000L;
    public static final long ECAM_SIZE = 0x1000_0000L;
    public static final long IOAPIC_BASE = 0xFEC0_0000L;
    public static final long HPET_BASE = 0xFED0_0000L;
    public static final long LAPIC_BASE = 0xFEE0_0000L;
    /** Pages KVM needs on Intel for real-mode support, placed in the high hole below the LAPIC. */
    public static final long KVM_IDENTITY_MAP = 0xFEFF_C000L;
    public static final long KVM_TSS = 0xFEFF_D000L;
    public static final long PCI64_SIZE = 64 * GiB;

    public MemoryMap {
        if (lowMemory <= 0 || lowMemory > LOWMEM_LIMIT || highMemory < 0
                || (highMemory > 0 && lowMemory != LOWMEM_LIMIT)) {
            throw new IllegalArgumentException("inconsistent memory map " + lowMemory + "/" + highMemory);
        }
    }

    /** The layout for {@code bytes} of RAM (bytes > 0, a multiple of 4 KiB). */
    public static MemoryMap forSize(long bytes) {
        if (bytes <= 0 || bytes % (4 * KiB) != 0) {
            throw new IllegalArgumentException("guest memory size must be a positive multiple of 4 KiB: " + bytes);
        }
        long low = Math.min(bytes, LOWMEM_LIMIT);
        return new MemoryMap(low, bytes - low);
    }

    public long totalRam() {
        return lowMemory + highMemory;
    }

    /** One past the highest RAM address. */
    public long ramEnd() {
        return highMemory == 0 ? lowMemory : HIGHMEM_BASE + highMemory;
    }

    public long pci64Base() {
        return pci64Base(lowMemory, highMemory);
    }

    /** Where 64-bit BARs start for this much RAM: the first 1 GiB boundary at or above 4 GiB and RAM's end. */
    public static long pci64Base(long lowMemory, long highMemory) {
        long ramEnd = highMemory == 0 ? lowMemory : HIGHMEM_BASE + highMemory;
        return (Math.max(ramEnd, HIGHMEM_BASE) + GiB - 1) & -GiB;
    }
}
