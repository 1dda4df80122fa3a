/*
 * ACPI / firmware-table guest: checks the tables a VMM builds for the
 * guest (RSDP, XSDT/RSDT and every table, MADT, FADT, \_S5 in the DSDT,
 * MCFG, SMBIOS, MP table) and drives the ACPI fixed hardware (power-off
 * through PM1a_CNT, the FADT reset register, the power button).
 * See README.md for the output lines and the action= values.
 *
 * The work runs in ring 3 (run_user), which is native speed on nested KVM.
 */
#include "common.h"

static uint8_t rd8(uint64_t a)
{
	return *(const volatile uint8_t *)phys_ptr(a);
}
static uint16_t rd16(uint64_t a)
{
	return *(const volatile uint16_t *)phys_ptr(a);
}
static uint32_t rd32(uint64_t a)
{
	return *(const volatile uint32_t *)phys_ptr(a);
}
static uint64_t rd64(uint64_t a)
{
	return *(const volatile uint64_t *)phys_ptr(a);
}

static uint8_t sum8(uint64_t a, uint64_t len)
{
	uint8_t s = 0;

	for (uint64_t i = 0; i < len; i++)
		s += rd8(a + i);
	return s;
}

static const char *ok(int good)
{
	return good ? "ok" : "bad";
}

/* ---- ACPI tables -------------------------------------------------------- */

#define MAX_TABLES 64

static struct {
	uint64_t rsdp, xsdt, rsdt, fadt, dsdt, facs, madt, mcfg;
	uint64_t tables[MAX_TABLES];
	unsigned ntables;
	/* from the FADT */
	uint32_t smi_cmd, pm1a_evt, pm1a_cnt, pm_tmr;
	uint8_t acpi_enable;
	uint16_t sci;
	uint32_t flags;
	int has_reset;
	uint8_t reset_space, reset_value;
	uint64_t reset_addr;
	/* from the DSDT */
	int s5_found;
	unsigned s5a, s5b;
} acpi;

static void table_line(uint64_t t, int has_csum)
{
	char sig[8], oem[8];
	uint32_t len = rd32(t + 4);

	text_field(sig, (const void *)t, 4);
	text_field(oem, (const void *)(t + 10), 6);
	printf("JBT table %s %lx %u rev %u oem %s csum %s\n", sig, t, len,
	       rd8(t + 8), oem, has_csum ? ok(sum8(t, len) == 0) : "-");
}

static void add_table(uint64_t t)
{
	for (unsigned i = 0; i < acpi.ntables; i++)
		if (acpi.tables[i] == t)
			return;
	if (acpi.ntables < MAX_TABLES)
		acpi.tables[acpi.ntables++] = t;
}

static void walk_sdt(uint64_t sdt, unsigned esize)
{
	uint32_t len = rd32(sdt + 4);

	for (uint64_t p = sdt + 36; p + esize <= sdt + len; p += esize) {
		uint64_t t = esize == 8 ? rd64(p) : rd32(p);
		if (t)
			add_table(t);
	}
}

static void parse_fadt(uint64_t f)
{
	uint32_t len = rd32(f + 4);

	acpi.facs = rd32(f + 36);
	acpi.dsdt = rd32(f + 40);
	acpi.sci = rd16(f + 46);
	acpi.smi_cmd = rd32(f + 48);
	acpi.acpi_enable = rd8(f + 52);
	acpi.pm1a_evt = rd32(f + 56);
	acpi.pm1a_cnt = rd32(f + 64);
	acpi.pm_tmr = rd32(f + 76);
	acpi.flags = len >= 116 ? rd32(f + 112) : 0;
	if (len >= 129) {
		acpi.has_reset = 1;
		acpi.reset_space = rd8(f + 116);
		acpi.reset_addr = rd64(f + 120);
		acpi.reset_value = rd8(f + 128);
	}
	if (len >= 140 && rd64(f + 132) && !acpi.facs)
		acpi.facs = rd64(f + 132);		/* X_FIRMWARE_CTRL */
	if (len >= 148 && rd64(f + 140))
		acpi.dsdt = rd64(f + 140);		/* X_DSDT */
	if (len >= 160 && !acpi.pm1a_evt)
		acpi.pm1a_evt = (uint32_t)rd64(f + 152);	/* X_PM1a_EVT_BLK */
	if (len >= 184 && !acpi.pm1a_cnt)
		acpi.pm1a_cnt = (uint32_t)rd64(f + 176);	/* X_PM1a_CNT_BLK */
	printf("JBT fadt pm1a_evt %x pm1a_cnt %x pm_tmr %x sci %u smi_cmd %x "
	       "acpi_enable %x reset ", acpi.pm1a_evt, acpi.pm1a_cnt,
	       acpi.pm_tmr, acpi.sci, acpi.smi_cmd, acpi.acpi_enable);
	if (acpi.has_reset)
		printf("%u:%lx:%x", acpi.reset_space, acpi.reset_addr,
		       acpi.reset_value);
	else
		printf("none");
	printf(" flags %x\n", acpi.flags);
}

