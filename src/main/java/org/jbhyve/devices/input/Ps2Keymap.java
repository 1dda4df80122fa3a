package org.jbhyve.devices.input;

import java.io.ByteArrayOutputStream;

/**
 * What a PS/2 keyboard sends for a key, in scan code set 2, the set every PS/2 keyboard speaks
 * after reset:
 *
 * <pre>
 * make   [E0] code          break  [E0] F0 code       (E0 for the "grey" keys added by the
 *                                                      101-key layout: arrows, right Ctrl/Alt...)
 * Pause  E1 14 77 E1 F0 14 F0 77 on press, nothing on release
 * PrtSc  E0 12 E0 7C on press, E0 F0 7C E0 F0 12 on release
 * </pre>
 *
 * Keys arrive from a viewer either as X11 keysyms (RFB KeyEvent; mapped for a US layout: the
 * viewer has already applied its own layout, so 'A' and 'a' are the same key and the viewer
 * sends Shift itself) or as QEMU's raw key numbers (its extended key event: set 1 codes, 0x80
 * added for E0 keys), which are layout-free and preferred when present.
 *
 * <p>The 8042's translation to set 1 ({@link #toSet1}) is the table of the original PC/AT
 * controller: each set 2 code maps to the XT code of the same key, F0 turns into bit 7 of the
 * following byte, and E0/E1 pass through.
 */
public final class Ps2Keymap {
    private static final int E0 = 0x100;

    /** Set 2 code -> set 1 code for 0x00..0x7F (the AT controller's translation table). */
    private static final int[] SET2_TO_SET1 = {
        0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
        0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
        0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
        0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
        0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
        0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
        0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
        0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
    };

    /** Set 1 code -> set 2 code (the inverse, with the standard codes of F7 0x83 and SysRq 0x84). */
    private static final int[] SET1_TO_SET2 = new int[128];

    /** US layout: for each set 2 code, the unshifted and shifted characters of its key. */
    private static final String[][] ASCII_KEYS = {
        {"0e", "`~"}, {"16", "1!"}, {"1e", "2@"}, {"26", "3#"}, {"25", "4$"}, {"2e", "5%"}, {"36", "6^"},
        {"3d", "7&"}, {"3e", "8*"}, {"46", "9("}, {"45", "0)"}, {"4e", "-_"}, {"55", "=+"},
        {"15", "qQ"}, {"1d", "wW"}, {"24", "eE"}, {"2d", "rR"}, {"2c", "tT"}, {"35", "yY"}, {"3c", "uU"},
        {"43", "iI"}, {"44", "oO"}, {"4d", "pP"}, {"54", "[{"}, {"5b", "]}"}, {"5d", "\\|"},
        {"1c", "aA"}, {"1b", "sS"}, {"23", "dD"}, {"2b", "fF"}, {"34", "gG"}, {"33", "hH"}, {"3b", "jJ"},
        {"42", "kK"}, {"4b", "lL"}, {"4c", ";:"}, {"52", "'\""},
        {"1a", "zZ"}, {"22", "xX"}, {"21", "cC"}, {"2a", "vV"}, {"32", "bB"}, {"31", "nN"}, {"3a", "mM"},
        {"41", ",<"}, {"49", ".>"}, {"4a", "/?"}, {"29", "  "},
    };

