package org.jbhyve.devices.usb;

import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * One enabled endpoint of a device slot (xHCI 4.8.3): its Device Context Index, type, state and
 * transfer ring. The Endpoint Context in the output Device Context mirrors the state; on every
 * state change the controller writes it back with the ring's dequeue pointer and cycle state
 * (software reads them after Stop Endpoint or a halt to know where the controller stopped).
 *
 * <pre>
 * Running --doorbell--&gt; serves TDs     Running --STALL/TRB error--&gt; Halted
 * Halted  --Reset Endpoint--&gt; Stopped   Running --Stop Endpoint--&gt; Stopped
 * Stopped --Set TR Dequeue Pointer--&gt; Stopped (ring moved)   Stopped --doorbell--&gt; Running
 * </pre>
 * Not thread-safe: the controller's lock guards it.
 */
final class Endpoint {
    private final GuestMemory memory;
    private final int slotId;
    private final int dci;
    private final long context;
    private final int type;
    private final TrbRing ring;
    private int state;

    /**
     * The endpoint {@code dci} of slot {@code slotId}, started from its Endpoint Context at
     * {@code context} in the output Device Context (type, dequeue pointer, cycle state), Running.
     */
    Endpoint(GuestMemory memory, int slotId, int dci, long context) {
        this.memory = memory;
        this.slotId = slotId;
        this.dci = dci;
        this.context = context;
        this.type = Contexts.endpointType(memory, context);
        this.ring = new TrbRing(memory);
        long dequeue = Contexts.dequeue(memory, context);
        ring.set(dequeue, (dequeue & 1) != 0);
        setState(Contexts.EP_RUNNING);
    }

    /** An endpoint as a snapshot had it; its Endpoint Context comes back with guest RAM. */
    private Endpoint(GuestMemory memory, int slotId, int dci, long context, int type, int state) {
        this.memory = memory;
        this.slotId = slotId;
        this.dci = dci;
        this.context = context;
        this.type = type;
        this.ring = new TrbRing(memory);
        this.state = state;
    }

    /** Snapshot layout: the endpoint type and state (u8), then the transfer ring ({@link TrbRing#save}). */
    void save(StateWriter out) {
        out.u8(type).u8(state);
        ring.save(out);
    }

    /** The endpoint {@link #save} wrote, for DCI {@code dci} of slot {@code slotId} with its context at {@code context}. */
    static Endpoint restore(StateReader in, GuestMemory memory, int slotId, int dci, long context) {
        int type = in.u8();
        int state = in.u8();
        if (type > 7 || state < Contexts.EP_RUNNING || state > Contexts.EP_ERROR) {
            throw in.invalid("endpoint " + dci + " of slot " + slotId + " has type " + type + ", state " + state);
        }
        Endpoint ep = new Endpoint(memory, slotId, dci, context, type, state);
        ep.ring.restore(in);
        return ep;
    }

    int slotId() {
        return slotId;
    }

    int dci() {
        return dci;
    }

    /** The USB endpoint number (DCI 1 is endpoint 0; DCI 2n and 2n+1 are endpoint n OUT and IN). */
    int number() {
        return dci / 2;
    }

    /** Whether data flows device to host (odd DCIs above 1). */
    boolean in() {
        return dci > 1 && (dci & 1) == 1;
    }

    /** The default control endpoint, whose TDs are Setup/Data/Status stages. */
    boolean control() {
        return dci == 1;
    }

    int type() {
        return type;
    }

    int state() {
        return state;
    }

    TrbRing ring() {
        return ring;
    }

    /** Changes state and mirrors it (with the dequeue pointer) into the output Endpoint Context. */
    void setState(int state) {
        this.state = state;
        try {
            Contexts.setEndpointState(memory, context, state);
            Contexts.setDequeue(memory, context, ring.dequeue(), ring.cycle());
        } catch (GuestMemoryException e) {
            // The guest moved its Device Context out of RAM; the endpoint state lives on here.
        }
    }

    /** Set TR Dequeue Pointer: the ring restarts at {@code pointer} with cycle state {@code cycle}. */
    void moveDequeue(long pointer, boolean cycle) {
        ring.set(pointer, cycle);
        setState(state);
    }

    /** Halts after a STALL or TRB error; the ring is left at {@code td}, the failed TD's start. */
    void halt(TrbRing td) {
        ring.set(td);
        setState(Contexts.EP_HALTED);
    }

    /** Marks the endpoint disabled in the output context (Configure Endpoint drop, Disable Slot). */
    void disable() {
        setState(Contexts.EP_DISABLED);
    }
}
