package org.jbhyve.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench/durability's check of a disk image, on images made here: it must see a lost write. */
class DurabilityBenchTest {
    @TempDir
    Path dir;

    /** An image of 1 + sectors sectors where sector s holds write seq[s] (0: never written). */
    private Path image(long... seq) throws IOException {
        byte[] bytes = new byte[seq.length * 512];
        for (int s = 1; s < seq.length; s++) {
            if (seq[s] > 0) {
                byte[] tag = String.format("JBD%010d ", seq[s]).getBytes(StandardCharsets.US_ASCII);
                for (int i = 0; i < 512; i++) {
                    bytes[s * 512 + i] = tag[i % tag.length];
                }
            }
        }
        return Files.write(dir.resolve("disk.img"), bytes);
    }

    @Test
    void everyDurableWriteOnDiskIsNothingLost() throws IOException {
        // 4 sectors, writes 1..6 durable: sectors 1..4 hold 5, 6, 3, 4 (write 7 reached sector 3 too).
        assertEquals(0, DurabilityBench.verify(image(0, 5, 6, 7, 4), 4, 6));
    }

    @Test
    void anOlderWriteWhereADurableOneBelongsIsLost() throws IOException {
        assertEquals(1, DurabilityBench.verify(image(0, 1, 6, 3, 4), 4, 6), "sector 1 should hold write 5");
        assertEquals(2, DurabilityBench.verify(image(0, 0, 0, 3, 4), 4, 6), "sectors 1 and 2 were never written");
    }

    @Test
    void sectorsNoDurableWriteAimedAtMayBeAnything() throws IOException {
        assertEquals(0, DurabilityBench.verify(image(0, 1, 2, 0, 0), 4, 2));
        assertEquals(0, DurabilityBench.verify(image(0, 0, 0, 0, 0), 4, 0));
    }
}
