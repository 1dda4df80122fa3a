package org.jbhyve.backend.chr;

/**
 * The host end of a serial line: a byte sink for what the guest transmits and a source of what
 * the host side types. See package-info for the threading and flow-control contract.
 */
public interface CharBackend extends AutoCloseable {
    /** Queues one byte for the host; never blocks (drops and counts when the host is too slow). */
    void write(int b);

    /** Queues {@code len} bytes; same contract as {@link #write(int)}. */
    void write(byte[] buf, int off, int len);

    /**
     * Moves up to {@code len} bytes of host input into {@code buf} without blocking; returns how
     * many (0 when none is waiting). Bytes not taken stay in the backend: that is the back-pressure
     * path, once its bounded buffer is full the backend stops reading from the host.
     */
    int readAvailable(byte[] buf, int off, int len);

    /**
     * Registers the single readiness listener, called on the backend's input thread (with no
     * backend lock held) each time new input becomes available, and at once if some is already
     * waiting. Calls may be spurious; the listener pulls with {@link #readAvailable}.
     */
    void onInputReady(Runnable listener);

    /** Guest output bytes thrown away because the host did not keep up. */
    long droppedBytes();

    /** Stops the backend's threads, restores terminal modes, releases host resources. Idempotent. */
    @Override
    void close();
}
