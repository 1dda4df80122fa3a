#include "common.h"

static uint64_t dma_next = DMA_BASE;

void *dma_alloc(uint64_t size, uint64_t align)
{
	uint64_t a = (dma_next + align - 1) & ~(align - 1);

	if (a + size > DMA_LIMIT) {
		printf("JBT dma-exhausted\n");
		debug_exit(0x7b, 4);
		halt_forever();
	}
	dma_next = a + size;
	memset((void *)a, 0, size);
	return (void *)a;
}

static unsigned rtc_sec(void)
{
	outb(0x70, 0x00);
	return inb(0x71);
}

void timer_start(struct rtc_timer *t, unsigned seconds)
{
	t->last = rtc_sec();
	t->left = seconds;
}

int timer_expired(struct rtc_timer *t)
{
	unsigned s = rtc_sec();

	if (s != t->last) {
		t->last = s;
		if (t->left)
			t->left--;
	}
	return t->left == 0;
}

void spin(unsigned long n)
{
	while (n--)
		cpu_relax();
}

void hex_bytes(char *out, const void *p, unsigned n)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = p;

	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void text_field(char *out, const void *p, unsigned n)
{
	const uint8_t *b = p;
	unsigned len = n;

	while (len && (b[len - 1] == ' ' || b[len - 1] == 0))
		len--;
	for (unsigned i = 0; i < len; i++)
		out[i] = (b[i] > ' ' && b[i] < 0x7f) ? (char)b[i] : '_';
	if (!len)
		out[len++] = '-';
	out[len] = '\0';
}

void guest_exit(uint32_t value)
{
	printf("JBT exit %u\n", value);
	debug_exit(value, 4);
	halt_forever();
}

void pci_enable(unsigned bus, unsigned dev, unsigned fn)
{
	uint32_t cmd = pci_read32(bus, dev, fn, 0x04);

	pci_write32(bus, dev, fn, 0x04, (cmd & 0xffff) | 0x7);
}

uint64_t pci_bar(unsigned bus, unsigned dev, unsigned fn, unsigned n,
		 int *is_io)
{
	uint32_t lo = pci_read32(bus, dev, fn, 0x10 + 4 * n);

	*is_io = lo & 1;
	if (lo & 1)
		return lo & ~3u;
	if (((lo >> 1) & 3) == 2 && n < 5)	/* 64-bit memory BAR */
		return (lo & ~0xfu) |
		       (uint64_t)pci_read32(bus, dev, fn, 0x14 + 4 * n) << 32;
	return lo & ~0xfu;
}

void report_cpuid_topology(void)
{
	printf("JBT cpus %u\n", cpuid_logical_count());
	if (cpuid_max_leaf() < 0xb)
		return;
	for (unsigned sub = 0; sub < 4; sub++) {
		struct cpuid_regs r = cpuid(0xb, sub);
		unsigned type = (r.ecx >> 8) & 0xff;

		if (type == 0)
			break;
		printf("JBT topo %u %u %u %u\n", r.ecx & 0xff, type,
		       r.eax & 0x1f, r.edx);
	}
}
