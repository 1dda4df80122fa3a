package org.jbhyve.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class IoBusTest {
    /** Remembers the last access as "r/w offset size value". */
    static final class Recorder implements IoHandler {
        final List<String> accesses = new ArrayList<>();

        @Override
        public long read(long offset, int size) {
            accesses.add("r " + offset + " " + size);
            return 0x42;
        }

        @Override
        public void write(long offset, int size, long value) {
            accesses.add("w " + offset + " " + size + " " + Long.toHexString(value));
        }
    }

    @Test
    void handlersSeeOffsetsFromTheirBase() {
        IoBus bus = new IoBus("test");
        Recorder r = new Recorder();
        bus.register(0x3F8, 8, "uart", r);
        assertEquals(0x42, bus.read(0x3FD, 1));
        bus.write(0x3F8, 1, 0x41);
        assertEquals(List.of("r 5 1", "w 0 1 41"), r.accesses);
    }

    @Test
    void unclaimedAccessesReadAllOnesAndAreReported() {
        IoBus bus = new IoBus("test");
        List<String> unclaimed = new ArrayList<>();
        bus.onUnclaimed((a, s, w) -> unclaimed.add(Long.toHexString(a) + (w ? " w" : " r")));
        assertEquals(0xFF, bus.read(0x80, 1));
        assertEquals(0xFFFF, bus.read(0x80, 2));
        assertEquals(0xFFFFFFFFL, bus.read(0x80, 4));
        bus.write(0x99, 1, 0);
        assertEquals(List.of("80 r", "80 r", "80 r", "99 w"), unclaimed);
    }

    @Test
    void accessStraddlingARangeEndIsUnclaimed() {
        IoBus bus = new IoBus("test");
        Recorder r = new Recorder();
        bus.register(0x100, 4, "dev", r);
        assertEquals(0xFFFFFFFFL, bus.read(0x102, 4));
        assertEquals(List.of(), r.accesses);
    }

    @Test
    void overlappingRangesAreRefusedAndUnregisterFreesTheRange() {
        IoBus bus = new IoBus("test");
        bus.register(0x100, 0x10, "a", new Recorder());
        assertThrows(IllegalStateException.class, () -> bus.register(0x10F, 1, "b", new Recorder()));
        assertThrows(IllegalStateException.class, () -> bus.register(0xF8, 0x10, "c", new Recorder()));
        bus.register(0x110, 1, "adjacent", new Recorder());
        assertEquals(true, bus.unregister(0x100));
        bus.register(0x10F, 1, "b", new Recorder());
        assertEquals(true, bus.isClaimed(0x10F));
        assertEquals(false, bus.isClaimed(0x100));
    }
}
