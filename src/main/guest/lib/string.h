/*
 * String and memory helpers (there is no C library in the guest).
 * The compiler may also emit calls to memcpy/memset/memmove/memcmp itself.
 */
#ifndef GUEST_STRING_H
#define GUEST_STRING_H

#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* Copies at most len-1 bytes and always NUL-terminates (len > 0). */
size_t strlcpy(char *dst, const char *src, size_t len);
int starts_with(const char *s, const char *prefix);

/*
 * Parses an unsigned number: decimal, or hex with a 0x prefix (base 0),
 * or in the given base.  *end (if not NULL) points after the digits.
 */
uint64_t parse_uint(const char *s, const char **end, int base);

#endif
