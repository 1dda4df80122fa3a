/*
 * PCI configuration space.
 *
 * Mechanism #1 (legacy, port I/O): write
 *     0x80000000 | bus << 16 | device << 11 | function << 8 | (offset & 0xFC)
 * to CONFIG_ADDRESS (port 0xCF8), then access the 32-bit register through
 * CONFIG_DATA (port 0xCFC).
 *
 * ECAM (PCI Express enhanced configuration, memory mapped): each function
 * has a 4 KiB window at base + (bus << 20 | device << 15 | function << 12).
 * bhyve places ECAM at 0xE0000000.
 *
 * Header fields used here: 0x00 vendor id, 0x02 device id, 0x09 prog-if,
 * 0x0A subclass, 0x0B class, 0x0E header type (bit 7 = multi-function).
 */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdint.h>

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc
#define PCI_ECAM_BASE 0xe0000000UL

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_CLASS_REVISION 0x08
#define PCI_HEADER_TYPE 0x0e

uint32_t pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off);
uint16_t pci_read16(unsigned bus, unsigned dev, unsigned fn, unsigned off);
uint8_t pci_read8(unsigned bus, unsigned dev, unsigned fn, unsigned off);
void pci_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off,
		 uint32_t v);

uint64_t pci_ecam_addr(unsigned bus, unsigned dev, unsigned fn, unsigned off);
uint32_t pci_ecam_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off);

/* One function found by pci_scan_bus(). */
struct pci_func {
	uint8_t bus, dev, fn;
	uint8_t header_type;	/* without the multi-function bit */
	uint16_t vendor, device;
	uint32_t class_code;	/* class << 16 | subclass << 8 | prog-if */
};

/*
 * Calls cb for every function present on the bus (mechanism #1),
 * in device/function order.  Returns the number of functions found.
 */
int pci_scan_bus(unsigned bus, void (*cb)(const struct pci_func *, void *),
		 void *ctx);

#endif
