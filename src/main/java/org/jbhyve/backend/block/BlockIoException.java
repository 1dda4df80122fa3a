package org.jbhyve.backend.block;

/** One I/O request failed on the host (EIO, ENOSPC, a short transfer...): that request only. */
public final class BlockIoException extends Exception {
    public BlockIoException(String message) {
        super(message, null, false, false);
    }
}
