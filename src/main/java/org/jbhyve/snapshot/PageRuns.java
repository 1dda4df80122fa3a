package org.jbhyve.snapshot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The non-zero parts of a memory region, as runs of whole 4 KiB pages. A page the guest never
 * touched reads as zeros (anonymous memory), as does one it cleared; neither is written, and a
 * restore into fresh memory (all zeros) needs nothing for them. The scan compares each page with
 * a zero page ({@link MemorySegment#mismatch}, vectorised) once its first word is zero: memory in
 * use costs one load per page, free memory a read of its pages.
 */
final class PageRuns {
    static final int PAGE = 4096;
    private static final int GROUP = 16;
    private static final MemorySegment ZERO = MemorySegment.ofArray(new byte[PAGE]);

    /** One run: {@code length} bytes from {@code offset}, both multiples of the page size (the last may end short). */
    record Run(long offset, long length) {}

    private PageRuns() {}

    static List<Run> of(MemorySegment memory) {
        List<Run> runs = new ArrayList<>();
        long size = memory.byteSize();
        long start = -1;
        long at = 0;
        while (at < size) {
            // The first words of a group of pages are loaded together (independent loads, so the
            // CPU overlaps their cache and TLB misses); a page whose first word is not zero is
            // not zero, and only the others are compared in full.
            int group = (int) Math.min(GROUP, (size - at) / PAGE);
            int firstWordZero = group == 0 ? 1 : 0;
            for (int i = 0; i < group; i++) {
                if (memory.get(ValueLayout.JAVA_LONG_UNALIGNED, at + (long) i * PAGE) == 0) {
                    firstWordZero |= 1 << i;
                }
            }
            for (int i = 0; i < Math.max(group, 1); i++, at += PAGE) {
                boolean zero = (firstWordZero & (1 << i)) != 0 && isZero(memory, at, Math.min(PAGE, size - at));
                if (!zero && start < 0) {
                    start = at;
                } else if (zero && start >= 0) {
                    runs.add(new Run(start, at - start));
                    start = -1;
                }
            }
        }
        if (start >= 0) {
            runs.add(new Run(start, size - start));
        }
        return runs;
    }

    private static boolean isZero(MemorySegment memory, long at, long length) {
        return MemorySegment.mismatch(memory, at, at + length, ZERO, 0, length) == -1;
    }
}
