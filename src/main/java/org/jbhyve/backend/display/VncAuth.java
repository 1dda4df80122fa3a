package org.jbhyve.backend.display;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * RFB's "VNC Authentication" (security type 2, RFC 6143 7.2.2): the server sends a random
 * 16-byte challenge, the viewer returns it encrypted with DES in ECB mode (two 8-byte blocks)
 * under a key made from the password: its first 8 bytes, zero-padded, with the bits of every
 * byte mirrored (bit 0 becomes bit 7). The mirroring is a historical quirk of the original VNC
 * code, which every viewer reproduces; bhyve's rfb.c does the same.
 *
 * <p>The password is kept only as the derived key and never appears in messages or logs.
 */
public final class VncAuth {
    public static final int CHALLENGE_LENGTH = 16;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] key;

    public VncAuth(String password) {
        this.key = keyFor(password);
    }

    /** The DES key for {@code password}: 8 bytes (Latin-1, truncated or zero-padded), each bit-mirrored. */
    static byte[] keyFor(String password) {
        byte[] text = password.getBytes(StandardCharsets.ISO_8859_1);
        byte[] k = new byte[8];
        for (int i = 0; i < 8 && i < text.length; i++) {
            k[i] = (byte) (Integer.reverse(text[i] & 0xFF) >>> 24);
        }
        return k;
    }

    /** A fresh random challenge. */
    public static byte[] challenge() {
        byte[] c = new byte[CHALLENGE_LENGTH];
        RANDOM.nextBytes(c);
        return c;
    }

    /** What a viewer that knows the password answers to {@code challenge}. */
    public byte[] response(byte[] challenge) {
        return encrypt(key, challenge);
    }

    /** Whether {@code response} is the right answer to {@code challenge} (constant-time compare). */
    public boolean verify(byte[] challenge, byte[] response) {
        return response.length == CHALLENGE_LENGTH && MessageDigest.isEqual(response(challenge), response);
    }

    /** DES/ECB of the 16-byte challenge under {@code key}; a viewer does this with its password's key. */
    static byte[] encrypt(byte[] key, byte[] challenge) {
        if (challenge.length != CHALLENGE_LENGTH) {
            throw new IllegalArgumentException("a VNC challenge is 16 bytes");
        }
        try {
            Cipher des = Cipher.getInstance("DES/ECB/NoPadding");
            des.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "DES"));
            return des.doFinal(challenge);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK's DES cipher is unavailable", e);
        }
    }

    /** A viewer's answer for {@code password}, for tests and clients. */
    public static byte[] respond(String password, byte[] challenge) {
        return encrypt(keyFor(password), challenge);
    }

    @Override
    public String toString() {
        return "VncAuth[key hidden]";
    }
}
