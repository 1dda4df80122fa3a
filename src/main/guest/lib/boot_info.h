/*
 * What the runtime learned at boot, handed to guest_main().
 *
 * Three boot protocols are understood:
 *  - PVH: 32-bit entry named by the ELF note "Xen"/18, EBX = struct
 *    hvm_start_info (command line, module list, memory map, RSDP).
 *  - Linux 32-bit: entry at code32_start, ESI = struct boot_params
 *    (the "zero page" with the e820 table and the setup header).
 *  - Linux 64-bit: entry at startup_64 (code32_start + 0x200) or at the ELF
 *    entry of a vmlinux, already in long mode, RSI = struct boot_params.
 */
#ifndef GUEST_BOOT_INFO_H
#define GUEST_BOOT_INFO_H

#include <stdint.h>

enum boot_protocol {
	BOOT_PVH = 1,
	BOOT_LINUX32 = 2,
	BOOT_LINUX64 = 3,
};

/* e820 memory types */
#define MEM_RAM 1
#define MEM_RESERVED 2
#define MEM_ACPI 3
#define MEM_NVS 4
#define MEM_UNUSABLE 5

#define BOOT_MAX_MEM 64

struct mem_range {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct boot_info {
	enum boot_protocol protocol;
	const char *protocol_name;	/* "pvh", "linux32", "linux64" */
	const char *cmdline;		/* never NULL; "" when none was given */
	uint64_t rsdp;			/* ACPI RSDP address, 0 if unknown */
	uint64_t initrd_addr;		/* first module / ramdisk, 0 if none */
	uint64_t initrd_size;
	uint64_t boot_data;		/* hvm_start_info or boot_params */
	uint32_t mem_count;
	struct mem_range mem[BOOT_MAX_MEM];
};

/* PVH start info (xen/include/public/arch-x86/hvm/start_info.h) */
#define HVM_START_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* Offsets into the Linux struct boot_params ("zero page"). */
#define BP_ACPI_RSDP_ADDR 0x070		/* u64 */
#define BP_EXT_RAMDISK_IMAGE 0x0c0	/* u32, high half of the address */
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8		/* u8 */
#define BP_HDR_RAMDISK_IMAGE 0x218	/* u32 */
#define BP_HDR_RAMDISK_SIZE 0x21c
#define BP_HDR_CMD_LINE_PTR 0x228
#define BP_E820_TABLE 0x2d0		/* {u64 addr, u64 size, u32 type} */
#define BP_E820_MAX 128

#endif
