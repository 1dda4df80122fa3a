package org.jbhyve.machine;

/** The VM cannot be built as configured (bad value, unusable backend...): one line for the user. */
public final class MachineException extends RuntimeException {
    public MachineException(String message) {
        super(message);
    }

    /** {@code message} for the user; {@code cause} for those who look further (the VM registry naming a lock's holder). */
    public MachineException(String message, Throwable cause) {
        super(message, cause);
    }
}
