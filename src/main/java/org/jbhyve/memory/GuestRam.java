package org.jbhyve.memory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.jbhyve.sys.Posix;

/**
 * Allocates guest RAM as anonymous mappings laid out by a {@link MemoryMap}: one for memory
 * below 3 GiB, one for the rest at 4 GiB. Pages are reserved lazily (MAP_NORESERVE), excluded
 * from core dumps unless asked (bhyve's -C), and optionally wired (bhyve's -S, mlock).
 */
public final class GuestRam implements AutoCloseable {
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
        MemorySegment m = Posix.mmap(size, Posix.PROT_READ | Posix.PROT_WRITE,
                Posix.MAP_PRIVATE | Posix.MAP_ANONYMOUS | Posix.MAP_NORESERVE, null, 0);
        mappings.add(m);
        if (!includeInCoreDumps) {
            Posix.madvise(m, Posix.MADV_DONTDUMP);
        }
        if (wired) {
            Posix.mlock(m);
        }
        return m;
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
