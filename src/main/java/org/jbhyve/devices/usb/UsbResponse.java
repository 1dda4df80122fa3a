package org.jbhyve.devices.usb;

/**
 * A USB device's answer to a transaction (USB 2.0, 8.4.5 handshakes): ACK with data (possibly
 * none), NAK (not ready, ask again later) or STALL (request not supported, or endpoint halted).
 */
record UsbResponse(Status status, byte[] data) {
    enum Status { ACK, NAK, STALL }

    static final UsbResponse NAK = new UsbResponse(Status.NAK, new byte[0]);
    static final UsbResponse STALL = new UsbResponse(Status.STALL, new byte[0]);
    static final UsbResponse EMPTY = new UsbResponse(Status.ACK, new byte[0]);

    static UsbResponse data(byte[] data) {
        return new UsbResponse(Status.ACK, data);
    }

    /** The first {@code max} bytes of {@code data} (a device answers at most wLength bytes). */
    static UsbResponse data(byte[] data, int max) {
        return data(java.util.Arrays.copyOf(data, Math.min(data.length, Math.max(0, max))));
    }
}
