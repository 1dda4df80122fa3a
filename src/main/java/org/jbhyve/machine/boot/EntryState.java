package org.jbhyve.machine.boot;

/**
 * How the boot vCPU starts: in 32-bit protected mode with paging off (PVH, Multiboot and the
 * Linux 32-bit boot protocol) or in 64-bit long mode on identity-mapped page tables (the Linux
 * 64-bit boot protocol). {@code rax}, {@code rbx} and {@code rsi} carry what the protocols
 * define: the Multiboot magic 0x2BADB002 in EAX and its information structure in EBX, the PVH
 * start info in EBX, Linux boot_params in ESI; unused ones are 0.
 */
public record EntryState(Mode mode, long rip, long rax, long rbx, long rsi, String protocol) {
    public enum Mode { PROTECTED_32, LONG_64 }

    /** An entry with RAX = 0 (every protocol but Multiboot). */
    public EntryState(Mode mode, long rip, long rbx, long rsi, String protocol) {
        this(mode, rip, 0, rbx, rsi, protocol);
    }
}
