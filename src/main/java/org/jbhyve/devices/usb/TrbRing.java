package org.jbhyve.devices.usb;

import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The consumer side of a TRB ring (xHCI 4.9.2): the command ring and every transfer ring. Its
 * state is the Dequeue Pointer and the Consumer Cycle State (CCS); the ring itself lives in
 * guest memory as one or more segments joined by Link TRBs.
 *
 * <p>{@link #next} returns the TRB at the dequeue pointer if the xHC owns it (its cycle bit
 * equals CCS) and steps past it. Link TRBs are followed on the way, toggling CCS when their
 * Toggle Cycle flag is set, and never returned. Transfer descriptors are collected on a
 * {@link #copy} and committed with {@link #set} once complete, so a TD the device cannot serve
 * yet (a NAK) stays where it is.
 *
 * <p>A hostile guest may point the ring outside RAM or link segments into a loop of Link TRBs;
 * both end in a {@link RingException} naming the address, never in a host exception or an
 * endless walk. Not thread-safe: the controller's lock guards it.
 */
final class TrbRing {
    /** Link TRBs followed in a row before the ring is declared a loop. */
    static final int MAX_LINKS = 16;

    private final GuestMemory memory;
    private long dequeue;
    private boolean cycle;

    TrbRing(GuestMemory memory) {
        this.memory = memory;
    }

    /** The ring's structure is unusable: TRB pointer outside RAM, or a loop of Link TRBs. */
    static final class RingException extends Exception {
        private final long address;

        RingException(String message, long address) {
            super(message, null, false, false);
            this.address = address;
        }

        /** The TRB address that could not be used. */
        long address() {
            return address;
        }
    }

    /** Points the ring at {@code pointer} (16-byte aligned: low bits dropped) with cycle state {@code ccs}. */
    void set(long pointer, boolean ccs) {
        this.dequeue = pointer & ~0xFL;
        this.cycle = ccs;
    }

    /** Takes over another cursor's position, e.g. a look-ahead copy after a whole TD was served. */
    void set(TrbRing other) {
        this.dequeue = other.dequeue;
        this.cycle = other.cycle;
    }

    /** Snapshot layout: the dequeue pointer (u64, 16-byte aligned), the consumer cycle state (bool). */
    void save(StateWriter out) {
        out.i64(dequeue).bool(cycle);
    }

    void restore(StateReader in) {
        long pointer = in.i64();
        if ((pointer & 0xF) != 0) {
            throw in.invalid("a TRB ring's dequeue pointer 0x" + Long.toHexString(pointer) + " is not 16-byte aligned");
        }
        set(pointer, in.bool());
    }

    TrbRing copy() {
        TrbRing c = new TrbRing(memory);
        c.set(this);
        return c;
    }

    long dequeue() {
        return dequeue;
    }

    boolean cycle() {
        return cycle;
    }

    /**
     * The next TRB the xHC owns, stepping past it (and past the Link TRBs before it); null when
     * the TRB at the dequeue pointer still belongs to software (the ring is empty there).
     */
    Trb next() throws RingException {
        for (int links = 0; links <= MAX_LINKS; links++) {
            Trb trb;
            try {
                trb = Trb.read(memory, dequeue);
            } catch (GuestMemoryException e) {
                throw new RingException("TRB pointer is not RAM", dequeue);
            }
            if (trb.cycle() != cycle) {
                return null;
            }
            if (trb.type() != Trb.LINK) {
                dequeue += Trb.SIZE;
                return trb;
            }
            if (trb.has(Trb.TOGGLE_CYCLE)) {
                cycle = !cycle;
            }
            dequeue = trb.parameter() & ~0xFL;
        }
        throw new RingException("ring is a loop of Link TRBs", dequeue);
    }
}
