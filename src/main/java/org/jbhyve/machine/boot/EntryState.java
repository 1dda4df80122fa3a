package org.jbhyve.machine.boot;

/**
 * How the boot vCPU starts: in 32-bit protected mode with paging off (PVH and the Linux 32-bit
 * boot protocol) or in 64-bit long mode on identity-mapped page tables (the Linux 64-bit boot
 * protocol). {@code rbx} and {@code rsi} carry the start-info / boot_params pointers the
 * protocols define.
 */
public record EntryState(Mode mode, long rip, long rbx, long rsi, String protocol) {
    public enum Mode { PROTECTED_32, LONG_64 }
}
