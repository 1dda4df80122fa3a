package org.jbhyve.devices.input;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Ps2KeymapTest {
    private static String make(int keysym) {
        return HexFormat.of().formatHex(Ps2Keymap.set2(true, keysym, 0));
    }

    private static String brk(int keysym) {
        return HexFormat.of().formatHex(Ps2Keymap.set2(false, keysym, 0));
    }

    @ParameterizedTest
    @CsvSource({
        "0x61, 1c", "0x41, 1c", "0x7a, 1a", "0x31, 16", "0x21, 16", "0x30, 45", "0x20, 29", "0x2f, 4a", "0x3f, 4a",
        "0x60, 0e", "0x7e, 0e", "0x5c, 5d", "0x27, 52", "0x22, 52",
        "0xff0d, 5a", "0xff08, 66", "0xff09, 0d", "0xff1b, 76", "0xffe1, 12", "0xffe2, 59", "0xffe3, 14",
        "0xffe9, 11", "0xffe5, 58", "0xffbe, 05", "0xffc4, 83", "0xffc9, 07", "0xffb0, 70", "0xffab, 79",
        "0xff52, e075", "0xff51, e06b", "0xffff, e071", "0xff63, e070", "0xffe4, e014", "0xffea, e011",
        "0xfe03, e011", "0xffeb, e01f", "0xff8d, e05a", "0xffaf, e04a", "0xff50, e06c", "0xff57, e069",
    })
    void keysymsToSet2MakeCodes(String keysym, String code) {
        assertEquals(code, make(Integer.decode(keysym)));
    }

    @Test
    void breakCodesAndSpecialKeys() {
        assertEquals("f01c", brk('a'));
        assertEquals("e0f075", brk(0xff52));
        assertEquals("e11477e1f014f077", make(0xff13), "Pause");
        assertEquals("", brk(0xff13), "Pause has no break code");
        assertEquals("e012e07c", make(0xff61), "Print Screen");
        assertEquals("e0f07ce0f012", brk(0xff61));
        assertEquals("", make(0x20ac), "a keysym with no key (the euro sign)");
        assertEquals("", make(0));
    }

    @Test
    void translationToSet1() {
        assertEquals(0x1E, Ps2Keymap.toSet1(0x1C));
        assertEquals(0x01, Ps2Keymap.toSet1(0x76));
        assertEquals(0x41, Ps2Keymap.toSet1(0x83));
        assertEquals(0x54, Ps2Keymap.toSet1(0x84));
        assertEquals(0xE0, Ps2Keymap.toSet1(0xE0));
        assertEquals(0xFA, Ps2Keymap.toSet1(0xFA));
        assertEquals("e0b7e0aa", HexFormat.of().formatHex(Ps2Keymap.translate(Ps2Keymap.set2(false, 0xff61, 0))));
    }

    @Test
    void qemuKeyNumbersRoundTripThroughTheTranslationTable() {
        for (int set1 = 1; set1 < 0x59; set1++) {
            byte[] set2 = Ps2Keymap.set2(true, 0, set1);
            assertEquals(1, set2.length, "set 1 code " + Integer.toHexString(set1));
            assertEquals(set1, Ps2Keymap.toSet1(set2[0] & 0xFF), "set 1 code " + Integer.toHexString(set1));
        }
        assertEquals("e075", HexFormat.of().formatHex(Ps2Keymap.set2(true, 0, 0xC8)));
        assertEquals("e0f014", HexFormat.of().formatHex(Ps2Keymap.set2(false, 0, 0x9D)));
    }
}
