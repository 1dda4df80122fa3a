/*
 * fbuf.elf: bhyve's framebuffer and the i8042 keyboard controller, seen
 * from the guest (PVH, like the other device guests).
 *
 * 1. Finds fbuf (PCI fb5d:40fb) on bus 0, reads its mode registers from
 *    BAR0 (u32 fbsize at +0, u16 width +4, height +6, depth +8) and paints
 *    two squares into BAR1 (32 bits per pixel, 0x00RRGGBB, rows of width
 *    pixels): red 0xff0000 at (100,100) and blue 0x0000ff at (500,300),
 *    both 200x200, on the black the device starts with.
 * 2. Self-tests the i8042, writes its command byte (interrupts off, mouse
 *    port off, translation to set 1 unless xlate=0), enables the keyboard
 *    (F4) and prints every byte the keyboard sends until keys=N bytes
 *    arrived (default 2: make and break of one key) or timeout=S seconds
 *    (default 60) passed.
 *
 * Output (JBT lines on COM1, hex without 0x, sizes decimal):
 *   JBT fbuf-guest
 *   JBT fbuf <bb:dd.f> bar0 <addr> bar1 <addr> fbsize <hex> mode <w>x<h>x<depth>
 *   JBT fbuf painted
 *   JBT kbd selftest <v> ctr <v> ack <v>
 *   JBT kbd ready
 *   JBT key <byte>                 one line per byte received
 *   JBT kbd done <n> | JBT kbd timeout <n>
 *   JBT exit 0
 * Failures: "JBT fbuf none" (exit 0x7c), "JBT fbuf bad-mode" (exit 0x7a).
 * Everything after the PCI scan runs in ring 3: the 80,000 pixel stores and
 * the polling loops then run natively on the nested KVM.
 *
 * Under QEMU (no fbuf there: "JBT fbuf none") the keyboard part can still
 * be tried with skipfb=1 and QEMU's monitor "sendkey a".
 */
#include "common.h"

#define FBUF_VENDOR 0xfb5d
#define FBUF_DEVICE 0x40fb
#define KBD_DATA 0x60
#define KBD_STATUS 0x64

struct fbuf_found {
	int found;
	struct pci_func f;
};

static struct fbuf_found fb;
static const struct boot_info *boot;
static uint64_t bar0, bar1;
static unsigned width, height, depth;

static void match_fbuf(const struct pci_func *f, void *ctx)
{
	struct fbuf_found *s = ctx;

	if (!s->found && f->vendor == FBUF_VENDOR && f->device == FBUF_DEVICE) {
		s->found = 1;
		s->f = *f;
	}
}

static void fill(unsigned x0, unsigned y0, unsigned w, unsigned h,
		 uint32_t rgb)
{
	volatile uint32_t *pixels = (volatile uint32_t *)bar1;

	for (unsigned y = y0; y < y0 + h && y < height; y++)
		for (unsigned x = x0; x < x0 + w && x < width; x++)
			pixels[y * width + x] = rgb;
}

/* Waits for the output buffer (bounded); returns the byte or -1. */
static int kbd_read_wait(unsigned long tries)
{
	while (tries--) {
		if (inb(KBD_STATUS) & 0x01)
			return inb(KBD_DATA);
		cpu_relax();
	}
	return -1;
}

static void kbd_command(uint8_t c)
{
	outb(KBD_STATUS, c);
}

static long user_main(void *arg)
{
	char v[16];
	unsigned keys = 2, timeout = 60, xlate = 1, got = 0;
	int selftest, ctr, ack;
	struct rtc_timer t;

	(void)arg;
	if (cmdline_get(boot, "keys", v, sizeof(v)) > 0)
		keys = (unsigned)parse_uint(v, 0, 0);
	if (cmdline_get(boot, "timeout", v, sizeof(v)) > 0)
		timeout = (unsigned)parse_uint(v, 0, 0);
	if (cmdline_get(boot, "xlate", v, sizeof(v)) > 0)
		xlate = v[0] != '0';

	if (!cmdline_has(boot, "skipfb")) {
		volatile uint32_t *regs = (volatile uint32_t *)bar0;
		uint32_t fbsize = regs[0];

		width = mmio_read16(bar0 + 4);
		height = mmio_read16(bar0 + 6);
		depth = mmio_read16(bar0 + 8);
		printf("JBT fbuf %02x:%02x.%x bar0 %lx bar1 %lx fbsize %x mode %ux%ux%u\n",
		       fb.f.bus, fb.f.dev, fb.f.fn, bar0, bar1, fbsize, width,
		       height, depth);
		if (depth != 32 || width == 0 || height == 0 ||
		    (uint64_t)width * height * 4 > fbsize) {
			printf("JBT fbuf bad-mode\n");
			guest_exit(0x7a);
		}
		fill(100, 100, 200, 200, 0x00ff0000);
		fill(500, 300, 200, 200, 0x000000ff);
		mb();
		printf("JBT fbuf painted\n");
	}

	while (inb(KBD_STATUS) & 0x01)	/* stale bytes */
		inb(KBD_DATA);
	kbd_command(0xaa);
	selftest = kbd_read_wait(1000000);
	kbd_command(0x60);	/* command byte: no IRQs, mouse port off */
	outb(KBD_DATA, xlate ? 0x64 : 0x24);
	kbd_command(0x20);
	ctr = kbd_read_wait(1000000);
	outb(KBD_DATA, 0xf4);	/* keyboard: enable scanning */
	ack = kbd_read_wait(1000000);
	printf("JBT kbd selftest %x ctr %x ack %x\n", selftest & 0xff,
	       ctr & 0xff, ack & 0xff);
	printf("JBT kbd ready\n");

	timer_start(&t, timeout);
	while (got < keys) {
		int b = kbd_read_wait(200000);

		if (b >= 0) {
			printf("JBT key %02x\n", b);
			got++;
		} else if (timer_expired(&t)) {
			printf("JBT kbd timeout %u\n", got);
			guest_exit(0);
		}
	}
	printf("JBT kbd done %u\n", got);
	guest_exit(0);
	return 0;
}

void guest_main(const struct boot_info *bi)
{
	int io;

	boot = bi;
	printf("JBT fbuf-guest\n");
	/* Both 8259s masked: the nested KVM runs ring 3 with IF set. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	if (!cmdline_has(bi, "skipfb")) {
		pci_scan_bus(0, match_fbuf, &fb);
		if (!fb.found) {
			printf("JBT fbuf none\n");
			guest_exit(0x7c);
		}
		pci_enable(fb.f.bus, fb.f.dev, fb.f.fn);
		bar0 = pci_bar(fb.f.bus, fb.f.dev, fb.f.fn, 0, &io);
		bar1 = pci_bar(fb.f.bus, fb.f.dev, fb.f.fn, 1, &io);
	}
	run_user(user_main, 0);
	guest_exit(0x7f);
}
