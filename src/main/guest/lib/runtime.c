/*
 * Runtime start-up in 64-bit mode: descriptor tables, exception handling,
 * mapping RAM above 4 GiB, collecting boot information.
 *
 * boot.S has already loaded our GDT, switched to our page tables (identity
 * map of the first 4 GiB with 2 MiB pages), set up a stack and zeroed .bss.
 */
#include "guest.h"

/* Filled in by boot.S before the switch to long mode. */
extern uint32_t boot_proto;
extern uint64_t boot_ptr;

extern uint64_t gdt[];			/* boot.S */
extern uint64_t pdpt[512];		/* boot.S: level-3 page table */
extern uint8_t pt_pool[];		/* boot.S: spare page-table pages */
extern uint8_t trap_stack_top[];	/* boot.S: ring-0 stack for traps */
extern uint8_t isr_stubs[];		/* traps.S: 32 stubs, 16 bytes each */
extern uint8_t user_return_gate[];	/* traps.S: INT 0x80 handler */
extern uint8_t user_exit_point[];	/* traps.S: UD2 after fn returns */
void __attribute__((noreturn)) resume_kernel(long result);	/* traps.S */

#define KERNEL_CS 0x08
#define TSS_SEL 0x28
#define PT_POOL_PAGES 60
#define MAX_PHYS (64ULL << 30)
#define PAGE_2M_FLAGS 0x87		/* present, writable, user, 2 MiB */
#define TABLE_FLAGS 0x07		/* present, writable, user */

/* 64-bit task state segment: only RSP0 (stack for ring 3 -> 0) is used. */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

/* 16-byte interrupt gate descriptor. */
struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;		/* P | DPL | 0xE (interrupt gate) */
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

/* The TSS, followed by an I/O permission bitmap allowing every port. */
static struct {
	struct tss tss;
	uint8_t iomap[8192 + 1];	/* one bit per port, 0 = allowed */
} __attribute__((packed)) tss_io;
#define tss tss_io.tss
static struct idt_gate idt[256];
static struct boot_info boot_info;

/* Registers as saved by traps.S (lowest address first). */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;	/* pushed by the CPU */
};

void trap_handler(struct trap_frame *f);

void trap_handler(struct trap_frame *f)
{
	if ((f->cs & 3) == 3 && f->rip == (uint64_t)user_exit_point)
		resume_kernel((long)f->rdi);	/* ring-3 function returned */
	printf("JBT exception %lu err %lx rip %lx cs %lx rflags %lx rsp %lx cr2 %lx\n",
	       f->vector, f->error, f->rip, f->cs, f->rflags, f->rsp,
	       read_cr2());
	debug_exit(0x7e, 4);
	halt_forever();
}

static void set_gate(unsigned vec, void *handler, unsigned dpl)
{
	uint64_t a = (uint64_t)handler;
	struct idt_gate *g = &idt[vec];

	g->offset_low = (uint16_t)a;
	g->selector = KERNEL_CS;
	g->ist = 0;
	g->type_attr = (uint8_t)(0x8e | dpl << 5);
	g->offset_mid = (uint16_t)(a >> 16);
	g->offset_high = (uint32_t)(a >> 32);
	g->reserved = 0;
}

static void tables_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint64_t)idt };
	uint64_t base = (uint64_t)&tss_io, limit = sizeof(tss_io) - 1;

	/* TSS descriptor (16 bytes): type 9 = available 64-bit TSS, present. */
	tss.rsp[0] = (uint64_t)trap_stack_top;
	tss.iomap_base = sizeof(tss);	/* bitmap follows the TSS */
	tss_io.iomap[8192] = 0xff;	/* the bitmap must end with all-ones */
	gdt[TSS_SEL / 8] = (limit & 0xffff) | (base & 0xffffff) << 16 |
			   0x89ULL << 40 | (limit >> 16 & 0xf) << 48 |
			   (base >> 24 & 0xff) << 56;
	gdt[TSS_SEL / 8 + 1] = base >> 32;
	__asm__ volatile("ltr %w0" : : "r"(TSS_SEL));

	for (unsigned v = 0; v < 32; v++)
		set_gate(v, isr_stubs + 16 * v, 0);
	set_gate(0x80, user_return_gate, 3);
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

