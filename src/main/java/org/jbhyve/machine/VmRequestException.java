package org.jbhyve.machine;

/**
 * A request from outside the VM (bhyvectl, through {@link MachineControl}) that could not be
 * done: a vCPU or register that does not exist, a VM that is not running, a vCPU that did not
 * stop in time. {@link #errno()} is the Linux errno value closest to the cause (EINVAL, EBUSY,
 * ENOTSUP...), which bhyvectl reports as FreeBSD's does. The VM itself is unaffected.
 */
public final class VmRequestException extends RuntimeException {
    public static final int ENOENT = 2, EIO = 5, EBUSY = 16, EEXIST = 17, EINVAL = 22, ENOTSUP = 95, ETIMEDOUT = 110;

    private final int errno;

    public VmRequestException(int errno, String message) {
        super(message);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
