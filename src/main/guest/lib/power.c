#include "power.h"
#include "cpu.h"
#include "io.h"

void debug_exit(uint32_t value, int width)
{
	if (width == 1)
		outb(DEBUG_EXIT_PORT, (uint8_t)value);
	else if (width == 2)
		outw(DEBUG_EXIT_PORT, (uint16_t)value);
	else
		outl(DEBUG_EXIT_PORT, value);
}

void reset_cf9(void)
{
	outb(0xcf9, 0x06);
}

void reset_kbd(void)
{
	outb(0x64, 0xfe);
}

void poweroff(void)
{
	debug_exit(0, 4);
	halt_forever();
}
