/*
 * jbhyve demo guest: prints a short report about the virtual machine it
 * finds itself in, then powers off.
 *
 * The report is a list of sections (see the table at the bottom); each
 * section is a function printing a labelled block.  To add one (say, for a
 * disk or a network card) write another section function and list it.
 */
#include "guest.h"

/* Prints the section label at the start of a line: "  memory      ". */
static void label(const char *name)
{
	printf("  %-12s", name);
}

/* Formats a size in the largest unit that keeps it readable. */
static void format_size(char *buf, size_t len, uint64_t size)
{
	if (size >= (1ULL << 30) && !(size & ((1ULL << 30) - 1)))
		snprintf(buf, len, "%lu GiB", size >> 30);
	else if (size >= (1ULL << 20))
		snprintf(buf, len, "%lu MiB", size >> 20);
	else if (size >= 1024)
		snprintf(buf, len, "%lu KiB", size >> 10);
	else
		snprintf(buf, len, "%lu B", size);
}

/* ---- boot --------------------------------------------------------------- */

static void section_boot(const struct boot_info *bi)
{
	static const char *const names[] = {
		[BOOT_PVH] = "PVH",
		[BOOT_LINUX32] = "Linux 32-bit",
		[BOOT_LINUX64] = "Linux 64-bit",
	};

	label("boot");
	printf("%s, command line \"%s\"\n", names[bi->protocol], bi->cmdline);
}

/* ---- memory ------------------------------------------------------------- */

static const char *mem_type_name(uint32_t type)
{
	switch (type) {
	case MEM_RAM:
		return "RAM";
	case MEM_RESERVED:
		return "reserved";
	case MEM_ACPI:
		return "ACPI tables";
	case MEM_NVS:
		return "ACPI NVS";
	case MEM_UNUSABLE:
		return "unusable";
	default:
		return "other";
	}
}

static void section_memory(const struct boot_info *bi)
{
	uint64_t ram = 0;

	for (uint32_t i = 0; i < bi->mem_count; i++)
		if (bi->mem[i].type == MEM_RAM)
			ram += bi->mem[i].size;

	label("memory");
	/* Round up to whole MiB: the firmware holes eat a few KiB. */
	printf("%lu MiB RAM (%u ranges)\n", (ram + (1 << 20) - 1) >> 20,
	       bi->mem_count);
	for (uint32_t i = 0; i < bi->mem_count; i++) {
		const struct mem_range *m = &bi->mem[i];
		char size[16];

		if (!m->size)
			continue;
		format_size(size, sizeof(size), m->size);
		printf("    %010lx-%010lx  %8s  %s\n", m->addr,
		       m->addr + m->size - 1, size, mem_type_name(m->type));
	}
}

/* ---- cpus --------------------------------------------------------------- */

static void section_cpus(const struct boot_info *bi)
{
	unsigned total = acpi_count_cpus(bi);
	unsigned threads = 0, per_package = 0;

	/* CPUID leaf 0xB: EBX[15:0] = logical processors at each level. */
	if (cpuid_max_leaf() >= 0xb) {
		for (unsigned sub = 0; sub < 4; sub++) {
			struct cpuid_regs r = cpuid(0xb, sub);
			unsigned type = (r.ecx >> 8) & 0xff;

			if (type == 0)
				break;
			if (type == 1)
				threads = r.ebx & 0xffff;
			else if (type == 2)
				per_package = r.ebx & 0xffff;
		}
	}
	if (!total)
		total = cpuid_logical_count() ? cpuid_logical_count() : 1;

	label("cpus");
	printf("%u", total);
	if (threads && per_package && per_package % threads == 0 &&
	    total % per_package == 0) {
		unsigned sockets = total / per_package;
		unsigned cores = per_package / threads;

		printf(" (%u socket%s x %u core%s x %u thread%s)",
		       sockets, sockets == 1 ? "" : "s",
		       cores, cores == 1 ? "" : "s",
		       threads, threads == 1 ? "" : "s");
	}
	printf("\n");
}

/* ---- clock -------------------------------------------------------------- */

