package org.jbhyve.machine.acpi;

import static org.junit.jupiter.api.Assertions.*;

import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CpuTopologyTest {

    static int[] ids(CpuTopology t) {
        return IntStream.range(0, t.vcpus()).map(t::apicId).toArray();
    }

    @Test
    void powerOfTwoTopologiesAreDense() {
        assertArrayEquals(new int[] {0, 1, 2, 3}, ids(new CpuTopology(2, 2, 1)));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, ids(new CpuTopology(2, 2, 2)));
        assertArrayEquals(new int[] {0, 1, 2, 3}, ids(CpuTopology.ofSockets(4)));
    }

    @Test
    void fieldWidthsRoundUp() {
        CpuTopology t = new CpuTopology(2, 3, 2);
        assertEquals(1, t.threadBits());
        assertEquals(2, t.coreBits());
        // socket 0: cores 0..2 x threads 0..1; socket 1 starts at 1 << 3
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13}, ids(t));
        assertEquals(0, new CpuTopology(1, 1, 1).coreBits());
        assertEquals(3, new CpuTopology(1, 5, 1).coreBits());
    }

    @Test
    void ioApicIdAvoidsLocalApicIds() {
        assertEquals(4, new CpuTopology(2, 2, 1).ioApicId());
        // 2 sockets x 3 cores: ids 0,1,2,4,5,6; 6 is taken, so 7
        assertEquals(7, new CpuTopology(2, 3, 1).ioApicId());
    }

    @Test
    void rejectsBadCounts() {
        assertThrows(IllegalArgumentException.class, () -> new CpuTopology(0, 1, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> new CpuTopology(1, 2, 1).apicId(2));
    }
}
