package org.jbhyve.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jbhyve.machine.MachineControl;
import org.jbhyve.machine.VmRequestException;
import org.jbhyve.machine.VmState;
import org.jbhyve.vcpu.Descriptor;

/**
 * A running VM seen through its control socket: {@link MachineControl} whose every call is one
 * request line and one answer line (protocol in package-info). An error answer becomes the
 * {@link VmRequestException} the VM raised; a VM that stops answering for
 * {@link #TIMEOUT_SECONDS} closes the connection and fails the call with ETIMEDOUT.
 */
public final class ControlClient implements MachineControl, AutoCloseable {
    static final long TIMEOUT_SECONDS = 20;
    /** Saving a big guest takes as long as writing its memory: a checkpoint may take this long. */
    static final long CHECKPOINT_TIMEOUT_SECONDS = 3600;

    private final LineChannel lines;
    private final SocketChannel channel;
    private final ScheduledExecutorService watchdog;
    private final ObjectNode hello;
    /** The last request was sent but the connection ended before its answer. */
    private boolean lost;

    private ControlClient(SocketChannel channel) {
        this.channel = channel;
        this.lines = new LineChannel(channel);
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon(true)
                .name("control watchdog").unstarted(r));
        try {
            this.hello = call(request("hello"));
        } catch (RuntimeException e) {
            watchdog.shutdownNow();
            throw e;
        }
    }

    /** Connects to the control socket at {@code socket} and greets the VM. */
    public static ControlClient connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        try {
            return new ControlClient(channel);
        } catch (RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** The pid of the bhyve serving this VM. */
    public long pid() {
        return hello.path("pid").asLong(-1);
    }

    private static ObjectNode request(String op) {
        ObjectNode o = Json.object();
        o.put("op", op);
        return o;
    }

    private static ObjectNode request(String op, int vcpu) {
        return request(op).put("vcpu", vcpu);
    }

    /**
     * A request that stops the VM: the VM may close the connection as it goes down before its
     * answer arrives, which is then taken as done.
     */
    private void callStop(String op) {
        try {
            call(request(op));
        } catch (VmRequestException e) {
            if (!lost) {
                throw e;
            }
        }
    }

    private ObjectNode call(ObjectNode request) {
        return call(request, TIMEOUT_SECONDS);
    }

    private synchronized ObjectNode call(ObjectNode request, long timeoutSeconds) {
        lost = false;
        ScheduledFuture<?> alarm = watchdog.schedule(() -> {
            try {
                channel.close();
            } catch (IOException e) {
                // closing is all it can do
            }
        }, timeoutSeconds, TimeUnit.SECONDS);
        String answer;
        try {
            lines.writeLine(Json.line(request));
            answer = lines.readLine();
        } catch (IOException e) {
            if (alarm.isDone()) {
                throw new VmRequestException(VmRequestException.ETIMEDOUT,
                        "the VM did not answer within " + timeoutSeconds + " s");
            }
            answer = null;
        } finally {
            alarm.cancel(false);
        }
        if (answer == null) {
            lost = true;
            throw new VmRequestException(VmRequestException.EBUSY, "the VM closed its control connection");
        }
        ObjectNode reply;
        try {
            reply = Json.parseObject(answer);
        } catch (Json.ProtocolException e) {
            throw new VmRequestException(VmRequestException.EINVAL, "bad answer from the VM: " + e.getMessage());
        }
        if (!reply.path("ok").asBoolean(false)) {
            throw new VmRequestException(reply.path("errno").asInt(VmRequestException.EINVAL),
                    reply.path("error").asText("request failed"));
        }
        return reply;
    }

    @Override
    public String name() {
        return hello.path("name").asText();
    }

    @Override
    public VmState state() {
        String s = call(request("hello")).path("state").asText("");
        for (VmState v : VmState.values()) {
            if (v.label().equals(s)) {
                return v;
            }
        }
        throw new VmRequestException(VmRequestException.EINVAL, "bad answer from the VM: state '" + s + "'");
    }

    @Override
    public int vcpuCount() {
        return hello.path("vcpus").asInt();
    }

    @Override
    public Map<String, Long> getRegisters(int vcpu, List<String> names) {
        ObjectNode req = request("get-registers", vcpu);
        names.forEach(req.putArray("names")::add);
        JsonNode values = call(req).path("values");
        Map<String, Long> out = new LinkedHashMap<>();
        for (String n : names) {
            out.put(n, Json.parseHex(values.get(n), n));
        }
        return out;
    }

    @Override
    public void setRegisters(int vcpu, Map<String, Long> values) {
        ObjectNode req = request("set-registers", vcpu);
        ObjectNode v = req.putObject("values");
        values.forEach((k, x) -> v.put(k, Json.hex(x)));
        call(req);
    }

    @Override
    public Descriptor getDescriptor(int vcpu, String name) {
        ObjectNode r = call(request("get-descriptor", vcpu).put("name", name));
        return new Descriptor(Json.parseHex(r.get("base"), "base"), Json.parseHex(r.get("limit"), "limit"),
                Json.parseHex(r.get("access"), "access"));
    }

    @Override
    public void setDescriptor(int vcpu, String name, Descriptor d) {
        call(request("set-descriptor", vcpu).put("name", name).put("base", Json.hex(d.base()))
                .put("limit", Json.hex(d.limit())).put("access", Json.hex(d.access())));
    }

    @Override
    public long[] getIntinfo(int vcpu) {
        ObjectNode r = call(request("get-intinfo", vcpu));
        return new long[] {Json.parseHex(r.get("pending"), "pending"), Json.parseHex(r.get("current"), "current")};
    }

    @Override
    public void injectNmi(int vcpu) {
        call(request("inject-nmi", vcpu));
    }

    @Override
    public int getX2apicState(int vcpu) {
        return call(request("get-x2apic-state", vcpu)).path("state").asInt();
    }

    @Override
    public Map<String, Long> getStats(int vcpu) {
        Map<String, Long> out = new LinkedHashMap<>();
        call(request("get-stats", vcpu)).path("stats").forEach(s -> out.put(s.path("name").asText(),
                s.path("value").asLong()));
        return out;
    }

    @Override
    public MemoryLayout memory() {
        ObjectNode r = call(request("get-memory"));
        List<Mapping> maps = new ArrayList<>();
        r.path("mappings").forEach(m -> maps.add(new Mapping(m.path("gpa").asLong(), m.path("length").asLong(),
                m.path("segment").asText(), m.path("offset").asLong(), m.path("protection").asText(),
                m.path("wired").asBoolean())));
        return new MemoryLayout(r.path("lowmem").asLong(), r.path("highmem").asLong(), r.path("wired").asBoolean(),
                List.copyOf(maps));
    }

    @Override
    public List<Integer> activeCpus() {
        return ints(call(request("get-cpus")).path("active"));
    }

    @Override
    public List<Integer> suspendedCpus() {
        return ints(call(request("get-cpus")).path("suspended"));
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asInt()));
        return List.copyOf(out);
    }

    @Override
    public Topology topology() {
        ObjectNode r = call(request("get-topology"));
        return new Topology(r.path("sockets").asInt(), r.path("cores").asInt(), r.path("threads").asInt(),
                r.path("maxcpus").asInt());
    }

    @Override
    public long getRtcTime() {
        return call(request("get-rtc-time")).path("seconds").asLong();
    }

    @Override
    public void setRtcTime(long seconds) {
        call(request("set-rtc-time").put("seconds", seconds));
    }

    @Override
    public int getRtcNvram(int offset) {
        return call(request("get-rtc-nvram").put("offset", offset)).path("value").asInt();
    }

    @Override
    public void setRtcNvram(int offset, int value) {
        call(request("set-rtc-nvram").put("offset", offset).put("value", value));
    }

    @Override
    public void forceReset() {
        callStop("force-reset");
    }

    @Override
    public void forcePoweroff() {
        callStop("force-poweroff");
    }

    @Override
    public void destroy() {
        callStop("destroy");
    }

    @Override
    public Saved checkpoint(String file, boolean suspend) {
        ObjectNode r = call(request("checkpoint").put("file", file).put("suspend", suspend), CHECKPOINT_TIMEOUT_SECONDS);
        return new Saved(r.path("file").asText(file), r.path("fileBytes").asLong(), r.path("memoryBytes").asLong(),
                r.path("millis").asLong());
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        try {
            lines.close();
        } catch (IOException e) {
            // nothing more to release
        }
    }
}
