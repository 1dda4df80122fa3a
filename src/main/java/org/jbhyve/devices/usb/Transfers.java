package org.jbhyve.devices.usb;

import java.util.ArrayList;
import java.util.List;
import org.jbhyve.memory.GuestMemory;

/**
 * Serves transfer rings (xHCI 4.11.2): turns Transfer Descriptors into USB transactions on the
 * attached device and their outcome into Transfer Events.
 *
 * <p><b>Control transfers</b> (the default endpoint, DCI 1) are three TDs in a row: a Setup
 * Stage TRB (IDT set, length 8, the SETUP packet in its parameter); optionally a Data Stage
 * TRB, with DIR for IN, chained to further Normal and Event Data TRBs; and a Status Stage TRB,
 * optionally chained to an Event Data TRB. The whole transfer is collected before the device
 * sees it. <b>Interrupt and bulk transfers</b> are one TD of Normal TRBs (CHAIN set on all but
 * the last) and Event Data TRBs. A No-Op TRB is a TD of its own.
 *
 * <p><b>Events</b> (4.10.1, in the form QEMU's xHCI gives them, which Linux, FreeBSD and
 * Windows drivers accept): a TRB with IOC, or with ISP when the data ended short in it, yields a
 * Transfer Event whose length is that TRB's residual (bytes not transferred) and whose code is
 * Success or Short Packet; once a stage has reported, its later TRBs stay silent, except Event
 * Data TRBs with IOC, whose event carries the software-given parameter (ED set) and the bytes
 * transferred since the previous Event Data TRB. BEI on a Normal or Event Data TRB writes the
 * event without interrupting. Link TRBs are followed without an event even when they carry IOC,
 * as in QEMU (FreeBSD, which puts IOC on the Link TRB closing each TD, takes the event of the
 * TRB before it just as well).
 *
 * <p><b>Failures</b>: a STALL, a TRB of the wrong type or a buffer outside RAM report Stall or
 * TRB Error on the first TRB concerned and halt the endpoint with its dequeue pointer at the
 * failed TD, which is where Reset Endpoint and Set TR Dequeue Pointer take over. A NAK leaves
 * the TD in place untouched, to be retried when the device has data. At most {@link #MAX_TDS}
 * TDs are served per doorbell, so a ring that links back onto itself cannot hold a vCPU.
 */
final class Transfers {
    static final int MAX_TDS = 256, MAX_TD_TRBS = 64;

    private enum Outcome { DONE, NAK, FAILED }

    /** A TD that breaks the rules; {@code trb} is where the Transfer Event points. */
    private static final class BadTd extends Exception {
        final long trb;

        BadTd(long trb) {
            super(null, null, false, false);
            this.trb = trb;
        }
    }

    private final GuestMemory memory;
    private final EventSink events;

    Transfers(GuestMemory memory, EventSink events) {
        this.memory = memory;
        this.events = events;
    }

    /**
     * Serves {@code ep}'s TDs while it is Running, until its ring is empty, the device NAKs or a
     * failure halts it. {@code device} is null when no device answers on the port.
     */
    void run(Endpoint ep, UsbDevice device) {
        for (int n = 0; n < MAX_TDS && ep.state() == Contexts.EP_RUNNING; n++) {
            TrbRing start = ep.ring().copy();
            TrbRing look = ep.ring().copy();
            List<Trb> trbs;
            try {
                trbs = ep.control() ? collectControl(look) : collect(look, new ArrayList<>(), false);
            } catch (TrbRing.RingException e) {
                event(ep, e.address(), Trb.CC_TRB, 0, 0);
                ep.halt(start);
                return;
            } catch (BadTd e) {
                event(ep, e.trb, Trb.CC_TRB, 0, 0);
                ep.halt(start);
                return;
            }
            if (trbs == null) {
                return;                     // software has not finished writing the TD
            }
            Outcome o = execute(ep, device, trbs);
            if (o == Outcome.NAK) {
                return;
            }
            if (o == Outcome.FAILED) {
                ep.halt(start);
                return;
            }
            ep.ring().set(look);
        }
    }

