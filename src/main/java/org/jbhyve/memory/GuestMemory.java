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
        Region r = region(address, length);
        return r.host().asSlice(address - r.guestBase(), length);
    }

    /**
     * The region that holds all of [address, address+length). The scalar accessors below use it
     * directly rather than through a slice: virtqueues make a dozen such accesses per request,
     * and with the client compiler (the VMM's) a slice is an allocation and a round of checks.
     */
    private Region region(long address, long length) {
        Region r = find(address, length);
        if (r == null) {
            throw new GuestMemoryException(String.format("guest range 0x%x+0x%x is not RAM", address, length));
        }
        return r;
    }

    /** The region that holds all of [address, address+length), or null. */
    private Region find(long address, long length) {
        for (Region r : regions) {
            if (address >= r.guestBase() && address < r.end()) {
                return length >= 0 && length <= r.end() - address ? r : null;
            }
        }
        return null;
    }

    /** Whether [address, address+length) is inside one RAM region. */
    public boolean contains(long address, long length) {
        return find(address, length) != null;
    }

    public byte getByte(long address) {
        Region r = region(address, 1);
        return r.host().get(JAVA_BYTE, address - r.guestBase());
    }

    public short getShort(long address) {
        Region r = region(address, 2);
        return r.host().get(JAVA_SHORT_UNALIGNED, address - r.guestBase());
    }

    public int getInt(long address) {
        Region r = region(address, 4);
        return r.host().get(JAVA_INT_UNALIGNED, address - r.guestBase());
    }

    public long getLong(long address) {
        Region r = region(address, 8);
        return r.host().get(JAVA_LONG_UNALIGNED, address - r.guestBase());
    }

    public void putByte(long address, byte value) {
        Region r = region(address, 1);
        r.host().set(JAVA_BYTE, address - r.guestBase(), value);
    }

    public void putShort(long address, short value) {
        Region r = region(address, 2);
        r.host().set(JAVA_SHORT_UNALIGNED, address - r.guestBase(), value);
    }

    public void putInt(long address, int value) {
        Region r = region(address, 4);
        r.host().set(JAVA_INT_UNALIGNED, address - r.guestBase(), value);
    }

    public void putLong(long address, long value) {
        Region r = region(address, 8);
        r.host().set(JAVA_LONG_UNALIGNED, address - r.guestBase(), value);
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
