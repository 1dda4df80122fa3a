package org.jbhyve.devices.usb;

import org.jbhyve.memory.GuestMemory;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * Interrupter 0 (xHCI 4.17, 5.5.2), the only one (HCSPARAMS1.MaxIntrs = 1, as in bhyve): its
 * event ring and the register set at runtime offset 0x20:
 *
 * <pre>
 * 0x00 IMAN    bit 0 IP interrupt pending (write 1 to clear), bit 1 IE interrupt enable
 * 0x04 IMOD    interval (15:0) and counter (31:16); kept, not timed: interrupts are immediate
 * 0x08 ERSTSZ  segment table entries (15:0)
 * 0x10 ERSTBA  segment table address (63:6); writing it restarts the event ring
 * 0x18 ERDP    dequeue pointer (63:4), bit 3 EHB event handler busy (write 1 to clear),
 *              bits 2:0 DESI (segment index, kept)
 * </pre>
 * An event that asks for an interrupt sets IP and EHB, unless EHB is already set: software is
 * still handling the previous interrupt, and the request waits. When software clears EHB (in
 * the same write that moves ERDP past what it consumed) while events are left in the ring or a
 * request waited, IP is set again, so an event that raced the handler is never stranded.
 *
 * <p>How IP reaches the CPU is the controller's business ({@code onPending}): with MSI the
 * message goes out and IP clears itself (4.17.5); with INTx the pin follows IP &amp; IE.
 * Not thread-safe: the controller's lock guards it.
 */
final class Interrupter {
    static final int BASE = 0x20;
    static final int IMAN = 0x00, IMOD = 0x04, ERSTSZ = 0x08, ERSTBA_LO = 0x10, ERSTBA_HI = 0x14;
    static final int ERDP_LO = 0x18, ERDP_HI = 0x1C;
    static final int IMAN_IP = 1, IMAN_IE = 2;
    static final int ERDP_EHB = 1 << 3, ERDP_DESI = 0x7;
    static final int IMOD_DEFAULT = 4000;          // 1 ms in 250 ns units (5.5.2.2)

    private final EventRing ring;
    private final Runnable onPending;
    private int iman;
    private int imod;
    private int erstsz;
    private long erstba;
    private long erdp;
    private boolean waiting;

    /** {@code onPending} is called (under the controller's lock) whenever IP or IE may have changed. */
    Interrupter(GuestMemory memory, Runnable onPending) {
        this.ring = new EventRing(memory);
        this.onPending = onPending;
        reset();
    }

    void reset() {
        iman = 0;
        imod = IMOD_DEFAULT;
        erstsz = 0;
        erstba = 0;
        erdp = 0;
        waiting = false;
        ring.clear();
    }

    EventRing ring() {
        return ring;
    }

    boolean pending() {
        return (iman & IMAN_IP) != 0;
    }

    boolean enabled() {
        return (iman & IMAN_IE) != 0;
    }

    /** IP is cleared by the delivery of an MSI (4.17.5). */
    void delivered() {
        iman &= ~IMAN_IP;
    }

    /**
     * Snapshot layout: IMAN, IMOD, ERSTSZ (u32), ERSTBA, ERDP (u64), whether an interrupt request
     * waits for EHB to clear (bool), then the event ring ({@link EventRing#save}).
     */
    void save(StateWriter out) {
        out.i32(iman).i32(imod).i32(erstsz).i64(erstba).i64(erdp).bool(waiting);
        ring.save(out);
    }

    /** Restores what {@link #save} wrote, without raising anything: the controller re-drives its lines. */
    void restore(StateReader in) {
        int savedIman = in.i32();
        if ((savedIman & ~(IMAN_IP | IMAN_IE)) != 0) {
            throw in.invalid("IMAN is 0x" + Integer.toHexString(savedIman));
        }
        int savedImod = in.i32();
        int savedErstsz = in.intIn(0, 0xFFFF, "ERSTSZ");
        long savedErstba = in.i64();
        if ((savedErstba & 0x3F) != 0) {
            throw in.invalid("ERSTBA 0x" + Long.toHexString(savedErstba) + " is not 64-byte aligned");
        }
        long savedErdp = in.i64();
        boolean savedWaiting = in.bool();
        ring.restore(in);
        iman = savedIman;
        imod = savedImod;
        erstsz = savedErstsz;
        erstba = savedErstba;
        erdp = savedErdp;
        waiting = savedWaiting;
    }

    int read(int offset) {
        return switch (offset) {
            case IMAN -> iman;
            case IMOD -> imod;
            case ERSTSZ -> erstsz;
            case ERSTBA_LO -> (int) erstba;
            case ERSTBA_HI -> (int) (erstba >>> 32);
            case ERDP_LO -> (int) erdp;
            case ERDP_HI -> (int) (erdp >>> 32);
            default -> 0;
        };
    }

    void write(int offset, int value) {
        switch (offset) {
            case IMAN -> {
                iman = (iman & ~IMAN_IE) | (value & IMAN_IE);
                if ((value & IMAN_IP) != 0) {
                    iman &= ~IMAN_IP;
                }
                onPending.run();
            }
            case IMOD -> imod = value;
            case ERSTSZ -> {
                erstsz = value & 0xFFFF;
                if (!ring.usable() && erstba != 0) {
                    ring.configure(erstba, erstsz);          // tolerate ERSTSZ written after ERSTBA
                }
            }
            case ERSTBA_LO -> {
                erstba = (erstba & 0xFFFFFFFF00000000L) | (Integer.toUnsignedLong(value) & ~0x3FL);
                ring.configure(erstba, erstsz);
            }
            case ERSTBA_HI -> {
                erstba = (erstba & 0xFFFFFFFFL) | (long) value << 32;
                ring.configure(erstba, erstsz);
            }
            case ERDP_LO -> {
                long ehb = erdp & ERDP_EHB;
                erdp = (erdp & 0xFFFFFFFF00000000L) | (Integer.toUnsignedLong(value) & ~(long) ERDP_EHB) | ehb;
                ring.dequeue(erdp);
                if ((value & ERDP_EHB) != 0 && ehb != 0) {
                    erdp &= ~ERDP_EHB;
                    if (waiting || !ring.empty()) {
                        request();
                    }
                }
            }
            case ERDP_HI -> {
                erdp = (erdp & 0xFFFFFFFFL) | (long) value << 32;
                ring.dequeue(erdp);
            }
            default -> { }
        }
    }

    /**
     * Writes an event and, if {@code interrupt}, asks for an interrupt. Returns what the ring did
     * with it; an Event Ring Full Error always interrupts.
     */
    EventRing.Post post(long parameter, int status, int control, boolean interrupt) {
        EventRing.Post p = ring.post(parameter, status, control);
        if (p == EventRing.Post.FULL || (p == EventRing.Post.WRITTEN && interrupt)) {
            request();
        }
        return p;
    }

    /** Sets IP (and EHB) now, or remembers the request while the handler is busy. */
    private void request() {
        if ((erdp & ERDP_EHB) != 0) {
            waiting = true;
            return;
        }
        waiting = false;
        erdp |= ERDP_EHB;
        iman |= IMAN_IP;
        onPending.run();
    }
}
