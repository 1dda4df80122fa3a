package org.jbhyve.virtio;

import java.lang.invoke.VarHandle;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * A split virtqueue (virtio 1.x section 2.7), device side.
 *
 * <pre>
 * descriptor table  16 bytes x size:  le64 addr | le32 len | le16 flags | le16 next
 *                   flags: 1 NEXT, 2 WRITE (device writes), 4 INDIRECT (addr/len is a table)
 * available ring    le16 flags (1 = NO_INTERRUPT) | le16 idx | le16 ring[size] | le16 used_event
 * used ring         le16 flags (1 = NO_NOTIFY)    | le16 idx | {le32 id, le32 len}[size]
 *                   | le16 avail_event
 * </pre>
 * Indexes are free-running u16 counters; entry i lives at ring[i % size].
 *
 * <p>Everything the driver wrote is untrusted: every walk is bounded (a chain has at most
 * {@code size} descriptors, including those of an indirect table), indexes are range-checked,
 * indirect tables may not nest, and every address goes through {@link GuestMemory}. Violations
 * throw {@link VirtqueueException} and mark the queue broken.
 *
 * <p>Threads: {@link #pop} (the notification side, locks this object) and {@link #addUsed} /
 * {@link #needsInterrupt} (the completion side, backend workers, lock {@code usedLock}) run
 * concurrently without contending; layout changes (reset, enable...) take both locks.
 */
public final class Virtqueue {
    public static final int MAX_SIZE = 32768;
    static final int F_NEXT = 1;
    static final int F_WRITE = 2;
    static final int F_INDIRECT = 4;
    private static final int AVAIL_F_NO_INTERRUPT = 1;
    private static final int DESC_SIZE = 16;

    private final GuestMemory memory;
    /** Guards the used side (addUsed, needsInterrupt); {@code this} guards the available side. */
    private final Object usedLock = new Object();
    private final int index;
    private final int maxSize;
    private int size;
    private long descAddr;
    private long availAddr;
    private long usedAddr;
    private boolean ready;
    private boolean eventIdx;
    private boolean broken;
    private int lastAvail;
    private int nextUsed;
    private int signalledUsed;
    private volatile int vector = VirtioPci.NO_VECTOR;

    public Virtqueue(GuestMemory memory, int index, int maxSize) {
        if (maxSize <= 0 || maxSize > MAX_SIZE || Integer.bitCount(maxSize) != 1) {
            throw new IllegalArgumentException("queue size must be a power of two up to 32768: " + maxSize);
        }
        this.memory = memory;
        this.index = index;
        this.maxSize = maxSize;
        reset();
    }

    public int index() {
        return index;
    }

    public int maxSize() {
        return maxSize;
    }

    public synchronized int size() {
        return size;
    }

    /** Back to the state after device reset: not ready, full size, no addresses. */
    public synchronized void reset() {
        synchronized (usedLock) {
            size = maxSize;
            descAddr = availAddr = usedAddr = 0;
            ready = false;
            broken = false;
            lastAvail = nextUsed = signalledUsed = 0;
            vector = VirtioPci.NO_VECTOR;
        }
    }

    synchronized void setSize(int size) {
        synchronized (usedLock) {
            this.size = size;
        }
    }

    synchronized void setAddresses(long desc, long avail, long used) {
        synchronized (usedLock) {
            this.descAddr = desc;
            this.availAddr = avail;
            this.usedAddr = used;
        }
    }

    synchronized long descAddr() {
        return descAddr;
    }

    synchronized long availAddr() {
        return availAddr;
    }

    synchronized long usedAddr() {
        return usedAddr;
    }

    int vector() {
        return vector;
    }

    void setVector(int vector) {
        this.vector = vector;
    }

    /**
     * Makes the queue live after checking the driver's layout: a power-of-two size within the
     * maximum, aligned rings entirely inside guest RAM. Throws {@link VirtqueueException}.
     */
    synchronized void enable(boolean eventIdx) {
        synchronized (usedLock) {
            checkLayout();
            this.eventIdx = eventIdx;
            this.ready = true;
            this.broken = false;
        }
    }

    private void checkLayout() {
        if (size == 0 || size > maxSize || Integer.bitCount(size) != 1) {
            throw new VirtqueueException("queue " + index + ": bad size " + size);
        }
        if ((descAddr & 15) != 0 || (availAddr & 1) != 0 || (usedAddr & 3) != 0
                || !memory.contains(descAddr, (long) DESC_SIZE * size)
                || !memory.contains(availAddr, 6 + 2L * size)
                || !memory.contains(usedAddr, 6 + 8L * size)) {
            throw new VirtqueueException(String.format("queue %d: rings 0x%x/0x%x/0x%x (size %d) misaligned or not RAM",
                    index, descAddr, availAddr, usedAddr, size));
        }
    }

    /**
     * The queue's part of a snapshot, in this order:
     * <pre>
     * u16 size | bool ready | bool broken | bool event_idx | bool indirect allowed
     * i64 descriptor table | i64 available ring | i64 used ring   (a legacy driver's PFN is the
     *                                                               table address / 4096)
     * u16 last available index seen | u16 next used index | u16 used index last signalled
     * u16 MSI-X vector (0xFFFF none)
     * </pre>
     * The rings themselves are guest RAM, saved with it.
     */
    synchronized void saveState(StateWriter out) {
        synchronized (usedLock) {
            out.u16(size).bool(ready).bool(broken).bool(eventIdx).bool(indirectAllowed);
            out.i64(descAddr).i64(availAddr).i64(usedAddr);
            out.u16(lastAvail).u16(nextUsed).u16(signalledUsed).u16(vector);
        }
    }

    /**
     * Restores what {@link #saveState} wrote: the queue continues from the saved ring positions
     * (nothing is reset). A ready queue's layout is checked as {@link #enable} checks it, and
     * {@code vectors} bounds the vector; a value that does not fit is a
     * {@link org.jbhyve.snapshot.SnapshotException}.
     */
    synchronized void restoreState(StateReader in, int vectors) {
        int savedSize = in.u16();
        boolean savedReady = in.bool();
        boolean savedBroken = in.bool();
        boolean savedEventIdx = in.bool();
        boolean savedIndirect = in.bool();
        long desc = in.i64();
        long avail = in.i64();
        long used = in.i64();
        int savedLastAvail = in.u16();
        int savedNextUsed = in.u16();
        int savedSignalled = in.u16();
        int savedVector = in.u16();
        if (savedVector >= vectors && savedVector != VirtioPci.NO_VECTOR) {
            throw in.invalid("queue " + index + " uses MSI-X vector " + savedVector + " of " + vectors);
        }
        synchronized (usedLock) {
            size = savedSize;
            descAddr = desc;
            availAddr = avail;
            usedAddr = used;
            if (savedReady) {
                try {
                    checkLayout();
                } catch (VirtqueueException e) {
                    reset();
                    throw in.invalid(e.getMessage());
                }
            }
            ready = savedReady;
            broken = savedBroken;
            eventIdx = savedEventIdx;
            indirectAllowed = savedIndirect;
            lastAvail = savedLastAvail;
            nextUsed = savedNextUsed;
            signalledUsed = savedSignalled;
            vector = savedVector;
        }
    }

    /**
     * Gives back the last {@code count} chains {@link #pop} returned, which the device took but
     * will not use (e.g. receive buffers held for a frame): they are popped again, in the same
     * order, next time. Only for chains popped last and not returned with {@link #addUsed}; the
     * driver may not reuse their ring slots before they are used, so they are still there.
     */
    public synchronized void unpop(int count) {
        if (count < 0 || count > ((lastAvail - nextUsedSnapshot()) & 0xFFFF)) {
            throw new IllegalArgumentException("queue " + index + ": cannot give back " + count + " chains");
        }
        lastAvail = (lastAvail - count) & 0xFFFF;
    }

    private int nextUsedSnapshot() {
        synchronized (usedLock) {
            return nextUsed;
        }
    }

    public synchronized boolean isReady() {
        return ready && !broken;
    }

    synchronized void disable() {
        synchronized (usedLock) {
            ready = false;
        }
    }

    /** The driver's and device's ring positions (saved state, tests). */
    public synchronized int lastAvailIndex() {
        return lastAvail;
    }

    /**
     * The next available chain, or null when the ring is empty (or the queue is not ready).
     * With EVENT_IDX, an empty ring re-arms the driver's notification (avail_event) and looks
     * again, so a null means the driver will notify for whatever it adds next.
     */
    public synchronized DescriptorChain pop() {
        if (!ready || broken) {
            return null;
        }
        try {
            int avail = availIdx();
            if (avail == lastAvail && eventIdx) {
                memory.putShort(usedAddr + 4 + 8L * size, (short) lastAvail);
                // Full fence: our avail_event store must be visible before we re-read the avail
                // index, or a driver that added a buffer just now may skip the notification.
                VarHandle.fullFence();
                avail = availIdx();
            }
            if (avail == lastAvail) {
                return null;
            }
            if (((avail - lastAvail) & 0xFFFF) > size) {
                throw new VirtqueueException("queue " + index + ": avail index moved by more than the queue size");
            }
            // Acquire: the ring entry and descriptors the driver wrote before bumping idx are
            // read only after idx (pairs with the driver's write barrier before its idx store).
            VarHandle.acquireFence();
            int head = Short.toUnsignedInt(memory.getShort(availAddr + 4 + 2L * (lastAvail % size)));
            DescriptorChain chain = walk(head);
            lastAvail = (lastAvail + 1) & 0xFFFF;
            return chain;
        } catch (VirtqueueException e) {
            broken = true;
            throw e;
        } catch (GuestMemoryException e) {
            broken = true;
            throw new VirtqueueException("queue " + index + ": " + e.getMessage());
        }
    }

    private int availIdx() {
        return Short.toUnsignedInt(memory.getShort(availAddr + 2));
    }

    private DescriptorChain walk(int head) {
        if (head >= size) {
            throw new VirtqueueException("queue " + index + ": head index " + head + " >= size " + size);
        }
        DescriptorChain chain = new DescriptorChain(memory, head);
        int budget = size; // at most size descriptors in one chain, indirect ones included
        long table = descAddr;
        int tableSize = size;
        int i = head;
        boolean indirect = false;
        while (true) {
            if (budget-- <= 0) {
                throw new VirtqueueException("queue " + index + ": chain from " + head + " is longer than the queue (loop?)");
            }
            long d = table + (long) DESC_SIZE * i;
            long addr = memory.getLong(d);
            long lenFlagsNext = memory.getLong(d + 8); // le32 len, le16 flags, le16 next: one read
            int len = (int) lenFlagsNext;
            int flags = (int) (lenFlagsNext >>> 32) & 0xFFFF;
            int next = (int) (lenFlagsNext >>> 48);
            if ((flags & F_INDIRECT) != 0) {
                if (indirect) {
                    throw new VirtqueueException("queue " + index + ": nested indirect table");
                }
                if ((flags & F_NEXT) != 0) {
                    throw new VirtqueueException("queue " + index + ": indirect descriptor with NEXT");
                }
                long bytes = Integer.toUnsignedLong(len);
                if (bytes == 0 || bytes % DESC_SIZE != 0 || bytes / DESC_SIZE > size
                        || !memory.contains(addr, bytes)) {
                    throw new VirtqueueException(String.format("queue %d: bad indirect table 0x%x+0x%x",
                            index, addr, bytes));
                }
                if (!indirectAllowed) {
                    throw new VirtqueueException("queue " + index + ": indirect descriptor not negotiated");
                }
                indirect = true;
                table = addr;
                tableSize = (int) (bytes / DESC_SIZE);
                i = 0;
                budget++; // the indirect descriptor itself carries no buffer
                continue;
            }
            chain.add(addr, len, (flags & F_WRITE) != 0);
            if ((flags & F_NEXT) == 0) {
                return chain;
            }
            if (next >= tableSize) {
                throw new VirtqueueException("queue " + index + ": next index " + next + " out of range");
            }
            i = next;
        }
    }

    private boolean indirectAllowed = true;

    synchronized void setIndirectAllowed(boolean allowed) {
        this.indirectAllowed = allowed;
    }

    /**
     * Returns chain {@code head} to the driver with {@code written} bytes written into its
     * buffers. Publishes the used index; call {@link #needsInterrupt} after a batch.
     */
    public void addUsed(int head, int written) {
        synchronized (usedLock) {
            addUsedLocked(head, written);
        }
    }

    /**
     * Returns chains {@code heads[0..count)} with {@code written[i]} bytes each, in order, and
     * publishes the used index once for all of them.
     */
    public void addUsed(int[] heads, int[] written, int count) {
        synchronized (usedLock) {
            if (!ready || count <= 0) {
                return;
            }
            int at = nextUsed;
            for (int i = 0; i < count; i++) {
                long entry = usedAddr + 4 + 8L * (at % size);
                memory.putLong(entry, usedElement(heads[i], written[i]));
                at = (at + 1) & 0xFFFF;
            }
            nextUsed = at;
            VarHandle.releaseFence(); // entries (and buffer contents) before the index
            memory.putShort(usedAddr + 2, (short) nextUsed);
        }
    }

    /** A used-ring element, {le32 id; le32 len}, as one little-endian 64-bit value (one access, not two). */
    private static long usedElement(int head, int written) {
        return Integer.toUnsignedLong(head) | (long) written << 32;
    }

    private void addUsedLocked(int head, int written) {
        if (!ready) {
            return; // reset while the request was in flight: the driver forgot it
        }
        long entry = usedAddr + 4 + 8L * (nextUsed % size);
        memory.putLong(entry, usedElement(head, written));
        nextUsed = (nextUsed + 1) & 0xFFFF;
        // Release: the entry (and the data the device wrote into the buffers) must be visible
        // before the driver can see the new used index.
        VarHandle.releaseFence();
        memory.putShort(usedAddr + 2, (short) nextUsed);
    }

    /**
     * Whether the driver wants an interrupt for the used entries added since the last call:
     * with EVENT_IDX when the used index passed used_event, else unless NO_INTERRUPT is set.
     */
    public boolean needsInterrupt() {
        synchronized (usedLock) {
            return needsInterruptLocked();
        }
    }

    private boolean needsInterruptLocked() {
        if (!ready || nextUsed == signalledUsed) {
            return false;
        }
        // Full fence: our used-index store must be visible before we read the driver's
        // suppression state, or we may read a stale used_event and lose a wake-up.
        VarHandle.fullFence();
        int old = signalledUsed;
        signalledUsed = nextUsed;
        if (eventIdx) {
            int usedEvent = Short.toUnsignedInt(memory.getShort(availAddr + 4 + 2L * size));
            return ((nextUsed - usedEvent - 1) & 0xFFFF) < ((nextUsed - old) & 0xFFFF);
        }
        return (memory.getShort(availAddr) & AVAIL_F_NO_INTERRUPT) == 0;
    }
}