static void add_mem(struct boot_info *bi, uint64_t addr, uint64_t size,
		    uint32_t type)
{
	if (bi->mem_count < BOOT_MAX_MEM) {
		struct mem_range *m = &bi->mem[bi->mem_count++];
		m->addr = addr;
		m->size = size;
		m->type = type;
	}
}

static void parse_pvh(struct boot_info *bi, const struct hvm_start_info *si)
{
	bi->protocol_name = "pvh";
	if (si->magic != HVM_START_MAGIC)
		return;
	if (si->cmdline_paddr)
		bi->cmdline = (const char *)si->cmdline_paddr;
	bi->rsdp = si->rsdp_paddr;
	if (si->nr_modules && si->modlist_paddr) {
		const struct hvm_modlist_entry *mod =
			(const void *)si->modlist_paddr;
		bi->initrd_addr = mod->paddr;
		bi->initrd_size = mod->size;
	}
	if (si->version >= 1 && si->memmap_paddr) {
		const struct hvm_memmap_entry *e =
			(const void *)si->memmap_paddr;
		for (uint32_t i = 0; i < si->memmap_entries; i++)
			add_mem(bi, e[i].addr, e[i].size, e[i].type);
	}
}

static uint32_t bp32(const uint8_t *bp, unsigned off)
{
	return *(const uint32_t *)(bp + off);
}

static void parse_linux(struct boot_info *bi, const uint8_t *bp)
{
	uint64_t cmd = bp32(bp, BP_HDR_CMD_LINE_PTR) |
		       (uint64_t)bp32(bp, BP_EXT_CMD_LINE_PTR) << 32;
	unsigned n = bp[BP_E820_ENTRIES];

	bi->protocol_name =
		bi->protocol == BOOT_LINUX32 ? "linux32" : "linux64";
	if (cmd)
		bi->cmdline = (const char *)cmd;
	bi->rsdp = *(const uint64_t *)(bp + BP_ACPI_RSDP_ADDR);
	bi->initrd_addr = bp32(bp, BP_HDR_RAMDISK_IMAGE) |
			  (uint64_t)bp32(bp, BP_EXT_RAMDISK_IMAGE) << 32;
	bi->initrd_size = bp32(bp, BP_HDR_RAMDISK_SIZE) |
			  (uint64_t)bp32(bp, BP_EXT_RAMDISK_SIZE) << 32;
	if (!bi->initrd_size)
		bi->initrd_addr = 0;
	if (n > BP_E820_MAX)
		n = BP_E820_MAX;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		add_mem(bi, *(const uint64_t *)e, *(const uint64_t *)(e + 8),
			*(const uint32_t *)(e + 16));
	}
}

/*
 * The boot page tables map 0-4 GiB.  Map RAM above that (up to 64 GiB),
 * one 2 MiB-page directory per GiB, taken from the static pool.
 */
static void map_high_memory(const struct boot_info *bi)
{
	uint64_t top = 0;

	for (uint32_t i = 0; i < bi->mem_count; i++) {
		uint64_t end = bi->mem[i].addr + bi->mem[i].size;
		if (bi->mem[i].type == MEM_RAM && end > top)
			top = end;
	}
	if (top > MAX_PHYS)
		top = MAX_PHYS;

	for (unsigned gib = 4; ((uint64_t)gib << 30) < top; gib++) {
		uint64_t *pd = (uint64_t *)(pt_pool + 4096 * (gib - 4));
		uint64_t addr = (uint64_t)gib << 30;

		for (unsigned j = 0; j < 512; j++)
			pd[j] = (addr + ((uint64_t)j << 21)) | PAGE_2M_FLAGS;
		pdpt[gib] = (uint64_t)pd | TABLE_FLAGS;
	}
	/* Flush the TLB and paging-structure caches. */
	__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
}

void runtime_start(void);

void runtime_start(void)
{
	struct boot_info *bi = &boot_info;

	serial_init();
	tables_init();
	/*
	 * Mask both 8259 interrupt controllers: a BIOS may have left the
	 * timer enabled, and some hypervisors run ring 3 with interrupts on.
	 */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);

	bi->protocol = (enum boot_protocol)boot_proto;
	bi->cmdline = "";
	bi->boot_data = boot_ptr;
	if (bi->protocol == BOOT_PVH)
		parse_pvh(bi, (const struct hvm_start_info *)boot_ptr);
	else
		parse_linux(bi, (const uint8_t *)boot_ptr);

	map_high_memory(bi);
	guest_main(bi);
	poweroff();
}