    /** Non-character keysyms: keysym, set 2 code (E0 | code for grey keys). */
    private static final int[][] SPECIAL_KEYS = {
        {0xff08, 0x66}, {0xff09, 0x0d}, {0xff0d, 0x5a}, {0xff1b, 0x76}, {0xffff, E0 | 0x71},
        {0xff50, E0 | 0x6c}, {0xff51, E0 | 0x6b}, {0xff52, E0 | 0x75}, {0xff53, E0 | 0x74}, {0xff54, E0 | 0x72},
        {0xff55, E0 | 0x7d}, {0xff56, E0 | 0x7a}, {0xff57, E0 | 0x69}, {0xff63, E0 | 0x70}, {0xff67, E0 | 0x2f},
        {0xffe1, 0x12}, {0xffe2, 0x59}, {0xffe3, 0x14}, {0xffe4, E0 | 0x14}, {0xffe5, 0x58},
        {0xffe7, E0 | 0x1f}, {0xffe8, E0 | 0x27}, {0xffe9, 0x11}, {0xffea, E0 | 0x11}, {0xfe03, E0 | 0x11},
        {0xffeb, E0 | 0x1f}, {0xffec, E0 | 0x27},
        {0xffbe, 0x05}, {0xffbf, 0x06}, {0xffc0, 0x04}, {0xffc1, 0x0c}, {0xffc2, 0x03}, {0xffc3, 0x0b},
        {0xffc4, 0x83}, {0xffc5, 0x0a}, {0xffc6, 0x01}, {0xffc7, 0x09}, {0xffc8, 0x78}, {0xffc9, 0x07},
        {0xff14, 0x7e}, {0xff7f, 0x77}, {0xff15, 0x84},
        {0xff8d, E0 | 0x5a}, {0xffaf, E0 | 0x4a}, {0xffaa, 0x7c}, {0xffad, 0x7b}, {0xffab, 0x79},
        {0xffb7, 0x6c}, {0xff95, 0x6c}, {0xffb8, 0x75}, {0xff97, 0x75}, {0xffb9, 0x7d}, {0xff9a, 0x7d},
        {0xffb4, 0x6b}, {0xff96, 0x6b}, {0xffb5, 0x73}, {0xff9d, 0x73}, {0xffb6, 0x74}, {0xff98, 0x74},
        {0xffb1, 0x69}, {0xff9c, 0x69}, {0xffb2, 0x72}, {0xff99, 0x72}, {0xffb3, 0x7a}, {0xff9b, 0x7a},
        {0xffb0, 0x70}, {0xff9e, 0x70}, {0xffae, 0x71}, {0xff9f, 0x71},
    };
    static final int KEYSYM_PAUSE = 0xff13, KEYSYM_PRINT = 0xff61;
    static final int QNUM_PAUSE = 0xc6, QNUM_PRINT = 0xb7;

    private static final int[] ASCII = new int[128];
    private static final java.util.Map<Integer, Integer> SPECIAL = new java.util.HashMap<>();

    static {
        for (int s2 = 0; s2 < 0x80; s2++) {
            SET1_TO_SET2[SET2_TO_SET1[s2] & 0x7F] = s2;
        }
        SET1_TO_SET2[0x41] = 0x83;
        SET1_TO_SET2[0x54] = 0x84;
        for (String[] k : ASCII_KEYS) {
            int code = Integer.parseInt(k[0], 16);
            ASCII[k[1].charAt(0)] = code;
            ASCII[k[1].charAt(1)] = code;
        }
        for (int[] k : SPECIAL_KEYS) {
            SPECIAL.put(k[0], k[1]);
        }
    }

    private Ps2Keymap() {}

    /** The 8042's translation of one set 2 byte (without the F0 handling). */
    public static int toSet1(int set2) {
        set2 &= 0xFF;
        if (set2 < 0x80) {
            return SET2_TO_SET1[set2];
        }
        return set2 == 0x83 ? 0x41 : set2 == 0x84 ? 0x54 : set2;
    }

    /**
     * The set 2 bytes for a key going down or up: from QEMU's key number when {@code keycode}
     * is not 0, else from the keysym. Empty for keys this keyboard does not have.
     */
    public static byte[] set2(boolean down, int keysym, int keycode) {
        int code;
        if (keycode != 0) {
            if (keycode == QNUM_PAUSE) {
                return pause(down);
            }
            if (keycode == QNUM_PRINT) {
                return print(down);
            }
            if (keycode < 0 || keycode > 0xFF || SET1_TO_SET2[keycode & 0x7F] == 0) {
                return new byte[0];
            }
            code = SET1_TO_SET2[keycode & 0x7F] | ((keycode & 0x80) != 0 ? E0 : 0);
        } else if (keysym == KEYSYM_PAUSE) {
            return pause(down);
        } else if (keysym == KEYSYM_PRINT) {
            return print(down);
        } else if (keysym > 0 && keysym < 0x80) {
            code = ASCII[keysym];
        } else {
            code = SPECIAL.getOrDefault(keysym, 0);
        }
        if (code == 0) {
            return new byte[0];
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(3);
        if ((code & E0) != 0) {
            out.write(0xE0);
        }
        if (!down) {
            out.write(0xF0);
        }
        out.write(code & 0xFF);
        return out.toByteArray();
    }

    private static byte[] pause(boolean down) {
        return down ? bytes(0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77) : new byte[0];
    }

    private static byte[] print(boolean down) {
        return down ? bytes(0xE0, 0x12, 0xE0, 0x7C) : bytes(0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12);
    }

    private static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    /** A whole set 2 sequence in set 1, as the controller's translation would deliver it. */
    public static byte[] translate(byte[] set2) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(set2.length);
        int release = 0;
        for (byte b : set2) {
            int v = b & 0xFF;
            if (v == 0xF0) {
                release = 0x80;
                continue;
            }
            out.write(toSet1(v) | release);
            release = 0;
        }
        return out.toByteArray();
    }
}
