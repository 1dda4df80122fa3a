package org.jbhyve.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The bus against a plain list of ranges: after any sequence of claims and releases (overlaps
 * refused, as set-up code relies on), every access in a small address space reaches the same
 * handler at the same offset, or is unclaimed, as the model says.
 */
class IoBusPropertiesTest {
    private static final int SPACE = 96;

    /** A handler that answers its own number plus the offset it was given. */
    private record Numbered(int number) implements IoHandler {
        @Override
        public long read(long offset, int size) {
            return number * 1000L + offset;
        }

        @Override
        public void write(long offset, int size, long value) {}
    }

    private record Claim(int base, int length, int number) {}

    @Property(tries = 300)
    void lookupsAgreeWithAListOfRanges(@ForAll @Size(max = 40) List<@IntRange(min = 0, max = SPACE * 4) Integer> ops) {
        IoBus bus = new IoBus("test");
        List<Claim> model = new ArrayList<>();
        int number = 1;
        for (int op : ops) {
            int base = op % SPACE;
            int length = 1 + op / SPACE * 5; // 1, 6, 11, 16 or 21
            if (op % 3 == 0 && releaseAt(model, base)) {
                assertEquals(true, bus.unregister(base));
                continue;
            }
            boolean overlaps = model.stream().anyMatch(c -> base < c.base() + c.length() && c.base() < base + length);
            try {
                bus.register(base, length, "dev" + number, new Numbered(number));
                assertEquals(false, overlaps, "claim at " + base + "+" + length + " over " + model);
                model.add(new Claim(base, length, number));
            } catch (IllegalStateException refused) {
                assertEquals(true, overlaps, refused.getMessage());
            }
            number++;
        }
        for (int address = 0; address < SPACE + 24; address++) {
            for (int size : new int[] {1, 2, 4}) {
                assertEquals(expected(model, address, size), bus.read(address, size), "read " + address + "/" + size);
            }
        }
    }

    private static boolean releaseAt(List<Claim> model, int base) {
        return model.removeIf(c -> c.base() == base);
    }

    private static long expected(List<Claim> model, int address, int size) {
        for (Claim c : model) {
            if (address >= c.base() && address < c.base() + c.length()) {
                return address + size <= c.base() + c.length() ? c.number() * 1000L + address - c.base()
                        : IoHandler.mask(size);
            }
        }
        return IoHandler.mask(size);
    }
}
