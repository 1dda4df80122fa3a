package org.jbhyve.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

class CharsTest {
    @Test
    void allAndAnyOnExamples() {
        assertEquals(true, Chars.all("0123", Chars::decimalDigit));
        assertEquals(false, Chars.all("01a3", Chars::decimalDigit));
        assertEquals(true, Chars.all("", Chars::decimalDigit));
        assertEquals(false, Chars.any("", Character::isWhitespace));
        assertEquals(true, Chars.any("a b", Character::isWhitespace));
        assertEquals(false, Chars.decimalDigit('\u0663'), "ARABIC-INDIC DIGIT THREE is not ASCII");
    }

    @Property
    void agreesWithTheStreams(@ForAll String text) {
        assertEquals(text.chars().allMatch(Chars::decimalDigit), Chars.all(text, Chars::decimalDigit));
        assertEquals(text.chars().anyMatch(Character::isWhitespace), Chars.any(text, Character::isWhitespace));
    }
}