static void section_clock(const struct boot_info *bi)
{
	struct rtc_time t;

	(void)bi;
	label("clock");
	if (rtc_read(&t) < 0) {
		printf("no RTC\n");
		return;
	}
	printf("%04u-%02u-%02u %02u:%02u:%02u (RTC)\n", t.year, t.month,
	       t.day, t.hour, t.minute, t.second);
}

/* ---- pci ---------------------------------------------------------------- */

static const struct {
	uint16_t vendor, device;
	const char *name;
} known_devices[] = {
	{ 0x1275, 0x1275, "bhyve hostbridge" },
	{ 0x1022, 0x7432, "AMD hostbridge" },
	{ 0x8086, 0x7000, "LPC" },
	{ 0x1af4, 0x1000, "virtio-net" },
	{ 0x1af4, 0x1041, "virtio-net" },
	{ 0x1af4, 0x1001, "virtio-blk" },
	{ 0x1af4, 0x1042, "virtio-blk" },
	{ 0x1af4, 0x1003, "virtio-console" },
	{ 0x1af4, 0x1043, "virtio-console" },
	{ 0x1af4, 0x1005, "virtio-rnd" },
	{ 0x1af4, 0x1044, "virtio-rnd" },
	{ 0x8086, 0x100e, "e1000" },
	{ 0x8086, 0x100f, "e1000" },
	{ 0x8086, 0x2922, "AHCI" },
};

static const char *device_name(const struct pci_func *f)
{
	for (unsigned i = 0; i < sizeof(known_devices) / sizeof(known_devices[0]); i++)
		if (known_devices[i].vendor == f->vendor &&
		    known_devices[i].device == f->device)
			return known_devices[i].name;
	if (f->class_code == 0x010802)
		return "NVMe";
	return 0;
}

/* Class names by class << 8 | subclass, then by class alone. */
static const char *class_name(uint32_t class_code)
{
	static const struct {
		uint16_t code;
		const char *name;
	} subclasses[] = {
		{ 0x0100, "SCSI storage" },	{ 0x0101, "IDE storage" },
		{ 0x0106, "SATA storage" },	{ 0x0108, "NVM storage" },
		{ 0x0200, "Ethernet" },		{ 0x0300, "VGA display" },
		{ 0x0600, "host bridge" },	{ 0x0601, "ISA bridge" },
		{ 0x0604, "PCI bridge" },	{ 0x0700, "serial port" },
		{ 0x0c03, "USB controller" },	{ 0x0c05, "SMBus" },
	}, classes[] = {
		{ 0x01, "storage" },		{ 0x02, "network" },
		{ 0x03, "display" },		{ 0x04, "multimedia" },
		{ 0x05, "memory" },		{ 0x06, "bridge" },
		{ 0x07, "communication" },	{ 0x08, "system" },
		{ 0x0c, "serial bus" },		{ 0xff, "other" },
	};
	unsigned sub = class_code >> 8, cls = class_code >> 16;

	for (unsigned i = 0; i < sizeof(subclasses) / sizeof(subclasses[0]); i++)
		if (subclasses[i].code == sub)
			return subclasses[i].name;
	for (unsigned i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (classes[i].code == cls)
			return classes[i].name;
	return "unknown class";
}

static void print_pci_device(const struct pci_func *f, void *ctx)
{
	const char *name = device_name(f);

	(void)ctx;
	printf("    %02x:%02x.%x  %04x:%04x  ", f->bus, f->dev, f->fn,
	       f->vendor, f->device);
	if (name)
		printf("%-15s (%s)\n", class_name(f->class_code), name);
	else
		printf("%s\n", class_name(f->class_code));
}

static void section_pci(const struct boot_info *bi)
{
	(void)bi;
	printf("  pci devices\n");
	if (pci_scan_bus(0, print_pci_device, 0) == 0)
		printf("    none\n");
}

/* ---- report ------------------------------------------------------------- */

static void (*const sections[])(const struct boot_info *) = {
	section_boot,
	section_memory,
	section_cpus,
	section_clock,
	section_pci,
};

void guest_main(const struct boot_info *bi)
{
	printf("\n  jbhyve demo guest\n  -----------------\n");
	for (unsigned i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		sections[i](bi);
	printf("  powering off\n");
	debug_exit(0, 4);	/* the VMM exits with status 1: power-off */
	halt_forever();
}
