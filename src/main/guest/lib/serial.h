/*
 * COM1: a 16550-compatible UART at I/O port 0x3F8.
 *
 * Registers (offset from 0x3F8):
 *   0 THR (write) / RBR (read) / DLL when LCR.DLAB=1
 *   1 IER / DLM when LCR.DLAB=1
 *   2 FCR (write) FIFO control
 *   3 LCR line control (8N1 = 0x03, bit 7 = DLAB)
 *   4 MCR modem control (DTR, RTS, OUT2)
 *   5 LSR line status: bit 0 = data ready, bit 5 = THR empty
 */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#define COM1_PORT 0x3f8

void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);
/* Returns the next received byte, or -1 when none is waiting. */
int serial_getc_nonblock(void);

#endif
