package org.jbhyve.devices.usb;

import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The producer side of the primary interrupter's Event Ring (xHCI 4.9.4): the xHC writes event
 * TRBs, software consumes them and reports its progress through ERDP.
 *
 * <p>The ring is described by the Event Ring Segment Table at ERSTBA with ERSTSZ entries of 16
 * bytes each ({@code u64 base} 64-byte aligned, {@code u32 size} in TRBs, 16 to 4096, {@code u32}
 * reserved). HCSPARAMS2.ERST Max is 0 here, as in bhyve: one segment, so only entry 0 is read.
 * Writing ERSTBA (re)starts the ring: enqueue at the segment's start, Producer Cycle State 1.
 *
 * <p>Each event is written with the PCS in its cycle bit; passing the segment's end wraps to
 * its start and inverts PCS, which is how software tells new events from old ones. The ring is
 * full when the slot after the enqueue pointer is the one software has not consumed yet (its
 * ERDP): then an Event Ring Full Error (a Host Controller Event) takes the last free slot and
 * further events are lost until software moves ERDP.
 *
 * <p>A segment table or segment outside RAM, a size out of range, or ERSTSZ 0 make the ring
 * unusable ({@link #usable} false); the controller then reports a host system error. Not
 * thread-safe: the controller's lock guards it.
 */
final class EventRing {
    static final int MIN_TRBS = 16, MAX_TRBS = 4096;

    private final GuestMemory memory;
    private long base;        // the segment, 0 when unusable
    private int size;         // TRBs in the segment
    private int enqueue;      // index of the next event slot
    private int dequeue;      // index software reports through ERDP
    private boolean cycle;    // producer cycle state
    private boolean full;     // the Event Ring Full Error is written; waiting for ERDP to move
    private int lost;

    EventRing(GuestMemory memory) {
        this.memory = memory;
    }

    /**
     * Reads the segment table (ERSTBA, ERSTSZ) and restarts the ring at segment 0. Returns
     * whether the ring is usable.
     */
    boolean configure(long erstba, int erstsz) {
        base = 0;
        size = 0;
        enqueue = 0;
        dequeue = 0;
        cycle = true;
        full = false;
        long table = erstba & ~0x3FL;
        if (erstsz == 0 || table == 0 || !memory.contains(table, 16)) {
            return false;
        }
        try {
            long segment = memory.getLong(table) & ~0x3FL;
            int trbs = memory.getInt(table + 8) & 0xFFFF;
            if (trbs < MIN_TRBS || trbs > MAX_TRBS || segment == 0
                    || !memory.contains(segment, (long) trbs * Trb.SIZE)) {
                return false;
            }
            base = segment;
            size = trbs;
            return true;
        } catch (GuestMemoryException e) {
            return false;
        }
    }

    /**
     * Snapshot layout: the segment (u64 base, 0 when unusable; u32 TRBs), the enqueue and
     * dequeue indices (u32), the producer cycle state and the full condition (bool). The segment
     * is saved as it was read from the segment table, which software may have rewritten since.
     */
    void save(StateWriter out) {
        out.i64(base).i32(size).i32(enqueue).i32(dequeue).bool(cycle).bool(full);
    }

    /** Restores what {@link #save} wrote; the segment must lie in RAM, the indices inside it. */
    void restore(StateReader in) {
        long savedBase = in.i64();
        int savedSize = in.i32();
        if (savedBase == 0 ? savedSize != 0
                : (savedBase & 0x3F) != 0 || savedSize < MIN_TRBS || savedSize > MAX_TRBS
                        || !memory.contains(savedBase, (long) savedSize * Trb.SIZE)) {
            throw in.invalid("the event ring segment 0x" + Long.toHexString(savedBase) + " of " + savedSize
                    + " TRBs is not usable");
        }
        int limit = savedBase == 0 ? MAX_TRBS : savedSize;   // an unusable ring keeps stale indices
        int savedEnqueue = in.intIn(0, limit - 1, "the event ring's enqueue index");
        int savedDequeue = in.intIn(0, limit - 1, "the event ring's dequeue index");
        base = savedBase;
        size = savedSize;
        enqueue = savedEnqueue;
        dequeue = savedDequeue;
        cycle = in.bool();
        full = in.bool();
    }

    /** Forgets the ring (controller reset). */
    void clear() {
        base = 0;
        size = 0;
        full = false;
    }

    boolean usable() {
        return base != 0;
    }

    /**
     * Software's dequeue pointer (ERDP bits 63:4). A pointer outside the segment is ignored for
     * the ring's bookkeeping (the guest's mistake; the ring may then look full).
     *
     * <p>A write while the ring is full ends the full condition. After the Event Ring Full Error
     * the enqueue pointer has caught up with the old dequeue pointer, so software that consumed
     * everything writes that same value back: the ring is then empty. (Software that writes
     * ERDP without consuming anything is indistinguishable from it, on hardware too.)
     */
    void dequeue(long erdp) {
        long pointer = erdp & ~0xFL;
        if (!usable() || pointer < base || pointer >= base + (long) size * Trb.SIZE) {
            return;
        }
        dequeue = (int) ((pointer - base) / Trb.SIZE);
        full = false;
    }

    /** Whether software has consumed every event written (its ERDP is at the enqueue pointer). */
    boolean empty() {
        return !full && enqueue == dequeue;
    }

    /** The guest address where the next event goes (for ERDP checks in tests and logs). */
    long enqueuePointer() {
        return base + (long) enqueue * Trb.SIZE;
    }

    /** Events dropped because the ring was full or unusable. */
    int lost() {
        return lost;
    }

    /**
     * Writes one event; {@code control} has no cycle bit, the ring adds PCS. Returns
     * {@link Post#WRITTEN}, {@link Post#FULL} when the ring just filled up (an Event Ring Full
     * Error was written instead; the caller should interrupt) or {@link Post#LOST}.
     */
    Post post(long parameter, int status, int control) {
        if (!usable() || full) {
            lost++;
            return Post.LOST;
        }
        int next = enqueue + 1 == size ? 0 : enqueue + 1;
        if (next == dequeue) {
            write(0, Trb.eventStatus(Trb.CC_EVENT_RING_FULL, 0), Trb.eventControl(Trb.HOST_CONTROLLER_EVENT, 0, 0));
            full = true;
            lost++;
            return Post.FULL;
        }
        write(parameter, status, control);
        return Post.WRITTEN;
    }

    /** What {@link #post} did with an event. */
    enum Post { WRITTEN, FULL, LOST }

    private void write(long parameter, int status, int control) {
        long at = enqueuePointer();
        // The cycle bit goes last, in its own store, so software never sees a half-written TRB
        // as valid.
        memory.putLong(at, parameter);
        memory.putInt(at + 8, status);
        java.lang.invoke.VarHandle.releaseFence();
        memory.putInt(at + 12, (control & ~Trb.CYCLE) | (cycle ? Trb.CYCLE : 0));
        enqueue++;
        if (enqueue == size) {
            enqueue = 0;
            cycle = !cycle;
        }
    }
}
