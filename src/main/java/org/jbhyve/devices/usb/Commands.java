package org.jbhyve.devices.usb;

import org.jbhyve.memory.GuestMemory;
import org.jbhyve.memory.GuestMemoryException;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * The commands of the Command Ring (xHCI 4.6) and the device slots they manage. Each command
 * TRB yields one Command Completion Event: the command's address, a completion code and a slot
 * id (the new slot for Enable Slot, the command's slot otherwise).
 *
 * <pre>
 * Enable Slot         lowest free slot id up to CONFIG.MaxSlotsEn, or No Slots Available
 * Disable Slot        frees the slot
 * Address Device      Input Context (A0, A1 only): binds the slot to the Root Hub Port of its
 *                     Slot Context, copies Slot and EP0 contexts into the DCBAA entry's Device
 *                     Context, starts EP0; BSR=0 also sends SET_ADDRESS(slot id)
 * Configure Endpoint  drops (D2-D31) then adds (A2-A31) endpoints; DC=1 drops all of them
 * Evaluate Context    Max Exit Latency and Interrupter Target (A0), EP0 Max Packet Size (A1)
 * Reset Endpoint      Halted to Stopped      Stop Endpoint   Running to Stopped
 * Set TR Dequeue Ptr  moves a Stopped ring   Reset Device    back to Default, EP0 only
 * No Op               Success                others          TRB Error
 * </pre>
 * Hostile input: a slot id that is 0, too large or not enabled gives Slot Not Enabled; a
 * command in the wrong slot or endpoint state, Context State Error; an Input Context, DCBAA or
 * Device Context outside RAM, TRB Error; an invalid context, Parameter Error. Not thread-safe:
 * the controller's lock guards it.
 */
final class Commands {
    static final int MAX_SLOTS = 64;

    /** What commands need of the controller. */
    interface Host {
        /** CONFIG.MaxSlotsEn: slots above it are not enabled. */
        int slotsEnabled();

        /** DCBAAP: the Device Context Base Address Array. */
        long dcbaap();

        /** Root port {@code n} (from 1), or null outside the controller's range. */
        RootPort port(int n);
    }

    /** A command's outcome: the completion code and the slot id its event names. */
    record Completion(int code, int slot) {}

    private final GuestMemory memory;
    private final Host host;
    private final DeviceSlot[] slots = new DeviceSlot[MAX_SLOTS + 1];

    Commands(GuestMemory memory, Host host) {
        this.memory = memory;
        this.host = host;
    }

    /** The enabled slot {@code id}, or null. */
    DeviceSlot slot(int id) {
        return id >= 1 && id <= MAX_SLOTS && id <= host.slotsEnabled() ? slots[id] : null;
    }

    /** The addressed slot whose device sits on {@code port}, or null. */
    DeviceSlot slotOn(RootPort port) {
        for (DeviceSlot s : slots) {
            if (s != null && s.port() == port) {
                return s;
            }
        }
        return null;
    }

    /** Controller reset: every slot disabled. */
    void reset() {
        java.util.Arrays.fill(slots, null);
    }

    /**
     * Snapshot layout: a mask of the enabled slots (u64, bit {@code id - 1}), then each enabled
     * slot by id ({@link DeviceSlot#save}).
     */
    void save(StateWriter out) {
        long enabled = 0;
        for (int id = 1; id <= MAX_SLOTS; id++) {
            enabled |= slots[id] != null ? 1L << (id - 1) : 0;
        }
        out.i64(enabled);
        for (int id = 1; id <= MAX_SLOTS; id++) {
            if (slots[id] != null) {
                slots[id].save(out);
            }
        }
    }

    void restore(StateReader in) {
        long enabled = in.i64();
        DeviceSlot[] restored = new DeviceSlot[MAX_SLOTS + 1];
        for (int id = 1; id <= MAX_SLOTS; id++) {
            if ((enabled & 1L << (id - 1)) != 0) {
                restored[id] = DeviceSlot.restore(in, id, memory, host::port);
            }
        }
        System.arraycopy(restored, 0, slots, 0, slots.length);
    }

    /** Runs one command TRB. */
    Completion execute(Trb trb) {
        int type = trb.type();
        if (type == Trb.ENABLE_SLOT) {
            return enableSlot();
        }
        if (type == Trb.NOOP_COMMAND) {
            return new Completion(Trb.CC_SUCCESS, 0);
        }
        int id = trb.slotId();
        DeviceSlot s = slot(id);
        int code;
        if (type < Trb.DISABLE_SLOT || type > Trb.RESET_DEVICE) {
            code = Trb.CC_TRB;
        } else if (s == null) {
            code = Trb.CC_SLOT_NOT_ENABLED;
        } else {
            try {
                code = switch (type) {
                    case Trb.DISABLE_SLOT -> disableSlot(s);
                    case Trb.ADDRESS_DEVICE -> addressDevice(s, trb);
                    case Trb.CONFIGURE_ENDPOINT -> configureEndpoint(s, trb);
                    case Trb.EVALUATE_CONTEXT -> evaluateContext(s, trb);
                    case Trb.RESET_ENDPOINT -> endpointCommand(s, trb, Contexts.EP_HALTED);
                    case Trb.STOP_ENDPOINT -> endpointCommand(s, trb, Contexts.EP_RUNNING);
                    case Trb.SET_TR_DEQUEUE -> setDequeue(s, trb);
                    default -> resetDevice(s);
                };
            } catch (GuestMemoryException e) {
                code = Trb.CC_TRB;        // a context the checks let through moved out of reach
            }
        }
        return new Completion(code, id);
    }

    private Completion enableSlot() {
        int max = Math.min(MAX_SLOTS, host.slotsEnabled());
        for (int id = 1; id <= max; id++) {
            if (slots[id] == null) {
                slots[id] = new DeviceSlot(id);
                return new Completion(Trb.CC_SUCCESS, id);
            }
        }
        return new Completion(Trb.CC_NO_SLOTS, 0);
    }

    private int disableSlot(DeviceSlot s) {
        s.dropEndpoints(1);
        slots[s.id()] = null;
        return Trb.CC_SUCCESS;
    }

    /** The Input Context a command points at, or -1 if it is not all in RAM. */
    private long input(Trb trb) {
        long input = trb.parameter() & ~0xFL;
        return memory.contains(input, Contexts.INPUT_SIZE) ? input : -1;
    }

    private int addressDevice(DeviceSlot s, Trb trb) {
        boolean bsr = trb.has(Trb.BSR);
        if (s.state() != Contexts.SLOT_ENABLED && (bsr || s.state() != Contexts.SLOT_DEFAULT)) {
            return Trb.CC_CONTEXT_STATE;
        }
        long input = input(trb);
        long entry = host.dcbaap() + 8L * s.id();
        if (input < 0 || host.dcbaap() == 0 || !memory.contains(entry, 8)) {
            return Trb.CC_TRB;
        }
        long output = memory.getLong(entry) & ~0x3FL;
        if (output == 0 || !memory.contains(output, Contexts.DEVICE_SIZE)) {
            return Trb.CC_TRB;
        }
        if (Contexts.dropFlags(memory, input) != 0 || Contexts.addFlags(memory, input) != 0x3) {
            return Trb.CC_PARAMETER;
        }
        RootPort port = host.port(Contexts.rootPort(memory, Contexts.inputSlot(input)));
        if (port == null || !port.enabled()) {
            return Trb.CC_TRANSACTION;           // no device answers on that port
        }
        if (!bsr && port.device().control(new SetupPacket(SetupPacket.DEVICE_OUT, SetupPacket.SET_ADDRESS,
                s.id(), 0, 0), new byte[0]).status() != UsbResponse.Status.ACK) {
            return Trb.CC_TRANSACTION;
        }
        DeviceSlot other = slotOn(port);
        if (other != null && other != s) {
            other.unbind();
        }
        s.dropEndpoints(1);
        s.bind(port, output);
        Contexts.copy(memory, Contexts.inputSlot(input), output);
        Contexts.copy(memory, Contexts.inputEndpoint(input, 1), Contexts.endpoint(output, 1));
        s.setState(bsr ? Contexts.SLOT_DEFAULT : Contexts.SLOT_ADDRESSED);
        Contexts.setSlotState(memory, output, s.state(), bsr ? 0 : s.id());
        s.setEndpoint(1, new Endpoint(memory, s.id(), 1, Contexts.endpoint(output, 1)));
        return Trb.CC_SUCCESS;
    }

    private int configureEndpoint(DeviceSlot s, Trb trb) {
        if (s.state() != Contexts.SLOT_ADDRESSED && s.state() != Contexts.SLOT_CONFIGURED) {
            return Trb.CC_CONTEXT_STATE;
        }
        long output = s.context();
        if (trb.has(Trb.DECONFIGURE)) {
            s.dropEndpoints(2);
        } else {
            long input = input(trb);
            if (input < 0) {
                return Trb.CC_TRB;
            }
            int drop = Contexts.dropFlags(memory, input) & ~0x3;
            int add = Contexts.addFlags(memory, input) & ~0x3;
            for (int dci = 2; dci <= 31; dci++) {
                if ((add & 1 << dci) != 0
                        && Contexts.endpointType(memory, Contexts.inputEndpoint(input, dci)) == 0) {
                    return Trb.CC_PARAMETER;     // "not valid" endpoint type
                }
            }
            for (int dci = 2; dci <= 31; dci++) {
                if ((drop & 1 << dci) != 0) {
                    s.setEndpoint(dci, null);
                }
            }
            for (int dci = 2; dci <= 31; dci++) {
                if ((add & 1 << dci) != 0) {
                    long ctx = Contexts.endpoint(output, dci);
                    Contexts.copy(memory, Contexts.inputEndpoint(input, dci), ctx);
                    s.setEndpoint(dci, new Endpoint(memory, s.id(), dci, ctx));
                }
            }
        }
        s.setState(s.configured() ? Contexts.SLOT_CONFIGURED : Contexts.SLOT_ADDRESSED);
        Contexts.setContextEntries(memory, output, s.contextEntries());
        Contexts.setSlotState(memory, output, s.state(), s.id());
        return Trb.CC_SUCCESS;
    }

    private int evaluateContext(DeviceSlot s, Trb trb) {
        if (s.state() == Contexts.SLOT_ENABLED) {
            return Trb.CC_CONTEXT_STATE;
        }
        long input = input(trb);
        if (input < 0) {
            return Trb.CC_TRB;
        }
        int add = Contexts.addFlags(memory, input);
        long output = s.context();
        if ((add & 1) != 0) {
            long in = Contexts.inputSlot(input);
            int dw1 = memory.getInt(output + 4);
            memory.putInt(output + 4, (dw1 & ~0xFFFF) | (memory.getInt(in + 4) & 0xFFFF));
            int dw2 = memory.getInt(output + 8);
            memory.putInt(output + 8, (dw2 & 0x3FFFFF) | (memory.getInt(in + 8) & ~0x3FFFFF));
        }
        if ((add & 2) != 0) {
            long in = Contexts.inputEndpoint(input, 1);
            long ep0 = Contexts.endpoint(output, 1);
            int dw1 = memory.getInt(ep0 + 4);
            memory.putInt(ep0 + 4, (dw1 & 0xFFFF) | (memory.getInt(in + 4) & 0xFFFF0000));
        }
        return Trb.CC_SUCCESS;
    }

    /** Reset Endpoint (from Halted) and Stop Endpoint (from Running) both end Stopped. */
    private int endpointCommand(DeviceSlot s, Trb trb, int from) {
        Endpoint ep = s.endpoint(trb.endpointId());
        if (ep == null) {
            return Trb.CC_ENDPOINT_NOT_ENABLED;
        }
        if (ep.state() != from) {
            return Trb.CC_CONTEXT_STATE;
        }
        ep.setState(Contexts.EP_STOPPED);
        return Trb.CC_SUCCESS;
    }

    private int setDequeue(DeviceSlot s, Trb trb) {
        Endpoint ep = s.endpoint(trb.endpointId());
        if (ep == null) {
            return Trb.CC_ENDPOINT_NOT_ENABLED;
        }
        if (ep.state() != Contexts.EP_STOPPED && ep.state() != Contexts.EP_ERROR) {
            return Trb.CC_CONTEXT_STATE;
        }
        long pointer = trb.parameter() & ~0xFL;
        if (!memory.contains(pointer, Trb.SIZE)) {
            return Trb.CC_TRB;
        }
        ep.moveDequeue(pointer, (trb.parameter() & 1) != 0);
        return Trb.CC_SUCCESS;
    }

    private int resetDevice(DeviceSlot s) {
        if (s.state() != Contexts.SLOT_ADDRESSED && s.state() != Contexts.SLOT_CONFIGURED) {
            return Trb.CC_CONTEXT_STATE;
        }
        s.dropEndpoints(2);
        s.setState(Contexts.SLOT_DEFAULT);
        Contexts.setContextEntries(memory, s.context(), 1);
        Contexts.setSlotState(memory, s.context(), Contexts.SLOT_DEFAULT, 0);
        return Trb.CC_SUCCESS;
    }
}
