package org.jbhyve.vcpu;

/**
 * What a vCPU loop needs from the VM around it: whether to stop, how to ask the whole VM to
 * exit, and where to report the idle probe (see {@link VcpuLoop#requestIdleProbe()}).
 */
public interface VmControl {
    /** True once some exit was requested; every vCPU loop then returns. */
    boolean stopRequested();

    /**
     * Asks the VM to exit with {@code status}; the first request wins. {@code code} overrides the
     * status's own number (pc-testdev's debug exit); {@code message} (may be null) is printed
     * on stderr as one line.
     */
    void requestExit(ExitStatus status, int code, String message);

    /** A vCPU's answer to an idle probe: whether it sits in HLT (or wait-for-SIPI) with interrupts off. */
    void idleProbed(int vcpu, boolean haltedForGood);
}
