package org.jbhyve.sys;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * An owned file descriptor. {@link #close()} is idempotent and thread-safe: the first close wins
 * and later calls do nothing, so a descriptor is never closed twice (which could close a
 * descriptor number the kernel has since handed to someone else).
 */
public final class Fd implements AutoCloseable {
    private static final int CLOSED = -1;
    private final AtomicInteger number;
    private final String what;

    public Fd(int number, String what) {
        if (number < 0) {
            throw new IllegalArgumentException("invalid descriptor " + number + " for " + what);
        }
        this.number = new AtomicInteger(number);
        this.what = what;
    }

    /** The descriptor number; fails if already closed. */
    public int number() {
        int n = number.get();
        if (n == CLOSED) {
            throw new IllegalStateException(what + " is closed");
        }
        return n;
    }

    public boolean isOpen() {
        return number.get() != CLOSED;
    }

    @Override
    public void close() {
        int n = number.getAndSet(CLOSED);
        if (n != CLOSED) {
            Posix.close(n);
        }
    }

    @Override
    public String toString() {
        return what + "(fd " + number.get() + ")";
    }
}
