package org.jbhyve.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.jbhyve.config.ConfigTree;
import org.jbhyve.vcpu.ExitStatus;
import org.junit.jupiter.api.Test;

/** A VM's outside view before it runs (no KVM needed): layout, topology, and requests that must wait. */
class MachineControlTest {
    private static MachineSpec spec(String... keyValues) {
        ConfigTree t = new ConfigTree();
        t.set("name", "vm1");
        for (int i = 0; i < keyValues.length; i += 2) {
            t.set(keyValues[i], keyValues[i + 1]);
        }
        return MachineSpec.from(t);
    }

    @Test
    void memoryLayoutIsBhyvesLowmemAndHighmem() {
        MachineControl small = new VirtualMachine(spec("memory.size", "256M")).control();
        assertEquals(new MachineControl.MemoryLayout(256L << 20, 0, false,
                List.of(new MachineControl.Mapping(0, 256L << 20, "sysmem", 0, "RWX", false))), small.memory());
        MachineControl big = new VirtualMachine(spec("memory.size", "4G", "memory.wired", "true")).control();
        assertEquals(new MachineControl.MemoryLayout(3L << 30, 1L << 30, true, List.of(
                new MachineControl.Mapping(0, 3L << 30, "sysmem", 0, "RWX", true),
                new MachineControl.Mapping(4L << 30, 1L << 30, "sysmem", 3L << 30, "RWX", true))), big.memory());
    }

    @Test
    void topologyAndX2apicComeFromTheSpec() {
        MachineControl vm = new VirtualMachine(spec("cpus", "4", "sockets", "2", "cores", "2", "x86.x2apic", "true"))
                .control();
        assertEquals(new MachineControl.Topology(2, 2, 1, 4), vm.topology());
        assertEquals(4, vm.vcpuCount());
        assertEquals(1, vm.getX2apicState(3));
        assertEquals(0, new VirtualMachine(spec()).control().getX2apicState(0));
        assertEquals("vm1", vm.name());
    }

    @Test
    void vcpuRequestsBeforeTheVmRunsAreBusyAndBadOnesInvalid() {
        VirtualMachine machine = new VirtualMachine(spec("cpus", "2"));
        MachineControl vm = machine.control();
        assertEquals(VmState.CREATED, vm.state());
        VmRequestException busy = assertThrows(VmRequestException.class, () -> vm.getRegisters(0, List.of("rip")));
        assertEquals(VmRequestException.EBUSY, busy.errno());
        assertEquals("the VM is created", busy.getMessage());
        assertEquals(VmRequestException.EINVAL,
                assertThrows(VmRequestException.class, () -> vm.getRegisters(2, List.of("rip"))).errno());
        assertEquals(VmRequestException.EINVAL,
                assertThrows(VmRequestException.class, () -> vm.getRegisters(0, List.of("xmm0"))).errno());
        assertEquals(VmRequestException.EINVAL,
                assertThrows(VmRequestException.class, () -> vm.setRegisters(0, Map.of("cr8", 1L))).errno());
        assertEquals(VmRequestException.EINVAL,
                assertThrows(VmRequestException.class, () -> vm.getDescriptor(0, "rip")).errno());
        assertEquals(VmRequestException.EBUSY, assertThrows(VmRequestException.class, vm::getRtcTime).errno());
        assertEquals(List.of(), vm.activeCpus());
        assertEquals(List.of(), vm.suspendedCpus());
    }

    @Test
    void stopRequestsBecomeBhyvesStatuses() {
        VirtualMachine reset = new VirtualMachine(spec());
        reset.control().forceReset();
        assertEquals(VmState.STOPPING, reset.state());
        VirtualMachine destroyed = new VirtualMachine(spec());
        destroyed.control().destroy();
        destroyed.control().forcePoweroff(); // the first request wins
        assertEquals(VmState.STOPPING, destroyed.state());
        destroyed.close();
        assertEquals(VmState.ENDED, destroyed.state());
        assertEquals(ExitStatus.ERROR.code(), 4);
    }
}