static void parse_madt(uint64_t m)
{
	uint64_t end = m + rd32(m + 4);
	unsigned lapic = 0, x2apic = 0, ioapic = 0, iso = 0;

	for (uint64_t p = m + 44; p + 2 <= end; p += rd8(p + 1)) {
		uint8_t type = rd8(p), len = rd8(p + 1);

		if (len < 2)
			break;
		if (type == 0 && (rd32(p + 4) & 1))
			lapic++;
		else if (type == 1)
			ioapic++;
		else if (type == 2)
			iso++;
		else if (type == 9 && (rd32(p + 8) & 1))
			x2apic++;
	}
	printf("JBT madt lapic %u x2apic %u ioapic %u iso %u\n", lapic, x2apic,
	       ioapic, iso);
	for (uint64_t p = m + 44; p + 2 <= end; p += rd8(p + 1)) {
		uint8_t type = rd8(p), len = rd8(p + 1);

		if (len < 2)
			break;
		if (type == 0)
			printf("JBT madt-lapic %u %u%s\n", rd8(p + 2),
			       rd8(p + 3), rd32(p + 4) & 1 ? "" : " disabled");
		else if (type == 9)
			printf("JBT madt-x2apic %u %u%s\n", rd32(p + 12),
			       rd32(p + 4), rd32(p + 8) & 1 ? "" : " disabled");
		else if (type == 1)
			printf("JBT madt-ioapic %u %x gsi %u\n", rd8(p + 2),
			       rd32(p + 4), rd32(p + 8));
		else if (type == 2)
			printf("JBT madt-iso irq %u gsi %u flags %x\n",
			       rd8(p + 3), rd32(p + 4), rd16(p + 8));
	}
}

/* One AML integer of the \_S5 package: returns bytes consumed, 0 if none. */
static unsigned aml_int(uint64_t p, unsigned *v)
{
	switch (rd8(p)) {
	case 0x00: *v = 0; return 1;		/* ZeroOp */
	case 0x01: *v = 1; return 1;		/* OneOp */
	case 0x0a: *v = rd8(p + 1); return 2;	/* BytePrefix */
	case 0x0b: *v = rd16(p + 1); return 3;	/* WordPrefix */
	case 0x0c: *v = rd32(p + 1); return 5;	/* DWordPrefix */
	default: return 0;
	}
}

/*
 * Name(\_S5, Package(){a, b, ...}):
 *   08 [5C] '_S5_' 12 PkgLength NumElements a b ...
 * PkgLength: bits 7:6 of the first byte = number of following bytes.
 */
static void find_s5(uint64_t dsdt, uint32_t len)
{
	for (uint64_t p = dsdt + 36; p + 12 <= dsdt + len; p++) {
		uint64_t q;
		unsigned n;

		if (rd32(p) != 0x5f35535f)	/* "_S5_" */
			continue;
		if (!(rd8(p - 1) == 0x08 ||
		      (rd8(p - 1) == 0x5c && rd8(p - 2) == 0x08)))
			continue;
		q = p + 4;
		if (rd8(q) != 0x12)		/* PackageOp */
			continue;
		q += 1 + 1 + (rd8(q + 1) >> 6);	/* PkgLength */
		q++;				/* NumElements */
		if (!(n = aml_int(q, &acpi.s5a)))
			continue;
		if (!aml_int(q + n, &acpi.s5b))
			acpi.s5b = acpi.s5a;
		acpi.s5_found = 1;
		return;
	}
}

