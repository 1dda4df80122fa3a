package org.jbhyve.gdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.jbhyve.memory.GuestMemory;
import org.junit.jupiter.api.Test;

/** The page-table walker in every paging mode, over hand-built tables in a heap guest RAM. */
class PageWalkerTest {
    private static final long P = 1, RW = 2, PS = 0x80, NX = 1L << 63;
    private static final long PE = Paging.CR0_PE, PG = Paging.CR0_PG;
    private static final long LONG = Paging.EFER_LME | Paging.EFER_LMA;

    private final byte[] ram = new byte[16 << 20];
    private final GuestMemory memory = new GuestMemory(List.of(new GuestMemory.Region(0, MemorySegment.ofArray(ram))));

    private long walk(Paging p, long linear) {
        return PageWalker.translate(memory, p, linear);
    }

    private void unmapped(Paging p, long linear) {
        assertThrows(PageWalker.UnmappedException.class, () -> walk(p, linear), () -> Long.toHexString(linear));
    }

    @Test
    void realModeAndProtectedModeWithoutPagingAreIdentityBelowFourGigabytes() {
        Paging real = new Paging(0, 0, 0, 0);
        assertEquals(Paging.Mode.REAL, real.mode());
        assertEquals(0x7C00, walk(real, 0x7C00));
        assertEquals(0x10FFEF, walk(real, 0x10FFEF));
        Paging flat = new Paging(PE, 0x5000, 0, 0);
        assertEquals(Paging.Mode.FLAT, flat.mode());
        assertEquals(0xFFFF_FFFFL, walk(flat, 0xFFFF_FFFFL), "translation does not care whether it is RAM");
        unmapped(flat, 1L << 32);
        unmapped(real, -1L);
    }

    @Test
    void thirtyTwoBitPagingWithFourKilobyteAndFourMegabytePages() {
        long pd = 0x10000, pt = 0x11000;
        memory.putInt(pd + 0x300 * 4, (int) (pt | P | RW));
        memory.putInt(pt + 1 * 4, 0x123000 | (int) P);
        memory.putInt(pd + 1 * 4, 0x00800000 | (int) (P | PS));
        memory.putInt(pd + 2 * 4, 0x00C00000 | (1 << 13) | (int) (P | PS)); // PSE-36: physical bit 32
        Paging p = new Paging(PE | PG, pd | 0x18, Paging.CR4_PSE, 0);
        assertEquals(Paging.Mode.LEGACY, p.mode());
        assertEquals(0x123ABC, walk(p, 0xC0001ABCL));
        unmapped(p, 0xC0002000L); // PTE 2 is not present
        unmapped(p, 0xC0400000L); // PDE 0x301 is not present
        assertEquals(0x856789, walk(p, 0x456789));
        assertEquals(0x1_00C0_0042L, walk(p, 0x800042));
        unmapped(p, 1L << 32);
        // Without CR4.PSE bit 7 means nothing: the entry points at a page table at 0x800000.
        memory.putInt(0x800000 + 0x56 * 4, 0x200000 | (int) P);
        assertEquals(0x200789, walk(new Paging(PE | PG, pd, 0, 0), 0x456789));
    }

    @Test
    void paeWithTwoMegabyteAndFourKilobytePages() {
        long pdpt = 0x20020; // 32-byte aligned, not page aligned
        long pd = 0x21000, pt = 0x22000;
        memory.putLong(pdpt + 3 * 8, pd | P);
        memory.putLong(pd + 0x1FF * 8, 0x400000 | P | RW | PS | NX);
        memory.putLong(pd + 0x1FE * 8, pt | P | RW);
        memory.putLong(pt + 0x1FF * 8, 0x345000 | P);
        Paging p = new Paging(PE | PG, pdpt, Paging.CR4_PAE, 0);
        assertEquals(Paging.Mode.PAE, p.mode());
        assertEquals(0x412345, walk(p, 0xFFE12345L));
        assertEquals(0x345FFF, walk(p, 0xFFDFFFFFL));
        unmapped(p, 0xFFDFE000L);
        unmapped(p, 0x40000000L); // PDPTE 1 not present
        unmapped(p, 1L << 32);
    }

    /** Builds a 4-level walk for {@code linear} ending in {@code leaf} at level {@code leafLevel} (1 = PT). */
    private void map4(long pml4, long linear, int leafLevel, long leaf, long nextTable) {
        long table = pml4;
        for (int level = 4; level > leafLevel; level--) {
            long index = (linear >>> (12 + 9 * (level - 1))) & 0x1FF;
            long next = nextTable + (4 - level) * 0x1000L;
            memory.putLong(table + index * 8, next | P | RW);
            table = next;
        }
        long index = (linear >>> (12 + 9 * (leafLevel - 1))) & 0x1FF;
        memory.putLong(table + index * 8, leaf);
    }

