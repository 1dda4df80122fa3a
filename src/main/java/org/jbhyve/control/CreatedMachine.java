package org.jbhyve.control;

import java.util.List;
import java.util.Map;
import org.jbhyve.machine.MachineControl;
import org.jbhyve.machine.VmRequestException;
import org.jbhyve.machine.VmState;
import org.jbhyve.memory.MemoryMap;
import org.jbhyve.vcpu.Descriptor;

/**
 * A created VM that no bhyve runs yet, as bhyvectl sees it: its memory layout and topology come
 * from the {@link VmRecord}; it has no active vCPUs; everything that needs a vCPU fails with
 * EBUSY (FreeBSD's bhyveload leaves the boot vCPU's registers set; here they exist once bhyve
 * runs the VM).
 */
public final class CreatedMachine implements MachineControl {
    private final VmRecord record;

    public CreatedMachine(VmRecord record) {
        this.record = record;
    }

    private VmRequestException notRunning() {
        return new VmRequestException(VmRequestException.EBUSY, "vm " + record.name() + " is created but not running"
                + " (bhyve ... " + record.name() + " runs it)");
    }

    @Override
    public String name() {
        return record.name();
    }

    @Override
    public VmState state() {
        return VmState.CREATED;
    }

    @Override
    public int vcpuCount() {
        return 1;
    }

    @Override
    public Map<String, Long> getRegisters(int vcpu, List<String> names) {
        throw notRunning();
    }

    @Override
    public void setRegisters(int vcpu, Map<String, Long> values) {
        throw notRunning();
    }

    @Override
    public Descriptor getDescriptor(int vcpu, String name) {
        throw notRunning();
    }

    @Override
    public void setDescriptor(int vcpu, String name, Descriptor descriptor) {
        throw notRunning();
    }

    @Override
    public long[] getIntinfo(int vcpu) {
        throw notRunning();
    }

    @Override
    public void injectNmi(int vcpu) {
        throw notRunning();
    }

    @Override
    public int getX2apicState(int vcpu) {
        throw notRunning();
    }

    @Override
    public Map<String, Long> getStats(int vcpu) {
        throw notRunning();
    }

    /** The memory bhyveload was given (none for an empty bhyvectl --create VM). */
    @Override
    public MemoryLayout memory() {
        if (record.memory() <= 0) {
            return new MemoryLayout(0, 0, false, List.of());
        }
        MemoryMap map = MemoryMap.forSize(record.memory());
        List<Mapping> mappings = map.highMemory() > 0
                ? List.of(new Mapping(0, map.lowMemory(), "sysmem", 0, "RWX", record.wired()),
                        new Mapping(MemoryMap.HIGHMEM_BASE, map.highMemory(), "sysmem", map.lowMemory(), "RWX",
                                record.wired()))
                : List.of(new Mapping(0, map.lowMemory(), "sysmem", 0, "RWX", record.wired()));
        return new MemoryLayout(map.lowMemory(), map.highMemory(), record.wired(), mappings);
    }

    @Override
    public List<Integer> activeCpus() {
        return List.of();
    }

    @Override
    public List<Integer> suspendedCpus() {
        return List.of();
    }

    @Override
    public Topology topology() {
        return new Topology(1, 1, 1, 1);
    }

    @Override
    public long getRtcTime() {
        throw notRunning();
    }

    @Override
    public void setRtcTime(long seconds) {
        throw notRunning();
    }

    @Override
    public int getRtcNvram(int offset) {
        throw notRunning();
    }

    @Override
    public void setRtcNvram(int offset, int value) {
        throw notRunning();
    }

    @Override
    public void forceReset() {
        throw notRunning();
    }

    @Override
    public void forcePoweroff() {
        throw notRunning();
    }

    @Override
    public Saved checkpoint(String file, boolean suspend) {
        throw notRunning();
    }

    /** Destroying a created VM is the registry's business ({@link Registry#destroy}). */
    @Override
    public void destroy() {
        throw new IllegalStateException("a created VM is destroyed through the registry");
    }
}
