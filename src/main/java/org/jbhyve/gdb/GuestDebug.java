package org.jbhyve.gdb;

/**
 * What the debugger wants the vCPUs to trap on, the same for every vCPU: {@code int3}
 * interception when software breakpoints are planted, and the debugger's debug registers
 * (DR0-DR3 addresses, DR7 enables) when hardware breakpoints or watchpoints are set.
 */
public record GuestDebug(boolean softwareBreakpoints, boolean hardware, long[] addresses, long dr7) {
    /** Debugging off: nothing is intercepted. */
    public static final GuestDebug OFF = new GuestDebug(false, false, new long[4], 0);

    public GuestDebug {
        addresses = addresses.clone();
        if (addresses.length != 4) {
            throw new IllegalArgumentException("four debug address registers, not " + addresses.length);
        }
    }

    @Override
    public long[] addresses() {
        return addresses.clone();
    }
}
