package org.jbhyve.control;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the registry's files ({@link JsonText} writes them) with Jackson. A class of its own on
 * purpose: when the JVM loads a class from the start-up cache it checks the type conversions its
 * methods' bytecode was verified with, loading every type named there; so a class that a VM
 * start loads (Registry, VmRecord) must name no Jackson type, or every VM loads Jackson.
 */
final class RegistryFiles {
    private RegistryFiles() {}

    /** A created VM's record; a {@link Json.ProtocolException} when it is not one. */
    static VmRecord record(String json) {
        return record(Json.parseObject(json));
    }

    /** A running VM's .NAME.run; a {@link Json.ProtocolException} when it is not one. */
    static Registry.RunInfo runInfo(String json) {
        JsonNode o = Json.parseObject(json);
        JsonNode r = o.get("record");
        return new Registry.RunInfo(Json.requireLong(o, "pid"), o.path("started").asLong(0),
                r == null || r.isNull() ? null : record(r));
    }

    private static VmRecord record(JsonNode o) {
        List<String> disks = new ArrayList<>();
        JsonNode d = o.path("disks");
        if (d.isArray()) {
            d.forEach(n -> disks.add(n.asText()));
        }
        Map<String, String> env = new LinkedHashMap<>();
        o.path("env").properties().forEach(p -> env.put(p.getKey(), p.getValue().asText()));
        return new VmRecord(Json.requireText(o, "name"), text(o, "created_by"), o.path("memory").asLong(0),
                o.path("wired").asBoolean(false), o.path("in_core").asBoolean(false), text(o, "kernel"),
                text(o, "initrd"), text(o, "cmdline"), text(o, "host_path"), disks, text(o, "console"), env);
    }

    private static String text(JsonNode o, String field) {
        JsonNode n = o.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }
}
