package org.jbhyve.backend.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MacAddressTest {
    @Test
    void generatedAddressIsNetAppOuiPlusMd5OfSlotFunctionName() {
        // md5("2-0-vm1") = 27a7189e59195559e446101c13795d4a (coreutils md5sum)
        assertEquals("00:a0:98:27:a7:18", MacAddress.generate(2, 0, "vm1").toString());
        // md5("3-1-freebsd") = 5fdcfedd9df3b2a9b3a5fbb6e821727f
        assertEquals("00:a0:98:5f:dc:fe", MacAddress.generate(3, 1, "freebsd").toString());
    }

    @Test
    void generatedAddressMatchesDigestComputedHere() throws Exception {
        byte[] d = MessageDigest.getInstance("MD5").digest("31-7-some-vm".getBytes(StandardCharsets.US_ASCII));
        byte[] expected = {0, (byte) 0xa0, (byte) 0x98, d[0], d[1], d[2]};
        assertArrayEquals(expected, MacAddress.generate(31, 7, "some-vm").octets());
    }

    @Test
    void parsesColonSeparatedHexLikeEtherAton() {
        assertEquals("00:a0:98:11:22:33", MacAddress.parse("00:a0:98:11:22:33").toString());
        assertEquals("02:0a:0b:0c:0d:ee", MacAddress.parse("2:A:b:c:D:EE").toString());
        assertEquals(MacAddress.parse("02:00:00:00:00:01"), MacAddress.parse("2:0:0:0:0:1"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "00:a0:98:11:22", "00:a0:98:11:22:33:44", "00:a0:98:11:22:3g", "00-a0-98-11-22-33",
            "000:a0:98:11:22:33", "00:a0:98:11::33", "00:a0:98:11:22:33 "})
    void rejectsMalformedAddresses(String text) {
        NetBackendException e = assertThrows(NetBackendException.class, () -> MacAddress.parse(text));
        assertTrue(e.getMessage().contains("invalid MAC address"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void rejectsMulticastAndZero() {
        assertTrue(assertThrows(NetBackendException.class, () -> MacAddress.parse("01:00:5e:00:00:01"))
                .getMessage().contains("multicast"));
        assertTrue(assertThrows(NetBackendException.class, () -> MacAddress.parse("ff:ff:ff:ff:ff:ff"))
                .getMessage().contains("multicast"));
        assertTrue(assertThrows(NetBackendException.class, () -> MacAddress.parse("00:00:00:00:00:00"))
                .getMessage().contains("all-zero"));
    }
}
