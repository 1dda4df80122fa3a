/*
 * Probe guest: reports what it sees as machine-readable "JBT ..." lines on
 * COM1, then performs the action named by the command-line token action=.
 * The same program is built as probe.elf (PVH), bzimage.bin (Linux 32/64-bit
 * boot protocol) and vmlinux64.elf (Linux 64-bit entry, no PVH note).
 * See README.md for the line formats.
 */
#include "common.h"
#include "guest.h"

static void print_cmdline(const struct boot_info *bi)
{
	printf("JBT cmdline %s\n", bi->cmdline);
}

static void print_mem(const struct boot_info *bi)
{
	for (uint32_t i = 0; i < bi->mem_count; i++)
		printf("JBT mem %lx %lx %u\n", bi->mem[i].addr,
		       bi->mem[i].size, bi->mem[i].type);
}

static void print_initrd(const struct boot_info *bi)
{
	const uint8_t *p = (const uint8_t *)bi->initrd_addr;
	char text[9];
	unsigned n = bi->initrd_size < 8 ? (unsigned)bi->initrd_size : 8;

	if (!bi->initrd_addr) {
		printf("JBT initrd none\n");
		return;
	}
	for (unsigned i = 0; i < n; i++)
		text[i] = (p[i] > ' ' && p[i] < 0x7f) ? (char)p[i] : '.';
	text[n] = '\0';
	printf("JBT initrd %lx %lx %s\n", bi->initrd_addr, bi->initrd_size,
	       text);
}

static void print_pci_func(const struct pci_func *f, void *ctx)
{
	(void)ctx;
	printf("JBT pci %02x:%02x.%x %04x:%04x class %06x hdr %02x\n", f->bus,
	       f->dev, f->fn, f->vendor, f->device, f->class_code,
	       f->header_type);
}

static void print_pci(void)
{
	int n = pci_scan_bus(0, print_pci_func, 0);

	printf("JBT pci-done %d\n", n);
}

static void print_rtc(void)
{
	struct rtc_time t;

	if (rtc_read(&t) < 0) {
		printf("JBT rtc none\n");
		return;
	}
	printf("JBT rtc %04u-%02u-%02u %02u:%02u:%02u\n", t.year, t.month,
	       t.day, t.hour, t.minute, t.second);
}

/* ---- actions ---------------------------------------------------------- */

static void __attribute__((noreturn)) do_exit(uint32_t value, int width)
{
	printf("JBT exit %u\n", value);
	debug_exit(value, width);
	halt_forever();
}

static void do_reset(const char *how, void (*reset)(void))
{
	printf("JBT reset %s\n", how);
	reset();
	for (volatile unsigned i = 0; i < 100000; i++)
		;
	printf("JBT reset-failed\n");
	do_exit(0x7d, 4);
}

static void __attribute__((noreturn)) do_triple_fault(void)
{
	static const struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty_idt = { 0, 0 };

	printf("JBT triple\n");
	/*
	 * With an empty IDT the #UD cannot be delivered (#GP), nor can the #GP
	 * (#DF), nor the #DF: the CPU shuts down.  UD2 rather than INT3: some
	 * ring-0 emulators do not turn a software interrupt into a shutdown.
	 */
	__asm__ volatile("lidt %0; ud2" : : "m"(empty_idt));
	halt_forever();
}

static void __attribute__((noreturn)) do_spin(void)
{
	printf("JBT spinning\n");
	cli();
	for (;;)
		cpu_relax();
}

static void __attribute__((noreturn)) do_echo(void)
{
	printf("JBT echo-ready\n");
	for (;;) {
		int c = serial_getc_nonblock();

		if (c < 0)
			continue;
		serial_putc((char)c);
		if (c == 'q')
			do_exit(0, 4);
	}
}

static void __attribute__((noreturn)) do_ecam(void)
{
	uint32_t id = pci_ecam_read32(0, 0, 0, PCI_VENDOR_ID);
	uint32_t class = pci_ecam_read32(0, 0, 0, PCI_CLASS_REVISION) >> 8;

	printf("JBT ecam %04x:%04x class %06x\n", id & 0xffff, id >> 16,
	       class);
	do_exit(0, 4);
}

/* Runs in ring 3: port I/O works because run_user sets IOPL = 3. */
static long ring3_hello(void *arg)
{
	const char *s = arg;
	unsigned cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	if ((cs & 3) != 3)
		return -1;
	serial_puts(s);
	return 42;
}

static void __attribute__((noreturn)) do_ring3(void)
{
	long r = run_user(ring3_hello, "JBT ring3 ok\n");

	if (r != 42) {
		printf("JBT ring3 failed %ld\n", r);
		do_exit(0x7c, 4);
	}
	do_exit(0, 4);
}

static void __attribute__((noreturn)) do_poke(const char *arg)
{
	uint64_t addr = parse_uint(arg, 0, 16);

	printf("JBT poke %lx\n", addr);
	*(volatile uint8_t *)addr = 0x5a;
	printf("JBT poke-done\n");
	do_exit(0, 4);
}

