package org.jbhyve.control;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes the registry's files (a {@link VmRecord}, a running VM's {@code .NAME.run}) as one line
 * of JSON (RFC 8259) without Jackson. Every bhyve writes one such file before its guest starts;
 * Jackson's generator and tree nodes are some 110 classes, which every VM process would then
 * load and keep resident (about 1.3 MiB of a VM's memory, and start-up time) for a dozen fields.
 * Reading these files, and the control protocol, stay with Jackson ({@link Json}); the tests
 * read what this class writes back through it.
 *
 * <p>Values are built from the inside out: each method returns a complete JSON value as text,
 * and {@link #object} takes its fields' values in that form.
 */
final class JsonText {
    private JsonText() {}

    /** {@code value} as a JSON string, or {@code null}. */
    static String string(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    // Control characters must be escaped; a surrogate without its partner (a
                    // Java string may hold one) has no UTF-8 form, so it is written escaped too.
                    if (c < 0x20 || (Character.isSurrogate(c) && !inPair(value, i))) {
                        String hex = Integer.toHexString(c);
                        out.append("\\u").append("0000", hex.length(), 4).append(hex);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /** Whether the surrogate at {@code i} is one half of a high-low pair. */
    private static boolean inPair(String value, int i) {
        return Character.isHighSurrogate(value.charAt(i))
                ? i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))
                : i > 0 && Character.isHighSurrogate(value.charAt(i - 1));
    }

    /** A JSON array of strings. */
    static String strings(List<String> values) {
        StringBuilder out = new StringBuilder("[");
        for (Iterator<String> it = values.iterator(); it.hasNext(); ) {
            out.append(string(it.next()));
            if (it.hasNext()) {
                out.append(',');
            }
        }
        return out.append(']').toString();
    }

    /** A JSON object whose values are strings, in the map's order. */
    static String stringObject(Map<String, String> fields) {
        StringBuilder out = new StringBuilder("{");
        fields.forEach((name, value) -> member(out, name, string(value)));
        return out.append('}').toString();
    }

    /** A JSON object; each field's value is already JSON text (from this class, a number, true/false). */
    static String object(Map<String, String> fields) {
        StringBuilder out = new StringBuilder("{");
        fields.forEach((name, json) -> member(out, name, json));
        return out.append('}').toString();
    }

    private static void member(StringBuilder out, String name, String json) {
        if (out.length() > 1) {
            out.append(',');
        }
        out.append(string(name)).append(':').append(json);
    }
}
