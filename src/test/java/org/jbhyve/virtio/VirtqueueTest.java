package org.jbhyve.virtio;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class VirtqueueTest {
    private final MockGuest guest = new MockGuest(1 << 20);
    private final MockQueue mq = new MockQueue(guest, 8);
    private final Virtqueue q = new Virtqueue(guest.memory, 0, 8);

    @AfterEach
    void close() {
        guest.close();
    }

    private void enable(boolean eventIdx) {
        q.setAddresses(mq.desc, mq.avail, mq.used);
        q.enable(eventIdx);
    }

    @Test
    void chainIsReadableThenWritableWithLengths() {
        enable(false);
        int head = mq.add(new MockQueue.Buf(0x10000, 16, false), new MockQueue.Buf(0x20000, 512, true),
                new MockQueue.Buf(0x30000, 1, true));
        DescriptorChain c = q.pop();
        assertEquals(head, c.head());
        assertEquals(3, c.count());
        assertEquals(1, c.readableCount());
        assertEquals(513, c.writableBytes());
        assertNull(q.pop());
    }

    @Test
    void loopIsDetected() {
        enable(false);
        mq.writeDescriptor(0, 0x10000, 4, Virtqueue.F_NEXT, 1);
        mq.writeDescriptor(1, 0x10000, 4, Virtqueue.F_NEXT, 0);
        mq.publish(0);
        assertThrows(VirtqueueException.class, q::pop);
        assertFalse(q.isReady(), "a broken queue stops");
    }

    @Test
    void indirectTableIsFlattenedAndNestingRefused() {
        enable(false);
        long table = guest.alloc(48, 16);
        put(table, 0, 0x10000, 16, Virtqueue.F_NEXT, 1);
        put(table, 1, 0x20000, 32, Virtqueue.F_NEXT | Virtqueue.F_WRITE, 2);
        put(table, 2, 0x30000, 1, Virtqueue.F_WRITE, 0);
        mq.writeDescriptor(3, table, 48, Virtqueue.F_INDIRECT, 0);
        mq.publish(3);
        DescriptorChain c = q.pop();
        assertEquals(3, c.head());
        assertEquals(3, c.count());
        assertEquals(33, c.writableBytes());
        put(table, 0, table, 48, Virtqueue.F_INDIRECT, 0);
        mq.publish(3);
        assertThrows(VirtqueueException.class, q::pop);
    }

    @Test
    void readableAfterWritableIsRefused() {
        enable(false);
        mq.add(new MockQueue.Buf(0x20000, 4, true), new MockQueue.Buf(0x10000, 4, false));
        assertThrows(VirtqueueException.class, q::pop);
    }

    @Test
    void bufferOutsideRamIsRefused() {
        enable(false);
        mq.add(new MockQueue.Buf((1 << 20) - 2, 4, false));
        assertThrows(VirtqueueException.class, q::pop);
    }

    @Test
    void availIndexJumpingPastTheQueueSizeIsRefused() {
        enable(false);
        guest.memory.putShort(mq.avail + 2, (short) 9);
        assertThrows(VirtqueueException.class, q::pop);
    }

    @Test
    void eventIdxSuppressesInterruptsUntilUsedEventIsPassed() {
        enable(true);
        for (int i = 0; i < 3; i++) {
            mq.add(new MockQueue.Buf(0x10000, 4, false));
        }
        mq.setUsedEvent(1); // interrupt me once used idx passes 1, i.e. reaches 2
        q.addUsed(q.pop().head(), 0);
        assertFalse(q.needsInterrupt());
        q.addUsed(q.pop().head(), 0);
        assertTrue(q.needsInterrupt());
        q.addUsed(q.pop().head(), 0);
        assertFalse(q.needsInterrupt());
        assertNull(q.pop());
        assertEquals(3, mq.availEvent(), "avail_event re-armed at the last seen index");
    }

    @Test
    void batchedUsedEntriesArePublishedInOrderWithOneIndexUpdate() {
        enable(true);
        int[] heads = new int[5];
        for (int i = 0; i < 5; i++) {
            mq.add(new MockQueue.Buf(0x10000 + 0x1000L * i, 64, true));
        }
        for (int i = 0; i < 5; i++) {
            heads[i] = q.pop().head();
        }
        mq.setUsedEvent(3); // interrupt once the used index passes 3
        q.addUsed(heads, new int[] {10, 11, 12, 13, 14}, 3);
        assertEquals(3, mq.usedIndex(), "first batch published");
        assertFalse(q.needsInterrupt(), "used_event 3 not passed yet");
        q.addUsed(new int[] {heads[3], heads[4]}, new int[] {13, 14}, 2);
        assertEquals(5, mq.usedIndex());
        assertTrue(q.needsInterrupt(), "the second batch crossed used_event");
        for (int i = 0; i < 5; i++) {
            MockQueue.Used u = mq.poll();
            assertEquals(heads[i], u.head(), "entries in completion order");
            assertEquals(10 + i, u.length());
        }
        assertNull(mq.poll());
        q.addUsed(heads, new int[5], 0);
        assertEquals(5, mq.usedIndex(), "an empty batch publishes nothing");
    }

    @Test
    void noInterruptFlagIsHonouredWithoutEventIdx() {
        enable(false);
        mq.add(new MockQueue.Buf(0x10000, 4, false));
        mq.setNoInterrupt(true);
        q.addUsed(q.pop().head(), 0);
        assertFalse(q.needsInterrupt());
    }

    private void put(long table, int i, long addr, int len, int flags, int next) {
        long d = table + 16L * i;
        guest.memory.putLong(d, addr);
        guest.memory.putInt(d + 8, len);
        guest.memory.putShort(d + 12, (short) flags);
        guest.memory.putShort(d + 14, (short) next);
    }
}