static void parse_dsdt(uint64_t d)
{
	uint32_t len = rd32(d + 4);
	int pci0 = 0;

	find_s5(d, len);
	if (acpi.s5_found)
		printf("JBT s5 %u %u\n", acpi.s5a, acpi.s5b);
	else
		printf("JBT s5 none\n");
	for (uint64_t p = d + 36; p + 4 <= d + len && !pci0; p++)
		pci0 = rd32(p) == 0x30494350;	/* "PCI0" */
	printf("JBT dsdt pci0 %s\n", pci0 ? "yes" : "no");
}

static void parse_mcfg(uint64_t m)
{
	uint64_t end = m + rd32(m + 4);

	for (uint64_t p = m + 44; p + 16 <= end; p += 16)
		printf("JBT mcfg %lx %u %u %u\n", rd64(p), rd16(p + 8),
		       rd8(p + 10), rd8(p + 11));
}

static void report_acpi(const struct boot_info *bi)
{
	uint64_t r = acpi_rsdp(bi);
	char oem[8];
	uint8_t rev;

	acpi.rsdp = r;
	if (!r) {
		printf("JBT rsdp none\n");
		return;
	}
	rev = rd8(r + 15);
	text_field(oem, (const void *)(r + 9), 6);
	printf("JBT rsdp %lx %s rev %u csum %s xcsum %s\n", r, oem, rev,
	       ok(sum8(r, 20) == 0),
	       rev >= 2 ? ok(sum8(r, rd32(r + 20)) == 0) : "-");
	acpi.rsdt = rd32(r + 16);
	acpi.xsdt = rev >= 2 ? rd64(r + 24) : 0;
	if (acpi.xsdt) {
		table_line(acpi.xsdt, 1);
		walk_sdt(acpi.xsdt, 8);
	}
	if (acpi.rsdt) {
		table_line(acpi.rsdt, 1);
		walk_sdt(acpi.rsdt, 4);
	}
	for (unsigned i = 0; i < acpi.ntables; i++) {
		uint64_t t = acpi.tables[i];

		table_line(t, 1);
		if (rd32(t) == 0x50434146)		/* "FACP" */
			acpi.fadt = t;
		else if (rd32(t) == 0x43495041)		/* "APIC" */
			acpi.madt = t;
		else if (rd32(t) == 0x4746434d)		/* "MCFG" */
			acpi.mcfg = t;
	}
	if (acpi.fadt) {
		parse_fadt(acpi.fadt);
		if (acpi.dsdt)
			table_line(acpi.dsdt, 1);
		if (acpi.facs)
			table_line(acpi.facs, 0);	/* FACS has no checksum */
	} else {
		printf("JBT fadt none\n");
	}
	if (acpi.madt)
		parse_madt(acpi.madt);
	else
		printf("JBT madt none\n");
	if (acpi.dsdt)
		parse_dsdt(acpi.dsdt);
	else
		printf("JBT s5 none\nJBT dsdt pci0 no\n");
	if (acpi.mcfg)
		parse_mcfg(acpi.mcfg);
	else
		printf("JBT mcfg none\n");
}

/* ---- SMBIOS ------------------------------------------------------------- */

static uint64_t scan(uint64_t start, uint64_t end, uint32_t sig, unsigned step)
{
	for (uint64_t a = start; a + 4 <= end; a += step)
		if (rd32(a) == sig)
			return a;
	return 0;
}

/* The n-th string (1-based) after the formatted area of a structure. */
static const char *smbios_string(uint64_t s, unsigned n)
{
	const char *p = (const char *)(s + rd8(s + 1));

	if (!n)
		return "";
	while (--n && *p)
		p += strlen(p) + 1;
	return p;
}

static void print_uuid(const uint8_t *u, int swap)
{
	uint8_t b[16];

	memcpy(b, u, 16);
	if (swap) {	/* SMBIOS 2.6+: time_low, time_mid, time_hi little-endian */
		b[0] = u[3]; b[1] = u[2]; b[2] = u[1]; b[3] = u[0];
		b[4] = u[5]; b[5] = u[4];
		b[6] = u[7]; b[7] = u[6];
	}
	printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	       "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	       b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static void walk_smbios(uint64_t table, uint64_t len, unsigned count,
			unsigned major, unsigned minor)
{
	static uint8_t seen[256];
	uint64_t s = table, end = table + len;
	unsigned n = 0;

	while (s + 4 <= end && (!count || n < count)) {
		uint8_t type = rd8(s), flen = rd8(s + 1);
		uint64_t next;

		if (flen < 4)
			break;
		if (!seen[type]) {
			seen[type] = 1;
			printf("JBT smbios-type %u\n", type);
		}
		if (type == 1 && flen >= 0x19) {
			printf("JBT smbios-system manufacturer \"%s\" product \"%s\" uuid ",
			       smbios_string(s, rd8(s + 4)),
			       smbios_string(s, rd8(s + 5)));
			print_uuid((const uint8_t *)(s + 8),
				   major > 2 || (major == 2 && minor >= 6));
			printf("\n");
		}
		/* skip the formatted area and the string set (ends in 00 00) */
		next = s + flen;
		while (next + 1 < end && (rd8(next) || rd8(next + 1)))
			next++;
		next += 2;
		n++;
		if (type == 127)
			break;
		s = next;
	}
	printf("JBT smbios-structures %u\n", n);
}

