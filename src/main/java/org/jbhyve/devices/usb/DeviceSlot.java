package org.jbhyve.devices.usb;

import java.util.function.IntFunction;
import org.jbhyve.memory.GuestMemory;
import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/**
 * A device slot (xHCI 4.5.3) from Enable Slot to Disable Slot: its state, the root port its
 * device was addressed on, its output Device Context and its enabled endpoints by DCI.
 *
 * <pre>
 * Enabled --Address Device (BSR=1)--&gt; Default --Address Device--&gt; Addressed
 * Enabled --Address Device (BSR=0)--&gt; Addressed --Configure Endpoint--&gt; Configured
 * Configured --Configure Endpoint (deconfigure)--&gt; Addressed
 * Addressed, Configured --Reset Device--&gt; Default
 * </pre>
 * Not thread-safe: the controller's lock guards it.
 */
final class DeviceSlot {
    private final int id;
    private final Endpoint[] endpoints = new Endpoint[32];
    private int state = Contexts.SLOT_ENABLED;
    private RootPort port;
    private long context;

    DeviceSlot(int id) {
        this.id = id;
    }

    /**
     * Snapshot layout: the slot state (u8), the root port number (u8, 0 before Address Device),
     * the output Device Context (u64), a mask of the enabled DCIs (u32, bit {@code dci}), then
     * each enabled endpoint by DCI ({@link Endpoint#save}); an endpoint's context is the Device
     * Context's entry for its DCI, as Address Device and Configure Endpoint place it.
     */
    void save(StateWriter out) {
        out.u8(state).u8(port == null ? 0 : port.number()).i64(context);
        int enabled = 0;
        for (int dci = 1; dci <= 31; dci++) {
            enabled |= endpoints[dci] != null ? 1 << dci : 0;
        }
        out.i32(enabled);
        for (int dci = 1; dci <= 31; dci++) {
            if (endpoints[dci] != null) {
                endpoints[dci].save(out);
            }
        }
    }

    /** The slot {@code id} {@link #save} wrote; {@code ports} gives root port {@code n} or null. */
    static DeviceSlot restore(StateReader in, int id, GuestMemory memory, IntFunction<RootPort> ports) {
        DeviceSlot s = new DeviceSlot(id);
        s.state = in.u8();
        if (s.state > Contexts.SLOT_CONFIGURED) {
            throw in.invalid("slot " + id + " is in state " + s.state);
        }
        int portNumber = in.u8();
        s.port = portNumber == 0 ? null : ports.apply(portNumber);
        if (portNumber != 0 && s.port == null) {
            throw in.invalid("slot " + id + " is on root port " + portNumber);
        }
        s.context = in.i64();
        int enabled = in.i32();
        if ((enabled & 1) != 0) {
            throw in.invalid("slot " + id + " has DCI 0 enabled");
        }
        for (int dci = 1; dci <= 31; dci++) {
            if ((enabled & 1 << dci) != 0) {
                s.endpoints[dci] = Endpoint.restore(in, memory, id, dci, Contexts.endpoint(s.context, dci));
            }
        }
        return s;
    }

    int id() {
        return id;
    }

    int state() {
        return state;
    }

    void setState(int state) {
        this.state = state;
    }

    /** The root port the slot's device was addressed on, or null before Address Device. */
    RootPort port() {
        return port;
    }

    /** The output Device Context (guest address), 0 before Address Device. */
    long context() {
        return context;
    }

    /** Address Device binds the slot to a port and its DCBAA entry's Device Context. */
    void bind(RootPort port, long context) {
        this.port = port;
        this.context = context;
    }

    /** Another slot took the port over (the device was addressed again under a new slot). */
    void unbind() {
        this.port = null;
    }

    /** The device transfers reach, or null when the port has none or is disabled. */
    UsbDevice device() {
        return port != null && port.enabled() ? port.device() : null;
    }

    /** The endpoint at {@code dci} (1-31), or null if it is not enabled; null for bad DCIs. */
    Endpoint endpoint(int dci) {
        return dci >= 1 && dci <= 31 ? endpoints[dci] : null;
    }

    void setEndpoint(int dci, Endpoint endpoint) {
        Endpoint old = endpoints[dci];
        if (old != null && old != endpoint && endpoint == null) {
            old.disable();
        }
        endpoints[dci] = endpoint;
    }

    /** Disables every endpoint from {@code fromDci} up (2: all but the default control endpoint). */
    void dropEndpoints(int fromDci) {
        for (int dci = fromDci; dci <= 31; dci++) {
            setEndpoint(dci, null);
        }
    }

    /** The highest enabled DCI, for the Slot Context's Context Entries (at least 1). */
    int contextEntries() {
        for (int dci = 31; dci > 1; dci--) {
            if (endpoints[dci] != null) {
                return dci;
            }
        }
        return 1;
    }

    /** Whether any endpoint besides the default control endpoint is enabled. */
    boolean configured() {
        return contextEntries() > 1;
    }
}
