package org.jbhyve.virtio;

import java.lang.foreign.MemorySegment;
import org.jbhyve.memory.GuestMemory;

/**
 * One request as the driver laid it out: the head index (what goes back in the used ring) and
 * the buffers of its chain in order, each already checked to lie inside guest RAM. The driver
 * puts device-readable buffers first and device-writable ones after (virtio 1.x 2.7.4.2); the
 * walk enforces that order. Indirect tables are flattened into the same list.
 */
public final class DescriptorChain {
    private final GuestMemory memory;
    private final int head;
    private long[] address = new long[4];
    private int[] length = new int[4];
    private int count;
    private int readableCount;
    private long readableBytes;
    private long writableBytes;

    DescriptorChain(GuestMemory memory, int head) {
        this.memory = memory;
        this.head = head;
    }

    void add(long addr, int len, boolean writable) {
        if (!writable && count > readableCount) {
            throw new VirtqueueException("device-readable descriptor after a writable one");
        }
        if (!memory.contains(addr, Integer.toUnsignedLong(len))) {
            throw new VirtqueueException(String.format("buffer 0x%x+0x%x is not guest RAM", addr,
                    Integer.toUnsignedLong(len)));
        }
        if (count == address.length) {
            address = java.util.Arrays.copyOf(address, count * 2);
            length = java.util.Arrays.copyOf(length, count * 2);
        }
        address[count] = addr;
        length[count] = len;
        count++;
        if (writable) {
            writableBytes += Integer.toUnsignedLong(len);
        } else {
            readableCount++;
            readableBytes += Integer.toUnsignedLong(len);
        }
    }

    /** The index of the chain's first descriptor, to return with {@link Virtqueue#addUsed}. */
    public int head() {
        return head;
    }

    /** Number of buffers (descriptors after indirect tables are flattened). */
    public int count() {
        return count;
    }

    /** The first {@code readableCount()} buffers are device-readable, the rest device-writable. */
    public int readableCount() {
        return readableCount;
    }

    public long readableBytes() {
        return readableBytes;
    }

    public long writableBytes() {
        return writableBytes;
    }

    public boolean isWritable(int i) {
        return i >= readableCount;
    }

    public long address(int i) {
        return address[check(i)];
    }

    /** Length in bytes (a guest u32, here as a non-negative long). */
    public long length(int i) {
        return Integer.toUnsignedLong(length[check(i)]);
    }

    /** The host view of buffer {@code i}: exactly its bytes of guest RAM. */
    public MemorySegment segment(int i) {
        return memory.slice(address[check(i)], Integer.toUnsignedLong(length[i]));
    }

    public GuestMemory memory() {
        return memory;
    }

    private int check(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException(i);
        }
        return i;
    }
}
