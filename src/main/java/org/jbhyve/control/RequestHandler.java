package org.jbhyve.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jbhyve.machine.MachineControl;
import org.jbhyve.machine.VmRequestException;
import org.jbhyve.vcpu.Descriptor;

/**
 * The server side of the protocol (described in package-info): one request object in, one
 * answer object out, against a {@link MachineControl}. A malformed request or a failed one is
 * an error answer ({@code "ok": false} with errno and message), never an exception: nothing a
 * client sends can harm the VM beyond what the request itself does.
 */
final class RequestHandler {
    static final int PROTOCOL_VERSION = 1;

    private final MachineControl vm;
    private final long pid;
    private final Runnable onDestroy;

    RequestHandler(MachineControl vm, long pid, Runnable onDestroy) {
        this.vm = vm;
        this.pid = pid;
        this.onDestroy = onDestroy;
    }

    /** Answers one request line. */
    String answer(String line) {
        ObjectNode reply;
        try {
            reply = handle(Json.parseObject(line));
        } catch (Json.ProtocolException e) {
            reply = error(VmRequestException.EINVAL, e.getMessage());
        } catch (VmRequestException e) {
            reply = error(e.errno(), e.getMessage());
        } catch (RuntimeException e) {
            reply = error(VmRequestException.EINVAL, "internal error: " + e);
        }
        return Json.line(reply);
    }

    /** An error answer as its line. */
    static String errorLine(int errno, String message) {
        return Json.line(error(errno, message));
    }

    static ObjectNode error(int errno, String message) {
        ObjectNode o = Json.object();
        o.put("ok", false);
        o.put("errno", errno);
        o.put("error", message == null ? "" : message.replace('\n', ' '));
        return o;
    }

    private ObjectNode handle(ObjectNode req) {
        String op = Json.requireText(req, "op");
        ObjectNode out = Json.object();
        out.put("ok", true);
        switch (op) {
            case "hello" -> {
                out.put("protocol", PROTOCOL_VERSION);
                out.put("name", vm.name());
                out.put("pid", pid);
                out.put("state", vm.state().label());
                out.put("vcpus", vm.vcpuCount());
            }
            case "get-registers" -> {
                List<String> names = new ArrayList<>();
                JsonNode n = req.get("names");
                if (n == null || !n.isArray()) {
                    throw new Json.ProtocolException("missing names");
                }
                n.forEach(x -> names.add(x.asText()));
                ObjectNode values = out.putObject("values");
                vm.getRegisters(vcpu(req), names).forEach((k, v) -> values.put(k, Json.hex(v)));
            }
            case "set-registers" -> {
                Map<String, Long> values = new LinkedHashMap<>();
                JsonNode v = req.get("values");
                if (v == null || !v.isObject()) {
                    throw new Json.ProtocolException("missing values");
                }
                v.properties().forEach(e -> values.put(e.getKey(), Json.parseHex(e.getValue(), e.getKey())));
                vm.setRegisters(vcpu(req), values);
            }
            case "get-descriptor" -> {
                Descriptor d = vm.getDescriptor(vcpu(req), Json.requireText(req, "name"));
                out.put("base", Json.hex(d.base()));
                out.put("limit", Json.hex(d.limit()));
                out.put("access", Json.hex(d.access()));
            }
            case "set-descriptor" -> vm.setDescriptor(vcpu(req), Json.requireText(req, "name"),
                    new Descriptor(Json.parseHex(req.get("base"), "base"), Json.parseHex(req.get("limit"), "limit"),
                            Json.parseHex(req.get("access"), "access")));
            case "get-intinfo" -> {
                long[] info = vm.getIntinfo(vcpu(req));
                out.put("pending", Json.hex(info[0]));
                out.put("current", Json.hex(info[1]));
            }
            case "inject-nmi" -> vm.injectNmi(vcpu(req));
            case "get-x2apic-state" -> out.put("state", vm.getX2apicState(vcpu(req)));
            case "get-stats" -> {
                ArrayNode stats = out.putArray("stats");
                vm.getStats(vcpu(req)).forEach((k, v) -> stats.addObject().put("name", k).put("value", v));
            }
            case "get-memory" -> {
                MachineControl.MemoryLayout m = vm.memory();
                out.put("lowmem", m.lowmem());
                out.put("highmem", m.highmem());
                out.put("wired", m.wired());
                ArrayNode maps = out.putArray("mappings");
                for (MachineControl.Mapping x : m.mappings()) {
                    maps.addObject().put("gpa", x.gpa()).put("length", x.length()).put("segment", x.segment())
                            .put("offset", x.offset()).put("protection", x.protection()).put("wired", x.wired());
                }
            }
            case "get-cpus" -> {
                vm.activeCpus().forEach(out.putArray("active")::add);
                vm.suspendedCpus().forEach(out.putArray("suspended")::add);
            }
            case "get-topology" -> {
                MachineControl.Topology t = vm.topology();
                out.put("sockets", t.sockets()).put("cores", t.cores()).put("threads", t.threads())
                        .put("maxcpus", t.maxcpus());
            }
            case "get-rtc-time" -> out.put("seconds", vm.getRtcTime());
            case "set-rtc-time" -> vm.setRtcTime(Json.requireLong(req, "seconds"));
            case "get-rtc-nvram" -> out.put("value", vm.getRtcNvram(Json.requireInt(req, "offset")));
            case "set-rtc-nvram" -> vm.setRtcNvram(Json.requireInt(req, "offset"), Json.requireInt(req, "value"));
            case "force-reset" -> vm.forceReset();
            case "force-poweroff" -> vm.forcePoweroff();
            case "checkpoint" -> {
                MachineControl.Saved saved = vm.checkpoint(Json.requireText(req, "file"),
                        req.path("suspend").asBoolean(false));
                out.put("file", saved.file()).put("fileBytes", saved.fileBytes()).put("memoryBytes", saved.memoryBytes())
                        .put("millis", saved.millis());
            }
            case "destroy" -> {
                onDestroy.run();
                vm.destroy();
            }
            default -> throw new Json.ProtocolException("unknown op '" + op + "'");
        }
        return out;
    }

    private static int vcpu(JsonNode req) {
        return req.has("vcpu") ? Json.requireInt(req, "vcpu") : 0;
    }
}
