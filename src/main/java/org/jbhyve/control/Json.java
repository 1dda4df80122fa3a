package org.jbhyve.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The one Jackson {@link ObjectMapper} of this package, created on first use (a VM that nobody
 * asks anything pays nothing for it), and the conventions of the protocol and the records:
 * 64-bit values that may use bit 63 (registers, descriptor bases) travel as {@code "0x..."}
 * strings; counts, sizes and small numbers as JSON numbers.
 */
final class Json {
    private Json() {}

    private static final class Holder {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    static ObjectMapper mapper() {
        return Holder.MAPPER;
    }

    static ObjectNode object() {
        return mapper().createObjectNode();
    }

    /** One line of JSON (no newline inside: strings have theirs escaped). */
    static String line(JsonNode node) {
        try {
            return mapper().writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    /** Parses one JSON object; anything else is a {@link ProtocolException}. */
    static ObjectNode parseObject(String text) {
        JsonNode node;
        try {
            node = mapper().readTree(text);
        } catch (JsonProcessingException e) {
            throw new ProtocolException("not JSON: " + e.getOriginalMessage());
        }
        if (!(node instanceof ObjectNode o)) {
            throw new ProtocolException("not a JSON object");
        }
        return o;
    }

    static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }

    /** A 64-bit value written as "0x..." (or a plain JSON number), as an unsigned pattern. */
    static long parseHex(JsonNode node, String field) {
        if (node == null || node.isNull()) {
            throw new ProtocolException("missing " + field);
        }
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return node.asLong();
        }
        String text = node.asText();
        try {
            if (text.startsWith("0x") || text.startsWith("0X")) {
                return Long.parseUnsignedLong(text.substring(2), 16);
            }
            return Long.parseUnsignedLong(text);
        } catch (NumberFormatException e) {
            throw new ProtocolException(field + ": '" + text + "' is not a 64-bit number");
        }
    }

    static long requireLong(JsonNode parent, String field) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            throw new ProtocolException("missing or non-integer " + field);
        }
        return n.asLong();
    }

    static int requireInt(JsonNode parent, String field) {
        long v = requireLong(parent, field);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new ProtocolException(field + " out of range");
        }
        return (int) v;
    }

    static String requireText(JsonNode parent, String field) {
        JsonNode n = parent.get(field);
        if (n == null || !n.isTextual()) {
            throw new ProtocolException("missing or non-string " + field);
        }
        return n.asText();
    }

    /** A malformed request or answer: answered with EINVAL, or reported by the client. */
    static final class ProtocolException extends RuntimeException {
        ProtocolException(String message) {
            super(message);
        }
    }
}
