package org.jbhyve.devices.virtio.net;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Byte access at an offset of a buffer list (a frame scattered over guest buffers), for the few
 * header and address bytes the device reads or writes; the header may straddle descriptors.
 */
final class Scatter {
    private Scatter() {}

    /** The byte at {@code offset} of the concatenation of {@code parts}, or -1 past the end. */
    static int get(MemorySegment[] parts, int count, long offset) {
        for (int i = 0; i < count; i++) {
            long n = parts[i].byteSize();
            if (offset < n) {
                return Byte.toUnsignedInt(parts[i].get(ValueLayout.JAVA_BYTE, offset));
            }
            offset -= n;
        }
        return -1;
    }

    /** Stores {@code value} at {@code offset}; false past the end. */
    static boolean put(MemorySegment[] parts, int count, long offset, byte value) {
        for (int i = 0; i < count; i++) {
            long n = parts[i].byteSize();
            if (offset < n) {
                parts[i].set(ValueLayout.JAVA_BYTE, offset, value);
                return true;
            }
            offset -= n;
        }
        return false;
    }

    /** Little-endian u16 at {@code offset}. */
    static boolean putShort(MemorySegment[] parts, int count, long offset, int value) {
        return put(parts, count, offset, (byte) value) && put(parts, count, offset + 1, (byte) (value >>> 8));
    }
}
