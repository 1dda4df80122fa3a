package org.jbhyve.bus;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One address space (the 64 KiB port space or guest-physical MMIO) as sorted, non-overlapping
 * ranges, each owned by an {@link IoHandler}.
 *
 * <p>Contract: an access that falls entirely inside a range is dispatched with the offset from
 * the range's base; an access nobody claims (or that straddles a range's end) reads all ones and
 * its writes are dropped, and {@link #unclaimed} is told, which is how {@code -e} (strict I/O)
 * stops the VM. Lookups take a read lock so vCPUs dispatch concurrently; BAR moves take the
 * write lock.
 */
public final class IoBus {
    /** Told about accesses no device claims. */
    public interface UnclaimedAccess {
        void accessed(long address, int size, boolean write);
    }

    private record Range(long base, long length, String name, IoHandler handler) {
        long end() {
            return base + length;
        }
    }

    private final String name;
    private final TreeMap<Long, Range> ranges = new TreeMap<>();
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private volatile UnclaimedAccess unclaimed = (address, size, write) -> {};

    public IoBus(String name) {
        this.name = name;
    }

    public void onUnclaimed(UnclaimedAccess listener) {
        this.unclaimed = listener;
    }

    /** Claims [base, base+length) for {@code handler}; overlapping an existing range is a bug. */
    public void register(long base, long length, String owner, IoHandler handler) {
        if (length <= 0) {
            throw new IllegalArgumentException(owner + ": empty range");
        }
        lock.writeLock().lock();
        try {
            Map.Entry<Long, Range> below = ranges.floorEntry(base + length - 1);
            if (below != null && below.getValue().end() > base) {
                Range other = below.getValue();
                throw new IllegalStateException(String.format("%s: %s range 0x%x+0x%x overlaps %s at 0x%x+0x%x",
                        name, owner, base, length, other.name(), other.base(), other.length()));
            }
            ranges.put(base, new Range(base, length, owner, handler));
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Releases the range starting at {@code base}; returns whether one was there. */
    public boolean unregister(long base) {
        lock.writeLock().lock();
        try {
            return ranges.remove(base) != null;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Whether some range covers {@code address}. */
    public boolean isClaimed(long address) {
        return find(address, 1) != null;
    }

    public long read(long address, int size) {
        Range r = find(address, size);
        if (r == null) {
            unclaimed.accessed(address, size, false);
            return IoHandler.mask(size);
        }
        return r.handler().read(address - r.base(), size);
    }

    public void write(long address, int size, long value) {
        Range r = find(address, size);
        if (r == null) {
            unclaimed.accessed(address, size, true);
            return;
        }
        r.handler().write(address - r.base(), size, value);
    }

    private Range find(long address, int size) {
        lock.readLock().lock();
        try {
            Map.Entry<Long, Range> e = ranges.floorEntry(address);
            if (e == null || address + size > e.getValue().end()) {
                return null;
            }
            return e.getValue();
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
