package org.jbhyve.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jbhyve.text.Chars;

/**
 * The bhyve_config(5) settings tree: the single description of a VM that the
 * command line, {@code -o} and {@code -k} build and the machine reads.
 *
 * <p>Keys are dotted paths ({@code pci.0.2.0.device}); every component but the
 * last names a node, the last names a value. A path is either a node or a value,
 * never both: setting {@code pci.0.2.0=x} when {@code pci.0.2.0.device} exists,
 * or the other way round, is an error. Children keep their insertion order;
 * replacing a value moves it to the end of its node, as bhyve's nvlist does, so
 * {@link #dump()} lists settings in the order they were last set.
 *
 * <p>Values are stored raw and expanded when read ({@link #get}): {@code %(key)}
 * is replaced by the (expanded) value of {@code key}, as in bhyve. In a value
 * that contains a {@code %}, a backslash takes the next character literally and
 * {@code %%} stands for one {@code %}; a {@code %} followed by anything else is
 * kept as is. A reference to an unknown key, an unterminated or empty reference
 * and a reference cycle are errors (bhyve only warns).
 *
 * <p>Not thread-safe: build it on one thread, then hand it over.
 */
public final class ConfigTree {

    /** How deep references may nest before the expansion is taken for a cycle. */
    static final int MAX_REFERENCE_DEPTH = 16;

    private final Node root = new Node();

    /** One node: names to either a {@code String} value or a child {@code Node}. */
    private static final class Node {
        final Map<String, Object> entries = new LinkedHashMap<>();

        Node copy() {
            Node n = new Node();
            entries.forEach((k, v) -> n.entries.put(k, v instanceof Node child ? child.copy() : v));
            return n;
        }
    }

    /** A deep copy, independent of this tree. */
    public ConfigTree copy() {
        ConfigTree t = new ConfigTree();
        t.root.entries.putAll(root.copy().entries);
        return t;
    }

