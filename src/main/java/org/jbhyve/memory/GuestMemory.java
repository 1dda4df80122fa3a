package org.jbhyve.memory;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Guest RAM as seen by the VMM: a few regions, each a host {@link MemorySegment} at a
 * guest-physical base. Every access is bounds-checked against the regions, so a guest-supplied
 * address can never reach host memory outside guest RAM; a bad one throws
 * {@link GuestMemoryException}. Values are little-endian. Plain accesses carry no ordering;
 * callers that share rings with the guest add their own fences (see the virtio package).
 */
public final class GuestMemory {
    /** One contiguous piece of guest RAM. */
    public record Region(long guestBase, MemorySegment host) {
        long end() {
            return guestBase + host.byteSize();
        }
    }

    private final Region[] regions;

    public GuestMemory(List<Region> regions) {
        this.regions = regions.toArray(Region[]::new);
    }

    public List<Region> regions() {
        return List.of(regions);
    }

    /**
     * The host view of [address, address+length), which must lie inside one region.
     * The slice is the DMA window a device may read or write; it cannot reach past it.
     */
    public MemorySegment slice(long address, long length) {
        for (Region r : regions) {
            if (address >= r.guestBase() && address < r.end()) {
                long offset = address - r.guestBase();
                if (length < 0 || length > r.host().byteSize() - offset) {
                    break;
                }
                return r.host().asSlice(offset, length);
            }
        }
        throw new GuestMemoryException(String.format("guest range 0x%x+0x%x is not RAM", address, length));
    }

    /** Whether [address, address+length) is inside one RAM region. */
    public boolean contains(long address, long length) {
        for (Region r : regions) {
            if (address >= r.guestBase() && address < r.end()) {
                return length >= 0 && length <= r.end() - address;
            }
        }
        return false;
    }

    public byte getByte(long address) {
        return slice(address, 1).get(JAVA_BYTE, 0);
    }

    public short getShort(long address) {
        return slice(address, 2).get(JAVA_SHORT_UNALIGNED, 0);
    }

    public int getInt(long address) {
        return slice(address, 4).get(JAVA_INT_UNALIGNED, 0);
    }

    public long getLong(long address) {
        return slice(address, 8).get(JAVA_LONG_UNALIGNED, 0);
    }

    public void putByte(long address, byte value) {
        slice(address, 1).set(JAVA_BYTE, 0, value);
    }

    public void putShort(long address, short value) {
        slice(address, 2).set(JAVA_SHORT_UNALIGNED, 0, value);
    }

    public void putInt(long address, int value) {
        slice(address, 4).set(JAVA_INT_UNALIGNED, 0, value);
    }

    public void putLong(long address, long value) {
        slice(address, 8).set(JAVA_LONG_UNALIGNED, 0, value);
    }

    public void read(long address, byte[] into) {
        MemorySegment.copy(slice(address, into.length), JAVA_BYTE, 0, into, 0, into.length);
    }

    public byte[] read(long address, int length) {
        byte[] out = new byte[length];
        read(address, out);
        return out;
    }

    public void write(long address, byte[] from) {
        MemorySegment.copy(from, 0, slice(address, from.length), JAVA_BYTE, 0, from.length);
    }

    public void write(long address, MemorySegment from) {
        slice(address, from.byteSize()).copyFrom(from);
    }
}
