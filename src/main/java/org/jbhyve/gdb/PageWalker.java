package org.jbhyve.gdb;

import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;

/**
 * Guest linear to guest physical addresses by walking the guest's own page tables in guest RAM,
 * for the mode {@link Paging} names (Intel SDM vol. 3, 4.3-4.5). Entries are read, never
 * written (no accessed or dirty bits set), and every entry read is checked against guest RAM:
 * tables the guest points outside RAM make the address unmapped, never a host access.
 *
 * <p>Entry formats: bit 0 present, bit 7 page size (PS) in PDPTEs of 4-level paging (1 GiB),
 * in PDEs (2 MiB, or 4 MiB in 32-bit paging with CR4.PSE), physical address in bits 51:12
 * (bits 31:12 for 32-bit entries). A 4 MiB page takes physical bits 39:32 from PDE bits 20:13
 * (PSE-36/40). PAE's CR3 holds the 32-byte aligned PDPT address in bits 31:5. Linear addresses
 * in 4-level (5-level) paging must be canonical: bits 63:47 (63:56) all equal.
 */
public final class PageWalker {
    private static final long ADDRESS_51_12 = 0x000F_FFFF_FFFF_F000L;
    private static final long PRESENT = 1;
    private static final long PAGE_SIZE = 1L << 7;
    private static final long FOUR_GIB = 1L << 32;

    /** The address is not mapped (not present, not canonical, or tables outside RAM). */
    public static final class UnmappedException extends RuntimeException {
        UnmappedException(String message) {
            super(message, null, false, false);
        }
    }

    private PageWalker() {}

    /**
     * The physical address {@code linear} maps to under {@code paging}.
     *
     * @throws UnmappedException when it maps to nothing
     */
    public static long translate(GuestMemory memory, Paging paging, long linear) {
        return switch (paging.mode()) {
            case REAL, FLAT -> {
                if (Long.compareUnsigned(linear, FOUR_GIB) >= 0) {
                    throw unmapped(linear, "beyond 4 GiB without long mode");
                }
                yield linear;
            }
            case LEGACY -> legacy(memory, paging, linear);
            case PAE -> pae(memory, paging, linear);
            case LEVEL4 -> long4(memory, paging.cr3() & ADDRESS_51_12, linear, 4);
            case LEVEL5 -> long4(memory, paging.cr3() & ADDRESS_51_12, linear, 5);
        };
    }

    /** 32-bit paging: page directory (CR3 bits 31:12), then a page table or a 4 MiB page. */
    private static long legacy(GuestMemory memory, Paging paging, long linear) {
        if (Long.compareUnsigned(linear, FOUR_GIB) >= 0) {
            throw unmapped(linear, "beyond 4 GiB without long mode");
        }
        long pde = entry32(memory, (paging.cr3() & 0xFFFF_F000L) + ((linear >>> 22) & 0x3FF) * 4, linear);
        if ((pde & PAGE_SIZE) != 0 && (paging.cr4() & Paging.CR4_PSE) != 0) {
            long high = ((pde >>> 13) & 0xFF) << 32;
            return high | (pde & 0xFFC0_0000L) | (linear & 0x3F_FFFFL);
        }
        long pte = entry32(memory, (pde & 0xFFFF_F000L) + ((linear >>> 12) & 0x3FF) * 4, linear);
        return (pte & 0xFFFF_F000L) | (linear & 0xFFF);
    }

    /** PAE: one of four PDPTEs, then a page directory (2 MiB pages) and a page table. */
    private static long pae(GuestMemory memory, Paging paging, long linear) {
        if (Long.compareUnsigned(linear, FOUR_GIB) >= 0) {
            throw unmapped(linear, "beyond 4 GiB without long mode");
        }
        long pdpte = entry64(memory, (paging.cr3() & 0xFFFF_FFE0L) + ((linear >>> 30) & 3) * 8, linear);
        long pde = entry64(memory, (pdpte & ADDRESS_51_12) + ((linear >>> 21) & 0x1FF) * 8, linear);
        if ((pde & PAGE_SIZE) != 0) {
            return large(pde, 21) | (linear & 0x1F_FFFFL);
        }
        long pte = entry64(memory, (pde & ADDRESS_51_12) + ((linear >>> 12) & 0x1FF) * 8, linear);
        return (pte & ADDRESS_51_12) | (linear & 0xFFF);
    }

    /** 4- or 5-level paging: 9 bits of the linear address per level, from bit 39 (or 48) down. */
    private static long long4(GuestMemory memory, long table, long linear, int levels) {
        int width = levels == 5 ? 57 : 48;
        long top = linear >> (width - 1); // arithmetic: all zeros or all ones when canonical
        if (top != 0 && top != -1) {
            throw unmapped(linear, "not canonical");
        }
        for (int level = levels; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long e = entry64(memory, table + ((linear >>> shift) & 0x1FF) * 8, linear);
            if (level == 1 || ((level == 2 || level == 3) && (e & PAGE_SIZE) != 0)) {
                return large(e, shift) | (linear & ((1L << shift) - 1));
            }
            table = e & ADDRESS_51_12;
        }
        throw new IllegalStateException("unreachable");
    }

    /** The frame address of a (possibly large) page entry mapping {@code 1 << shift} bytes. */
    private static long large(long entry, int shift) {
        return entry & ADDRESS_51_12 & ~((1L << shift) - 1);
    }

    private static long entry32(GuestMemory memory, long at, long linear) {
        long e;
        try {
            e = Integer.toUnsignedLong(memory.getInt(at));
        } catch (GuestMemoryException ex) {
            throw unmapped(linear, String.format("page table entry at 0x%x is not in RAM", at));
        }
        if ((e & PRESENT) == 0) {
            throw unmapped(linear, "not present");
        }
        return e;
    }

    private static long entry64(GuestMemory memory, long at, long linear) {
        long e;
        try {
            e = memory.getLong(at);
        } catch (GuestMemoryException ex) {
            throw unmapped(linear, String.format("page table entry at 0x%x is not in RAM", at));
        }
        if ((e & PRESENT) == 0) {
            throw unmapped(linear, "not present");
        }
        return e;
    }

    private static UnmappedException unmapped(long linear, String why) {
        return new UnmappedException(String.format("0x%x: %s", linear, why));
    }
}
