package org.jbhyve.backend.display;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import org.jbhyve.testing.RfbTestClient;
import org.junit.jupiter.api.Test;

class VncAuthAndPixelFormatTest {
    @Test
    void desIsPlainEcbOverTwoBlocks() {
        // FIPS 81 style known answer: DES of 0 under the all-zero key is 8ca64de9c1b123a7
        byte[] out = VncAuth.encrypt(new byte[8], new byte[16]);
        assertEquals("8ca64de9c1b123a78ca64de9c1b123a7", HexFormat.of().formatHex(out));
    }

    @Test
    void theKeyIsThePasswordWithEveryByteBitMirroredAndZeroPadded() {
        assertEquals("8646000000000000", HexFormat.of().formatHex(VncAuth.keyFor("ab")));
        assertArrayEquals(VncAuth.keyFor("12345678"), VncAuth.keyFor("123456789"));
        assertEquals("8c4ccc2cac6cec1c", HexFormat.of().formatHex(VncAuth.keyFor("12345678")));
    }

    @Test
    void verifyAcceptsOnlyTheRightAnswer() {
        VncAuth auth = new VncAuth("hunter2");
        byte[] challenge = VncAuth.challenge();
        assertTrue(auth.verify(challenge, RfbTestClient.desResponse("hunter2", challenge)));
        assertFalse(auth.verify(challenge, RfbTestClient.desResponse("hunter3", challenge)));
        assertFalse(auth.verify(challenge, new byte[15]));
        assertFalse(auth.toString().contains("hunter"), "the password is never printed");
    }

    @Test
    void pixelFormatRoundTripsAndRefusesWhatItCannotProduce() {
        PixelFormat f = new PixelFormat(16, 16, true, 31, 63, 31, 11, 5, 0);
        assertEquals(f, PixelFormat.parse(f.encode(), 0));
        byte[] colourMap = f.encode();
        colourMap[3] = 0;
        assertEquals("colour-map pixel formats are not supported",
                assertThrows(IllegalArgumentException.class, () -> PixelFormat.parse(colourMap, 0)).getMessage());
        byte[] odd = f.encode();
        odd[0] = 24;
        assertThrows(IllegalArgumentException.class, () -> PixelFormat.parse(odd, 0));
        byte[] shift = f.encode();
        shift[10] = 16;
        assertThrows(IllegalArgumentException.class, () -> PixelFormat.parse(shift, 0));
    }

    @Test
    void conversionScalesChannelsAndHonoursByteOrder() {
        PixelFormat be565 = new PixelFormat(16, 16, true, 31, 63, 31, 11, 5, 0);
        byte[] out = new byte[4];
        assertEquals(4, be565.convert(new int[] {0xFF0000, 0x00FF00}, 0, 2, out, 0));
        assertEquals("f80007e0", HexFormat.of().formatHex(out));
        PixelFormat le = PixelFormat.XRGB8888;
        byte[] out32 = new byte[4];
        le.convert(new int[] {0x123456}, 0, 1, out32, 0);
        assertEquals("56341200", HexFormat.of().formatHex(out32));
        assertTrue(le.isNative());
        assertEquals(0, PixelFormat.scale(0, 31));
        assertEquals(31, PixelFormat.scale(255, 31));
        assertEquals(16, PixelFormat.scale(128, 31));
    }
}
