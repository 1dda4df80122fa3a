package org.jbhyve.devices.usb;

import org.jbhyve.snapshot.Snapshottable;

/**
 * A USB device as a root hub port sees it (bhyve's {@code struct usb_devemu}): the controller
 * turns transfer descriptors into calls here and the answers back into transfer events.
 *
 * <p>Threads: every method is called with the controller's lock held, from a vCPU thread (a
 * doorbell or register write) or from the thread that called the controller's wake-up. A device
 * guards its own state with its own lock, returns without blocking, and never calls into the
 * controller while holding that lock: the controller's lock is always taken first.
 *
 * <p>A device's snapshot state (its address, configuration, pending data) is saved by the
 * controller as part of its own, with the controller's lock held.
 */
interface UsbDevice extends Snapshottable {
    /** bhyve's emulation name, e.g. "tablet". */
    String name();

    /** Whether the device attaches to a USB 3 protocol port (bhyve's {@code ue_usbver == 3}). */
    boolean usb3();

    /** The PORTSC speed id: 1 full, 2 low, 3 high, 4 super speed. */
    int speed();

    /** A USB bus reset: the device forgets its address and configuration. */
    void reset();

    /**
     * A control transfer on endpoint 0: the setup packet and, for host-to-device requests, the
     * data stage's bytes (empty without one). Answers data for device-to-host requests (at most
     * {@code setup.length()} bytes), nothing for the others, or a STALL.
     */
    UsbResponse control(SetupPacket setup, byte[] out);

    /**
     * An IN transaction on endpoint {@code endpoint} (1-15) for at most {@code length} bytes:
     * data, a NAK (nothing to report yet; the controller keeps the transfer pending) or a STALL.
     */
    UsbResponse in(int endpoint, int length);

    /**
     * Where the device signals that an IN endpoint has new data (the controller retries its
     * pending transfers). Called once, when the device is attached.
     */
    void setWakeUp(WakeUp wakeUp);

    /** The callback of {@link #setWakeUp}; callable from any thread, never with the device's lock held. */
    @FunctionalInterface
    interface WakeUp {
        void dataReady(int endpoint);
    }
}
