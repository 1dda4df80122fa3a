package org.jbhyve.digest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** Our MD5 against RFC 1321's test suite and against the JDK's MD5 on any input. */
class Md5Test {
    private static String hex(String message) {
        return HexFormat.of().formatHex(Md5.digest(message.getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void rfc1321TestSuite() {
        assertEquals("d41d8cd98f00b204e9800998ecf8427e", hex(""));
        assertEquals("0cc175b9c0f1b6a831c399e269772661", hex("a"));
        assertEquals("900150983cd24fb0d6963f7d28e17f72", hex("abc"));
        assertEquals("f96b697d7cb7938d525a2f31aaf161d0", hex("message digest"));
        assertEquals("c3fcd3d76192e4007dfb496cca67e13b", hex("abcdefghijklmnopqrstuvwxyz"));
        assertEquals("d174ab98d277d9f5a5611c2c9f419d9f",
                hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"));
        assertEquals("57edf4a22be3c955ac49da2e2107b67a",
                hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"));
    }

    /** Lengths around the padding's edges (55, 56, 63, 64 bytes) come up among the sizes tried. */
    @Property(tries = 300)
    void sameDigestAsTheJdksMd5(@ForAll @Size(max = 300) byte[] message) throws Exception {
        assertArrayEquals(MessageDigest.getInstance("MD5").digest(message), Md5.digest(message));
    }
}
