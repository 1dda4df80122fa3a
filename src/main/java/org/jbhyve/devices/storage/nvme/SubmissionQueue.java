package org.jbhyve.devices.storage.nvme;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A submission queue (NVMe 1.4, section 4.1): a ring of 64-byte commands in guest RAM. The host
 * writes commands at the tail and tells the controller through the queue's tail doorbell; the
 * controller fetches from the head and reports the head back in every completion entry.
 *
 * <p>Fetching is done by one thread at a time under {@link #lock}; a doorbell that finds another
 * thread fetching only sets {@link #kick} and returns, and the fetching thread looks again
 * before it leaves (see {@link CommandPump#drain}). Each queue is bound to one completion queue
 * for its whole life; a deleted or reset queue is {@link #dead} and fetches nothing more.
 */
final class SubmissionQueue {
    final int id;
    final long base;
    final int size;
    final CompletionQueue cq;
    final MemorySegment ring;
    /** Held while fetching commands. */
    final ReentrantLock lock = new ReentrantLock();
    /** Set by a doorbell that could not take the lock: fetch again. */
    final AtomicBoolean kick = new AtomicBoolean();
    /** The host's tail (doorbell value, already checked against the size). */
    volatile int tail;
    /** The controller's head: next entry to fetch. Written under {@link #lock}. */
    volatile int head;
    /** Deleted or reset; written under {@link #lock}. */
    volatile boolean dead;
    /** Queued on the controller's list of queues waiting for an I/O slot (guarded by that list's lock). */
    boolean waitingForSlot;

    SubmissionQueue(int id, long base, int size, CompletionQueue cq, MemorySegment ring) {
        this.id = id;
        this.base = base;
        this.size = size;
        this.cq = cq;
        this.ring = ring;
    }

    /** Whether commands are waiting to be fetched. */
    boolean hasWork() {
        return !dead && head != tail;
    }

    /** Marks the queue deleted, waiting for a fetch in progress on another thread to end. */
    void kill() {
        lock.lock();
        try {
            dead = true;
        } finally {
            lock.unlock();
        }
    }
}
