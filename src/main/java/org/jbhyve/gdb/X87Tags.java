package org.jbhyve.gdb;

import org.jbhyve.kvm.Fpu;

/**
 * The x87 tag word in its two forms. FNSAVE's full tag word has 2 bits per physical register
 * R0-R7 (00 valid, 01 zero, 10 special: NaN, infinity, denormal or unnormal, 11 empty); FXSAVE
 * (and so KVM) keeps only an abridged byte, bit i set when Ri is not empty, because the other
 * three states follow from the value itself. Physical register Ri is ST((i - TOP) mod 8), TOP
 * being FSW bits 13:11. An 80-bit value is a 64-bit significand (bit 63 the explicit integer
 * bit) then a 15-bit exponent and the sign.
 */
final class X87Tags {
    static final int VALID = 0, ZERO = 1, SPECIAL = 2, EMPTY = 3;

    private X87Tags() {}

    /** The full tag word for the FXSAVE-style state {@code f}. */
    static int full(Fpu f) {
        int top = (f.fsw >>> 11) & 7;
        int tags = 0;
        for (int phys = 0; phys < 8; phys++) {
            int tag = EMPTY;
            if ((f.ftwx & (1 << phys)) != 0) {
                tag = classify(f.fpr, ((phys - top) & 7) * 16);
            }
            tags |= tag << (2 * phys);
        }
        return tags;
    }

    /** The abridged tag byte for a full tag word: a register is valid unless its tag is 11. */
    static int abridged(int fullTags) {
        int out = 0;
        for (int phys = 0; phys < 8; phys++) {
            if (((fullTags >>> (2 * phys)) & 3) != EMPTY) {
                out |= 1 << phys;
            }
        }
        return out;
    }

    /** Valid, zero or special, for the 80-bit value at {@code value[at..at+10)}. */
    static int classify(byte[] value, int at) {
        int exponent = ((value[at + 9] & 0x7F) << 8) | (value[at + 8] & 0xFF);
        long significand = RegisterFile.get(value, at, 8);
        if (exponent == 0x7FFF) {
            return SPECIAL;
        }
        if (exponent == 0) {
            return significand == 0 ? ZERO : SPECIAL;
        }
        return significand < 0 ? VALID : SPECIAL; // bit 63 is the integer bit
    }
}
