/*
 * BIOS boot disk for firmware-boot tests (bootdisk.img, bootdisk2.img).
 *
 * A legacy BIOS reads LBA 0 (the master boot record) to 0000:7C00, checks
 * the 0x55 0xAA signature at offset 510 and jumps there with DL = the BIOS
 * drive number (0x80 for the first hard disk).  Offsets 446-509 hold four
 * 16-byte partition entries (status, start CHS, type, end CHS, start LBA,
 * sector count).
 *
 * The program exercises the BIOS disk services of INT 13h:
 *   AH=41h  extensions present? (BX=55AAh in, BX=AA55h out, CX bit 0 =
 *           packet access, AH = version)
 *   AH=42h  extended read, DS:SI -> disk address packet (DAP):
 *           size 16, 0, count (word), buffer offset:segment, 64-bit LBA
 *   AH=43h  extended write, same packet, AL = 0 (no verify)
 *   AH=08h  geometry: CH = max cylinder low 8 bits, CL[7:6] = its bits
 *           9:8, CL[5:0] = sectors per track, DH = max head
 *   AH=02h  CHS read: AL = count, CH/CL/DH as above (sectors from 1),
 *           ES:BX = buffer
 * CF set on return means failure with the status in AH.
 *
 * Disk layout (512-byte sectors; the image is 2048 sectors, 1 MiB):
 *   LBA 0        this boot sector and the partition table
 *   LBA 1-3      stage 2 (loaded by the boot sector to 0000:7E00)
 *   LBA 5        write target: zero at build time; each boot writes
 *                "JBT-WRITTEN", a counter byte (previous value + 1) and
 *                the disk letter ('A' or 'B') repeated to the end
 *   LBA 8-71     pattern: the 16-bit word i (0..255) of sector L is
 *                L * 256 + i
 *   LBA 1008-2015  partition 1 (type 0xDA, empty), on cylinder boundaries
 *                of a 16-head, 63-sector geometry so that geometry guesses
 *                from the partition table give 16/63
 *
 * Built with -DSECOND_DISK the banner names the disk ("disk=B") and the
 * written sector is filled with 'B', so a test can tell which disk booted.
 * Output lines and exit codes are described in README.md.
 */

/*
 * The banner starts with "\n": a BIOS that mirrors its screen on COM1
 * (SeaBIOS's serial console) leaves "Booting from Hard Disk..." open.
 */
#ifdef SECOND_DISK
#define DISK_LETTER	'B'
#define BANNER		"\nJBT boot sector disk=B dl=0x"
#else
#define DISK_LETTER	'A'
#define BANNER		"\nJBT boot sector dl=0x"
#endif

#define STAGE2_LBA	1
#define STAGE2_SECTORS	3
#define STAGE2_MAGIC	0x324a424a	/* "JBJ2", first word of stage 2 */
#define WRITE_LBA	5
#define PATTERN_LBA	8
#define PATTERN_SECTORS	64
#define CHS_LBA		70		/* read with AH=02h: 70 and 71 */
#define PART_LBA	1008
#define PART_SECTORS	1008

#define BUF_LBA_SEG	0x1000		/* 32 KiB of extended reads */
#define BUF_CHS_SEG	0x2000		/* 1 KiB of CHS reads */
#define BUF_WR_SEG	0x3000		/* sector to write */
#define BUF_RB_SEG	0x3020		/* read back (0x200 bytes later) */

#define EXIT_NO_EXT	4
#define EXIT_READ	2
#define EXIT_WRITE	3
#define EXIT_STAGE2	5

#include "bootstart.inc"

	boot_start_and_check_extensions

	/* Stage 2 with an extended read. */
	mov	$0x42, %ah
	mov	$STAGE2_SECTORS, %cx
	mov	$STAGE2_LBA, %bx
	mov	$0x07e0, %dx
	call	disk_ext
	jc	stage2_bad
	cmpl	$STAGE2_MAGIC, stage2
	jne	stage2_bad
	jmp	stage2_main

no_ext:
	mov	$s_no_ext, %si
	call	puts
	mov	$EXIT_NO_EXT, %al
	jmp	fail

stage2_bad:
	mov	$s_stage2_bad, %si
	call	puts
	mov	$EXIT_STAGE2, %al
	jmp	fail

/*
 * disk_ext: extended read (AH=42h) or write (AH=43h) of CX sectors from
 * LBA BX to DX:0000 on the boot drive.  Returns the BIOS CF and AH; other
 * registers as the BIOS leaves them.
 */
disk_ext:
	mov	%cx, dap_count
	mov	%dx, dap_seg
	mov	%bx, dap_lba
	mov	$dap, %si
	mov	drive, %dl
	xor	%al, %al
	int	$0x13
	ret

#include "io16.inc"

s_banner:	.asciz	BANNER
s_ext:		.asciz	"JBT ext version=0x"
s_support:	.asciz	" support=0x"
s_no_ext:	.asciz	"JBT no int13 extensions\n"
s_stage2_bad:	.asciz	"JBT stage2 load bad\n"

	.balign	4
dap:		.byte	16, 0
dap_count:	.word	0
dap_off:	.word	0
dap_seg:	.word	0
dap_lba:	.quad	0
drive:		.byte	0

	/* Partition table: one active entry, CHS for 16 heads x 63 sectors. */
	.org	446
	.byte	0x80			/* active */
	.byte	0, 1, 1			/* start: head 0, sector 1, cylinder 1 */
	.byte	0xda			/* non-filesystem data */
	.byte	15, 63, 1		/* end: head 15, sector 63, cylinder 1 */
	.long	PART_LBA
	.long	PART_SECTORS
	.org	510
	.byte	0x55, 0xaa

/* ---- stage 2: LBA 1-3, at 0000:7E00 ---- */
#include "stage2.inc"

	.org	512 * (STAGE2_LBA + STAGE2_SECTORS), 0
	.fill	512 * (PATTERN_LBA - STAGE2_LBA - STAGE2_SECTORS), 1, 0

/* ---- pattern sectors ---- */
	.set	lba, PATTERN_LBA
	.rept	PATTERN_SECTORS
	.set	i, 0
	.rept	256
	.word	lba * 256 + i
	.set	i, i + 1
	.endr
	.set	lba, lba + 1
	.endr
