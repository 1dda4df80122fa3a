package org.jbhyve.backend.chr;

/**
 * A serial backend value that cannot be used: an unknown kind, a path that is not a terminal, a
 * second {@code stdio}, an address that cannot be bound. The message is one line naming the
 * device and the value once, e.g. {@code com1: /dev/ttyS9: No such file or directory} or
 * {@code com1: empty serial backend ()}.
 */
public final class CharBackendException extends IllegalArgumentException {
    /** {@code DEVICE: PROBLEM}, for problems whose text already names the value. */
    public CharBackendException(String device, String problem) {
        super(device + ": " + problem);
    }

    public CharBackendException(String device, String value, String problem) {
        super(device + ": " + problem + " (" + value + ")");
    }

    public CharBackendException(String device, String value, String problem, Throwable cause) {
        super(device + ": " + problem + " (" + value + ")", cause);
    }
}
