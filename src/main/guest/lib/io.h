/*
 * Port I/O.
 *
 * x86 has a separate 64 KiB I/O address space reached with the IN and OUT
 * instructions.  Under a hypervisor every access traps to the VMM, which
 * emulates the device behind the port (serial port, PCI config space, ...).
 * In ring 3 these instructions only work when RFLAGS.IOPL is 3 (see user.h).
 */
#ifndef GUEST_IO_H
#define GUEST_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/*
 * Physical memory is identity mapped, so a physical address is a pointer.
 * The empty asm hides constant addresses (like 0x40E) from the compiler,
 * which would otherwise warn about dereferencing them.
 */
static inline void *phys_ptr(uint64_t addr)
{
	__asm__("" : "+r"(addr));
	return (void *)addr;
}

/* Memory-mapped I/O: volatile so the compiler issues exactly one access. */
static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

#endif
