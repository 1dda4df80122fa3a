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

/* ---- disk and network card ---------------------------------------------- */

/*
 * Both read what a driver would read first, without driving the device:
 * a transitional virtio function's legacy I/O BAR0 has its device config at
 * offset 0x14 (while MSI-X is off): virtio-blk's capacity in 512-byte
 * sectors (u64), virtio-net's MAC (6 bytes) then status (u16, bit 0 link up).
 * An e1000's MMIO BAR0 has STATUS at 0x8 (bit 1 link up) and the first
 * receive address at RAL 0x5400 / RAH 0x5404.
 */
#define VIRTIO_LEGACY_CONFIG 0x14
#define E1000_STATUS 0x8
#define E1000_RAL 0x5400
#define E1000_RAH 0x5404

struct found {
	struct pci_func f;
	int present;
	uint16_t vendor;
	uint16_t devices[2];
};

static void find_first(const struct pci_func *f, void *ctx)
{
	struct found *want = ctx;

	if (!want->present && f->vendor == want->vendor &&
	    (f->device == want->devices[0] || f->device == want->devices[1])) {
		want->f = *f;
		want->present = 1;
	}
}

static uint16_t io_bar0(const struct pci_func *f)
{
	return (uint16_t)(pci_read32(f->bus, f->dev, f->fn, 0x10) & ~0x3u);
}

static void section_disk(const struct boot_info *bi)
{
	struct found blk = { .vendor = 0x1af4, .devices = { 0x1001, 0x1001 } };
	char size[32];

	(void)bi;
	pci_scan_bus(0, find_first, &blk);
	label("disk");
	if (!blk.present) {
		printf("none\n");
		return;
	}
	uint16_t io = io_bar0(&blk.f);
	uint64_t sectors = inl(io + VIRTIO_LEGACY_CONFIG) |
			   (uint64_t)inl(io + VIRTIO_LEGACY_CONFIG + 4) << 32;
	format_size(size, sizeof(size), sectors * 512);
	printf("virtio-blk at %02x:%02x.%x, %s (%lu sectors)\n", blk.f.bus,
	       blk.f.dev, blk.f.fn, size, (unsigned long)sectors);
}

static void section_network(const struct boot_info *bi)
{
	struct found vnet = { .vendor = 0x1af4, .devices = { 0x1000, 0x1000 } };
	struct found e1000 = { .vendor = 0x8086, .devices = { 0x100f, 0x100e } };
	uint8_t mac[6];
	int link;

	(void)bi;
	pci_scan_bus(0, find_first, &vnet);
	pci_scan_bus(0, find_first, &e1000);
	label("network");
	if (vnet.present) {
		uint16_t io = io_bar0(&vnet.f);
		for (int i = 0; i < 6; i++)
			mac[i] = inb(io + VIRTIO_LEGACY_CONFIG + i);
		link = inw(io + VIRTIO_LEGACY_CONFIG + 6) & 1;
		printf("virtio-net at %02x:%02x.%x", vnet.f.bus, vnet.f.dev, vnet.f.fn);
	} else if (e1000.present) {
		uint64_t mmio = pci_read32(e1000.f.bus, e1000.f.dev, e1000.f.fn, 0x10) & ~0xfull;
		uint32_t ral = mmio_read32(mmio + E1000_RAL), rah = mmio_read32(mmio + E1000_RAH);
		for (int i = 0; i < 4; i++)
			mac[i] = (uint8_t)(ral >> (8 * i));
		mac[4] = (uint8_t)rah;
		mac[5] = (uint8_t)(rah >> 8);
		link = (mmio_read32(mmio + E1000_STATUS) >> 1) & 1;
		printf("e1000 at %02x:%02x.%x", e1000.f.bus, e1000.f.dev, e1000.f.fn);
	} else {
		printf("none\n");
		return;
	}
	printf(", mac %02x:%02x:%02x:%02x:%02x:%02x, link %s\n", mac[0], mac[1],
	       mac[2], mac[3], mac[4], mac[5], link ? "up" : "down");
}

/* ---- report ------------------------------------------------------------- */

static void (*const sections[])(const struct boot_info *) = {
	section_boot,
	section_memory,
	section_cpus,
	section_clock,
	section_pci,
	section_disk,
	section_network,
};

void guest_main(const struct boot_info *bi)
{
	printf("\n  jbhyve demo guest\n  -----------------\n");
	for (unsigned i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		sections[i](bi);
	printf("  powering off\n");
	acpi_poweroff(bi);	/* S5 through the FADT when the VM has ACPI (-A) */
	debug_exit(0, 4);	/* else pc-testdev: the VMM exits with status 1 */
	halt_forever();
}
