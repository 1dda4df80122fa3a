package org.jbhyve.devices.usb;

import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The Command Ring and its control register CRCR (xHCI 4.6.1, 5.4.5):
 *
 * <pre>
 * bit 0 RCS   ring cycle state: the consumer cycle state the ring starts with
 * bit 1 CS    command stop: a running ring stops after the current command
 * bit 2 CA    command abort: as CS, aborting the current command
 * bit 3 CRR   command ring running (read-only; the only field that reads back)
 * 63:6        the ring's dequeue pointer
 * </pre>
 * Doorbell 0 starts the ring (CRR = 1) and the commands on it run at once, each answered by a
 * Command Completion Event; pointer and RCS can only be written while CRR is 0. Stopping or
 * aborting a running ring answers with a Command Ring Stopped completion naming the next
 * command's address; the ring resumes there on the next doorbell.
 *
 * <p>Drivers write CRCR as a whole (low dword first). The high dword that follows a stop or
 * abort is ignored: older Linux writes the abort with a zero pointer, which must not move the
 * ring. At most {@link #MAX_COMMANDS} commands run per doorbell, so a ring linked onto itself
 * cannot hold a vCPU; a ring outside RAM or a loop of Link TRBs completes with TRB Error at the
 * bad address and stops the ring. Not thread-safe: the controller's lock guards it.
 */
final class CommandRing {
    static final int RCS = 1, CS = 1 << 1, CA = 1 << 2, CRR = 1 << 3;
    static final int MAX_COMMANDS = 256;

    private final TrbRing ring;
    private final Commands commands;
    private final EventSink events;
    private long crcr;
    private boolean running;
    private boolean ignoreHigh;

    CommandRing(TrbRing ring, Commands commands, EventSink events) {
        this.ring = ring;
        this.commands = commands;
        this.events = events;
    }

    void reset() {
        crcr = 0;
        running = false;
        ignoreHigh = false;
        ring.set(0, false);
    }

    /**
     * Snapshot layout: CRCR as last written (u64), CRR and whether the next high-dword write is
     * ignored (bool), then the ring position and cycle state ({@link TrbRing#save}).
     */
    void save(StateWriter out) {
        out.i64(crcr).bool(running).bool(ignoreHigh);
        ring.save(out);
    }

    void restore(StateReader in) {
        crcr = in.i64();
        running = in.bool();
        ignoreHigh = in.bool();
        ring.restore(in);
    }

    /** The controller halted: the ring is no longer running. */
    void halted() {
        running = false;
    }

    int readLow() {
        return running ? CRR : 0;
    }

    void writeLow(int value) {
        if ((value & (CS | CA)) != 0) {
            ignoreHigh = true;
            if (running) {
                running = false;
                events.post(ring.dequeue(), Trb.eventStatus(Trb.CC_COMMAND_RING_STOPPED, 0),
                        Trb.eventControl(Trb.COMMAND_COMPLETION, 0, 0), true);
            }
            return;
        }
        if (!running) {
            crcr = (crcr & 0xFFFFFFFF00000000L) | (value & 0xFFFFFFC0L) | (value & RCS);
            ring.set(crcr & ~0x3FL, (crcr & RCS) != 0);
            ignoreHigh = false;
        }
    }

    void writeHigh(int value) {
        if (!running && !ignoreHigh) {
            crcr = (crcr & 0xFFFFFFFFL) | (long) value << 32;
            ring.set(crcr & ~0x3FL, (crcr & RCS) != 0);
        }
        ignoreHigh = false;
    }

    /**
     * Doorbell 0: runs the commands software has handed over, while {@code controllerRunning}
     * holds (an event that cannot be written halts the controller).
     */
    void run(java.util.function.BooleanSupplier controllerRunning) {
        running = true;
        for (int n = 0; n < MAX_COMMANDS && running && controllerRunning.getAsBoolean(); n++) {
            Trb trb;
            try {
                trb = ring.next();
            } catch (TrbRing.RingException e) {
                running = false;
                events.post(e.address(), Trb.eventStatus(Trb.CC_TRB, 0), Trb.eventControl(Trb.COMMAND_COMPLETION, 0, 0),
                        true);
                return;
            }
            if (trb == null) {
                return;
            }
            Commands.Completion c = commands.execute(trb);
            events.post(trb.address(), Trb.eventStatus(c.code(), 0),
                    Trb.eventControl(Trb.COMMAND_COMPLETION, c.slot(), 0), true);
        }
    }
}
