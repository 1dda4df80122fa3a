package org.jbhyve.devices.usb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.List;
import org.jbhyve.bus.IoHandler;
import org.jbhyve.virtio.MockGuest;

/**
 * A driver for the xHCI controller as an OS writes one, over a {@link MockGuest}: register
 * access through BAR0's handler, producer rings for commands and transfers, and a consumer
 * for the event ring that acknowledges as Linux does (ERDP with EHB).
 */
final class XhciDriver implements AutoCloseable {
    static final int OP = XhciLayout.CAPLENGTH;
    static final int PORTSC = OP + XhciLayout.PORTS;
    static final int IR0 = XhciLayout.RTSOFF + Interrupter.BASE;
    static final int EVENT_TRBS = 16;

    final MockGuest guest;
    UsbTablet tablet = new UsbTablet();
    XhciController hc;
    IoHandler bar;
    long dcbaa;
    long erst;
    long events;
    Ring commands;
    private int eventIndex;
    private boolean eventCycle = true;

    XhciDriver(long ram) {
        this(ram, true);
    }

    XhciDriver(long ram, boolean withTablet) {
        this(ram, withTablet, System::nanoTime);
    }

    /** A driver whose controller's MFINDEX counts on {@code clock}. */
    XhciDriver(long ram, boolean withTablet, java.util.function.LongSupplier clock) {
        guest = new MockGuest(ram);
        hc = new XhciController(withTablet ? List.of(tablet) : List.of(), guest.memory, guest, clock);
        bar = hc.bars().getFirst().handler();
    }

    /**
     * Goes on with {@code restored} (a controller restored from a snapshot of this one, over the
     * same guest RAM) and its {@code restoredTablet}: the rings and the event consumer stay as
     * they were. The previous controller is closed.
     */
    void continueWith(XhciController restored, UsbTablet restoredTablet) {
        hc.close();
        hc = restored;
        tablet = restoredTablet;
        bar = restored.bars().getFirst().handler();
    }

    /** The cycle state the consumer expects of the next event. */
    boolean eventCycle() {
        return eventCycle;
    }

    /** A producer TRB ring of {@code size} slots, the last a Link TRB back to the start with Toggle Cycle. */
    final class Ring {
        final long base;
        final int size;
        int index;
        boolean cycle = true;

        Ring(int size) {
            this.size = size;
            this.base = guest.alloc((long) size * 16, 64);
        }

        /** Writes a TRB (cycle bit set to the producer state, last) and returns its address. */
        long put(long parameter, int status, int control) {
            if (index == size - 1) {
                write(base + index * 16L, base, 0, Trb.LINK << 10 | Trb.TOGGLE_CYCLE);
                index = 0;
                cycle = !cycle;
            }
            long at = base + index * 16L;
            write(at, parameter, status, control);
            index++;
            return at;
        }

        private void write(long at, long parameter, int status, int control) {
            guest.memory.putLong(at, parameter);
            guest.memory.putInt(at + 8, status);
            guest.memory.putInt(at + 12, (control & ~1) | (cycle ? 1 : 0));
        }
    }

    /** One event TRB as read from the event ring. */
    record Event(long parameter, int status, int control) {
        int type() {
            return control >>> 10 & 0x3F;
        }

        int code() {
            return status >>> 24;
        }

        int length() {
            return status & 0xFFFFFF;
        }

        int slot() {
            return control >>> 24;
        }

        int endpoint() {
            return control >>> 16 & 0x1F;
        }

        int port() {
            return (int) (parameter >>> 24);
        }
    }

    int read(int offset) {
        return (int) bar.read(offset, 4);
    }

    void write(int offset, int value) {
        bar.write(offset, 4, Integer.toUnsignedLong(value));
    }

    /** A 64-bit register written as Linux does, low dword first. */
    void write64(int offset, long value) {
        write(offset, (int) value);
        write(offset + 4, (int) (value >>> 32));
    }

    int portsc(int port) {
        return read(PORTSC + (port - 1) * 16);
    }

    void portsc(int port, int value) {
        write(PORTSC + (port - 1) * 16, value);
    }

    void doorbell(int target, int value) {
        write(XhciLayout.DBOFF + target * 4, value);
    }

    /** Reset, program DCBAA, command ring, event ring (one 16-TRB segment), interrupts; not started. */
    XhciDriver setUp() {
        write(OP + XhciController.USBCMD, XhciController.CMD_HCRST);
        write(OP + XhciController.CONFIG, 8);
        dcbaa = guest.alloc(65 * 8, 64);
        write64(OP + XhciController.DCBAAP_LO, dcbaa);
        commands = new Ring(8);
        write64(OP + XhciController.CRCR_LO, commands.base | 1);
        events = guest.alloc(EVENT_TRBS * 16, 64);
        eventIndex = 0;
        eventCycle = true;
        erst = guest.alloc(16, 64);
        guest.memory.putLong(erst, events);
        guest.memory.putInt(erst + 8, EVENT_TRBS);
        write(IR0 + Interrupter.ERSTSZ, 1);
        write64(IR0 + Interrupter.ERDP_LO, events);
        write64(IR0 + Interrupter.ERSTBA_LO, erst);
        write(IR0 + Interrupter.IMAN, Interrupter.IMAN_IE);
        return this;
    }

    /** {@link #setUp} and R/S with INTE; the tablet's connect event is consumed and checked. */
    XhciDriver start() {
        setUp();
        write(OP + XhciController.USBCMD, XhciController.CMD_RS | XhciController.CMD_INTE);
        Event e = nextEvent();
        assertNotNull(e, "port status change after start");
        assertEquals(Trb.PORT_STATUS_CHANGE, e.type());
        return this;
    }

