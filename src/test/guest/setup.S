/*
 * Real-mode setup sectors of the bzImage (Linux boot protocol 2.15).
 *
 * A VMM that implements the 32/64-bit boot protocol only reads the setup
 * header below and enters the protected-mode part directly.  A BIOS-style
 * loader (QEMU -kernel) instead runs this code in real mode at
 * (setup segment + 0x20):0 with DS = ES = SS = setup segment.  It then
 *   1. builds a struct boot_params at setup segment:0x8000 (copying the
 *      setup header the loader filled in and the BIOS e820 memory map),
 *   2. enables A20, loads a flat GDT and sets CR0.PE,
 *   3. far-jumps to code32_start with ESI = boot_params (32-bit entry).
 */

#define SETUP_SECTS	2
#define BP		0x8000		/* boot_params offset in the segment */
#define BOOT_CS		0x10
#define BOOT_DS		0x18
#define SMAP		0x534d4150

	.code16
	.text
	.globl	_start
_start:
	/* Boot sector: not bootable from a disk. */
	.org	0x1f1
setup_sects:		.byte	SETUP_SECTS
root_flags:		.word	0
syssize:		.long	0		/* filled in by mkbzimage */
ram_size:		.word	0
vid_mode:		.word	0xffff
root_dev:		.word	0
boot_flag:		.word	0xaa55
	.org	0x200
			.byte	0xeb, setup_start - 1f	/* jmp setup_start */
1:
header:			.ascii	"HdrS"
version:		.word	0x020f
realmode_swtch:		.long	0
start_sys_seg:		.word	0x1000
kernel_version:		.word	kernel_version_str - 0x200
type_of_loader:		.byte	0
loadflags:		.byte	0x81		/* LOADED_HIGH | CAN_USE_HEAP */
setup_move_size:	.word	0x8000
code32_start:		.long	0x100000
ramdisk_image:		.long	0
ramdisk_size:		.long	0
bootsect_kludge:	.long	0
heap_end_ptr:		.word	0
ext_loader_ver:		.byte	0
ext_loader_type:	.byte	0
cmd_line_ptr:		.long	0
initrd_addr_max:	.long	0x7fffffff
kernel_alignment:	.long	0x200000
relocatable_kernel:	.byte	0
min_alignment:		.byte	21
xloadflags:		.word	0x0001		/* XLF_KERNEL_64 */
cmdline_size:		.long	2047
hardware_subarch:	.long	0
hardware_subarch_data:	.quad	0
payload_offset:		.long	0
payload_length:		.long	0
setup_data:		.quad	0
pref_address:		.quad	0x100000
init_size:		.long	0		/* filled in by mkbzimage */
handover_offset:	.long	0
kernel_info_offset:	.long	0

setup_start:
	cli
	cld
	movw	%ds, %ax		/* make CS equal DS: labels are offsets */
	pushw	%ax
	pushw	$2f
	lretw
2:
	movw	%ax, %es

	/* Zero boot_params and copy the setup header (0x1f1-0x2cf) into it. */
	movw	$BP, %di
	movw	$2048, %cx
	xorw	%ax, %ax
	rep stosw
	movw	$0x1f1, %si
	movw	$BP + 0x1f1, %di
	movw	$0x2d0 - 0x1f1, %cx
	rep movsb

	/* BIOS e820 memory map into boot_params.e820_table (0x2d0). */
	xorl	%ebx, %ebx
	xorw	%bp, %bp
	movw	$BP + 0x2d0, %di
3:	movl	$0xe820, %eax
	movl	$SMAP, %edx
	movl	$20, %ecx
	int	$0x15
	jc	4f
	cmpl	$SMAP, %eax
	jne	4f
	incw	%bp
	addw	$20, %di
	testl	%ebx, %ebx
	jz	4f
	cmpw	$128, %bp
	jb	3b
4:	movw	%bp, %ax
	movb	%al, BP + 0x1e8		/* e820_entries */

	/* A20 through the "fast A20" bit of system control port A. */
	inb	$0x92, %al
	orb	$0x02, %al
	andb	$0xfe, %al
	outb	%al, $0x92

	/* Linear addresses: segment base + offset. */
	xorl	%ebx, %ebx
	movw	%ds, %bx
	shll	$4, %ebx
	leal	gdt(%ebx), %eax
	movl	%eax, gdt_desc + 2
	leal	BP(%ebx), %esi		/* ESI = boot_params */
	movl	code32_start, %eax
	movl	%eax, entry32

	lgdtl	gdt_desc
	movl	%cr0, %eax
	orl	$1, %eax		/* CR0.PE */
	movl	%eax, %cr0
	movw	$BOOT_DS, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	ljmpl	*%cs:entry32		/* CS still has the real-mode base */

	.align	4
entry32:		.long	0
			.word	BOOT_CS
	.align	8
gdt:			.quad	0
			.quad	0
			.quad	0x00cf9a000000ffff	/* 0x10: 32-bit code, flat */
			.quad	0x00cf92000000ffff	/* 0x18: data, flat */
gdt_end:
gdt_desc:		.word	gdt_end - gdt - 1
			.long	0

kernel_version_str:	.asciz	"jbhyve test guest"

	.org	(SETUP_SECTS + 1) * 512