static void report_smbios(void)
{
	uint64_t e2 = scan(0xf0000, 0x100000, 0x5f4d535f, 16);	/* "_SM_" */
	uint64_t e3 = 0;

	for (uint64_t a = 0xf0000; a + 5 <= 0x100000; a += 16)
		if (rd32(a) == 0x334d535f && rd8(a + 4) == '_') {	/* "_SM3_" */
			e3 = a;
			break;
		}
	if (!e2 && !e3) {
		printf("JBT smbios none\n");
		return;
	}
	if (e2) {
		/* entry checksum over its length, intermediate "_DMI_" over 15 bytes */
		int good = sum8(e2, rd8(e2 + 5)) == 0 &&
			   sum8(e2 + 0x10, 15) == 0 &&
			   !memcmp((const void *)(e2 + 0x10), "_DMI_", 5);

		printf("JBT smbios %u.%u entry %lx csum %s\n", rd8(e2 + 6),
		       rd8(e2 + 7), e2, ok(good));
	}
	if (e3)
		printf("JBT smbios %u.%u entry %lx csum %s\n", rd8(e3 + 7),
		       rd8(e3 + 8), e3, ok(sum8(e3, rd8(e3 + 6)) == 0));
	if (e3)
		walk_smbios(rd64(e3 + 0x10), rd32(e3 + 0x0c), 0, rd8(e3 + 7),
			    rd8(e3 + 8));
	else
		walk_smbios(rd32(e2 + 0x18), rd16(e2 + 0x16), rd16(e2 + 0x1c),
			    rd8(e2 + 6), rd8(e2 + 7));
}

/* ---- MP table ----------------------------------------------------------- */

static void report_mptable(void)
{
	uint64_t ebda = (uint64_t)rd16(0x40e) << 4, fp = 0, cfg;
	unsigned cpus = 0;
	int good;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		fp = scan(ebda, ebda + 1024, 0x5f504d5f, 16);	/* "_MP_" */
	if (!fp)
		fp = scan(0x9fc00, 0xa0000, 0x5f504d5f, 16);
	if (!fp)
		fp = scan(0xf0000, 0x100000, 0x5f504d5f, 16);
	if (!fp) {
		printf("JBT mptable none\n");
		return;
	}
	good = sum8(fp, 16 * rd8(fp + 8)) == 0;
	cfg = rd32(fp + 4);
	if (cfg && rd32(cfg) == 0x504d4350) {			/* "PCMP" */
		uint16_t blen = rd16(cfg + 4), n = rd16(cfg + 0x22);
		uint64_t p = cfg + 0x2c;

		good = good && sum8(cfg, blen) == 0;
		for (unsigned i = 0; i < n && p < cfg + blen; i++) {
			if (rd8(p) == 0) {
				cpus++;
				p += 20;
			} else {
				p += 8;
			}
		}
	} else if (cfg) {
		good = 0;
	}
	printf("JBT mptable %lx csum %s cpus %u\n", fp, ok(good), cpus);
}

/* ---- actions ------------------------------------------------------------ */

#define SCI_EN 0x0001
#define SLP_EN 0x2000
#define PWRBTN 0x0100

static int enable_acpi(void)
{
	if (!acpi.pm1a_cnt)
		return -1;
	if (inw((uint16_t)acpi.pm1a_cnt) & SCI_EN)
		return 0;
	if (!acpi.smi_cmd || !acpi.acpi_enable) {
		printf("JBT acpi-enable impossible\n");
		return -1;
	}
	outb((uint16_t)acpi.smi_cmd, acpi.acpi_enable);
	for (unsigned i = 0; i < 100000; i++) {
		if (inw((uint16_t)acpi.pm1a_cnt) & SCI_EN) {
			printf("JBT acpi-enabled\n");
			return 0;
		}
		spin(100);
	}
	printf("JBT acpi-enable timeout\n");
	return -1;
}

