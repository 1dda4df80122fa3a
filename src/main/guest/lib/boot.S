/*
 * Entry points and the switch to 64-bit long mode.
 *
 *   pvh_entry      PVH: 32-bit protected mode, paging off, EBX = start info
 *   linux32_entry  Linux boot protocol: 32-bit, paging off, ESI = boot_params
 *   linux64_entry  Linux boot protocol: long mode, RSI = boot_params
 *
 * The image starts with a small head so that a flat copy loaded at 1 MiB
 * (the protected-mode part of a bzImage) has the 32-bit entry at offset 0
 * (code32_start) and the 64-bit entry at offset 0x200 (startup_64).
 *
 * Entering long mode from 32-bit protected mode takes four steps:
 * CR4.PAE = 1, CR3 = top-level page table, EFER.LME = 1, CR0.PG = 1;
 * then a far jump to a 64-bit code segment leaves compatibility mode.
 */

#define KERNEL_CS	0x08
#define KERNEL_DS	0x10

#define PROTO_PVH	1
#define PROTO_LINUX32	2
#define PROTO_LINUX64	3

	.section .head, "ax"
	.code32
	.globl	image_head
image_head:				/* load address + 0: code32_start */
	jmp	linux32_entry
	.org	0x200
	.code64
	jmp	linux64_entry		/* load address + 0x200: startup_64 */

	.text
	.code32
	.globl	pvh_entry
pvh_entry:
	cli
	cld
	movl	%ebx, boot_ptr
	movl	$PROTO_PVH, boot_proto
	jmp	enter_long_mode

	.globl	linux32_entry
linux32_entry:
	cli
	cld
	movl	%esi, boot_ptr
	movl	$PROTO_LINUX32, boot_proto

enter_long_mode:
	lgdt	gdt_ptr			/* 32-bit form: 16-bit limit, 32-bit base */
	movl	%cr4, %eax
	orl	$0x20, %eax		/* CR4.PAE */
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx	/* IA32_EFER */
	rdmsr
	orl	$0x100, %eax		/* EFER.LME */
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000001, %eax	/* CR0.PG | CR0.PE */
	movl	%eax, %cr0
	ljmp	$KERNEL_CS, $long_mode_entry

	.code64
	.globl	linux64_entry
linux64_entry:
	cli
	cld
	leaq	boot_stack_top(%rip), %rsp	/* the loader's RSP may be junk */
	movq	%rsi, boot_ptr(%rip)
	movl	$PROTO_LINUX64, boot_proto(%rip)
	lgdt	gdt_ptr(%rip)
	leaq	pml4(%rip), %rax	/* our tables: same identity map, user bit set */
	movq	%rax, %cr3
	pushq	$KERNEL_CS		/* reload CS with a far return */
	leaq	long_mode_entry(%rip), %rax
	pushq	%rax
	lretq

long_mode_entry:
	movl	$KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs
	leaq	boot_stack_top(%rip), %rsp
	leaq	__bss_start(%rip), %rdi	/* zero .bss */
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	shrq	$3, %rcx		/* .bss is 16-byte aligned and sized */
	xorl	%eax, %eax
	rep stosq
	call	runtime_start
1:	cli
	hlt
	jmp	1b

	.data
	.globl	boot_ptr, boot_proto
	.align	8
boot_ptr:
	.quad	0
boot_proto:
	.long	0

/*
 * GDT.  The TSS descriptor (16 bytes in long mode) is filled in at run time
 * because its base address is split into several fields.
 */
	.align	16
	.globl	gdt
gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* 0x08 kernel code: 64-bit, DPL 0 */
	.quad	0x00cf92000000ffff	/* 0x10 kernel data */
	.quad	0x00cff2000000ffff	/* 0x18 user data: DPL 3 */
	.quad	0x00affa000000ffff	/* 0x20 user code: 64-bit, DPL 3 */
	.quad	0, 0			/* 0x28 TSS */
gdt_end:
	.align	8
	.word	0
gdt_ptr:
	.word	gdt_end - gdt - 1
	.quad	gdt

/*
 * Page tables, built at assembly time so that no instructions are spent on
 * them: PML4[0] -> PDPT, PDPT[0..3] -> four page directories of 2 MiB pages
 * covering 0-4 GiB.  Flags: 0x07 = present|writable|user, 0x80 = 2 MiB page.
 */
	.section .data.pagetables, "aw"
	.align	4096
	.globl	pml4, pdpt
pml4:
	.quad	pdpt + 0x07
	.fill	511, 8, 0
pdpt:
	.quad	pd + 0x0000 + 0x07
	.quad	pd + 0x1000 + 0x07
	.quad	pd + 0x2000 + 0x07
	.quad	pd + 0x3000 + 0x07
	.fill	508, 8, 0
pd:
	.set	i, 0
	.rept	2048
	.quad	(i << 21) | 0x87
	.set	i, i + 1
	.endr

/* Stacks and the page-table pool: not zeroed at start-up. */
	.section .noinit, "aw", @nobits
	.align	4096
	.globl	trap_stack_top, user_stack_top, pt_pool
	.space	16384
boot_stack_top:
	.space	8192
trap_stack_top:
	.space	16384
user_stack_top:
pt_pool:
	.space	60 * 4096
