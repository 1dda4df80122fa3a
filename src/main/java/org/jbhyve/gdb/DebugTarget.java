package org.jbhyve.gdb;

import java.util.Map;
import java.util.Set;
import org.jbhyve.memory.GuestMemory;

/**
 * The VM as the debug server drives it: stop and resume vCPUs, read and write their state,
 * reach guest RAM. Implemented over KVM by {@link KvmDebugTarget}; tests give a simulated one.
 *
 * <p>All-stop: a vCPU that traps is held at once by the target; the server then stops every
 * other vCPU with {@link #stopAll} before it reports the stop. State access and resuming are
 * for held vCPUs only. Methods throw {@link TargetException} when the VM has ended or a vCPU
 * did not answer; they never leave the target half-changed on a bad argument.
 */
public interface DebugTarget {
    /** A target failure: the VM ended, or a vCPU did not answer in time. */
    final class TargetException extends RuntimeException {
        public TargetException(String message) {
            super(message);
        }
    }

    int vcpuCount();

    /** Guest RAM (guest-physical addresses). */
    GuestMemory memory();

    /** Where traps and the VM's end are reported from now on (null: nowhere, traps go back to the guest). */
    void listen(StopListener listener);

    /** Holds every vCPU out of the guest and returns once each is (or has ended). */
    void stopAll();

    /** The state of a held vCPU. */
    CpuState read(int vcpu);

    /** Writes back the {@code parts} of a held vCPU's state that were edited. */
    void write(int vcpu, CpuState state, Set<CpuState.Part> parts);

    /**
     * Sets {@code debug} on every vCPU, then lets the vCPUs in {@code run} enter the guest:
     * those mapped to true execute one instruction and trap (DR6.BS), the others run freely.
     * vCPUs not in {@code run} stay held.
     */
    void resume(GuestDebug debug, Map<Integer, Boolean> run);

    /** Ends the VM (the debugger's kill request). */
    void kill();
}