    /** Collects TRBs up to the one without CHAIN; null if software still owns one of them. */
    private static List<Trb> collect(TrbRing look, List<Trb> into, boolean more) throws TrbRing.RingException, BadTd {
        boolean chained = more;
        do {
            if (into.size() >= MAX_TD_TRBS) {
                throw new BadTd(into.getLast().address());
            }
            Trb t = look.next();
            if (t == null) {
                return null;
            }
            into.add(t);
            if (into.size() == 1 && t.type() == Trb.NOOP_TRANSFER) {
                return into;
            }
            if (t.type() != Trb.NORMAL && t.type() != Trb.EVENT_DATA) {
                throw new BadTd(t.address());
            }
            chained = t.has(Trb.CHAIN);
        } while (chained);
        return into;
    }

    /** Setup, optional Data (with its chain), Status (with its chain); null if incomplete. */
    private static List<Trb> collectControl(TrbRing look) throws TrbRing.RingException, BadTd {
        List<Trb> trbs = new ArrayList<>();
        Trb setup = look.next();
        if (setup == null) {
            return null;
        }
        trbs.add(setup);
        if (setup.type() == Trb.NOOP_TRANSFER) {
            return trbs;
        }
        if (setup.type() != Trb.SETUP_STAGE || !setup.has(Trb.IDT) || setup.transferLength() != 8) {
            throw new BadTd(setup.address());
        }
        Trb t = look.next();
        if (t == null) {
            return null;
        }
        if (t.type() == Trb.DATA_STAGE) {
            trbs.add(t);
            if (t.has(Trb.CHAIN) && collect(look, trbs, true) == null) {
                return null;
            }
            t = look.next();
            if (t == null) {
                return null;
            }
        }
        if (t.type() != Trb.STATUS_STAGE) {
            throw new BadTd(t.address());
        }
        trbs.add(t);
        if (t.has(Trb.CHAIN)) {
            int before = trbs.size();
            if (collect(look, trbs, true) == null) {
                return null;
            }
            for (Trb e : trbs.subList(before, trbs.size())) {
                if (e.type() != Trb.EVENT_DATA) {
                    throw new BadTd(e.address());
                }
            }
        }
        return trbs;
    }

    private Outcome execute(Endpoint ep, UsbDevice device, List<Trb> trbs) {
        if (trbs.size() == 1 && trbs.getFirst().type() == Trb.NOOP_TRANSFER) {
            report(ep, trbs, 0, Trb.CC_SUCCESS);
            return Outcome.DONE;
        }
        SetupPacket setup = ep.control() ? SetupPacket.of(trbs.getFirst().parameter()) : null;
        boolean in = setup != null ? setup.in() : ep.in();
        List<Trb> data = trbs.stream().filter(Trb::isData).toList();
        int capacity = 0;
        for (Trb t : data) {
            int len = t.transferLength();
            boolean bad = t.has(Trb.IDT) ? in || len > 8 : len > 0 && !memory.contains(t.parameter(), len);
            if (bad) {
                event(ep, t.address(), Trb.CC_TRB, len, 0);
                return Outcome.FAILED;
            }
            capacity += len;
        }
        if (device == null) {
            report(ep, trbs, 0, Trb.CC_TRANSACTION);
            return Outcome.FAILED;
        }
        UsbResponse r;
        if (setup != null) {
            r = device.control(setup, in ? new byte[0] : gather(data, Math.min(capacity, setup.length())));
        } else {
            r = in ? device.in(ep.number(), capacity) : UsbResponse.STALL;   // no OUT endpoints here
        }
        switch (r.status()) {
            case NAK -> {
                return Outcome.NAK;
            }
            case STALL -> {
                report(ep, trbs, 0, Trb.CC_STALL);
                return Outcome.FAILED;
            }
            default -> { }
        }
        int actual = capacity;
        int code = Trb.CC_SUCCESS;
        if (in) {
            actual = Math.min(r.data().length, capacity);
            scatter(data, r.data(), actual);
            if (r.data().length > capacity) {
                code = Trb.CC_BABBLE;      // the device sent more than the TD holds
            }
        }
        report(ep, trbs, actual, code);
        return code == Trb.CC_SUCCESS ? Outcome.DONE : Outcome.FAILED;
    }