static void __attribute__((noreturn)) do_poweroff(void)
{
	uint16_t cnt;

	if (!acpi.s5_found || !acpi.pm1a_cnt) {
		printf("JBT poweroff impossible\n");
		guest_exit(0x7a);
	}
	enable_acpi();
	cnt = inw((uint16_t)acpi.pm1a_cnt);
	cnt = (uint16_t)((cnt & ~(7u << 10)) | (acpi.s5a & 7) << 10 | SLP_EN);
	printf("JBT poweroff %x\n", cnt);
	outw((uint16_t)acpi.pm1a_cnt, cnt);
	spin(1000000);
	printf("JBT poweroff-failed\n");
	guest_exit(0x7d);
}

static void __attribute__((noreturn)) do_acpi_reset(void)
{
	if (!acpi.has_reset || !(acpi.flags & (1u << 10))) {
		/* FADT flag RESET_REG_SUP (bit 10) */
		printf("JBT reset-unsupported\n");
		if (!acpi.has_reset)
			guest_exit(0x7a);
	}
	printf("JBT reset %u:%lx:%x\n", acpi.reset_space, acpi.reset_addr,
	       acpi.reset_value);
	switch (acpi.reset_space) {
	case 0:		/* system memory */
		*(volatile uint8_t *)acpi.reset_addr = acpi.reset_value;
		break;
	case 1:		/* system I/O */
		outb((uint16_t)acpi.reset_addr, acpi.reset_value);
		break;
	case 2: {	/* PCI config, bus 0: dev << 32 | fn << 16 | offset */
		unsigned dev = (acpi.reset_addr >> 32) & 0x1f;
		unsigned fn = (acpi.reset_addr >> 16) & 7;
		unsigned off = acpi.reset_addr & 0xff;

		outl(0xcf8, 0x80000000u | dev << 11 | fn << 8 | (off & 0xfc));
		outb((uint16_t)(0xcfc + (off & 3)), acpi.reset_value);
		break;
	}
	default:
		printf("JBT reset-unsupported space %u\n", acpi.reset_space);
		break;
	}
	spin(1000000);
	printf("JBT reset-failed\n");
	guest_exit(0x7d);
}

static void __attribute__((noreturn)) do_wait_button(void)
{
	uint16_t evt, en;

	if (!acpi.pm1a_evt) {
		printf("JBT wait-button impossible\n");
		guest_exit(0x7a);
	}
	evt = (uint16_t)acpi.pm1a_evt;
	enable_acpi();
	outw(evt, PWRBTN);			/* clear a stale status */
	en = inw((uint16_t)(evt + 2));
	outw((uint16_t)(evt + 2), en | PWRBTN);
	printf("JBT waiting-button\n");
	while (!(inw(evt) & PWRBTN))
		spin(2000);
	outw(evt, PWRBTN);			/* write 1 to clear */
	printf("JBT button\n");
	do_poweroff();
}

static void run_action(const struct boot_info *bi)
{
	char action[64];

	if (cmdline_get(bi, "action", action, sizeof(action)) < 0)
		strlcpy(action, "exit:0", sizeof(action));
	if (starts_with(action, "exit"))
		guest_exit(action[4] == ':' ?
				   (uint32_t)parse_uint(action + 5, 0, 0) : 0);
	else if (!strcmp(action, "poweroff"))
		do_poweroff();
	else if (!strcmp(action, "reset"))
		do_acpi_reset();
	else if (!strcmp(action, "wait-button"))
		do_wait_button();
	printf("JBT unknown-action %s\n", action);
	guest_exit(0x7f);
}

static long user_main(void *arg)
{
	const struct boot_info *bi = arg;

	printf("JBT acpi-guest\n");
	report_acpi(bi);
	report_smbios();
	report_mptable();
	run_action(bi);
	return 0;
}

void guest_main(const struct boot_info *bi)
{
	/*
	 * CPUID runs in ring 0: a hypervisor must intercept it, while the nested software KVM this
	 * is tested on may let ring-3 CPUID reach the host CPU and report the host's topology.
	 */
	report_cpuid_topology();
	run_user(user_main, (void *)bi);
	guest_exit(0x7f);
}
