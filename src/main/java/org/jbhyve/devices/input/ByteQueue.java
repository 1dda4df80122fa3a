package org.jbhyve.devices.input;

import org.jbhyve.snapshot.StateReader;
import org.jbhyve.snapshot.StateWriter;

/** A small bounded FIFO of bytes, as the buffers inside PS/2 devices. Not thread-safe. */
final class ByteQueue {
    private final byte[] ring;
    private int head, count;

    ByteQueue(int capacity) {
        ring = new byte[capacity];
    }

    int size() {
        return count;
    }

    int free() {
        return ring.length - count;
    }

    boolean isEmpty() {
        return count == 0;
    }

    /** Appends {@code v}; false (and nothing stored) when full. */
    boolean put(int v) {
        if (count == ring.length) {
            return false;
        }
        ring[(head + count) % ring.length] = (byte) v;
        count++;
        return true;
    }

    /** Appends all of {@code bytes} or, when they do not all fit, none. */
    boolean putAll(byte[] bytes) {
        if (bytes.length > free()) {
            return false;
        }
        for (byte b : bytes) {
            put(b);
        }
        return true;
    }

    /** The oldest byte (0..255), removed; -1 when empty. */
    int take() {
        if (count == 0) {
            return -1;
        }
        int v = ring[head] & 0xFF;
        head = (head + 1) % ring.length;
        count--;
        return v;
    }

    void clear() {
        head = 0;
        count = 0;
    }

    /** Writes the queued bytes, oldest first, length-prefixed (the capacity is not saved). */
    void save(StateWriter out) {
        byte[] queued = new byte[count];
        for (int i = 0; i < count; i++) {
            queued[i] = ring[(head + i) % ring.length];
        }
        out.bytes(queued);
    }

    /** Replaces the contents with bytes written by {@link #save}; more than fit is a corrupt blob. */
    void restore(StateReader in, String what) {
        byte[] queued = in.bytes();
        if (queued.length > ring.length) {
            throw in.invalid(what + " holds " + queued.length + " bytes, room for " + ring.length);
        }
        clear();
        for (byte b : queued) {
            put(b);
        }
    }
}
