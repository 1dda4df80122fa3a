package org.jbhyve.machine;

/** The VM cannot be built as configured (bad value, unusable backend...): one line for the user. */
public final class MachineException extends RuntimeException {
    public MachineException(String message) {
        super(message);
    }
}
