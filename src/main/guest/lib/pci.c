#include "pci.h"
#include "io.h"

static void pci_select(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	outl(PCI_CONFIG_ADDRESS, 0x80000000u | (bus & 0xff) << 16 |
				 (dev & 0x1f) << 11 | (fn & 7) << 8 |
				 (off & 0xfc));
}

uint32_t pci_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	pci_select(bus, dev, fn, off);
	return inl(PCI_CONFIG_DATA);
}

uint16_t pci_read16(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return (uint16_t)(pci_read32(bus, dev, fn, off) >> ((off & 2) * 8));
}

uint8_t pci_read8(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return (uint8_t)(pci_read32(bus, dev, fn, off) >> ((off & 3) * 8));
}

void pci_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off,
		 uint32_t v)
{
	pci_select(bus, dev, fn, off);
	outl(PCI_CONFIG_DATA, v);
}

uint64_t pci_ecam_addr(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return PCI_ECAM_BASE | (uint64_t)(bus & 0xff) << 20 |
	       (dev & 0x1f) << 15 | (fn & 7) << 12 | (off & 0xffc);
}

uint32_t pci_ecam_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return mmio_read32(pci_ecam_addr(bus, dev, fn, off));
}

int pci_scan_bus(unsigned bus, void (*cb)(const struct pci_func *, void *),
		 void *ctx)
{
	int count = 0;

	for (unsigned dev = 0; dev < 32; dev++) {
		unsigned nfn = 1;

		for (unsigned fn = 0; fn < nfn; fn++) {
			uint32_t id = pci_read32(bus, dev, fn, PCI_VENDOR_ID);
			struct pci_func f;
			uint8_t hdr;

			if ((id & 0xffff) == 0xffff)
				continue;
			hdr = pci_read8(bus, dev, fn, PCI_HEADER_TYPE);
			if (fn == 0 && (hdr & 0x80))
				nfn = 8;	/* multi-function device */
			f.bus = (uint8_t)bus;
			f.dev = (uint8_t)dev;
			f.fn = (uint8_t)fn;
			f.header_type = hdr & 0x7f;
			f.vendor = (uint16_t)id;
			f.device = (uint16_t)(id >> 16);
			f.class_code = pci_read32(bus, dev, fn,
						  PCI_CLASS_REVISION) >> 8;
			count++;
			if (cb)
				cb(&f, ctx);
		}
	}
	return count;
}
