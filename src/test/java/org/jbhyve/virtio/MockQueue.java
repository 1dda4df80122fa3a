package org.jbhyve.virtio;

import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Deque;
import org.jbhyve.memory.GuestMemory;

/**
 * The driver side of one split virtqueue in mock guest RAM (after rust-vmm's MockSplitQueue):
 * lays out the rings, adds chains with a free list of descriptors, and collects used entries.
 * Not thread-safe: one driver thread.
 */
public final class MockQueue {
    public record Buf(long address, int length, boolean writable) {}

    public record Used(int head, int length) {}

    public final int size;
    public final long desc;
    public final long avail;
    public final long used;
    private final GuestMemory mem;
    private final Deque<Integer> free = new ArrayDeque<>();
    private final int[] chainLength;
    private int availIdx;
    private int lastUsed;

    public MockQueue(MockGuest guest, int size) {
        this.size = size;
        this.mem = guest.memory;
        this.desc = guest.alloc(16L * size, 16);
        this.avail = guest.alloc(6 + 2L * size, 2);
        this.used = guest.alloc(6 + 8L * size, 4);
        this.chainLength = new int[size];
        for (int i = 0; i < size; i++) {
            free.add(i);
        }
    }

    public int freeDescriptors() {
        return free.size();
    }

    /** Writes raw descriptor {@code i} (fuzzing). */
    public void writeDescriptor(int i, long address, int length, int flags, int next) {
        long d = desc + 16L * i;
        mem.putLong(d, address);
        mem.putInt(d + 8, length);
        mem.putShort(d + 12, (short) flags);
        mem.putShort(d + 14, (short) next);
    }

    /** Publishes head {@code head} in the available ring (raw; fuzzing and indirect tests). */
    public void publish(int head) {
        mem.putShort(avail + 4 + 2L * (availIdx % size), (short) head);
        availIdx = (availIdx + 1) & 0xFFFF;
        VarHandle.releaseFence(); // ring entry before index, as a driver's wmb()
        mem.putShort(avail + 2, (short) availIdx);
        VarHandle.fullFence();
    }

    /** Adds a chain of {@code bufs} and makes it available; returns its head or -1 if no room. */
    public int add(Buf... bufs) {
        if (bufs.length > free.size()) {
            return -1;
        }
        int[] ids = new int[bufs.length];
        for (int i = 0; i < bufs.length; i++) {
            ids[i] = free.poll();
        }
        for (int i = 0; i < bufs.length; i++) {
            boolean last = i == bufs.length - 1;
            writeDescriptor(ids[i], bufs[i].address(), bufs[i].length(),
                    (last ? 0 : Virtqueue.F_NEXT) | (bufs[i].writable() ? Virtqueue.F_WRITE : 0),
                    last ? 0 : ids[i + 1]);
        }
        chainLength[ids[0]] = bufs.length;
        publish(ids[0]);
        return ids[0];
    }

    /** The next used entry, or null; frees the chain's descriptors (assumes chains built by add). */
    public Used poll() {
        VarHandle.fullFence();
        int idx = Short.toUnsignedInt(mem.getShort(used + 2));
        if (idx == lastUsed) {
            return null;
        }
        VarHandle.acquireFence();
        long e = used + 4 + 8L * (lastUsed % size);
        int head = mem.getInt(e);
        int len = mem.getInt(e + 4);
        lastUsed = (lastUsed + 1) & 0xFFFF;
        setUsedEvent(lastUsed); // as a driver with EVENT_IDX does: interrupt me for the next one
        int d = head;
        for (int i = 0; i < chainLength[head % size]; i++) {
            free.add(d);
            d = Short.toUnsignedInt(mem.getShort(desc + 16L * d + 14));
        }
        return new Used(head, len);
    }

    public int usedIndex() {
        return Short.toUnsignedInt(mem.getShort(used + 2));
    }

    /** used_event (EVENT_IDX): interrupt me when the used index passes this. */
    public void setUsedEvent(int value) {
        mem.putShort(avail + 4 + 2L * size, (short) value);
    }

    public void setNoInterrupt(boolean on) {
        mem.putShort(avail, (short) (on ? 1 : 0));
    }

    public int availEvent() {
        return Short.toUnsignedInt(mem.getShort(used + 4 + 8L * size));
    }
}
