/*
 * El Torito "no emulation" boot image for bootcd.iso.
 *
 * El Torito (the CD-ROM boot extension of ISO 9660): a Boot Record volume
 * descriptor at sector 17 points to the boot catalog, whose initial entry
 * (bootable, media type 0 = no emulation) gives the load segment (0 means
 * 07C0h), the number of 512-byte virtual sectors to load and the image's
 * LBA in 2048-byte sectors.  The BIOS loads the image to 0000:7C00 and
 * jumps there with DL = the CD's drive number; INT 13h extended services
 * then address the CD in 2048-byte sectors.  There is no 0x55 0xAA
 * signature for no-emulation images.
 *
 * The program prints the drive number, the INT 13h extension version,
 * reads ISO 9660 sector 16 (the Primary Volume Descriptor: type 1 then
 * "CD001") with AH=42h and checks it, asks AH=48h for the sector size,
 * and exits with 0.  Output lines and exit codes are in README.md.
 */

#define BUF_SEG		0x1000
#define PVD_LBA		16
#define EXIT_NO_EXT	4
#define EXIT_READ	2

#include "bootstart.inc"

	boot_start_and_check_extensions

	/* Drive parameters (AH=48h): the result buffer starts with its size. */
	movw	$PARAMS_LEN, params
	mov	$0x48, %ah
	mov	drive, %dl
	mov	$params, %si
	int	$0x13
	jc	read_status_bad
	mov	params_bps, %ax
	mov	$s_bps, %si
	call	put_kv16
	call	newline

	/* The Primary Volume Descriptor. */
	mov	$0x42, %ah
	mov	drive, %dl
	mov	$dap, %si
	int	$0x13
	jc	read_status_bad
	push	%ds
	mov	$BUF_SEG, %ax
	mov	%ax, %ds
	cmpb	$1, 0
	jne	2f
	cmpl	$0x30304443, 1		/* "CD00" */
	jne	2f
	cmpb	$'1', 5
2:	pop	%ds
	jne	read_data_bad
	mov	$s_read_ok, %si
	call	puts
	jmp	done

no_ext:
	mov	$s_no_ext, %si
	call	puts
	mov	$EXIT_NO_EXT, %al
	jmp	fail

read_status_bad:
	mov	$s_read_bad, %si
	call	puts
	mov	%ah, %al
	mov	$s_status, %si
	call	put_kv8
	call	newline
	mov	$EXIT_READ, %al
	jmp	fail

read_data_bad:
	mov	$s_read_bad, %si
	call	puts
	mov	$s_no_pvd, %si
	call	puts
	mov	$EXIT_READ, %al
	jmp	fail

#include "io16.inc"

/* "\n" first: the BIOS's serial console may leave a line open (disk.S). */
s_banner:	.asciz	"\nJBT cdrom boot dl=0x"
s_ext:		.asciz	"JBT ext version=0x"
s_support:	.asciz	" support=0x"
s_bps:		.asciz	"JBT cdrom sector-size=0x"
s_no_ext:	.asciz	"JBT no int13 extensions\n"
s_read_ok:	.asciz	"JBT cdrom read ok\n"
s_read_bad:	.asciz	"JBT cdrom read bad"
s_status:	.asciz	" status=0x"
s_no_pvd:	.asciz	" no primary volume descriptor\n"

	.balign	4
dap:		.byte	16, 0
		.word	1			/* one 2048-byte sector */
		.word	0, BUF_SEG
		.quad	PVD_LBA
params:		.word	0			/* buffer size in, size used out */
		.word	0			/* information flags */
		.long	0, 0, 0			/* cylinders, heads, sectors/track */
		.quad	0			/* total sectors */
params_bps:	.word	0			/* bytes per sector */
PARAMS_LEN = . - params
drive:		.byte	0
