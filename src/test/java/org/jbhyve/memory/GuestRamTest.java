package org.jbhyve.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class GuestRamTest {
    private static final long MIB = 1L << 20;

    @Test
    void everyRegionStartsOnAHugePageBoundaryAndKeepsItsSize() {
        MemoryMap map = MemoryMap.forSize(3L * 1024 * MIB + 5 * MIB); // low memory and 4 GiB up
        try (GuestRam ram = new GuestRam(map, false, false)) {
            List<GuestMemory.Region> regions = ram.memory().regions();
            assertEquals(2, regions.size());
            for (GuestMemory.Region region : regions) {
                assertEquals(0, region.host().address() % GuestRam.HUGE_PAGE, "host address of " + region);
            }
            assertEquals(map.lowMemory(), regions.get(0).host().byteSize());
            assertEquals(map.highMemory(), regions.get(1).host().byteSize());
            ram.memory().putLong(map.lowMemory() - 8, 0x1122334455667788L); // the last bytes are ours
            assertEquals(0x1122334455667788L, ram.memory().getLong(map.lowMemory() - 8));
        }
    }

    @Test
    void guestMemoryIsAdvisedToUseTransparentHugePagesWhereTheKernelHasThem() throws IOException {
        if (!Files.exists(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"))) {
            throw new AssertionError("this kernel has no transparent huge pages: the advice cannot be checked");
        }
        try (GuestRam ram = new GuestRam(MemoryMap.forSize(64 * MIB), false, false)) {
            long address = ram.memory().regions().get(0).host().address();
            String flags = vmFlagsOf(address);
            assertTrue(flags.contains(" hg"), "VmFlags of guest RAM: " + flags);
            assertTrue(flags.contains(" dd"), "VmFlags of guest RAM (excluded from core dumps): " + flags);
        }
    }

    /** The VmFlags line of the mapping that contains {@code address}, from /proc/self/smaps. */
    private static String vmFlagsOf(long address) throws IOException {
        boolean inside = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*")) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                inside = Long.parseUnsignedLong(range[0], 16) <= address && address < Long.parseUnsignedLong(range[1], 16);
            } else if (inside && line.startsWith("VmFlags:")) {
                return line.substring("VmFlags:".length());
            }
        }
        throw new AssertionError("no mapping holds " + Long.toHexString(address));
    }
}
