package org.jbhyve.sys;

/**
 * A failed system call: the call's name and errno, with the C library's wording for it.
 * Unchecked, because callers either translate it into a one-line user error at start-up or let
 * it mark a broken invariant; {@link #errno()} lets them match on EINTR, EAGAIN, ENOENT...
 */
public final class SysException extends RuntimeException {
    private final String call;
    private final int errno;

    public SysException(String call, int errno) {
        super(call + ": " + Errno.describe(errno));
        this.call = call;
        this.errno = errno;
    }

    public String call() {
        return call;
    }

    public int errno() {
        return errno;
    }

    /** strerror(3) of {@link #errno()} alone, for messages that name the call's object themselves. */
    public String reason() {
        return Errno.describe(errno);
    }
}
