package org.jbhyve.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jbhyve.machine.MachineControl;
import org.jbhyve.machine.VmRequestException;
import org.jbhyve.machine.VmState;
import org.jbhyve.testing.FakeMachine;
import org.jbhyve.vcpu.Descriptor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket end to end: a fake VM behind a real server, a real client, and raw lines. */
class ControlProtocolTest {
    @TempDir
    Path rundir;

    private final FakeMachine vm = new FakeMachine("vm1", 2);
    private Claim claim;
    private ControlClient client;

    @BeforeEach
    void serve() throws Exception {
        claim = Registry.at(rundir).claim("vm1");
        claim.serve(vm);
        client = ControlClient.connect(rundir.resolve("vmm/vm1"));
    }

    @AfterEach
    void stop() {
        client.close();
        claim.release(false);
    }

    private LineChannel raw() throws Exception {
        return new LineChannel(SocketChannel.open(UnixDomainSocketAddress.of(rundir.resolve("vmm/vm1"))));
    }

    @Test
    void helloNamesTheVmAndItsProcess() {
        assertEquals("vm1", client.name());
        assertEquals(2, client.vcpuCount());
        assertEquals(ProcessHandle.current().pid(), client.pid());
        assertEquals(VmState.RUNNING, client.state());
    }

    @Test
    void registersRoundTripWithAllSixtyFourBits() {
        Map<String, Long> values = new LinkedHashMap<>();
        values.put("rip", 0xFFFF_FFFF_8100_0000L);
        values.put("rax", -1L);
        values.put("cr3", 0x1000L);
        client.setRegisters(1, values);
        assertEquals(values, client.getRegisters(1, List.of("rip", "rax", "cr3")));
        assertEquals(0L, client.getRegisters(0, List.of("rip")).get("rip"), "vcpu 0 untouched");
        assertEquals("set-registers 1 {rip=-2130706432, rax=-1, cr3=4096}", vm.calls().get(0).replace(
                Long.toString(0xFFFF_FFFF_8100_0000L), "-2130706432"));
    }

    @Test
    void descriptorsIntinfoNmiAndX2apic() {
        Descriptor cs = new Descriptor(0xFFFF_0000L, 0xFFFF, 0x9B);
        client.setDescriptor(0, "cs", cs);
        assertEquals(cs, client.getDescriptor(0, "cs"));
        vm.intinfo = new long[] {0x8000_0202L, 0x0000_000E_8000_0B0EL};
        assertArrayEquals(new long[] {0x8000_0202L, 0x0000_000E_8000_0B0EL}, client.getIntinfo(0));
        client.injectNmi(1);
        assertEquals(1, vm.nmis);
        assertEquals(0, client.getX2apicState(1));
    }

    @Test
    void statsMemoryCpusTopologyAndRtcTravel() {
        assertEquals(List.of("exits", "halt_exits", "jbhyve.exits.io"), new ArrayList<>(client.getStats(0).keySet()));
        assertEquals(1234L, client.getStats(0).get("exits"));
        MachineControl.MemoryLayout m = client.memory();
        assertEquals(256L << 20, m.lowmem());
        assertEquals(List.of(new MachineControl.Mapping(0, 256L << 20, "sysmem", 0, "RWX", false)), m.mappings());
        assertEquals(List.of(0, 1), client.activeCpus());
        assertEquals(List.of(), client.suspendedCpus());
        assertEquals(new MachineControl.Topology(1, 2, 1, 2), client.topology());
        client.setRtcTime(86400);
        assertEquals(86400, client.getRtcTime());
        client.setRtcNvram(20, 0xAB);
        assertEquals(0xAB, client.getRtcNvram(20));
    }

