#include "serial.h"
#include "io.h"

#define UART_RBR 0
#define UART_THR 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

void serial_init(void)
{
	outb(COM1_PORT + UART_IER, 0x00);	/* no interrupts */
	outb(COM1_PORT + UART_LCR, 0x80);	/* DLAB: divisor follows */
	outb(COM1_PORT + UART_DLL, 0x01);	/* 115200 / 1 = 115200 baud */
	outb(COM1_PORT + UART_DLM, 0x00);
	outb(COM1_PORT + UART_LCR, 0x03);	/* 8 data bits, no parity, 1 stop */
	outb(COM1_PORT + UART_FCR, 0x07);	/* enable and clear FIFOs */
	outb(COM1_PORT + UART_MCR, 0x03);	/* DTR | RTS */
}

void serial_putc(char c)
{
	/* Wait for room in the transmitter.  A missing UART reads 0xFF. */
	while (!(inb(COM1_PORT + UART_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1_PORT + UART_THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

int serial_getc_nonblock(void)
{
	uint8_t lsr = inb(COM1_PORT + UART_LSR);

	if (lsr == 0xff || !(lsr & LSR_DATA_READY))
		return -1;
	return inb(COM1_PORT + UART_RBR);
}
