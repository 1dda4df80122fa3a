package org.jbhyve.text;

import java.util.function.IntPredicate;

/**
 * Whether the characters of a string pass a test: what {@code text.chars().allMatch(test)} and
 * {@code anyMatch} say, as plain loops. A VM's start parses its command line with these; the
 * first stream over a string's characters in a process generates method-handle forms, which the
 * start-up cache cannot keep, so a stream would cost that at every start.
 */
public final class Chars {
    private Chars() {}

    /** True when every character of {@code text} passes {@code test} (so also for an empty text). */
    public static boolean all(CharSequence text, IntPredicate test) {
        for (int i = 0; i < text.length(); i++) {
            if (!test.test(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    /** True when at least one character of {@code text} passes {@code test}. */
    public static boolean any(CharSequence text, IntPredicate test) {
        for (int i = 0; i < text.length(); i++) {
            if (test.test(text.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** An ASCII decimal digit (not the other scripts' digits that {@link Character#isDigit} accepts). */
    public static boolean decimalDigit(int c) {
        return c >= '0' && c <= '9';
    }
}
