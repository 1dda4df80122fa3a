/*
 * Helpers shared by the device test guests (acpi.elf, virtio.elf, net.elf).
 *
 * Everything here works in ring 0 and ring 3 (the identity map is
 * user-accessible and run_user allows port I/O): the guests do their real
 * work in ring 3, which runs natively on the nested KVM of the development
 * machines while ring-0 code may be emulated one instruction at a time.
 */
#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include "guest.h"

/* Memory-mapped I/O of every width (volatile: exactly one access each). */
static inline uint8_t mmio_read8(uint64_t a)
{
	return *(volatile uint8_t *)a;
}
static inline uint16_t mmio_read16(uint64_t a)
{
	return *(volatile uint16_t *)a;
}
static inline void mmio_write8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}
static inline void mmio_write16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}

/* Full memory barrier (no SSE: a locked add instead of MFENCE). */
static inline void mb(void)
{
	__asm__ volatile("lock; addl $0, (%%rsp)" ::: "memory", "cc");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/*
 * DMA memory: a bump allocator over guest RAM from DMA_BASE (16 MiB) up,
 * above the image.  Returns zeroed memory aligned to align (a power of 2),
 * its address is also its physical address.
 */
#define DMA_BASE 0x1000000UL
#define DMA_LIMIT 0x4000000UL
void *dma_alloc(uint64_t size, uint64_t align);

/*
 * A coarse clock from the CMOS RTC seconds register: timer_start(t, s)
 * then timer_expired(t) becomes true after s second ticks were seen
 * (so between s-1 and s seconds).  Each call reads the RTC: two port
 * exits, so call it now and then, not in a tight loop.
 */
struct rtc_timer {
	unsigned last, left;
};
void timer_start(struct rtc_timer *t, unsigned seconds);
int timer_expired(struct rtc_timer *t);

/* Busy wait of about n PAUSE instructions (no exits). */
void spin(unsigned long n);

/* Hex of n bytes into out (2n+1 bytes). */
void hex_bytes(char *out, const void *p, unsigned n);
/* Copy a fixed-width text field, trailing spaces/NULs dropped,
 * other non-printable characters and inner spaces shown as '_', "-" if empty. */
void text_field(char *out, const void *p, unsigned n);

/* "exit:N" from the command line token action=: prints JBT exit N and exits. */
void __attribute__((noreturn)) guest_exit(uint32_t value);

/* PCI command register bits: I/O space, memory space, bus master. */
void pci_enable(unsigned bus, unsigned dev, unsigned fn);
/* BAR n: its base address (I/O or memory, 64-bit BARs combined), and
 * *is_io set for an I/O BAR. */
uint64_t pci_bar(unsigned bus, unsigned dev, unsigned fn, unsigned n,
		 int *is_io);

/*
 * Prints "JBT cpus <n>" (CPUID leaf 1 EBX[23:16]) and "JBT topo <level> <type>
 * <shift> <x2apic id>" for each level of leaf 0xB.  Call it in ring 0: the
 * hypervisor intercepts CPUID there, while a nested software KVM may let
 * ring-3 CPUID reach the host CPU.
 */
void report_cpuid_topology(void);

#endif
