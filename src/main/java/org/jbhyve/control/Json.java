package org.jbhyve.control;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;

/**
 * JSON for the control protocol and the registry's records: Jackson's tree nodes, written and
 * read with Jackson's streaming parser and generator. No {@code ObjectMapper} is ever made: it
 * loads some two hundred classes and takes a large part of a VM's start-up (the registry record
 * is written before the VM starts), while a tree of a few fields needs none of its data binding.
 * 64-bit values that may use bit 63 (registers, descriptor bases) travel as {@code "0x..."}
 * strings; counts, sizes and small numbers as JSON numbers.
 */
final class Json {
    private Json() {}

    private static final JsonFactory FACTORY = new JsonFactory();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    static ObjectNode object() {
        return NODES.objectNode();
    }

    /** One line of JSON (no newline inside: strings have theirs escaped). */
    static String line(JsonNode node) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            write(g, node);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write JSON", e);
        }
        return out.toString();
    }

    private static void write(JsonGenerator g, JsonNode node) throws IOException {
        switch (node.getNodeType()) {
            case OBJECT -> {
                g.writeStartObject();
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> field = it.next();
                    g.writeFieldName(field.getKey());
                    write(g, field.getValue());
                }
                g.writeEndObject();
            }
            case ARRAY -> {
                g.writeStartArray();
                for (JsonNode element : node) {
                    write(g, element);
                }
                g.writeEndArray();
            }
            case STRING -> g.writeString(node.textValue());
            case BOOLEAN -> g.writeBoolean(node.booleanValue());
            case NUMBER -> {
                if (node.isIntegralNumber() && node.canConvertToLong()) {
                    g.writeNumber(node.longValue());
                } else if (node.isIntegralNumber()) {
                    g.writeNumber(node.bigIntegerValue());
                } else {
                    g.writeNumber(node.doubleValue());
                }
            }
            default -> g.writeNull(); // NULL; MISSING, BINARY and POJO are never built here
        }
    }

    /** Parses one JSON object; anything else is a {@link ProtocolException}. */
    static ObjectNode parseObject(String text) {
        JsonNode node;
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken first = p.nextToken();
            node = first == null ? null : read(p, first);
        } catch (JsonProcessingException e) {
            throw new ProtocolException("not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new ProtocolException("not JSON: " + e.getMessage());
        }
        if (!(node instanceof ObjectNode o)) {
            throw new ProtocolException("not a JSON object");
        }
        return o;
    }

    /** The value that starts at {@code token} (the parser's depth limit bounds the recursion). */
    private static JsonNode read(JsonParser p, JsonToken token) throws IOException {
        if (token == null) {
            throw new ProtocolException("not JSON: unexpected end of input");
        }
        return switch (token) {
            case START_OBJECT -> {
                ObjectNode o = NODES.objectNode();
                for (JsonToken t = next(p); t != JsonToken.END_OBJECT; t = next(p)) {
                    String name = p.currentName(); // t is FIELD_NAME: the parser allows nothing else here
                    o.set(name, read(p, p.nextToken()));
                }
                yield o;
            }
            case START_ARRAY -> {
                ArrayNode a = NODES.arrayNode();
                for (JsonToken t = next(p); t != JsonToken.END_ARRAY; t = next(p)) {
                    a.add(read(p, t));
                }
                yield a;
            }
            case VALUE_STRING -> NODES.textNode(p.getText());
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> NODES.numberNode(p.getIntValue());
                case LONG -> NODES.numberNode(p.getLongValue());
                default -> NODES.numberNode(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(p.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            default -> throw new ProtocolException("not JSON: unexpected " + token);
        };
    }

    private static JsonToken next(JsonParser p) throws IOException {
        JsonToken t = p.nextToken();
        if (t == null) {
            throw new ProtocolException("not JSON: unexpected end of input");
        }
        return t;
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
