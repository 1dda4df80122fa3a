package org.jbhyve.virtio;

/**
 * The driver broke the virtqueue protocol (a descriptor index out of range, a loop, nested
 * indirect tables, a buffer outside guest RAM, more available entries than the queue holds).
 * The transport answers by setting DEVICE_NEEDS_RESET and stopping the queue; the VMM goes on.
 */
public final class VirtqueueException extends RuntimeException {
    public VirtqueueException(String message) {
        super(message, null, false, false);
    }
}
