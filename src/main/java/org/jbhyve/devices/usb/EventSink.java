package org.jbhyve.devices.usb;

/**
 * Where the controller's parts put events: interrupter 0's event ring. {@code control} carries
 * the event's type, slot and endpoint but no cycle bit (the ring adds it); {@code interrupt}
 * asks for an interrupt once it is written (Block Event Interrupt clears it).
 */
@FunctionalInterface
interface EventSink {
    void post(long parameter, int status, int control, boolean interrupt);
}
