package org.jbhyve.snapshot;

/** A snapshot that cannot be written or used; the message is one line for the user. */
public final class SnapshotException extends RuntimeException {
    public SnapshotException(String message) {
        super(message);
    }

    public SnapshotException(String message, Throwable cause) {
        super(message, cause);
    }
}
