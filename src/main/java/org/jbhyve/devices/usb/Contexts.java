package org.jbhyve.devices.usb;

import org.jbhyve.memory.GuestMemory;

/**
 * The xHCI data structures software and the controller share through guest memory (6.2), in
 * their 32-byte form (HCCPARAMS1.CSZ = 0).
 *
 * <p><b>Device Context Base Address Array</b> (DCBAAP, 64-byte aligned): entry {@code n}
 * (u64) is the Device Context of slot {@code n}; entry 0 is the scratchpad array, unused here.
 *
 * <p><b>Device Context</b> (output, written by the controller): the Slot Context, then the
 * Endpoint Contexts for Device Context Index (DCI) 1-31; DCI 1 is the default control endpoint,
 * endpoint {@code n} OUT is DCI {@code 2n}, IN is DCI {@code 2n + 1}.
 *
 * <p><b>Input Context</b> (read by Address Device, Configure Endpoint, Evaluate Context): an
 * Input Control Context (dword 0 drop flags D2-D31, dword 1 add flags A0-A31: bit {@code i}
 * names context {@code i}, 0 the slot), then a Slot Context and Endpoint Contexts laid out as
 * in the Device Context, one context further.
 *
 * <pre>
 * Slot Context     dw0 route string 19:0, speed 23:20, context entries 31:27
 *                  dw1 max exit latency 15:0, root hub port number 23:16, number of ports 31:24
 *                  dw2 TT fields, interrupter target 31:22
 *                  dw3 USB device address 7:0, slot state 31:27 (0 enabled, 1 default,
 *                      2 addressed, 3 configured)
 * Endpoint Context dw0 endpoint state 2:0 (0 disabled, 1 running, 2 halted, 3 stopped,
 *                      4 error), interval 23:16
 *                  dw1 error count 2:1, endpoint type 5:3 (4 control, 7 interrupt IN...),
 *                      max burst 15:8, max packet size 31:16
 *                  dw2-3 dequeue cycle state (bit 0), TR dequeue pointer 63:4
 *                  dw4 average TRB length 15:0, max ESIT payload 31:16
 * </pre>
 * Every access goes through {@link GuestMemory}, so a context outside RAM throws
 * {@link org.jbhyve.memory.GuestMemoryException}; commands check the whole structure first.
 */
final class Contexts {
    static final int SIZE = 32;
    static final int DEVICE_SIZE = 32 * SIZE, INPUT_SIZE = 33 * SIZE;
    static final int SLOT_ENABLED = 0, SLOT_DEFAULT = 1, SLOT_ADDRESSED = 2, SLOT_CONFIGURED = 3;
    static final int EP_DISABLED = 0, EP_RUNNING = 1, EP_HALTED = 2, EP_STOPPED = 3, EP_ERROR = 4;
    static final int EP_TYPE_CONTROL = 4, EP_TYPE_INTERRUPT_IN = 7;

    private Contexts() {}

    /** The Slot Context of an Input Context at {@code input}. */
    static long inputSlot(long input) {
        return input + SIZE;
    }

    /** Endpoint Context {@code dci} (1-31) of an Input Context. */
    static long inputEndpoint(long input, int dci) {
        return input + (long) (dci + 1) * SIZE;
    }

    /** Endpoint Context {@code dci} (1-31) of a Device Context. */
    static long endpoint(long device, int dci) {
        return device + (long) dci * SIZE;
    }

    static int dropFlags(GuestMemory m, long input) {
        return m.getInt(input);
    }

    static int addFlags(GuestMemory m, long input) {
        return m.getInt(input + 4);
    }

    static void copy(GuestMemory m, long from, long to) {
        m.write(to, m.read(from, SIZE));
    }

    /** Root Hub Port Number of a Slot Context. */
    static int rootPort(GuestMemory m, long slot) {
        return m.getInt(slot + 4) >>> 16 & 0xFF;
    }

    /** Sets the slot state and USB device address (dword 3) of a Slot Context. */
    static void setSlotState(GuestMemory m, long slot, int state, int address) {
        m.putInt(slot + 12, state << 27 | address & 0xFF);
    }

    static int slotState(GuestMemory m, long slot) {
        return m.getInt(slot + 12) >>> 27;
    }

    /** Sets Context Entries (dword 0 bits 31:27): the highest DCI in use. */
    static void setContextEntries(GuestMemory m, long slot, int entries) {
        int dw0 = m.getInt(slot);
        m.putInt(slot, (dw0 & 0x07FFFFFF) | entries << 27);
    }

    static int endpointState(GuestMemory m, long endpoint) {
        return m.getInt(endpoint) & 0x7;
    }

    static void setEndpointState(GuestMemory m, long endpoint, int state) {
        int dw0 = m.getInt(endpoint);
        m.putInt(endpoint, (dw0 & ~0x7) | state);
    }

    static int endpointType(GuestMemory m, long endpoint) {
        return m.getInt(endpoint + 4) >>> 3 & 0x7;
    }

    static int maxPacketSize(GuestMemory m, long endpoint) {
        return m.getInt(endpoint + 4) >>> 16;
    }

    /** The TR Dequeue Pointer and cycle state field (dwords 2-3) of an Endpoint Context. */
    static long dequeue(GuestMemory m, long endpoint) {
        return m.getLong(endpoint + 8);
    }

    static void setDequeue(GuestMemory m, long endpoint, long pointer, boolean cycle) {
        m.putLong(endpoint + 8, (pointer & ~0xFL) | (cycle ? 1 : 0));
    }
}
