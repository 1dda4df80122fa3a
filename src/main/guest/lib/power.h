/*
 * Leaving the virtual machine.
 *
 * debug_exit: the pc-testdev / QEMU isa-debug-exit device at port 0xF4.
 * Writing a value makes the VMM exit with status (value << 1) | 1.
 * bhyve-style power-off is value 0 (status 1).
 *
 * Resets: the reset control register of the PCI host/ISA bridge at 0xCF9
 * (writing 0x06 = full reset), and the i8042 keyboard controller command
 * 0xFE (pulse the CPU reset line) written to port 0x64.
 */
#ifndef GUEST_POWER_H
#define GUEST_POWER_H

#include <stdint.h>

#define DEBUG_EXIT_PORT 0xf4

/* width is the access size in bytes: 1, 2 or 4. */
void debug_exit(uint32_t value, int width);
void reset_cf9(void);
void reset_kbd(void);
/* Powers off (debug_exit 0); halts if that does not work. */
void __attribute__((noreturn)) poweroff(void);

#endif
