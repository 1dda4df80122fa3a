package org.jbhyve.cli;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A bhyve command line handed to a pre-started process ({@link PrestartMain}): the arguments,
 * the working directory and the environment of the {@code bin/bhyve} that was run.
 *
 * <p>Wire form, one message on the hand-off socket, with the caller's descriptors 0, 1 and 2
 * attached: NUL-terminated UTF-8 strings, {@code "jbhyve-handoff 1"}, the working directory, the
 * argument count in decimal, the arguments, then {@code NAME=value} environment entries up to
 * the end. {@code bin/lib/prestart-client.py} writes it; {@link #encode()} is the same in Java.
 */
public record Handoff(String directory, List<String> args, Map<String, String> environment) {
    static final String MAGIC = "jbhyve-handoff 1";
    /** The environment a pre-started process must share with its caller to act for it. */
    static final List<String> MUST_MATCH = List.of("JBHYVE_RUNDIR", "XDG_RUNTIME_DIR", "JBHYVE_DEBUG",
            "JBHYVE_JAVA_OPTIONS");

    public Handoff {
        args = List.copyOf(args);
        environment = Map.copyOf(environment);
        if (!directory.startsWith("/")) {
            throw new IllegalArgumentException("working directory is not absolute: " + directory);
        }
    }

    /** Reads the wire form; anything else is an IllegalArgumentException naming what is wrong. */
    public static Handoff decode(byte[] message) {
        List<String> fields = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < message.length; i++) {
            if (message[i] == 0) {
                fields.add(new String(message, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        if (start != message.length) {
            throw new IllegalArgumentException("hand-off message does not end with NUL");
        }
        if (fields.size() < 3 || !fields.get(0).equals(MAGIC)) {
            throw new IllegalArgumentException("not a jbhyve hand-off message");
        }
        int count;
        try {
            count = Integer.parseInt(fields.get(2));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad argument count: " + fields.get(2));
        }
        if (count < 0 || 3 + count > fields.size()) {
            throw new IllegalArgumentException("argument count " + count + " exceeds the message");
        }
        Map<String, String> environment = new LinkedHashMap<>();
        for (String entry : fields.subList(3 + count, fields.size())) {
            int equals = entry.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("bad environment entry: " + entry);
            }
            environment.putIfAbsent(entry.substring(0, equals), entry.substring(equals + 1));
        }
        return new Handoff(fields.get(1), fields.subList(3, 3 + count), environment);
    }

    /** The wire form of this hand-off. */
    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> fields = new ArrayList<>(List.of(MAGIC, directory, Integer.toString(args.size())));
        fields.addAll(args);
        environment.forEach((name, value) -> fields.add(name + "=" + value));
        for (String field : fields) {
            out.writeBytes(field.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    /**
     * Why a process started with {@code own} environment cannot run this command as its caller
     * would (it would look for VMs in another registry, or run with other JVM options), or null
     * when it can.
     */
    public String mismatch(Map<String, String> own) {
        for (String name : MUST_MATCH) {
            if (!Objects.equals(own.get(name), environment.get(name))) {
                return name + " differs from the pre-started process's";
            }
        }
        return null;
    }
}
