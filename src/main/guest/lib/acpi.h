/*
 * Minimal ACPI table lookup.
 *
 * The RSDP ("RSD PTR ", 16-byte aligned) points at the RSDT (32-bit table
 * pointers) and, from revision 2 on, the XSDT (64-bit pointers).  Every
 * table starts with a 36-byte header: 4-byte signature, 32-bit length, ...
 *
 * The MADT (signature "APIC") lists the interrupt controllers; each enabled
 * processor has a Local APIC (type 0) or x2APIC (type 9) entry.
 */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <stdint.h>

struct boot_info;

/* RSDP from the boot protocol, else found in the EBDA / BIOS area; 0 if none. */
uint64_t acpi_rsdp(const struct boot_info *bi);
/* Address of the table with the given 4-character signature, or 0. */
uint64_t acpi_find_table(const struct boot_info *bi, const char *sig);
/* Number of enabled processors in the MADT, or 0 if there is no MADT. */
unsigned acpi_count_cpus(const struct boot_info *bi);
/*
 * Enters S5 (soft off) through the FADT: switches to ACPI mode through SMI_CMD
 * if SCI_EN is clear, then writes SLP_TYP | SLP_EN to PM1a_CNT.  Uses SLP_TYP 5,
 * the \_S5 value of bhyve's DSDT (a general OS would evaluate \_S5 in AML).
 * Returns only if there is no FADT or the write did not power off.
 */
void acpi_poweroff(const struct boot_info *bi);

#endif
