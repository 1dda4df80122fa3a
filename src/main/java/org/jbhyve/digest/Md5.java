package org.jbhyve.digest;

/**
 * MD5 (RFC 1321), for the names bhyve derives from others: the SMBIOS system UUID (from the VM's
 * and the host's names), a disk's default serial number (from its path) and a network card's
 * default MAC address (from its slot and the VM's name). Not for anything that needs a secure
 * digest.
 *
 * <p>Why not {@code MessageDigest.getInstance("MD5")}: the JDK's digests come through its
 * security providers, whose first use in a process reads the security properties, builds the
 * provider list and the algorithm constraints: 9 ms of CPU at every VM start (a sampling
 * profile of bin/bhyve), 60 times the digest itself, and 60 classes a start would otherwise load.
 * {@code Md5Test} checks this class against the JDK's MD5 and RFC 1321's test suite.
 *
 * <p>The algorithm: the message, a 1 bit, zeros up to 56 bytes mod 64, and the message's length
 * in bits as a little-endian 64-bit number, in 64-byte blocks; each block is sixteen
 * little-endian 32-bit words mixed into four state words in four rounds of sixteen steps, step i
 * adding sine-derived constant {@code K[i]} and rotating left by {@code S[i]}.
 */
public final class Md5 {
    private static final int[] S = {
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};
    /** K[i] = floor(abs(sin(i + 1)) * 2^32). */
    private static final int[] K = new int[64];

    static {
        for (int i = 0; i < 64; i++) {
            K[i] = (int) (long) Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296.0);
        }
    }

    private Md5() {}

    /** The 16-byte digest of {@code message}. */
    public static byte[] digest(byte[] message) {
        int blocks = (message.length + 8) / 64 + 1;
        byte[] padded = new byte[blocks * 64];
        System.arraycopy(message, 0, padded, 0, message.length);
        padded[message.length] = (byte) 0x80;
        long bits = (long) message.length * 8;
        for (int i = 0; i < 8; i++) {
            padded[padded.length - 8 + i] = (byte) (bits >>> (8 * i));
        }
        int[] state = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
        int[] word = new int[16];
        for (int block = 0; block < blocks; block++) {
            for (int j = 0; j < 16; j++) {
                word[j] = littleEndianInt(padded, block * 64 + j * 4);
            }
            mix(state, word);
        }
        byte[] out = new byte[16];
        for (int i = 0; i < 16; i++) {
            out[i] = (byte) (state[i / 4] >>> (8 * (i % 4)));
        }
        return out;
    }

    private static void mix(int[] state, int[] word) {
        int a = state[0];
        int b = state[1];
        int c = state[2];
        int d = state[3];
        for (int i = 0; i < 64; i++) {
            int f;
            int g;
            if (i < 16) {
                f = (b & c) | (~b & d);
                g = i;
            } else if (i < 32) {
                f = (d & b) | (~d & c);
                g = (5 * i + 1) % 16;
            } else if (i < 48) {
                f = b ^ c ^ d;
                g = (3 * i + 5) % 16;
            } else {
                f = c ^ (b | ~d);
                g = (7 * i) % 16;
            }
            int rotated = Integer.rotateLeft(a + f + K[i] + word[g], S[i]);
            a = d;
            d = c;
            c = b;
            b = b + rotated;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
    }

    private static int littleEndianInt(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }
}
