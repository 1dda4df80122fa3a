package org.jbhyve.snapshot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads one state blob written by {@link StateWriter}. Every read is bounds-checked: a blob that
 * ends early or carries a length beyond its end is a {@link SnapshotException} naming the part,
 * never an exception from deep inside a device.
 */
public final class StateReader {
    private final String part;
    private final ByteBuffer in;

    public StateReader(String part, byte[] blob) {
        this.part = part;
        this.in = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The part this blob belongs to, for messages. */
    public String part() {
        return part;
    }

    public int u8() {
        need(1);
        return Byte.toUnsignedInt(in.get());
    }

    public boolean bool() {
        int v = u8();
        if (v > 1) {
            throw invalid("a flag is " + v);
        }
        return v == 1;
    }

    public int u16() {
        need(2);
        return Short.toUnsignedInt(in.getShort());
    }

    public int i32() {
        need(4);
        return in.getInt();
    }

    public long i64() {
        need(8);
        return in.getLong();
    }

    public byte[] bytes() {
        int n = count(1);
        byte[] out = new byte[n];
        in.get(out);
        return out;
    }

    /** Exactly {@code count} bytes written with {@link StateWriter#raw}. */
    public byte[] raw(int count) {
        need(count);
        byte[] out = new byte[count];
        in.get(out);
        return out;
    }

    /** A byte array that must have exactly {@code expected} bytes. */
    public byte[] bytes(int expected) {
        byte[] b = bytes();
        if (b.length != expected) {
            throw invalid("a field of " + expected + " bytes has " + b.length);
        }
        return b;
    }

    public String string() {
        int n = i32();
        if (n == -1) {
            return null;
        }
        if (n < 0 || n > in.remaining()) {
            throw truncated();
        }
        byte[] b = new byte[n];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    public int[] ints() {
        int[] out = new int[count(4)];
        for (int i = 0; i < out.length; i++) {
            out[i] = in.getInt();
        }
        return out;
    }

    /** An int array that must have exactly {@code expected} entries. */
    public int[] ints(int expected) {
        int[] v = ints();
        if (v.length != expected) {
            throw invalid(expected + " entries expected, " + v.length + " found");
        }
        return v;
    }

    public long[] longs() {
        long[] out = new long[count(8)];
        for (int i = 0; i < out.length; i++) {
            out[i] = in.getLong();
        }
        return out;
    }

    /** A long array that must have exactly {@code expected} entries. */
    public long[] longs(int expected) {
        long[] v = longs();
        if (v.length != expected) {
            throw invalid(expected + " entries expected, " + v.length + " found");
        }
        return v;
    }

    /** Restores {@code target} from a blob written with {@link StateWriter#nested}. */
    public void nested(Snapshottable target, String name) {
        int version = i32();
        StateReader inner = new StateReader(part + "/" + name, bytes());
        if (version < 1 || version > target.stateVersion()) {
            throw new SnapshotException(inner.part() + ": state version " + version
                    + " is not one this jbhyve reads (up to " + target.stateVersion() + ")");
        }
        target.restoreState(inner, version);
        inner.expectEnd();
    }

    /** A value checked against a range: out of it is a corrupt blob. */
    public int intIn(int min, int max, String what) {
        int v = i32();
        if (v < min || v > max) {
            throw invalid(what + " is " + v + ", outside " + min + ".." + max);
        }
        return v;
    }

    /** Fails unless the whole blob was consumed (a longer blob is a different layout). */
    public void expectEnd() {
        if (in.hasRemaining()) {
            throw invalid(in.remaining() + " bytes left over");
        }
    }

    public int remaining() {
        return in.remaining();
    }

    /** A SnapshotException naming this part, for checks the device makes itself. */
    public SnapshotException invalid(String what) {
        return new SnapshotException("snapshot state of " + part + " is not valid: " + what);
    }

    private int count(int width) {
        int n = i32();
        if (n < 0 || (long) n * width > in.remaining()) {
            throw truncated();
        }
        return n;
    }

    private void need(int n) {
        if (in.remaining() < n) {
            throw truncated();
        }
    }

    private SnapshotException truncated() {
        return new SnapshotException("snapshot state of " + part + " is truncated");
    }
}
