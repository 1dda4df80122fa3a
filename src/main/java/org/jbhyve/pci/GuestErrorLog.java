package org.jbhyve.pci;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.jbhyve.log.LazyLogger;

/**
 * A device's record of guest mistakes (bad rings, descriptors, buffers outside RAM): every one is
 * counted, the first ten and then every 1000th are logged, so a hostile guest cannot flood the
 * host's log. Thread-safe; {@link #report} never blocks on anything but the logger.
 */
public final class GuestErrorLog {
    private final LazyLogger log;
    private final Supplier<String> device;
    private final AtomicInteger count = new AtomicInteger();

    /** @param device the device's name, asked for only when a line is logged */
    public GuestErrorLog(LazyLogger log, Supplier<String> device) {
        this.log = log;
        this.device = device;
    }

    /** Counts one mistake and logs it when it is among the first ten or a multiple of 1000. */
    public void report(String message) {
        int n = count.getAndIncrement();
        if (n < 10 || n % 1000 == 0) {
            log.get().warning(device.get() + ": " + message);
        }
    }

    /** Mistakes seen so far. */
    public int count() {
        return count.get();
    }
}
