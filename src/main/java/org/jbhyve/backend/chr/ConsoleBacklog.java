package org.jbhyve.backend.chr;

/**
 * Guest output that a console has not delivered yet, bounded, keeping the newest bytes.
 *
 * <p>A serial console nobody is watching still prints: boot messages, then a login prompt. When
 * someone attaches, the useful part is the end (the prompt, the last panic lines), so once the
 * backlog is full the <em>oldest</em> bytes make room, counted as dropped. Bytes written to the
 * host and then taken back unread (a user detached before reading them) go back in front with
 * {@link #prepend}, so the order the guest wrote is kept.
 *
 * <p>Used by a single thread (the backend's writer); not thread-safe.
 */
final class ConsoleBacklog {
    private final byte[] buf;
    private int head;
    private int count;

    ConsoleBacklog(int capacity) {
        buf = new byte[capacity];
    }

    int size() {
        return count;
    }

    /** Appends {@code len} bytes after the others; returns how many old bytes were dropped for them. */
    int append(byte[] src, int off, int len) {
        int dropped = 0;
        if (len > buf.length) { // only the newest capacity bytes of src can stay
            dropped += len - buf.length;
            off += len - buf.length;
            len = buf.length;
        }
        int overflow = count + len - buf.length;
        if (overflow > 0) {
            consume(overflow);
            dropped += overflow;
        }
        for (int i = 0; i < len; i++) {
            buf[(head + count + i) % buf.length] = src[off + i];
        }
        count += len;
        return dropped;
    }

    /**
     * Puts {@code len} bytes before the others (they are older). What does not fit is dropped from
     * the front of {@code src}, the oldest; returns how many bytes were dropped.
     */
    int prepend(byte[] src, int off, int len) {
        int room = buf.length - count;
        int keep = Math.min(len, room);
        int skip = len - keep;
        head = Math.floorMod(head - keep, buf.length);
        for (int i = 0; i < keep; i++) {
            buf[(head + i) % buf.length] = src[off + skip + i];
        }
        count += keep;
        return skip;
    }

    /** Copies up to {@code len} of the oldest bytes into {@code dst} without removing them; returns how many. */
    int peek(byte[] dst, int off, int len) {
        int n = Math.min(len, count);
        for (int i = 0; i < n; i++) {
            dst[off + i] = buf[(head + i) % buf.length];
        }
        return n;
    }

    /** Removes the {@code n} oldest bytes (those delivered). */
    void consume(int n) {
        if (n < 0 || n > count) {
            throw new IllegalArgumentException("consume " + n + " of " + count);
        }
        head = (head + n) % buf.length;
        count -= n;
    }
}
