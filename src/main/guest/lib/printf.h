/*
 * A tiny printf writing to COM1.
 *
 * Conversions: %s %d %u %x %c %p %%, with the length modifiers l and ll
 * (%ld %lu %lx %llx ...), a field width, the '0' flag (e.g. %08x) and
 * the '-' flag (left-justify strings and characters: %-12s).
 * %p prints 0x followed by the hex value.
 */
#ifndef GUEST_PRINTF_H
#define GUEST_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
/* Formats into buf (always NUL-terminated); returns the length written. */
int snprintf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);

#endif