    /**
     * Sets {@code key} to {@code value}, creating the nodes on its path.
     *
     * @throws ConfigException if the key is malformed, if a node on its path
     *     is a value, if the key itself is a node, or if the value holds a line
     *     break (it could not be dumped or written in a {@code -k} file)
     */
    public void set(String key, String value) {
        Objects.requireNonNull(value, "value");
        String[] parts = split(key);
        if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw new ConfigException("value for " + key + " contains a line break");
        }
        Node node = root;
        for (int i = 0; i < parts.length - 1; i++) {
            Object child = node.entries.get(parts[i]);
            if (child == null) {
                Node created = new Node();
                node.entries.put(parts[i], created);
                node = created;
            } else if (child instanceof Node n) {
                node = n;
            } else {
                throw new ConfigException("configuration node " + key
                        + " is a child of existing variable " + String.join(".", List.of(parts).subList(0, i + 1)));
            }
        }
        String name = parts[parts.length - 1];
        if (node.entries.get(name) instanceof Node) {
            throw new ConfigException("cannot set " + key + "=" + value + ": " + key + " is a node");
        }
        node.entries.remove(name);
        node.entries.put(name, value);
    }

    /** Sets a boolean the way bhyve writes one: {@code true} or {@code false}. */
    public void setBoolean(String key, boolean value) {
        set(key, value ? "true" : "false");
    }

    /** The value at {@code key} with {@code %(...)} references expanded; empty if unset or a node. */
    public Optional<String> get(String key) {
        return getRaw(key).map(this::expand);
    }

    /** The value at {@code key} as stored, without expansion; empty if unset or a node. */
    public Optional<String> getRaw(String key) {
        return lookup(key) instanceof String s ? Optional.of(s) : Optional.empty();
    }

    public String getString(String key, String defaultValue) {
        return get(key).orElse(defaultValue);
    }

    /**
     * A boolean in any of bhyve's spellings ({@link #parseBoolean}).
     *
     * @throws ConfigException naming the key if the value is not a boolean
     */
    public boolean getBoolean(String key, boolean defaultValue) {
        Optional<String> v = get(key);
        return v.isEmpty() ? defaultValue : parseBoolean(key, v.get());
    }

    /** An int, decimal, {@code 0x} hexadecimal or {@code 0} octal like C's strtol. */
    public int getInt(String key, int defaultValue) {
        Optional<String> v = get(key);
        return v.isEmpty() ? defaultValue
                : (int) ConfigNumbers.parseLong(key, v.get(), Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    /** A long, decimal, {@code 0x} hexadecimal or {@code 0} octal like C's strtol. */
    public long getLong(String key, long defaultValue) {
        Optional<String> v = get(key);
        return v.isEmpty() ? defaultValue : ConfigNumbers.parseLong(key, v.get(), Long.MIN_VALUE, Long.MAX_VALUE);
    }

    /**
     * Names of the direct children (nodes and values) of the node at
     * {@code prefix}, in order; {@code ""} is the root. Empty if there is no
     * such node.
     */
    public List<String> children(String prefix) {
        Object at = prefix.isEmpty() ? root : lookup(prefix);
        return at instanceof Node n ? List.copyOf(n.entries.keySet()) : List.of();
    }

    /** Whether {@code key} exists, as a value or as a node. */
    public boolean has(String key) {
        return lookup(key) != null;
    }

    /** Whether {@code key} exists as a node. */
    public boolean isNode(String key) {
        return lookup(key) instanceof Node;
    }

    /**
     * Every value as a {@code key=value} line (raw, unexpanded, as bhyve's
     * {@code config.dump} prints them), depth first in insertion order.
     */
    public List<String> dump() {
        List<String> lines = new ArrayList<>();
        dump("", root, lines);
        return lines;
    }

    private static void dump(String prefix, Node node, List<String> lines) {
        node.entries.forEach((name, v) -> {
            if (v instanceof Node child) {
                dump(prefix + name + ".", child, lines);
            } else {
                lines.add(prefix + name + "=" + v);
            }
        });
    }

    /** Expands {@code %(key)} references in {@code value} against this tree. */
    public String expand(String value) {
        return expand(value, 0);
    }

    private String expand(String value, int depth) {
        if (value.indexOf('%') < 0) {
            return value; // as bhyve: values without '%' are returned untouched
        }
        StringBuilder out = new StringBuilder(value.length());
        int i = 0;
        while (i < value.length()) {
            char c = value.charAt(i);
            if (c == '%' && i + 1 < value.length() && value.charAt(i + 1) == '%') {
                out.append('%');
                i += 2;
            } else if (c == '%' && i + 1 < value.length() && value.charAt(i + 1) == '(') {
                int close = value.indexOf(')', i + 2);
                if (close < 0) {
                    throw new ConfigException("unterminated reference in configuration value \"" + value + "\"");
                }
                String ref = value.substring(i + 2, close);
                if (ref.isEmpty()) {
                    throw new ConfigException("empty reference in configuration value \"" + value + "\"");
                }
                if (depth >= MAX_REFERENCE_DEPTH) {
                    throw new ConfigException("too many nested references (a cycle?) at %(" + ref + ")");
                }
                String target = getRaw(ref).orElseThrow(() -> new ConfigException(
                        "reference to unknown configuration variable " + ref + " in \"" + value + "\""));
                out.append(expand(target, depth + 1));
                i = close + 1;
            } else if (c == '\\') {
                if (i + 1 == value.length()) {
                    throw new ConfigException("trailing \\ in configuration value \"" + value + "\"");
                }
                out.append(value.charAt(i + 1));
                i += 2;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /**
     * bhyve's boolean spellings: {@code true on yes 1} and {@code false off no 0},
     * the words in any case.
     *
     * @throws ConfigException naming {@code key} for anything else
     */
    public static boolean parseBoolean(String key, String value) {
        if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("on")
                || value.equalsIgnoreCase("yes") || value.equals("1")) {
            return true;
        }
        if (value.equalsIgnoreCase("false") || value.equalsIgnoreCase("off")
                || value.equalsIgnoreCase("no") || value.equals("0")) {
            return false;
        }
        throw new ConfigException("invalid value '" + value + "' for boolean variable " + key);
    }

    /**
     * Guest memory size in bytes, as {@code -m} reads it (bhyve's
     * {@code vm_parse_memsize}): {@code K M G T} (either case) scale by powers
     * of 1024; a bare number below 1 MiB means MiB ({@code -m 512}), a bare
     * number from 1048576 up means bytes.
     *
     * @throws ConfigException on an empty, zero, malformed or overflowing size
     */
    public static long parseMemorySize(String text) {
        return ConfigNumbers.parseMemorySize(text);
    }

    private Object lookup(String key) {
        String[] parts = split(key);
        Object at = root;
        for (String p : parts) {
            if (!(at instanceof Node n)) {
                return null;
            }
            at = n.entries.get(p);
        }
        return at;
    }

    /** Splits a key into components, rejecting empty ones and characters no key may hold. */
    private static String[] split(String key) {
        Objects.requireNonNull(key, "key");
        String[] parts = key.split("\\.", -1);
        for (String p : parts) {
            if (p.isEmpty() || !Chars.all(p, ConfigTree::keyChar)) {
                throw new ConfigException("invalid configuration key '" + key + "'");
            }
        }
        return parts;
    }

    private static boolean keyChar(int c) {
        return c > ' ' && c != '=' && c != 0x7f;
    }

    @Override
    public String toString() {
        return String.join("\n", dump());
    }
}
