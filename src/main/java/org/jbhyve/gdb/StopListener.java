package org.jbhyve.gdb;

/** What a {@link DebugTarget} tells the debugger about its vCPUs; implemented by the session. */
public interface StopListener {
    /**
     * A vCPU trapped. Runs on that vCPU's own thread, the vCPU already held out of the guest;
     * must return soon. Returns true when the debugger takes the trap (the vCPU then stays held
     * until resumed); false gives it back: the target releases the vCPU and handles the trap as
     * it would without a debugger (a #BP goes to the guest, an emulation failure ends the VM).
     */
    boolean trapped(int vcpu, Trap trap);

    /** The VM has ended with process exit status {@code status}; no vCPU will run again. */
    void ended(int status);
}