    /**
     * The first {@code length} OUT bytes of the data TRBs (a device takes at most wLength);
     * immediate data comes from a TRB's parameter itself.
     */
    private byte[] gather(List<Trb> data, int length) {
        byte[] out = new byte[length];
        int at = 0;
        for (Trb t : data) {
            int chunk = Math.min(t.transferLength(), length - at);
            if (chunk <= 0) {
                break;
            }
            if (t.has(Trb.IDT)) {
                for (int i = 0; i < Math.min(chunk, 8); i++) {
                    out[at + i] = (byte) (t.parameter() >>> (8 * i));
                }
            } else {
                System.arraycopy(memory.read(t.parameter(), chunk), 0, out, at, chunk);
            }
            at += chunk;
        }
        return out;
    }

    /** Writes the first {@code actual} bytes of {@code bytes} across the data TRBs' buffers. */
    private void scatter(List<Trb> data, byte[] bytes, int actual) {
        int at = 0;
        for (Trb t : data) {
            int chunk = Math.min(t.transferLength(), actual - at);
            if (chunk <= 0) {
                break;
            }
            byte[] part = new byte[chunk];
            System.arraycopy(bytes, at, part, 0, chunk);
            memory.write(t.parameter(), part);
            at += chunk;
        }
    }

    /** Generates the Transfer Events of a transfer that moved {@code actual} bytes with {@code code}. */
    private void report(Endpoint ep, List<Trb> trbs, int actual, int code) {
        int left = actual;
        int edtla = 0;
        boolean reported = false;
        boolean shortPacket = false;
        for (Trb t : trbs) {
            int chunk = 0;
            switch (t.type()) {
                case Trb.SETUP_STAGE -> chunk = Math.min(t.transferLength(), 8);
                case Trb.DATA_STAGE, Trb.NORMAL -> {
                    chunk = Math.min(t.transferLength(), left);
                    if (t.transferLength() > left && code == Trb.CC_SUCCESS) {
                        shortPacket = true;
                    }
                    left -= chunk;
                    edtla += chunk;
                }
                case Trb.STATUS_STAGE -> {
                    reported = false;
                    shortPacket = false;
                }
                default -> { }
            }
            boolean eventData = t.type() == Trb.EVENT_DATA;
            boolean due = eventData ? t.has(Trb.IOC)
                    : !reported && (t.has(Trb.IOC) || (shortPacket && t.has(Trb.ISP))
                            || (code != Trb.CC_SUCCESS && left == 0));
            if (due) {
                int cc = code != Trb.CC_SUCCESS ? code : shortPacket ? Trb.CC_SHORT_PACKET : Trb.CC_SUCCESS;
                boolean interrupt = !(t.has(Trb.BEI) && (eventData || t.type() == Trb.NORMAL));
                if (eventData) {
                    event(ep, t.parameter(), cc, edtla, Trb.EVENT_DATA_FLAG, interrupt);
                    edtla = 0;
                } else {
                    event(ep, t.address(), cc, t.transferLength() - chunk, 0, interrupt);
                }
                reported = true;
                if (code != Trb.CC_SUCCESS) {
                    return;
                }
            }
            if (t.type() == Trb.SETUP_STAGE) {
                reported = false;
                shortPacket = false;
            }
        }
    }

    private void event(Endpoint ep, long pointer, int code, int length, int flags) {
        event(ep, pointer, code, length, flags, true);
    }

    private void event(Endpoint ep, long pointer, int code, int length, int flags, boolean interrupt) {
        events.post(pointer, Trb.eventStatus(code, length),
                Trb.eventControl(Trb.TRANSFER_EVENT, ep.slotId(), ep.dci()) | flags, interrupt);
    }
}
