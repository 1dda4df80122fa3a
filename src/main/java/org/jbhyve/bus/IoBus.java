package org.jbhyve.bus;

import java.util.Arrays;

/**
 * One address space (the 64 KiB port space or guest-physical MMIO) as sorted, non-overlapping
 * ranges, each owned by an {@link IoHandler}.
 *
 * <p>Contract: an access that falls entirely inside a range is dispatched with the offset from
 * the range's base; an access nobody claims (or that straddles a range's end) reads all ones and
 * its writes are dropped, and {@link #unclaimed} is told, which is how {@code -e} (strict I/O)
 * stops the VM.
 *
 * <p>Threads: every vCPU dispatches through here on every port or MMIO exit, so a lookup takes
 * no lock and allocates nothing. The ranges are an immutable {@link Layout} (three parallel
 * arrays searched by binary search) published through a volatile field; {@link #register} and
 * {@link #unregister} (device set-up, BAR moves) build a new layout under the bus's monitor and
 * publish it. An access that looked up the old layout just before a BAR moved may still reach
 * the handler at its old address, as it would with any lock released before the dispatch.
 */
public final class IoBus {
    /** Told about accesses no device claims. */
    public interface UnclaimedAccess {
        void accessed(long address, int size, boolean write);
    }

    /** The ranges in base order: range i is [bases[i], ends[i]), owned by handlers[i], named names[i]. */
    private record Layout(long[] bases, long[] ends, IoHandler[] handlers, String[] names) {
        static final Layout EMPTY = new Layout(new long[0], new long[0], new IoHandler[0], new String[0]);

        /** The index of the last range whose base is at or below {@code address}, or -1. */
        int floor(long address) {
            int at = Arrays.binarySearch(bases, address);
            return at >= 0 ? at : -at - 2;
        }

        Layout with(int at, long base, long end, IoHandler handler, String name) {
            return new Layout(insert(bases, at, base), insert(ends, at, end), insert(handlers, at, handler),
                    insert(names, at, name));
        }

        Layout without(int at) {
            return new Layout(remove(bases, at), remove(ends, at), remove(handlers, at), remove(names, at));
        }
    }

    private final String name;
    private volatile Layout layout = Layout.EMPTY;
    private volatile UnclaimedAccess unclaimed = (address, size, write) -> {};

    public IoBus(String name) {
        this.name = name;
    }

    public void onUnclaimed(UnclaimedAccess listener) {
        this.unclaimed = listener;
    }

    /** Claims [base, base+length) for {@code handler}; overlapping an existing range is a bug. */
    public synchronized void register(long base, long length, String owner, IoHandler handler) {
        if (length <= 0) {
            throw new IllegalArgumentException(owner + ": empty range");
        }
        Layout now = layout;
        int below = now.floor(base + length - 1);
        if (below >= 0 && now.ends[below] > base) {
            throw new IllegalStateException(String.format("%s: %s range 0x%x+0x%x overlaps %s at 0x%x+0x%x",
                    name, owner, base, length, now.names[below], now.bases[below],
                    now.ends[below] - now.bases[below]));
        }
        layout = now.with(below + 1, base, base + length, handler, owner);
    }

    /** Releases the range starting at {@code base}; returns whether one was there. */
    public synchronized boolean unregister(long base) {
        Layout now = layout;
        int at = Arrays.binarySearch(now.bases, base);
        if (at < 0) {
            return false;
        }
        layout = now.without(at);
        return true;
    }

    /** Whether some range covers {@code address}. */
    public boolean isClaimed(long address) {
        Layout now = layout;
        int at = now.floor(address);
        return at >= 0 && address < now.ends[at];
    }

    public long read(long address, int size) {
        Layout now = layout;
        int at = now.floor(address);
        if (at < 0 || address + size > now.ends[at]) {
            unclaimed.accessed(address, size, false);
            return IoHandler.mask(size);
        }
        return now.handlers[at].read(address - now.bases[at], size);
    }

    public void write(long address, int size, long value) {
        Layout now = layout;
        int at = now.floor(address);
        if (at < 0 || address + size > now.ends[at]) {
            unclaimed.accessed(address, size, true);
            return;
        }
        now.handlers[at].write(address - now.bases[at], size, value);
    }

    @Override
    public String toString() {
        return name;
    }

    private static long[] insert(long[] a, int at, long value) {
        long[] b = new long[a.length + 1];
        System.arraycopy(a, 0, b, 0, at);
        b[at] = value;
        System.arraycopy(a, at, b, at + 1, a.length - at);
        return b;
    }

    private static <T> T[] insert(T[] a, int at, T value) {
        T[] b = Arrays.copyOf(a, a.length + 1);
        b[at] = value;
        System.arraycopy(a, at, b, at + 1, a.length - at);
        return b;
    }

    private static long[] remove(long[] a, int at) {
        long[] b = new long[a.length - 1];
        System.arraycopy(a, 0, b, 0, at);
        System.arraycopy(a, at + 1, b, at, b.length - at);
        return b;
    }

    private static <T> T[] remove(T[] a, int at) {
        T[] b = Arrays.copyOf(a, a.length - 1);
        System.arraycopy(a, at + 1, b, at, b.length - at);
        return b;
    }
}
