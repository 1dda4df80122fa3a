/*
 * PVH entry note: tells the VMM (QEMU, bhyve, Firecracker, ...) that this
 * ELF can be entered in 32-bit protected mode at pvh_entry with EBX pointing
 * at a struct hvm_start_info.  Name "Xen", type 18 = XEN_ELFNOTE_PHYS32_ENTRY.
 */
	.section .note.Xen, "a", @note
	.align	4
	.long	4			/* name size, including the NUL */
	.long	4			/* descriptor size */
	.long	18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.long	pvh_entry
	.align	4
