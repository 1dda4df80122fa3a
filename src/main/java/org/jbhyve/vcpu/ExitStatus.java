package org.jbhyve.vcpu;

/** bhyve's exit statuses (bhyve(8) EXIT STATUS): what the process returns when the VM stops. */
public enum ExitStatus {
    /** The guest rebooted (reset through 0xCF9, the i8042 or ACPI). */
    RESET(0),
    /** The guest powered off (ACPI S5, or pc-testdev/debug-exit with an odd status). */
    POWEROFF(1),
    /** Every vCPU halted with interrupts disabled: nothing can ever wake the guest. */
    HALT(2),
    /** A vCPU triple-faulted. */
    TRIPLE_FAULT(3),
    /** An error: bad options, an unusable backend, or an unhandled VM exit. */
    ERROR(4);

    private final int code;

    ExitStatus(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
