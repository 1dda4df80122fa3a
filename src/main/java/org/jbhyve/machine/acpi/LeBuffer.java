package org.jbhyve.machine.acpi;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable little-endian byte buffer for firmware tables, with in-place patching of
 * fields whose value is known only at the end (lengths, checksums).
 *
 * <p>Every firmware table the machine builds (ACPI, SMBIOS, MP) is little-endian and
 * protected by an 8-bit checksum: the sum of all bytes, modulo 256, is zero.
 */
public final class LeBuffer {
    private byte[] data = new byte[256];
    private int size;

    public int size() {
        return size;
    }

    private void ensure(int extra) {
        if (size + extra > data.length) {
            data = Arrays.copyOf(data, Math.max(data.length * 2, size + extra));
        }
    }

    public LeBuffer u8(int v) {
        ensure(1);
        data[size++] = (byte) v;
        return this;
    }

    public LeBuffer u16(int v) {
        return u8(v).u8(v >>> 8);
    }

    public LeBuffer u32(long v) {
        return u16((int) v).u16((int) (v >>> 16));
    }

    public LeBuffer u64(long v) {
        return u32(v).u32(v >>> 32);
    }

    public LeBuffer bytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, data, size, b.length);
        size += b.length;
        return this;
    }

    public LeBuffer zeros(int n) {
        ensure(n);
        size += n; // the array is zero-filled beyond size
        return this;
    }

    /** Pads with zeros until {@code size() % alignment == 0}. */
    public LeBuffer align(int alignment) {
        int rem = size % alignment;
        return rem == 0 ? this : zeros(alignment - rem);
    }

    /** Exactly {@code length} ASCII bytes: {@code s} truncated, or padded with {@code pad}. */
    public LeBuffer ascii(String s, int length, char pad) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < length; i++) {
            u8(i < b.length ? b[i] : pad);
        }
        return this;
    }

    /** ASCII text followed by a NUL. */
    public LeBuffer asciiz(String s) {
        return bytes(s.getBytes(StandardCharsets.US_ASCII)).u8(0);
    }

    public void putU8(int offset, int v) {
        check(offset, 1);
        data[offset] = (byte) v;
    }

    public void putU16(int offset, int v) {
        putU8(offset, v);
        putU8(offset + 1, v >>> 8);
    }

    public void putU32(int offset, long v) {
        putU16(offset, (int) v);
        putU16(offset + 2, (int) (v >>> 16));
    }

    private void check(int offset, int len) {
        if (offset < 0 || offset + len > size) {
            throw new IndexOutOfBoundsException("offset " + offset + " size " + size);
        }
    }

    /**
     * Stores at {@code checksumOffset} the byte that makes bytes {@code [from, to)} sum to zero.
     * The checksum byte must lie inside the range and is treated as zero while summing.
     */
    public void fixChecksum(int from, int to, int checksumOffset) {
        check(from, to - from);
        data[checksumOffset] = 0;
        data[checksumOffset] = checksum(data, from, to);
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(data, size);
    }

    /** The byte that, added to bytes {@code [from, to)}, makes their sum zero modulo 256. */
    public static byte checksum(byte[] b, int from, int to) {
        int sum = 0;
        for (int i = from; i < to; i++) {
            sum += b[i];
        }
        return (byte) -sum;
    }

    /** Sum of bytes {@code [from, to)} modulo 256; zero for a correctly checksummed range. */
    public static int sum8(byte[] b, int from, int to) {
        int sum = 0;
        for (int i = from; i < to; i++) {
            sum += b[i];
        }
        return sum & 0xFF;
    }
}
