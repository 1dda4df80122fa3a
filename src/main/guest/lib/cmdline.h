/*
 * Kernel command line helpers.  The command line is a string of
 * space-separated tokens, either "flag" or "key=value".
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stddef.h>

struct boot_info;

/*
 * Copies the value of the first "key=value" token into buf (NUL-terminated,
 * truncated to len-1 bytes).  Returns the value length, or -1 if absent.
 */
int cmdline_get(const struct boot_info *bi, const char *key, char *buf,
		size_t len);
/* Non-zero if the bare token "flag" (or "flag=...") is present. */
int cmdline_has(const struct boot_info *bi, const char *flag);

#endif
