package org.jbhyve.irq;

/**
 * Guest writes that wake a device without a vCPU exit to user space: KVM signals an eventfd
 * for a write to a registered port or MMIO address (KVM_IOEVENTFD) and an event-loop thread
 * runs the device's handler. Devices see this interface only; {@link #NONE} registers nothing,
 * and then the writes reach the device's bus handler as ordinary exits (tests, fallback).
 */
public interface GuestDoorbells {
    /** A live registration; closing it removes the doorbell. */
    interface Registration extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Calls {@code handler} (on the event-loop thread) after guest writes of {@code length}
     * bytes of value {@code value} to {@code address} (a port when {@code pio}); several writes
     * may be coalesced into one call.
     */
    Registration register(long address, int length, boolean pio, long value, Runnable handler);

    GuestDoorbells NONE = (address, length, pio, value, handler) -> () -> {};
}
