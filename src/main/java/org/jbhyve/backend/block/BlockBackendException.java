package org.jbhyve.backend.block;

/** A disk image cannot be used as configured (missing, unreadable, bad option): one line for the user. */
public class BlockBackendException extends RuntimeException {
    public BlockBackendException(String message) {
        super(message);
    }
}
