/*
 * Multiboot (version 1) test kernel: reports what the loader handed over.
 *
 * The Multiboot information structure (spec 0.6.96, section 3.3) is a list
 * of u32 fields whose groups are valid when their bit in `flags` is set:
 * bit 0 mem_lower (4) / mem_upper (8) in KiB, bit 2 cmdline (16), bit 3
 * mods_count (20) / mods_addr (24) with {start, end, string, reserved}
 * entries, bit 6 mmap_length (44) / mmap_addr (48) with entries
 * {u32 size, u64 base, u64 length, u32 type} each followed by the next at
 * +size+4, bit 9 boot_loader_name (64).
 *
 * Output on COM1 (port I/O only, no interrupts), numbers lowercase hex
 * without 0x unless noted decimal; "-" for a field whose flag is clear:
 *
 *   JBT multiboot magic=<eax> flags=<flags> mem_lower=<dec> mem_upper=<dec>
 *       cmdline="<text>" mods=<dec> mmap=<entries, dec> loader="<text>"
 *   JBT mb-cpu pe=<CR0.PE> pg=<CR0.PG> if=<EFLAGS.IF at entry>
 *   JBT mb-image start=<first byte> end=<end of bss>
 *   JBT mb-mod <i> start=<hex> end=<hex> string="<text>" data="<first 16 bytes>"
 *   JBT mb-mmap <base> <length> <type dec> size=<dec>
 *   JBT mb-fwcfg sig="<4 bytes of item 0>" cpus=<item 5, dec> ram=<item 3, hex>
 *   JBT exit <N dec>
 *
 * (the first line is one line).  Strings show `"` and `\` escaped and
 * non-printable bytes as `.`.  Then the kernel writes N (from the
 * command-line word exit=N, decimal, default 0) to port 0xF4: QEMU's
 * isa-debug-exit and bhyve's pc-testdev exit with (N << 1) | 1.  With a
 * wrong magic only the first line is printed and N is 0x7e.
 *
 * fw_cfg is read as kvm-unit-tests' lib/x86/fwcfg.c reads it: a 16-bit OUT of the item
 * number to port 0x510, then byte INs from 0x511, little-endian.
 */
#include <stdint.h>

#define MB_INFO_MAGIC 0x2BADB002u

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
};

struct mb_module {
	uint32_t start, end, string, reserved;
};

struct mb_mmap {
	uint32_t size;
	uint64_t base, length;
	uint32_t type;
} __attribute__((packed));

extern char __load_start[], __bss_end[];

void mb_main(uint32_t magic, struct mb_info *info, uint32_t eflags, uint32_t cr0);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void putc(char c)
{
	while (!(inb(0x3FD) & 0x20))	/* LSR: transmit holding register empty */
		;
	outb(0x3F8, c);
}

static void puts(const char *s)
{
	while (*s)
		putc(*s++);
}

static void put_hex(uint64_t v)
{
	char buf[17];
	int i = 16;
	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	puts(buf + i);
}

