package org.jbhyve.devices.input;

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
}
