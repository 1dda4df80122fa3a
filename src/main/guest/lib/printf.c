#include "printf.h"
#include "serial.h"
#include <stdint.h>

/* Output sink: either the serial port (buf == NULL) or a bounded buffer. */
struct sink {
	char *buf;
	size_t len;
	size_t pos;
};

static void emit(struct sink *s, char c)
{
	if (!s->buf)
		serial_putc(c);
	else if (s->pos + 1 < s->len)
		s->buf[s->pos] = c;
	s->pos++;
}

static void emit_padded(struct sink *s, const char *str, int n, int width,
			int left)
{
	int fill = width > n ? width - n : 0;

	if (!left)
		while (fill-- > 0)
			emit(s, ' ');
	while (n-- > 0)
		emit(s, *str++);
	if (left)
		while (fill-- > 0)
			emit(s, ' ');
}

static void emit_number(struct sink *s, uint64_t v, unsigned base, int neg,
			int width, char pad)
{
	char tmp[24];
	int n = 0;

	do {
		unsigned d = v % base;
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);

	if (neg) {
		if (pad == '0') {
			emit(s, '-');
			width--;
		} else {
			tmp[n++] = '-';
		}
	}
	for (; width > n; width--)
		emit(s, pad);
	while (n > 0)
		emit(s, tmp[--n]);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		char pad = ' ';
		int width = 0, lng = 0, left = 0;

		if (*fmt != '%') {
			emit(s, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				pad = '0';
			else if (*fmt == '-')
				left = 1;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}

		switch (*fmt) {
		case 'd': {
			int64_t v = lng ? va_arg(ap, long) : va_arg(ap, int);
			emit_number(s, v < 0 ? -(uint64_t)v : (uint64_t)v, 10,
				    v < 0, width, pad);
			break;
		}
		case 'u':
			emit_number(s, lng ? va_arg(ap, unsigned long)
					   : va_arg(ap, unsigned), 10, 0, width, pad);
			break;
		case 'x':
			emit_number(s, lng ? va_arg(ap, unsigned long)
					   : va_arg(ap, unsigned), 16, 0, width, pad);
			break;
		case 'p':
			emit(s, '0');
			emit(s, 'x');
			emit_number(s, (uintptr_t)va_arg(ap, void *), 16, 0,
				    width, pad);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			emit_padded(s, &c, 1, width, left);
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);
			int n = 0;

			if (!str)
				str = "(null)";
			while (str[n])
				n++;
			emit_padded(s, str, n, width, left);
			break;
		}
		case '\0':
			return;
		default:
			emit(s, '%');
			emit(s, *fmt);
			break;
		}
	}
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink s = { 0, 0, 0 };

	format(&s, fmt, ap);
	return (int)s.pos;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct sink s = { buf, len, 0 };

	format(&s, fmt, ap);
	if (len)
		buf[s.pos < len ? s.pos : len - 1] = '\0';
	return (int)s.pos;
}

int snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}
