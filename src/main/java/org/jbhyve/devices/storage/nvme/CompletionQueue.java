package org.jbhyve.devices.storage.nvme;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jbhyve.snapshot.StateWriter;

/**
 * A completion queue (NVMe 1.4, section 4.6): a ring of 16-byte entries in guest RAM that the
 * controller fills at its tail and the host consumes from its head, reporting progress through
 * the queue's head doorbell.
 *
 * <pre>
 * dword 0  command specific     dword 1  reserved
 * dword 2  15:0 SQ head pointer, 31:16 SQ identifier
 * dword 3  15:0 command id, 16 phase tag, 31:17 status
 * </pre>
 * The phase tag starts at 1 and flips each time the tail wraps, so the host tells new entries
 * from old ones without reading a register. Entries are written dwords 0-2 first, then dword 3
 * behind a release fence, so the host never sees the new phase with stale contents.
 *
 * <p>Space is reserved when a command is fetched ({@link #tryReserve}) and used when it completes
 * ({@link #post}): a queue of N entries holds at most N-1, and a submission queue stops fetching
 * (and waits here) when its completion queue has no room, so completions never overwrite
 * unconsumed entries and never pile up in host memory.
 *
 * <p>Interrupts are coalesced per batch: every poster brackets its posts with {@link #begin} and
 * {@link #end}; the last one out of an overlapping group signals once for all of them.
 */
final class CompletionQueue {
    static final int ENTRY = 16;

    final int id;
    final long base;
    final int size;
    final boolean interrupts;
    final int vector;
    private final MemorySegment ring;
    private final AtomicInteger posters = new AtomicInteger();
    private final List<SubmissionQueue> waiters = new ArrayList<>();
    private int head;
    private int tail;
    private int used;          // entries posted but not consumed, plus reservations
    private boolean phase = true;
    private boolean unsignalled;
    private boolean dead;

    CompletionQueue(int id, long base, int size, boolean interrupts, int vector, MemorySegment ring) {
        this.id = id;
        this.base = base;
        this.size = size;
        this.interrupts = interrupts;
        this.vector = vector;
        this.ring = ring;
    }

    /** Reserves room for one completion; if there is none, remembers {@code waiter} and returns false. */
    synchronized boolean tryReserve(SubmissionQueue waiter) {
        if (dead) {
            return false;
        }
        if (used < size - 1) {
            used++;
            return true;
        }
        if (waiter != null && !waiters.contains(waiter)) {
            waiters.add(waiter);
        }
        return false;
    }

    /** Gives back a reservation that will not be used. */
    synchronized void unreserve() {
        if (used > 0) {
            used--;
        }
    }

    /**
     * Writes a completion into a reserved slot; false (nothing written) if the queue was deleted
     * or reset meanwhile.
     */
    synchronized boolean post(int cdw0, int sqHead, int sqId, int cid, int status) {
        if (dead) {
            return false;
        }
        long at = (long) tail * ENTRY;
        ring.set(JAVA_INT_UNALIGNED, at, cdw0);
        ring.set(JAVA_INT_UNALIGNED, at + 4, 0);
        ring.set(JAVA_INT_UNALIGNED, at + 8, (sqHead & 0xFFFF) | sqId << 16);
        VarHandle.releaseFence(); // the entry's body is visible before its phase tag says it is new
        ring.set(JAVA_INT_UNALIGNED, at + 12, (cid & 0xFFFF) | (NvmeStatus.field(status) | (phase ? 1 : 0)) << 16);
        if (++tail == size) {
            tail = 0;
            phase = !phase;
        }
        unsignalled = true;
        return true;
    }

    /** Starts a batch of posts. */
    void begin() {
        posters.incrementAndGet();
    }

    /** Ends a batch; true if the caller is the last poster and entries were posted since the last signal. */
    boolean end() {
        if (posters.decrementAndGet() != 0) {
            return false;
        }
        synchronized (this) {
            boolean signal = unsignalled && !dead;
            unsignalled = false;
            return signal;
        }
    }

    /**
     * The host consumed entries up to {@code value}. Returns the submission queues that waited
     * for room (to be resumed), or null if the value is not a slot between head and tail (an
     * invalid doorbell write value, which changes nothing).
     */
    synchronized List<SubmissionQueue> updateHead(int value) {
        if (value < 0 || value >= size) {
            return null;
        }
        int occupied = Math.floorMod(tail - head, size);
        int consumed = Math.floorMod(value - head, size);
        if (consumed > occupied) {
            return null;
        }
        head = value;
        used -= consumed;
        if (waiters.isEmpty() || consumed == 0) {
            return List.of();
        }
        List<SubmissionQueue> resume = new ArrayList<>(waiters);
        waiters.clear();
        return resume;
    }

    /** Whether posted entries are waiting for the host (drives the INTx level). */
    synchronized boolean hasEntries() {
        return !dead && head != tail;
    }

    /** Whether nothing is posted and nothing is reserved (a condition for deleting the queue). */
    synchronized boolean idle() {
        return used == 0 && head == tail;
    }

    /** Deletes the queue: later posts are dropped. */
    synchronized void kill() {
        dead = true;
        waiters.clear();
    }

    synchronized boolean dead() {
        return dead;
    }

    synchronized int head() {
        return head;
    }

    synchronized int tail() {
        return tail;
    }

    /** Snapshot: i32 head, i32 tail, bool phase (the entries themselves are in guest RAM). */
    synchronized void savePosition(StateWriter out) {
        out.i32(head).i32(tail).bool(phase);
    }

    /**
     * Puts a new queue where a snapshot had it (head and tail already checked against the size):
     * the posted entries count as used; reservations of held requests are added with
     * {@link #tryReserve}.
     */
    synchronized void restorePosition(int head, int tail, boolean phase) {
        this.head = head;
        this.tail = tail;
        this.phase = phase;
        this.used = Math.floorMod(tail - head, size);
    }
}