static void put_dec(uint32_t v)
{
	char buf[11];
	int i = 10;
	buf[i] = 0;
	do {
		buf[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	puts(buf + i);
}

/* A quoted string of at most max bytes (stops at NUL when stop_at_nul). */
static void put_quoted(const char *s, uint32_t max, int stop_at_nul)
{
	putc('"');
	for (uint32_t i = 0; i < max && (!stop_at_nul || s[i]); i++) {
		char c = s[i];
		if (c == '"' || c == '\\')
			putc('\\');
		putc(c >= 0x20 && c < 0x7F ? c : '.');
	}
	putc('"');
}

/* The decimal value of the command-line word "exit=N", or 0. */
static uint32_t exit_value(const char *cmdline)
{
	const char *p = cmdline;
	while (p && *p) {
		while (*p == ' ')
			p++;
		if (p[0] == 'e' && p[1] == 'x' && p[2] == 'i' && p[3] == 't' && p[4] == '=') {
			uint32_t v = 0;
			for (p += 5; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (*p - '0');
			return v;
		}
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

static uint64_t fwcfg_read(uint16_t item, int bytes)
{
	uint64_t v = 0;

	outw(0x510, item);
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)inb(0x511) << (8 * i);
	return v;
}

static void report_fwcfg(void)
{
	char sig[5];

	outw(0x510, 0);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(0x511);
	sig[4] = 0;
	puts("JBT mb-fwcfg sig=");
	put_quoted(sig, 4, 1);
	puts(" cpus=");
	put_dec((uint32_t)fwcfg_read(5, 2));
	puts(" ram=");
	put_hex(fwcfg_read(3, 8));
	puts("\n");
}

static void __attribute__((noreturn)) finish(uint32_t value)
{
	puts("JBT exit ");
	put_dec(value);
	puts("\n");
	outl(0xF4, value);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void mb_main(uint32_t magic, struct mb_info *info, uint32_t eflags, uint32_t cr0)
{
	uint32_t f = info->flags;
	uint32_t entries = 0;

	if (f & (1 << 6))
		for (uint32_t at = 0; at < info->mmap_length; entries++)
			at += ((struct mb_mmap *)(info->mmap_addr + at))->size + 4;
	puts("JBT multiboot magic=");
	put_hex(magic);
	if (magic != MB_INFO_MAGIC) {
		puts(" bad\n");
		finish(0x7e);
	}
	puts(" flags=");
	put_hex(f);
	puts(" mem_lower=");
	if (f & 1)
		put_dec(info->mem_lower);
	else
		puts("-");
	puts(" mem_upper=");
	if (f & 1)
		put_dec(info->mem_upper);
	else
		puts("-");
	puts(" cmdline=");
	if (f & (1 << 2))
		put_quoted((const char *)info->cmdline, 1024, 1);
	else
		puts("-");
	puts(" mods=");
	if (f & (1 << 3))
		put_dec(info->mods_count);
	else
		puts("-");
	puts(" mmap=");
	if (f & (1 << 6))
		put_dec(entries);
	else
		puts("-");
	puts(" loader=");
	if (f & (1 << 9))
		put_quoted((const char *)info->boot_loader_name, 64, 1);
	else
		puts("-");
	puts("\nJBT mb-cpu pe=");
	put_dec(cr0 & 1);
	puts(" pg=");
	put_dec(cr0 >> 31);
	puts(" if=");
	put_dec((eflags >> 9) & 1);
	puts("\nJBT mb-image start=");
	put_hex((uint32_t)__load_start);
	puts(" end=");
	put_hex((uint32_t)__bss_end);
	puts("\n");

	if (f & (1 << 3)) {
		struct mb_module *m = (struct mb_module *)info->mods_addr;
		for (uint32_t i = 0; i < info->mods_count && i < 8; i++) {
			uint32_t size = m[i].end - m[i].start;
			puts("JBT mb-mod ");
			put_dec(i);
			puts(" start=");
			put_hex(m[i].start);
			puts(" end=");
			put_hex(m[i].end);
			puts(" string=");
			put_quoted((const char *)m[i].string, 1024, 1);
			puts(" data=");
			put_quoted((const char *)m[i].start, size < 16 ? size : 16, 0);
			puts("\n");
		}
	}
	if (f & (1 << 6)) {
		for (uint32_t at = 0; at < info->mmap_length;) {
			struct mb_mmap *e = (struct mb_mmap *)(info->mmap_addr + at);
			puts("JBT mb-mmap ");
			put_hex(e->base);
			puts(" ");
			put_hex(e->length);
			puts(" ");
			put_dec(e->type);
			puts(" size=");
			put_dec(e->size);
			puts("\n");
			at += e->size + 4;
		}
	}
	report_fwcfg();
	finish(f & (1 << 2) ? exit_value((const char *)info->cmdline) : 0);
}
