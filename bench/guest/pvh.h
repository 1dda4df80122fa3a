/*
 * The PVH entry of the benchmark guests: an ELF note (name "Xen", type 18,
 * XEN_ELFNOTE_PHYS32_ENTRY) holding the 32-bit entry point `start`, which the
 * file including this defines right after it, in 32-bit protected mode with
 * paging off, as both jbhyve and QEMU enter PVH kernels.
 */
        .section .note.pvh, "a"
        .balign 4
        .long 4, 4, 18          /* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
        .asciz "Xen"
        .long start
        .text
        .code32
        .globl start
