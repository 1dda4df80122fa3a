package org.jbhyve.devices.display;

import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import org.jbhyve.text.Chars;

/**
 * fbuf's settings as bhyve's {@code pci_fbuf_parse_config} reads them from the device's config
 * node, with its error messages:
 *
 * <pre>
 * rfb=, tcp=     [IP:]port, IPv6 as [addr%zone]:port; rfb wins over tcp. Port 0 or absent
 *                means 5900, no address means 127.0.0.1
 * w=, h=         resolution, default 1024x768; 640x480 to 3840x2160
 * vga=           io (default: the VGA I/O ports only), on (full VGA rendering: refused, as
 *                bhyve refuses it until VGA rendering exists), off
 * password=      VNC authentication password (only its first 8 characters count)
 * wait           do not start the guest until a viewer connects
 * </pre>
 * Unlike bhyve's atoi, a port that is not a number from 0 to 65535 is an error rather than
 * 5900 or a truncated value.
 */
public record FbufOptions(String host, int port, int width, int height, Vga vga, String password, boolean waitForClient) {
    public static final int DEFAULT_PORT = 5900;
    public static final int COLS_DEFAULT = 1024, ROWS_DEFAULT = 768;
    public static final int COLS_MIN = 640, ROWS_MIN = 480, COLS_MAX = 3840, ROWS_MAX = 2160;

    /** bhyve's vga= values. */
    public enum Vga { OFF, IO, ON }

    /** The TCP port to listen on (5900 when none or 0 was given). */
    public int listenPort() {
        return port == 0 ? DEFAULT_PORT : port;
    }

    @Override
    public String toString() {
        return "FbufOptions[host=" + host + ", port=" + port + ", " + width + "x" + height + ", vga=" + vga
                + ", password=" + (password == null ? "none" : "(set)") + ", wait=" + waitForClient + "]";
    }

    /**
     * Reads the options through {@code option} (a key of the device's node) and {@code flag} (a
     * boolean key). Throws IllegalArgumentException with bhyve's message for a bad value.
     */
    public static FbufOptions parse(Function<String, Optional<String>> option, Predicate<String> flag) {
        boolean wait = flag.test("wait");
        String host = null;
        int port = 0;
        Optional<String> listen = option.apply("rfb").or(() -> option.apply("tcp"));
        if (listen.isPresent()) {
            String value = listen.get();
            if (value.startsWith("[")) {
                int close = value.indexOf(']', 1);
                if (close < 0 || close == 1) {
                    throw new IllegalArgumentException("fbuf: Invalid IPv6 address: \"" + value + "\"");
                }
                host = value.substring(1, close);
                String rest = value.substring(close + 1);
                if (rest.startsWith(":")) {
                    port = port(rest.substring(1), value);
                } else if (!rest.isEmpty()) {
                    throw new IllegalArgumentException("fbuf: Invalid IPv6 address: \"" + value + "\"");
                }
            } else {
                int colon = value.indexOf(':');
                if (colon < 0) {
                    port = port(value, value);
                } else {
                    host = value.substring(0, colon);
                    port = port(value.substring(colon + 1), value);
                }
            }
        }
        Vga vga = Vga.IO;
        Optional<String> v = option.apply("vga");
        if (v.isPresent()) {
            vga = switch (v.get()) {
                case "off" -> Vga.OFF;
                case "io" -> Vga.IO;
                case "on" -> Vga.ON;
                default -> throw new IllegalArgumentException("fbuf: Invalid vga setting: \"" + v.get() + "\"");
            };
        }
        long width = option.apply("w").map(FbufOptions::strtol).orElse((long) COLS_DEFAULT);
        long height = option.apply("h").map(FbufOptions::strtol).orElse((long) ROWS_DEFAULT);
        if (width > COLS_MAX || height > ROWS_MAX) {
            throw new IllegalArgumentException("fbuf: max resolution is " + COLS_MAX + "x" + ROWS_MAX);
        }
        if (width < COLS_MIN || height < ROWS_MIN) {
            throw new IllegalArgumentException("fbuf: minimum resolution is " + COLS_MIN + "x" + ROWS_MIN);
        }
        if (vga == Vga.ON) {
            throw new IllegalArgumentException("pci_fbuf: VGA rendering not enabled");
        }
        String password = option.apply("password").orElse(null);
        return new FbufOptions(host == null || host.isEmpty() ? null : host, port, (int) width, (int) height, vga,
                password, wait);
    }

    private static int port(String text, String whole) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("fbuf: Missing port number: \"" + whole + "\"");
        }
        if (!Chars.all(text, Chars::decimalDigit) || text.length() > 5 || Integer.parseInt(text) > 0xFFFF) {
            throw new IllegalArgumentException("fbuf: Invalid port number: \"" + whole + "\"");
        }
        return Integer.parseInt(text);
    }

    /** strtol(text, NULL, 10) as bhyve uses it: leading blanks, a sign, digits; 0 when none, clamped. */
    static long strtol(String text) {
        String s = text.stripLeading();
        int i = 0;
        boolean negative = false;
        if (i < s.length() && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            negative = s.charAt(i) == '-';
            i++;
        }
        long v = 0;
        for (; i < s.length() && Character.isDigit(s.charAt(i)) && s.charAt(i) < 128; i++) {
            v = Math.min(v * 10 + (s.charAt(i) - '0'), Integer.MAX_VALUE);
        }
        return negative ? -v : v;
    }
}
