package org.jbhyve.devices.usb;

/**
 * The 8-byte SETUP packet that starts a control transfer (USB 2.0, 9.3), as a Setup Stage TRB
 * carries it in its parameter field (immediate data):
 *
 * <pre>
 * byte 0  bmRequestType  bit 7 direction (1 = device to host), bits 6:5 type (0 standard,
 *                        1 class, 2 vendor), bits 4:0 recipient (0 device, 1 interface, 2 endpoint)
 * byte 1  bRequest       e.g. 6 GET_DESCRIPTOR, 5 SET_ADDRESS, 9 SET_CONFIGURATION
 * bytes 2-3 wValue, 4-5 wIndex, 6-7 wLength (little-endian)
 * </pre>
 */
record SetupPacket(int requestType, int request, int value, int index, int length) {
    // standard requests (USB 2.0 table 9-4; SET_SEL and SET_ISOCH_DELAY from USB 3.2 table 9-5)
    static final int GET_STATUS = 0, CLEAR_FEATURE = 1, SET_FEATURE = 3, SET_ADDRESS = 5, GET_DESCRIPTOR = 6;
    static final int SET_DESCRIPTOR = 7, GET_CONFIGURATION = 8, SET_CONFIGURATION = 9, GET_INTERFACE = 10;
    static final int SET_INTERFACE = 11, SYNCH_FRAME = 12, SET_SEL = 48, SET_ISOCH_DELAY = 49;
    // bmRequestType values
    static final int DEVICE_IN = 0x80, INTERFACE_IN = 0x81, ENDPOINT_IN = 0x82;
    static final int DEVICE_OUT = 0x00, INTERFACE_OUT = 0x01, ENDPOINT_OUT = 0x02;
    static final int CLASS_INTERFACE_IN = 0xA1, CLASS_INTERFACE_OUT = 0x21;

    /** The packet in a Setup Stage TRB's parameter (byte 0 in the low bits). */
    static SetupPacket of(long parameter) {
        return new SetupPacket((int) parameter & 0xFF, (int) (parameter >>> 8) & 0xFF,
                (int) (parameter >>> 16) & 0xFFFF, (int) (parameter >>> 32) & 0xFFFF,
                (int) (parameter >>> 48) & 0xFFFF);
    }

    /** Whether the data stage (if any) goes from device to host. */
    boolean in() {
        return (requestType & 0x80) != 0;
    }

    /** The descriptor type of a GET_DESCRIPTOR (high byte of wValue). */
    int descriptorType() {
        return value >>> 8;
    }

    /** The descriptor index of a GET_DESCRIPTOR (low byte of wValue). */
    int descriptorIndex() {
        return value & 0xFF;
    }
}
