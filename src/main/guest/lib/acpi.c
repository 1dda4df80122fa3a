#include "acpi.h"
#include "boot_info.h"
#include "io.h"
#include "string.h"

static uint32_t rd32(uint64_t a)
{
	return *(const uint32_t *)a;
}

static uint64_t rd64(uint64_t a)
{
	return *(const uint64_t *)a;
}

static uint64_t scan_rsdp(uint64_t start, uint64_t len)
{
	for (uint64_t a = start; a + 20 <= start + len; a += 16)
		if (!memcmp((const void *)a, "RSD PTR ", 8))
			return a;
	return 0;
}

uint64_t acpi_rsdp(const struct boot_info *bi)
{
	uint64_t ebda = (uint64_t)*(const uint16_t *)phys_ptr(0x40e) << 4, a = 0;

	if (bi->rsdp)
		return bi->rsdp;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		a = scan_rsdp(ebda, 1024);
	return a ? a : scan_rsdp(0xe0000, 0x20000);
}

uint64_t acpi_find_table(const struct boot_info *bi, const char *sig)
{
	uint64_t rsdp = acpi_rsdp(bi), sdt;
	unsigned entry_size;

	if (!rsdp)
		return 0;
	if (*(const uint8_t *)(rsdp + 15) >= 2 && rd64(rsdp + 24)) {
		sdt = rd64(rsdp + 24);		/* XSDT */
		entry_size = 8;
	} else {
		sdt = rd32(rsdp + 16);		/* RSDT */
		entry_size = 4;
	}
	if (!sdt)
		return 0;
	for (uint64_t p = sdt + 36; p < sdt + rd32(sdt + 4); p += entry_size) {
		uint64_t t = entry_size == 8 ? rd64(p) : rd32(p);
		if (t && !memcmp((const void *)t, sig, 4))
			return t;
	}
	return 0;
}

unsigned acpi_count_cpus(const struct boot_info *bi)
{
	uint64_t madt = acpi_find_table(bi, "APIC"), p, end;
	unsigned n = 0;

	if (!madt)
		return 0;
	end = madt + rd32(madt + 4);
	for (p = madt + 44; p + 2 <= end; p += *(const uint8_t *)(p + 1)) {
		uint8_t type = *(const uint8_t *)p, len = *(const uint8_t *)(p + 1);

		if (len < 2)
			break;
		if (type == 0 && (rd32(p + 4) & 1))	/* Local APIC, enabled */
			n++;
		else if (type == 9 && (rd32(p + 8) & 1)) /* x2APIC, enabled */
			n++;
	}
	return n;
}

/* FADT fields: SMI_CMD (u32 at 48), ACPI_ENABLE (u8 at 52), PM1a_CNT_BLK (u32 at 64). */
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_CNT 64
#define PM1_SCI_EN 0x0001
#define PM1_SLP_EN 0x2000
#define SLP_TYP_S5 5

void acpi_poweroff(const struct boot_info *bi)
{
	uint64_t fadt = acpi_find_table(bi, "FACP");

	if (!fadt)
		return;
	const uint8_t *f = phys_ptr(fadt);
	uint32_t smi_cmd = *(const uint32_t *)(f + FADT_SMI_CMD);
	uint8_t enable = f[FADT_ACPI_ENABLE];
	uint16_t pm1a_cnt = (uint16_t)*(const uint32_t *)(f + FADT_PM1A_CNT);

	if (!pm1a_cnt)
		return;
	if (!(inw(pm1a_cnt) & PM1_SCI_EN) && smi_cmd && enable) {
		outb((uint16_t)smi_cmd, enable);
		for (int i = 0; i < 1000 && !(inw(pm1a_cnt) & PM1_SCI_EN); i++)
			;
	}
	outw(pm1a_cnt, (uint16_t)(SLP_TYP_S5 << 10 | PM1_SLP_EN));
}
