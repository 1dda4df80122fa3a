/*
 * Multiboot (version 1) test kernel: header and 32-bit entry.
 *
 * A Multiboot loader finds the header (magic 0x1BADB002, flags, checksum
 * with magic + flags + checksum = 0) 32-bit aligned in the first 8 KiB of
 * the file, loads the kernel and enters it in 32-bit protected mode with
 * paging and interrupts off, flat CS/DS, EAX = 0x2BADB002 and EBX = the
 * Multiboot information structure.  ESP is undefined: we set our own.
 *
 * Flags: bit 0 (modules page aligned) and bit 1 (memory information).
 * Built twice: multiboot.elf, an ELF32 loaded through its program headers
 * (as kvm-unit-tests' .flat files), and with AOUT_KLUDGE multiboot-aout.bin,
 * a flat binary that carries flags bit 16 and the address fields
 * (header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr).
 */

#define MB_MAGIC	0x1BADB002
#ifdef AOUT_KLUDGE
#define MB_FLAGS	0x00010003
#else
#define MB_FLAGS	0x00000003
#endif

	.section .multiboot, "a"
	.align	4
	.globl	mb_header
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
#ifdef AOUT_KLUDGE
	.long	mb_header		/* header_addr */
	.long	__load_start		/* load_addr: the file's first byte */
	.long	__load_end		/* load_end_addr: the file's end */
	.long	__bss_end		/* bss_end_addr */
	.long	mb_entry		/* entry_addr */
#endif

	.text
	.code32
	.globl	mb_entry
mb_entry:
	movl	$mb_stack_top, %esp
	pushfl				/* EFLAGS as the loader left it */
	popl	%ecx
	movl	%cr0, %edx
	pushl	%edx			/* cr0 */
	pushl	%ecx			/* eflags */
	pushl	%ebx			/* information structure */
	pushl	%eax			/* magic */
	cli
	cld
	call	mb_main
1:	hlt
	jmp	1b

	.bss
	.align	16
	.space	16384
mb_stack_top:
