package org.jbhyve.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * getopt(3) for short options, as POSIX specifies it and FreeBSD's libc (which bhyve uses)
 * implements it: an option string lists the option letters, a letter followed by {@code ':'}
 * takes a value. Letters may be clustered ({@code -AHP}); a value is the rest of its word
 * ({@code -c2}) or the next word ({@code -c 2}), even when that word starts with '-'; a word
 * that does not start with '-', and a lone "-", end the options and start the operands; "--"
 * ends the options and is dropped. Nothing is permuted: options after the first operand are
 * operands.
 *
 * <p>Errors carry getopt's own words ("illegal option -- Z", "option requires an argument -- m");
 * the options met before the error are kept, because bhyve acts on them in order before getopt
 * reaches the bad one (a {@code -h} before it still prints the help).
 *
 * @param options the options met, in command-line order
 * @param operands the words after the options
 * @param error what stopped the scan early, or null
 */
record Getopt(List<Option> options, List<String> operands, Error error) {

    /** One option occurrence: its letter and its value (null for a flag). */
    record Option(char letter, String value) {}

    /** What getopt complains about: an unknown letter, or a letter missing its value. */
    record Error(char letter, boolean missingValue) {
        String message() {
            return (missingValue ? "option requires an argument -- " : "illegal option -- ") + letter;
        }
    }

    /** Scans {@code argv} (without the program name) against {@code optstring}. */
    static Getopt parse(String optstring, String... argv) {
        List<Option> options = new ArrayList<>();
        int i = 0;
        while (i < argv.length) {
            String word = argv[i];
            if (word.equals("--")) {
                i++;
                break;
            }
            if (word.length() < 2 || word.charAt(0) != '-') {
                break; // an operand ("-" alone is one)
            }
            i++;
            for (int j = 1; j < word.length(); j++) {
                char letter = word.charAt(j);
                int at = letter == ':' ? -1 : optstring.indexOf(letter);
                if (at < 0) {
                    return new Getopt(options, List.of(), new Error(letter, false));
                }
                if (at + 1 < optstring.length() && optstring.charAt(at + 1) == ':') {
                    if (j + 1 < word.length()) {
                        options.add(new Option(letter, word.substring(j + 1)));
                    } else if (i < argv.length) {
                        options.add(new Option(letter, argv[i++]));
                    } else {
                        return new Getopt(options, List.of(), new Error(letter, true));
                    }
                    break;
                }
                options.add(new Option(letter, null));
            }
        }
        return new Getopt(options, List.copyOf(Arrays.asList(argv).subList(i, argv.length)), null);
    }
}
