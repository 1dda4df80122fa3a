package org.jbhyve.control;

/**
 * A registry or control-socket problem the user has to act on: a name already running, a run
 * directory that cannot be made safe, a VM that does not exist. The message is one line;
 * {@link #errno()} is the errno value closest to it (ENOENT, EEXIST, EBUSY, EACCES, EINVAL).
 */
public final class ControlException extends RuntimeException {
    public static final int ENOENT = 2, EACCES = 13, EBUSY = 16, EEXIST = 17, EINVAL = 22;

    private final int errno;

    public ControlException(int errno, String message) {
        super(message);
        this.errno = errno;
    }

    public ControlException(int errno, String message, Throwable cause) {
        super(message, cause);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