    @Test
    void aFailedRequestComesBackWithItsErrnoAndTheConnectionGoesOn() {
        VmRequestException e = assertThrows(VmRequestException.class, () -> client.getRegisters(5, List.of("rip")));
        assertEquals(VmRequestException.EINVAL, e.errno());
        assertEquals("vcpu 5 does not exist (the VM has 2)", e.getMessage());
        assertEquals(VmRequestException.EINVAL,
                assertThrows(VmRequestException.class, () -> client.getRtcNvram(200)).errno());
        assertEquals(0L, client.getRegisters(1, List.of("rip")).get("rip"));
    }

    @Test
    void rawLinesGetOneAnswerEachAndNonsenseIsAnErrorAnswer() throws Exception {
        try (LineChannel c = raw()) {
            c.writeLine("{\"op\":\"hello\"}");
            ObjectNode hello = Json.parseObject(c.readLine());
            assertTrue(hello.get("ok").asBoolean());
            assertEquals(1, hello.get("protocol").asInt());
            assertEquals("running", hello.get("state").asText());
            c.writeLine("this is not json");
            ObjectNode bad = Json.parseObject(c.readLine());
            assertFalse(bad.get("ok").asBoolean());
            assertEquals(22, bad.get("errno").asInt());
            c.writeLine("{\"op\":\"reboot-the-host\"}");
            assertEquals("unknown op 'reboot-the-host'", Json.parseObject(c.readLine()).get("error").asText());
            c.writeLine("{\"op\":\"get-registers\",\"vcpu\":0}");
            assertEquals("missing names", Json.parseObject(c.readLine()).get("error").asText());
            c.writeLine("{\"op\":\"set-registers\",\"vcpu\":0,\"values\":{\"rip\":\"0xZZ\"}}");
            assertEquals("rip: '0xZZ' is not a 64-bit number", Json.parseObject(c.readLine()).get("error").asText());
            c.writeLine("{\"op\":\"get-registers\",\"vcpu\":1,\"names\":[\"rflags\"]}");
            assertEquals("{\"ok\":true,\"values\":{\"rflags\":\"0x0\"}}", c.readLine());
        }
    }

    @Test
    void anEndlessLineEndsThatConnectionOnly() throws Exception {
        try (LineChannel c = raw()) {
            c.writeLine("x".repeat(LineChannel.MAX_LINE + 10));
            assertNull(c.readLine(), "the server hung up");
        } catch (java.io.IOException e) {
            // the server may hang up while the line is still being written
        }
        assertEquals("vm1", ControlClient.connect(rundir.resolve("vmm/vm1")).name(), "others are still served");
    }

    @Test
    void clientsBeyondTheLimitAreTurnedAwayWithEbusy() throws Exception {
        List<LineChannel> held = new ArrayList<>();
        try {
            for (int i = 1; i < ControlServer.MAX_CLIENTS; i++) { // the client of @BeforeEach holds one slot
                LineChannel c = raw();
                c.writeLine("{\"op\":\"hello\"}");
                assertTrue(Json.parseObject(c.readLine()).get("ok").asBoolean());
                held.add(c);
            }
            try (LineChannel extra = raw()) {
                ObjectNode answer = Json.parseObject(extra.readLine());
                assertEquals(16, answer.get("errno").asInt());
            }
        } finally {
            for (LineChannel c : held) {
                c.close();
            }
        }
    }

    @Test
    void destroyIsRecordedForTheReleaseAndStopsTheVm() {
        assertFalse(claim.destroyRequested());
        client.destroy();
        assertTrue(claim.destroyRequested());
        assertEquals("destroy", vm.calls().getLast());
    }

    @Test
    void aStopAnsweredByAHangUpCountsAsDone() throws Exception {
        vm.onStop = () -> claim.release(false); // the VM goes down before it can answer
        client.forcePoweroff();
        assertEquals("force-poweroff", vm.calls().getLast());
    }

    @Test
    void aVmThatStopsServingFailsTheNextRequest() {
        claim.release(false);
        VmRequestException e = assertThrows(VmRequestException.class, () -> client.getRegisters(0, List.of("rip")));
        assertEquals(VmRequestException.EBUSY, e.errno());
    }
}
