package org.jbhyve.memory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.sys.Posix;
import org.jbhyve.sys.SysException;

/**
 * Allocates guest RAM as anonymous mappings laid out by a {@link MemoryMap}: one for memory
 * below 3 GiB, one for the rest at 4 GiB. Pages are reserved lazily (MAP_NORESERVE), excluded
 * from core dumps unless asked (bhyve's -C), and optionally wired (bhyve's -S, mlock).
 *
 * <p>Each mapping starts on a 2 MiB boundary of the host's address space and is advised to use
 * transparent huge pages (MADV_HUGEPAGE), as FreeBSD's bhyve gets superpages for guest memory
 * and QEMU asks for huge pages: a 2 MiB-aligned guest range can then be one host huge page, which
 * nested paging maps with one TLB entry, and a guest page walk costs fewer memory accesses. The
 * advice matters where the host's THP mode is "madvise" (a common default); with "always" huge
 * pages come anyway, with "never" or a kernel without THP it changes nothing.
 */
public final class GuestRam implements AutoCloseable {
    /** The x86-64 huge page size, to which each mapping is aligned. */
    static final long HUGE_PAGE = 2L << 20;

    private final MemoryMap map;
    private final List<MemorySegment> mappings = new ArrayList<>();
    private final GuestMemory memory;

    public GuestRam(MemoryMap map, boolean includeInCoreDumps, boolean wired) {
        this.map = map;
        List<GuestMemory.Region> regions = new ArrayList<>();
        try {
            regions.add(new GuestMemory.Region(0, allocate(map.lowMemory(), includeInCoreDumps, wired)));
            if (map.highMemory() > 0) {
                regions.add(new GuestMemory.Region(MemoryMap.HIGHMEM_BASE,
                        allocate(map.highMemory(), includeInCoreDumps, wired)));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.memory = new GuestMemory(regions);
    }

    private MemorySegment allocate(long size, boolean includeInCoreDumps, boolean wired) {
        MemorySegment m = alignedMapping(size);
        mappings.add(m);
        try {
            Posix.madvise(m, Posix.MADV_HUGEPAGE);
        } catch (SysException noTransparentHugePages) {
            // EINVAL: a kernel built without THP; the guest runs on small pages
        }
        if (!includeInCoreDumps) {
            Posix.madvise(m, Posix.MADV_DONTDUMP);
        }
        if (wired) {
            Posix.mlock(m);
        }
        return m;
    }

    /**
     * An anonymous read-write mapping of {@code size} bytes whose address is a multiple of {@link
     * #HUGE_PAGE}: one {@code HUGE_PAGE} larger than asked, then the unaligned head and the tail
     * are unmapped (reserved lazily, so the extra costs no memory).
     */
    static MemorySegment alignedMapping(long size) {
        MemorySegment wide = Posix.mmap(size + HUGE_PAGE, Posix.PROT_READ | Posix.PROT_WRITE,
                Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_NORESERVE, null, 0);
        long head = -wide.address() & (HUGE_PAGE - 1);
        if (head > 0) {
            Posix.munmap(wide.asSlice(0, head));
        }
        Posix.munmap(wide.asSlice(head + size));
        return wide.asSlice(head, size);
    }

    public MemoryMap map() {
        return map;
    }

    public GuestMemory memory() {
        return memory;
    }

    @Override
    public void close() {
        for (MemorySegment m : mappings) {
            Posix.munmap(m);
        }
        mappings.clear();
    }
}
