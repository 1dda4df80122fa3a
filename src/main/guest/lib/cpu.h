/*
 * CPU helpers: CPUID, control registers, halting.
 *
 * CPUID leaf 1:   EBX[23:16] = number of logical processor IDs per package.
 * CPUID leaf 0xB: extended topology, one sub-leaf per level (SMT, core, ...):
 *   EAX[4:0]   bits to shift the x2APIC ID right to get the next level's ID
 *   EBX[15:0]  logical processors at this level
 *   ECX[7:0]   level number, ECX[15:8] level type (0 invalid, 1 SMT, 2 core)
 *   EDX        x2APIC ID of the current processor
 */
#ifndef GUEST_CPU_H
#define GUEST_CPU_H

#include <stdint.h>

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint32_t cpuid_max_leaf(void)
{
	return cpuid(0, 0).eax;
}

/* Logical processor count from CPUID leaf 1 EBX[23:16]. */
static inline unsigned cpuid_logical_count(void)
{
	return (cpuid(1, 0).ebx >> 16) & 0xff;
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline void cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/* Stop this CPU for good: with interrupts off, HLT never wakes up. */
static inline __attribute__((noreturn)) void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

#endif