    @Test
    void fourLevelPagingWithEveryPageSize() {
        long pml4 = 0x30000;
        map4(pml4, 0x0000_7F12_3456_7000L, 1, 0x1234000L | P | NX, 0x31000);
        map4(pml4, 0xFFFF_8000_0020_0000L, 2, 0x600000L | P | PS | (1L << 12) /* PAT */, 0x40000);
        map4(pml4, 0xFFFF_FFFF_C000_0000L, 3, 0x4000_0000L | P | PS, 0x50000);
        Paging p = new Paging(PE | PG, pml4 | 0x18, Paging.CR4_PAE, LONG);
        assertEquals(Paging.Mode.LEVEL4, p.mode());
        assertEquals(0x1234ABCL, walk(p, 0x0000_7F12_3456_7ABCL));
        assertEquals(0x7FFFFFL, walk(p, 0xFFFF_8000_003F_FFFFL));
        assertEquals(0x4012_3456L, walk(p, 0xFFFF_FFFF_C012_3456L));
        unmapped(p, 0x0000_8000_0000_0000L); // not canonical
        unmapped(p, 0xFFFF_7FFF_FFFF_F000L); // not canonical
        unmapped(p, 0x0000_7F12_3456_8000L); // PTE not present
    }

    @Test
    void fiveLevelPagingUsesBitsFortyEightToFiftySix() {
        long pml5 = 0x60000;
        long linear = 0x0012_3400_1234_5678L; // PML5 index 0x12: not canonical with four levels
        long table = pml5;
        long next = 0x61000;
        for (int level = 5; level > 1; level--) {
            long index = (linear >>> (12 + 9 * (level - 1))) & 0x1FF;
            memory.putLong(table + index * 8, next | P | RW);
            table = next;
            next += 0x1000;
        }
        memory.putLong(table + ((linear >>> 12) & 0x1FF) * 8, 0x777000 | P);
        Paging five = new Paging(PE | PG, pml5, Paging.CR4_PAE | Paging.CR4_LA57, LONG);
        assertEquals(Paging.Mode.LEVEL5, five.mode());
        assertEquals(0x777678L, walk(five, linear));
        unmapped(new Paging(PE | PG, pml5, Paging.CR4_PAE, LONG), linear);
        unmapped(five, 0x0100_0000_0000_0000L | (1L << 56)); // bit 56 set, 63:57 clear
    }

    @Test
    void tablesOutsideRamMakeTheAddressUnmappedNotAHostAccess() {
        long pml4 = 0x70000;
        memory.putLong(pml4, 0x7FFF_FFFF_F000L | P); // a PDPT far beyond RAM
        unmapped(new Paging(PE | PG, pml4, Paging.CR4_PAE, LONG), 0x1000);
        unmapped(new Paging(PE | PG, 0x7FFF_FFFF_F000L, Paging.CR4_PAE, LONG), 0x1000); // CR3 beyond RAM
        unmapped(new Paging(PE | PG, 0xFFFF_F000L, 0, 0), 0x1000);
    }

    @Property(tries = 300)
    void randomTablesEitherTranslateOrAreUnmapped(@ForAll long seed, @ForAll long linear, @ForAll int mode) {
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < 4096; i++) {
            long e = r.nextLong();
            if (r.nextInt(4) != 0) {
                e = (e & 0x7F_F000L) | (e & 0xFF); // mostly entries pointing inside RAM
            }
            memory.putLong(0x80000 + i * 8L, e);
        }
        long cr4 = switch (Math.floorMod(mode, 4)) {
            case 0 -> 0;
            case 1 -> Paging.CR4_PAE;
            case 2 -> Paging.CR4_PAE | Paging.CR4_LA57;
            default -> Paging.CR4_PSE;
        };
        long efer = Math.floorMod(mode, 4) == 1 || Math.floorMod(mode, 4) == 2 ? LONG : 0;
        Paging p = new Paging(PE | PG, 0x80000 + (r.nextInt(8) << 12), cr4, efer);
        try {
            long phys = walk(p, linear);
            assertEquals(linear & 0xFFF, phys & 0xFFF, "the offset in the page is kept");
        } catch (PageWalker.UnmappedException expected) {
            // fine: the only other outcome
        }
    }
}
