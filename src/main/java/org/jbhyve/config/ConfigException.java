package org.jbhyve.config;

import java.io.Serial;

/**
 * A bad option, configuration key or value, reported to the user.
 *
 * <p>The message is always a single line without a trailing newline, fit to be
 * printed after the program name (bhyve's {@code errx(4, ...)}): any line break
 * or other control character in text quoted from the user is replaced by a
 * space. The process exits with status 4 on this exception.
 */
public final class ConfigException extends RuntimeException {

    @Serial
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(oneLine(message));
    }

    public ConfigException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** Replaces control characters (line breaks included) by spaces and trims the end. */
    static String oneLine(String message) {
        if (message == null || message.isEmpty()) {
            return "invalid configuration";
        }
        StringBuilder sb = new StringBuilder(message.length());
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            sb.append(Character.isISOControl(c) ? ' ' : c);
        }
        return sb.toString().stripTrailing();
    }
}
