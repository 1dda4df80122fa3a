package org.jbhyve.snapshot;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds one state blob: little-endian fixed-width values, length-prefixed byte arrays and
 * strings. Write with the same sequence of calls {@link StateReader} will read back.
 */
public final class StateWriter {
    private byte[] bytes = new byte[256];
    private int length;

    public StateWriter u8(int value) {
        room(1);
        bytes[length++] = (byte) value;
        return this;
    }

    public StateWriter bool(boolean value) {
        return u8(value ? 1 : 0);
    }

    public StateWriter u16(int value) {
        return u8(value).u8(value >>> 8);
    }

    public StateWriter i32(int value) {
        return u16(value).u16(value >>> 16);
    }

    public StateWriter i64(long value) {
        return i32((int) value).i32((int) (value >>> 32));
    }

    /** A byte array with its length. */
    public StateWriter bytes(byte[] value) {
        i32(value.length);
        return raw(value, 0, value.length);
    }

    /** Bytes without a length: the reader must know how many. */
    public StateWriter raw(byte[] value, int offset, int count) {
        room(count);
        System.arraycopy(value, offset, bytes, length, count);
        length += count;
        return this;
    }

    /** A string (UTF-8 with its length); null is written as length -1. */
    public StateWriter string(String value) {
        if (value == null) {
            return i32(-1);
        }
        return bytes(value.getBytes(StandardCharsets.UTF_8));
    }

    public StateWriter ints(int[] values) {
        i32(values.length);
        for (int v : values) {
            i32(v);
        }
        return this;
    }

    public StateWriter longs(long[] values) {
        i32(values.length);
        for (long v : values) {
            i64(v);
        }
        return this;
    }

    /** A nested blob (another part's state), length-prefixed so the reader can bound it. */
    public StateWriter nested(Snapshottable part) {
        StateWriter inner = new StateWriter();
        part.saveState(inner);
        i32(part.stateVersion());
        return bytes(inner.toByteArray());
    }

    public int size() {
        return length;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, length);
    }

    private void room(int more) {
        if (length + more > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
        }
    }
}
