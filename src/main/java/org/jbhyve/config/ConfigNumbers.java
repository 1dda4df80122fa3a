package org.jbhyve.config;

/**
 * Number parsing the way bhyve's C code does it, minus its silent failures.
 *
 * <p>bhyve reads numbers with {@code strtol(3)}/{@code strtoul(3)} in base 0:
 * {@code 0x1f} is hexadecimal, a leading {@code 0} means octal, anything else
 * is decimal. Unlike C, nothing here wraps around, skips white space or stops
 * quietly at trailing garbage: every such case is a {@link ConfigException}.
 */
final class ConfigNumbers {

    static final long MIB = 1L << 20;

    private ConfigNumbers() {
    }

    /** Where an unsigned number ends inside a string, and its value. */
    record Scan(long value, int end) {
    }

    /**
     * Scans the unsigned number at the start of {@code s} (base 0 rules).
     *
     * @return the value and the index of the first character after it, or
     *     {@code null} when {@code s} does not start with a digit
     * @throws ArithmeticException when the number does not fit in a signed long
     */
    static Scan scanUnsigned(String s, int from) {
        int i = from;
        int n = s.length();
        if (i >= n || !isDigit(s.charAt(i), 10)) {
            return null;
        }
        int radix = 10;
        if (s.charAt(i) == '0') {
            if (i + 2 < n && (s.charAt(i + 1) == 'x' || s.charAt(i + 1) == 'X')
                    && isDigit(s.charAt(i + 2), 16)) {
                radix = 16;
                i += 2;
            } else {
                radix = 8;
            }
        }
        long value = 0;
        while (i < n && isDigit(s.charAt(i), radix)) {
            value = Math.addExact(Math.multiplyExact(value, radix), Character.digit(s.charAt(i), radix));
            i++;
        }
        return new Scan(value, i);
    }

    private static boolean isDigit(char c, int radix) {
        return c < 128 && Character.digit(c, radix) >= 0;
    }

    /**
     * Parses a whole string as a signed integer in {@code [min, max]} (bhyve's
     * {@code parse_int_value}); the message names the key as bhyve's does.
     */
    static long parseLong(String key, String text, long min, long max) {
        if (text != null) {
            boolean negative = text.startsWith("-");
            int start = negative || text.startsWith("+") ? 1 : 0;
            try {
                Scan scan = scanUnsigned(text, start);
                if (scan != null && scan.end() == text.length()) {
                    long v = negative ? -scan.value() : scan.value();
                    if (v >= min && v <= max) {
                        return v;
                    }
                }
            } catch (ArithmeticException overflow) {
                // fall through to the error below
            }
        }
        throw new ConfigException("Invalid value for " + key + ": '" + text + "'");
    }

    /**
     * Guest memory size as bhyve's {@code vm_parse_memsize()} reads it: a bare
     * number below 1 MiB counts MiB (so {@code 512} is 512 MiB), a bare number
     * from 1 MiB up counts bytes; otherwise one suffix of {@code expand_number(3)}
     * ({@code B K M G T P E}, either case, powers of 1024) scales it.
     */
    static long parseMemorySize(String text) {
        if (text == null || text.isEmpty()) {
            throw new ConfigException("invalid memory size '': empty");
        }
        Scan scan;
        try {
            scan = scanUnsigned(text, 0);
        } catch (ArithmeticException overflow) {
            throw new ConfigException("invalid memory size '" + text + "': too large");
        }
        if (scan == null) {
            throw new ConfigException("invalid memory size '" + text + "'");
        }
        long value = scan.value();
        String suffix = text.substring(scan.end());
        long bytes;
        try {
            if (suffix.isEmpty()) {
                bytes = value < MIB ? Math.multiplyExact(value, MIB) : value;
            } else if (suffix.length() == 1 && shift(suffix.charAt(0)) >= 0) {
                int shift = shift(suffix.charAt(0));
                if (shift > 0 && value > (Long.MAX_VALUE >> shift)) {
                    throw new ArithmeticException();
                }
                bytes = value << shift;
            } else {
                throw new ConfigException("invalid memory size '" + text
                        + "': unknown suffix '" + suffix + "' (use K, M, G or T)");
            }
        } catch (ArithmeticException overflow) {
            throw new ConfigException("invalid memory size '" + text + "': too large");
        }
        if (bytes == 0) {
            throw new ConfigException("invalid memory size '" + text + "': must not be zero");
        }
        return bytes;
    }

    private static int shift(char suffix) {
        return switch (Character.toLowerCase(suffix)) {
            case 'b' -> 0;
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            case 'p' -> 50;
            case 'e' -> 60;
            default -> -1;
        };
    }
}
