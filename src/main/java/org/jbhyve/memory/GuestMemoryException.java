package org.jbhyve.memory;

/**
 * A guest-given address or length that does not lie inside guest RAM. Device models catch it
 * and fail the one request (a hostile or buggy guest), never the VMM.
 */
public final class GuestMemoryException extends RuntimeException {
    public GuestMemoryException(String message) {
        super(message);
    }
}
