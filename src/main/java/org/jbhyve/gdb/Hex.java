package org.jbhyve.gdb;

import java.nio.charset.StandardCharsets;

/**
 * Hexadecimal as the remote protocol writes it: numbers big-endian without a prefix
 * ({@code 7c00}), data as two digits per byte in memory order. Parsing never throws anything
 * but {@link BadPacketException}, so a malformed packet becomes an error reply.
 */
final class Hex {
    /** A packet the server cannot parse; answered with an error reply. */
    static final class BadPacketException extends RuntimeException {
        BadPacketException(String message) {
            super(message, null, false, false);
        }
    }

    private static final char[] DIGITS = "0123456789abcdef".toCharArray();

    private Hex() {}

    static int digit(int c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    /** A number of 1-16 hex digits (64 bits at most). */
    static long parseLong(String s) {
        if (s.isEmpty() || s.length() > 16) {
            throw new BadPacketException("bad number '" + abbreviate(s) + "'");
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            int d = digit(s.charAt(i));
            if (d < 0) {
                throw new BadPacketException("bad number '" + abbreviate(s) + "'");
            }
            v = (v << 4) | d;
        }
        return v;
    }

    /** A hex number that must fit in {@code [0, max]}. */
    static int parseInt(String s, int max) {
        long v = parseLong(s);
        if (v < 0 || v > max) {
            throw new BadPacketException("number " + abbreviate(s) + " out of range");
        }
        return (int) v;
    }

    /** Bytes from an even number of hex digits. */
    static byte[] decode(String s) {
        if ((s.length() & 1) != 0) {
            throw new BadPacketException("odd number of hex digits");
        }
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = digit(s.charAt(2 * i));
            int lo = digit(s.charAt(2 * i + 1));
            if (hi < 0 || lo < 0) {
                throw new BadPacketException("bad hex data");
            }
            out[i] = (byte) (hi << 4 | lo);
        }
        return out;
    }

    static String encode(byte[] bytes) {
        return encode(bytes, 0, bytes.length);
    }

    static String encode(byte[] bytes, int off, int len) {
        char[] out = new char[2 * len];
        for (int i = 0; i < len; i++) {
            int b = bytes[off + i] & 0xFF;
            out[2 * i] = DIGITS[b >>> 4];
            out[2 * i + 1] = DIGITS[b & 0xF];
        }
        return new String(out);
    }

    static String encode(String text) {
        return encode(text.getBytes(StandardCharsets.UTF_8));
    }

    static String abbreviate(String s) {
        return s.length() <= 24 ? s : s.substring(0, 24) + "...";
    }
}