    /** The next event the controller wrote, acknowledged through ERDP (EHB cleared); null if none. */
    Event nextEvent() {
        long at = events + eventIndex * 16L;
        int control = guest.memory.getInt(at + 12);
        if (((control & 1) != 0) != eventCycle) {
            return null;
        }
        Event e = new Event(guest.memory.getLong(at), guest.memory.getInt(at + 8), control);
        if (++eventIndex == EVENT_TRBS) {
            eventIndex = 0;
            eventCycle = !eventCycle;
        }
        write64(IR0 + Interrupter.ERDP_LO, (events + eventIndex * 16L) | Interrupter.ERDP_EHB);
        return e;
    }

    /** Queues a command, rings doorbell 0 and returns its completion event (checked to point at it). */
    Event command(long parameter, int control) {
        long at = commands.put(parameter, 0, control);
        doorbell(0, 0);
        Event e = nextEvent();
        assertNotNull(e, "command completion");
        assertEquals(Trb.COMMAND_COMPLETION, e.type());
        assertEquals(at, e.parameter());
        return e;
    }

    int enableSlot() {
        Event e = command(0, Trb.ENABLE_SLOT << 10);
        assertEquals(Trb.CC_SUCCESS, e.code());
        return e.slot();
    }

    /**
     * An Input Context for Address Device: slot context (speed, one context entry, root port),
     * EP0 as a control endpoint of {@code maxPacket} bytes on {@code ring}.
     */
    long addressInput(int port, Ring ring, int maxPacket) {
        long input = guest.alloc(Contexts.INPUT_SIZE, 64);
        guest.memory.putInt(input + 4, 0x3);                                  // A0, A1
        guest.memory.putInt(input + 32, 1 << 27 | 4 << 20);                   // one entry, super speed
        guest.memory.putInt(input + 32 + 4, port << 16);
        long ep0 = input + 64;
        guest.memory.putInt(ep0 + 4, maxPacket << 16 | Contexts.EP_TYPE_CONTROL << 3 | 3 << 1);
        guest.memory.putLong(ep0 + 8, ring.base | 1);
        guest.memory.putInt(ep0 + 16, 8);
        return input;
    }

    /** A zeroed output Device Context hooked into the DCBAA for {@code slot}. */
    long deviceContext(int slot) {
        long out = guest.alloc(Contexts.DEVICE_SIZE, 64);
        guest.memory.putLong(dcbaa + 8L * slot, out);
        return out;
    }

    /** Enable Slot and Address Device for the tablet on port 1, EP0 on {@code ep0}; returns the slot. */
    int addressTablet(Ring ep0) {
        int slot = enableSlot();
        deviceContext(slot);
        assertEquals(Trb.CC_SUCCESS, command(addressInput(1, ep0, 512), Trb.ADDRESS_DEVICE << 10 | slot << 24).code());
        return slot;
    }

    /** SET_CONFIGURATION(1) and Configure Endpoint for endpoint 1 IN (DCI 3); returns its ring. */
    Ring configureTablet(Ring ep0, int slot) {
        assertEquals(Trb.CC_SUCCESS, control(ep0, slot, setup(0x00, 9, 1, 0, 0), 0, 0).getLast().code());
        Ring intr = new Ring(8);
        long input = guest.alloc(Contexts.INPUT_SIZE, 64);
        guest.memory.putInt(input + 4, 1 | 1 << 3);                              // A0, A3
        guest.memory.putInt(input + 32, 3 << 27);                                // context entries 3
        guest.memory.putInt(input + 4 * 32, 7 << 16);                            // interval
        guest.memory.putInt(input + 4 * 32 + 4, 8 << 16 | Contexts.EP_TYPE_INTERRUPT_IN << 3 | 3 << 1);
        guest.memory.putLong(input + 4 * 32 + 8, intr.base | 1);
        assertEquals(Trb.CC_SUCCESS, command(input, Trb.CONFIGURE_ENDPOINT << 10 | slot << 24).code());
        return intr;
    }

    /** A SETUP packet as a Setup Stage TRB carries it. */
    static long setup(int requestType, int request, int value, int index, int length) {
        return requestType | (long) request << 8 | (long) value << 16 | (long) index << 32 | (long) length << 48;
    }

    /**
     * A control transfer as Linux queues it: Setup (IDT), Data (ISP, DIR from the request) when
     * {@code length} is not 0, Status (IOC, opposite direction); rings the slot's doorbell for
     * DCI 1 and returns the events it produced.
     */
    List<Event> control(Ring ep0, int slot, long setup, long buffer, int length) {
        boolean in = (setup & 0x80) != 0;
        int trt = length == 0 ? 0 : in ? 3 : 2;
        ep0.put(setup, 8, Trb.SETUP_STAGE << 10 | Trb.IDT | trt << 16);
        if (length > 0) {
            ep0.put(buffer, length, Trb.DATA_STAGE << 10 | Trb.ISP | (in ? Trb.DIR_IN : 0));
        }
        ep0.put(0, 0, Trb.STATUS_STAGE << 10 | Trb.IOC | (in && length > 0 ? 0 : Trb.DIR_IN));
        doorbell(slot, 1);
        return drain();
    }

    /** Every event written so far, acknowledged. */
    List<Event> drain() {
        java.util.ArrayList<Event> out = new java.util.ArrayList<>();
        for (Event e = nextEvent(); e != null; e = nextEvent()) {
            out.add(e);
        }
        return out;
    }

    @Override
    public void close() {
        hc.close();
        guest.close();
    }
}