/*
 * MSR access in ring 0 (RDMSR/WRMSR fault in ring 3).  An MSR the hypervisor
 * does not emulate either raises #GP (the exception handler then reports it
 * and exits 0x7E) or, with bhyve's -w, reads 0 and ignores writes.
 */
static void __attribute__((noreturn)) do_msr(const char *arg, int write)
{
	uint32_t index = (uint32_t)parse_uint(arg, 0, 16);
	uint32_t lo, hi;

	if (write) {
		__asm__ volatile("wrmsr" : : "c"(index), "a"(0x1234u), "d"(0u));
		printf("JBT wrmsr %x done\n", index);
	} else {
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index));
		printf("JBT rdmsr %x value %lx\n", index, (uint64_t)hi << 32 | lo);
	}
	do_exit(0, 4);
}

/* A byte read from an I/O port, e.g. one nobody emulates (bhyve -e stops the VM). */
static void __attribute__((noreturn)) do_inb(const char *arg)
{
	uint16_t port = (uint16_t)parse_uint(arg, 0, 16);

	printf("JBT inb %x value %x\n", port, inb(port));
	do_exit(0, 4);
}

/*
 * Self-test of the Linux 64-bit entry: build a boot_params ("zero page")
 * from what we were given, then jump to linux64_entry as a 64-bit loader
 * would (long mode, identity mapped, RSI = boot_params).  The probe starts
 * over and reports "JBT protocol linux64".
 */
#define REENTER_BP 0x7000UL
#define REENTER_CMDLINE 0x6000UL

static void __attribute__((noreturn)) do_reenter64(const struct boot_info *bi)
{
	extern char linux64_entry[];
	static const char cmdline[] = "jbt.reentered action=exit:6";
	uint8_t *bp = (uint8_t *)REENTER_BP;
	unsigned n = bi->mem_count < 128 ? bi->mem_count : 128;

	printf("JBT reenter64\n");
	memset(bp, 0, 4096);
	memcpy((void *)REENTER_CMDLINE, cmdline, sizeof(cmdline));
	*(uint32_t *)(bp + BP_HDR_CMD_LINE_PTR) = REENTER_CMDLINE;
	*(uint32_t *)(bp + BP_HDR_RAMDISK_IMAGE) = (uint32_t)bi->initrd_addr;
	*(uint32_t *)(bp + BP_HDR_RAMDISK_SIZE) = (uint32_t)bi->initrd_size;
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		*(uint64_t *)e = bi->mem[i].addr;
		*(uint64_t *)(e + 8) = bi->mem[i].size;
		*(uint32_t *)(e + 16) = bi->mem[i].type;
	}
	/* RSP = 0: the entry must not rely on the loader's stack. */
	__asm__ volatile("xorl %%esp, %%esp; jmp *%0"
			 : : "r"(linux64_entry), "S"(bp));
	__builtin_unreachable();
}

static void run_action(const struct boot_info *bi)
{
	char action[64];

	if (cmdline_get(bi, "action", action, sizeof(action)) < 0)
		strlcpy(action, "exit:0", sizeof(action));

	if (starts_with(action, "exit")) {
		const char *p = action + 4;
		uint32_t value = 0;
		int width = 4;

		if (*p == ':')
			value = (uint32_t)parse_uint(p + 1, &p, 0);
		if (*p == ':')
			width = (int)parse_uint(p + 1, 0, 10);
		if (width != 1 && width != 2)
			width = 4;
		do_exit(value, width);
	} else if (!strcmp(action, "reset-cf9")) {
		do_reset("cf9", reset_cf9);
	} else if (!strcmp(action, "reset-kbd")) {
		do_reset("kbd", reset_kbd);
	} else if (!strcmp(action, "triple")) {
		do_triple_fault();
	} else if (!strcmp(action, "halt")) {
		printf("JBT halting\n");
		halt_forever();
	} else if (!strcmp(action, "spin")) {
		do_spin();
	} else if (!strcmp(action, "echo")) {
		do_echo();
	} else if (!strcmp(action, "ecam")) {
		do_ecam();
	} else if (!strcmp(action, "ring3")) {
		do_ring3();
	} else if (!strcmp(action, "reenter64")) {
		do_reenter64(bi);
	} else if (starts_with(action, "poke:")) {
		do_poke(action + 5);
	} else if (starts_with(action, "rdmsr:")) {
		do_msr(action + 6, 0);
	} else if (starts_with(action, "wrmsr:")) {
		do_msr(action + 6, 1);
	} else if (starts_with(action, "inb:")) {
		do_inb(action + 4);
	}
	printf("JBT unknown-action %s\n", action);
	do_exit(0x7f, 4);
}

void guest_main(const struct boot_info *bi)
{
	printf("JBT hello\n");
	printf("JBT protocol %s\n", bi->protocol_name);
	print_cmdline(bi);
	print_mem(bi);
	print_initrd(bi);
	print_pci();
	report_cpuid_topology();
	print_rtc();
	run_action(bi);
}
