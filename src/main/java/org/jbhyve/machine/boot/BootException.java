package org.jbhyve.machine.boot;

/** A kernel, initrd or command line that cannot be loaded; the message is one line for the user. */
public final class BootException extends RuntimeException {
    public BootException(String message) {
        super(message);
    }
}
