package org.jbhyve.machine;

import java.util.List;
import java.util.Map;
import org.jbhyve.vcpu.Descriptor;

/**
 * A VM as an outside client sees it: what bhyve's vmm API (vmmapi(3)) offers to bhyvectl,
 * reduced to what KVM can answer. Register names are bhyve's ({@link
 * org.jbhyve.vcpu.VcpuRegisters#NAMES}); values are raw 64-bit patterns.
 *
 * <p>Register access pauses only the vCPU concerned: its thread leaves KVM_RUN, reads or writes
 * the registers and re-enters the guest (see {@link org.jbhyve.vcpu.VcpuLoop#submit}). RTC
 * access pauses every vCPU for its few port accesses. Every method may throw
 * {@link VmRequestException}; none of them can stop the VM except the three stop requests.
 */
public interface MachineControl {
    /** One mapping of guest-physical memory, as bhyvectl's --get-memmap lists it. */
    record Mapping(long gpa, long length, String segment, long offset, String protection, boolean wired) {}

    /** Guest RAM below and above 4 GiB (bhyve's lowmem and highmem), and every mapping. */
    record MemoryLayout(long lowmem, long highmem, boolean wired, List<Mapping> mappings) {}

    /** bhyve's vm_get_topology. */
    record Topology(int sockets, int cores, int threads, int maxcpus) {}

    /** A snapshot written: where, its size, how much of it is memory, and how long it took. */
    record Saved(String file, long fileBytes, long memoryBytes, long millis) {}

    String name();

    VmState state();

    int vcpuCount();

    Map<String, Long> getRegisters(int vcpu, List<String> names);

    void setRegisters(int vcpu, Map<String, Long> values);

    Descriptor getDescriptor(int vcpu, String name);

    void setDescriptor(int vcpu, String name, Descriptor descriptor);

    /** bhyve's vm_get_intinfo: {pending, current} in VM_INTINFO encoding (0: none). */
    long[] getIntinfo(int vcpu);

    /** Queues an NMI on the vCPU (bhyve's vm_inject_nmi). */
    void injectNmi(int vcpu);

    /** 1 when the vCPU may use x2APIC mode (bhyve -x), else 0. */
    int getX2apicState(int vcpu);

    /** KVM's statistics of the vCPU, then jbhyve's own counters; names in a stable order. */
    Map<String, Long> getStats(int vcpu);

    MemoryLayout memory();

    List<Integer> activeCpus();

    List<Integer> suspendedCpus();

    Topology topology();

    /** The guest's RTC time as seconds since the epoch (local time counted as UTC, as bhyve's). */
    long getRtcTime();

    void setRtcTime(long seconds);

    int getRtcNvram(int offset);

    void setRtcNvram(int offset, int value);

    /** Stops the VM as a guest reset would: bhyve exits 0. */
    void forceReset();

    /** Stops the VM as a guest power-off would: bhyve exits 1. */
    void forcePoweroff();

    /** Destroys the VM under the running bhyve: it stops and bhyve exits 4. */
    void destroy();

    /**
     * Saves the VM to {@code file} (an absolute path, created mode 0600): every vCPU paused, the
     * devices' in-flight work completed, then the snapshot written. With {@code suspend} the VM
     * then stops and bhyve exits 0 (bhyvectl --suspend); otherwise it runs on (--checkpoint).
     */
    Saved checkpoint(String file, boolean suspend);
}
