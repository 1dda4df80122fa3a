package org.jbhyve.snapshot;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The non-zero parts of a memory region, as runs of whole 4 KiB pages. A page the guest never
 * touched reads as zeros (anonymous memory), as does one it cleared; neither is written, and a
 * restore into fresh memory (all zeros) needs nothing for them. The scan compares each page with
 * a zero page ({@link MemorySegment#mismatch}, vectorised), so it costs a read of the region.
 */
final class PageRuns {
    static final int PAGE = 4096;
    private static final MemorySegment ZERO = MemorySegment.ofArray(new byte[PAGE]);

    /** One run: {@code length} bytes from {@code offset}, both multiples of the page size (the last may end short). */
    record Run(long offset, long length) {}

    private PageRuns() {}

    static List<Run> of(MemorySegment memory) {
        List<Run> runs = new ArrayList<>();
        long size = memory.byteSize();
        long start = -1;
        for (long at = 0; at < size; at += PAGE) {
            long len = Math.min(PAGE, size - at);
            boolean zero = MemorySegment.mismatch(memory, at, at + len, ZERO, 0, len) == -1;
            if (!zero && start < 0) {
                start = at;
            } else if (zero && start >= 0) {
                runs.add(new Run(start, at - start));
                start = -1;
            }
        }
        if (start >= 0) {
            runs.add(new Run(start, size - start));
        }
        return runs;
    }
}
