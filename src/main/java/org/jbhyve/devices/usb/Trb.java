package org.jbhyve.devices.usb;

import org.jbhyve.memory.GuestMemory;

/**
 * A Transfer Request Block (xHCI 1.2, 4.11 and 6.4), the 16-byte unit of every xHCI ring, as
 * read from guest memory at {@code address}:
 *
 * <pre>
 * +0  u64 parameter   a buffer or context pointer, an 8-byte setup packet, immediate data
 * +8  u32 status      transfer length (16:0), TD size, interrupter target (31:22); in events the
 *                     completion code (31:24) and a residual length or parameter (23:0)
 * +12 u32 control     cycle (0), flags, TRB type (15:10), endpoint id (20:16), slot id (31:24)
 * </pre>
 * The cycle bit says who owns a TRB: the consumer takes TRBs whose cycle bit equals its
 * Consumer Cycle State and stops at the first that does not. A Link TRB (type 6) sends the
 * consumer to another segment; with Toggle Cycle set the consumer inverts its cycle state there.
 *
 * <p>This class also names the TRB types, control flags and completion codes of 6.4.5 that the
 * controller uses.
 */
record Trb(long address, long parameter, int status, int control) {
    static final int SIZE = 16;

    // TRB types (6.4.6): transfer, command and event TRBs
    static final int NORMAL = 1, SETUP_STAGE = 2, DATA_STAGE = 3, STATUS_STAGE = 4, ISOCH = 5, LINK = 6;
    static final int EVENT_DATA = 7, NOOP_TRANSFER = 8;
    static final int ENABLE_SLOT = 9, DISABLE_SLOT = 10, ADDRESS_DEVICE = 11, CONFIGURE_ENDPOINT = 12;
    static final int EVALUATE_CONTEXT = 13, RESET_ENDPOINT = 14, STOP_ENDPOINT = 15, SET_TR_DEQUEUE = 16;
    static final int RESET_DEVICE = 17, NOOP_COMMAND = 23;
    static final int TRANSFER_EVENT = 32, COMMAND_COMPLETION = 33, PORT_STATUS_CHANGE = 34;
    static final int HOST_CONTROLLER_EVENT = 37;

    // control-word flags of transfer TRBs (6.4.1) and of the commands that use bit 9
    static final int CYCLE = 1 << 0;
    static final int TOGGLE_CYCLE = 1 << 1;        // Link TRB
    static final int ISP = 1 << 2;                 // interrupt on short packet
    static final int CHAIN = 1 << 4;               // the next TRB belongs to the same TD
    static final int IOC = 1 << 5;                 // interrupt on completion
    static final int IDT = 1 << 6;                 // immediate data: the parameter holds the bytes
    static final int BEI = 1 << 9;                 // block event interrupt (Normal, Event Data)
    static final int BSR = 1 << 9;                 // Address Device: block SET_ADDRESS request
    static final int DECONFIGURE = 1 << 9;         // Configure Endpoint: deconfigure
    static final int DIR_IN = 1 << 16;             // Data/Status Stage: device to host
    static final int EVENT_DATA_FLAG = 1 << 2;     // Transfer Event: parameter is Event Data

    // completion codes (6.4.5)
    static final int CC_SUCCESS = 1, CC_DATA_BUFFER = 2, CC_BABBLE = 3, CC_TRANSACTION = 4, CC_TRB = 5;
    static final int CC_STALL = 6, CC_NO_SLOTS = 9, CC_SLOT_NOT_ENABLED = 11, CC_ENDPOINT_NOT_ENABLED = 12;
    static final int CC_SHORT_PACKET = 13, CC_PARAMETER = 17, CC_CONTEXT_STATE = 19;
    static final int CC_EVENT_RING_FULL = 21, CC_COMMAND_RING_STOPPED = 24;

    /** Reads the TRB at {@code address}; throws {@link org.jbhyve.memory.GuestMemoryException} outside RAM. */
    static Trb read(GuestMemory memory, long address) {
        byte[] b = memory.read(address, SIZE);
        long parameter = 0;
        for (int i = 7; i >= 0; i--) {
            parameter = parameter << 8 | (b[i] & 0xFF);
        }
        return new Trb(address, parameter, dword(b, 8), dword(b, 12));
    }

    private static int dword(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }

    int type() {
        return control >>> 10 & 0x3F;
    }

    boolean cycle() {
        return (control & CYCLE) != 0;
    }

    boolean has(int flag) {
        return (control & flag) != 0;
    }

    int slotId() {
        return control >>> 24;
    }

    /** The Device Context Index a command names (Reset/Stop Endpoint, Set TR Dequeue Pointer). */
    int endpointId() {
        return control >>> 16 & 0x1F;
    }

    /** TRB Transfer Length of a transfer TRB (bits 16:0 of the status word). */
    int transferLength() {
        return status & 0x1FFFF;
    }

    /** Whether a transfer TRB carries buffer bytes (Normal, Data Stage). */
    boolean isData() {
        int t = type();
        return t == NORMAL || t == DATA_STAGE;
    }

    /** The control word of an event: its type with the slot and endpoint it concerns (no cycle bit). */
    static int eventControl(int type, int slot, int endpoint) {
        return type << 10 | (endpoint & 0x1F) << 16 | (slot & 0xFF) << 24;
    }

    /** The status word of an event: a completion code and a 24-bit parameter or residual length. */
    static int eventStatus(int completionCode, int low24) {
        return completionCode << 24 | (low24 & 0xFFFFFF);
    }

    @Override
    public String toString() {
        return String.format("TRB@%x type %d param %x status %x control %x", address, type(), parameter, status,
                control);
    }
}
