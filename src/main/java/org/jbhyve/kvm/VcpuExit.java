package org.jbhyve.kvm;

/**
 * Why KVM_RUN returned, decoded from the kvm_run page. Data-carrying exits copy what the
 * dispatcher needs; {@link Io} and {@link Mmio} answers go back through {@link KvmRun}.
 */
public sealed interface VcpuExit {
    /** Port I/O: {@code count} repetitions (string I/O) of {@code size}-byte accesses. */
    record Io(boolean write, int port, int size, int count) implements VcpuExit {}

    /** MMIO access of {@code length} bytes at a guest-physical address no memslot covers. */
    record Mmio(boolean write, long address, int length, long data) implements VcpuExit {}

    /** HLT seen by user space (only without an in-kernel LAPIC). */
    record Halt() implements VcpuExit {}

    /** The guest triple-faulted (KVM_EXIT_SHUTDOWN). */
    record Shutdown() implements VcpuExit {}

    /** A platform event: {@code type} is KVM_SYSTEM_EVENT_SHUTDOWN (1), RESET (2), CRASH (3)... */
    record SystemEvent(int type) implements VcpuExit {
        public static final int SHUTDOWN = 1;
        public static final int RESET = 2;
        public static final int CRASH = 3;
    }

    /** VM entry failed: hardware reason code. */
    record FailEntry(long reason) implements VcpuExit {}

    /**
     * KVM could not handle something; {@code suberror} says what (1: it could not emulate an
     * instruction). For emulation failures KVM may give the instruction's bytes (empty otherwise).
     */
    record InternalError(int suberror, byte[] instruction) implements VcpuExit {
        public static final int EMULATION = 1;
    }

    /**
     * KVM_EXIT_DEBUG (guest debugging is on): {@code exception} is 1 (#DB: single step, a debug
     * register hit; {@code dr6} says which) or 3 (#BP: an int3 was executed); {@code pc} is the
     * linear address of the instruction (CS base + RIP) for #BP and #DB faults.
     */
    record Debug(int exception, long pc, long dr6, long dr7) implements VcpuExit {
        public static final int DB = 1;
        public static final int BP = 3;
    }

    /** KVM_RUN was interrupted by a signal or immediate_exit (someone kicked this vCPU). */
    record Interrupted() implements VcpuExit {}

    /** Guest RDMSR/WRMSR of an MSR KVM handed to user space. */
    record Msr(boolean write, int index, long data) implements VcpuExit {}

    /** Any other exit reason. */
    record Other(int reason) implements VcpuExit {}
}
