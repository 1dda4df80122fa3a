package org.jbhyve.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class PageRunsTest {
    /**
     * The runs are exactly the maximal stretches of pages holding a non-zero byte, wherever in
     * the page that byte is (the scan's shortcut only looks at first words), for regions that
     * end in a partial page too.
     */
    @Property(tries = 300)
    void runsAreTheMaximalStretchesOfNonZeroPages(@ForAll @Size(max = 70) List<@IntRange(min = -1, max = 4095) Integer> pages,
                                                  @ForAll @IntRange(min = 0, max = 4095) int tail) {
        long size = (long) pages.size() * PageRuns.PAGE + tail;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = arena.allocate(Math.max(size, 1), PageRuns.PAGE);
            memory = memory.asSlice(0, size);
            for (int i = 0; i < pages.size(); i++) {
                if (pages.get(i) >= 0) {
                    memory.set(ValueLayout.JAVA_BYTE, (long) i * PageRuns.PAGE + pages.get(i), (byte) 1);
                }
            }
            if (tail > 0) {
                memory.set(ValueLayout.JAVA_BYTE, size - 1, (byte) (pages.size() % 2));
            }
            assertEquals(expected(memory), PageRuns.of(memory));
        }
    }

    /** Page by page, the obvious way. */
    private static List<PageRuns.Run> expected(MemorySegment memory) {
        List<PageRuns.Run> runs = new ArrayList<>();
        long start = -1;
        for (long at = 0; at < memory.byteSize(); at += PageRuns.PAGE) {
            boolean zero = true;
            for (long b = at; b < Math.min(at + PageRuns.PAGE, memory.byteSize()); b++) {
                zero &= memory.get(ValueLayout.JAVA_BYTE, b) == 0;
            }
            if (!zero && start < 0) {
                start = at;
            } else if (zero && start >= 0) {
                runs.add(new PageRuns.Run(start, at - start));
                start = -1;
            }
        }
        if (start >= 0) {
            runs.add(new PageRuns.Run(start, memory.byteSize() - start));
        }
        return runs;
    }
}
