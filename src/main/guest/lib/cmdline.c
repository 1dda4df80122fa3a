#include "cmdline.h"
#include "boot_info.h"
#include "string.h"

/* Finds the token named key; returns a pointer just after the name. */
static const char *find_token(const char *s, const char *key)
{
	size_t klen = strlen(key);

	while (*s) {
		while (*s == ' ')
			s++;
		if (!strncmp(s, key, klen) &&
		    (s[klen] == '=' || s[klen] == ' ' || s[klen] == '\0'))
			return s + klen;
		while (*s && *s != ' ')
			s++;
	}
	return NULL;
}

int cmdline_get(const struct boot_info *bi, const char *key, char *buf,
		size_t len)
{
	const char *p = find_token(bi->cmdline, key);
	size_t n = 0;

	if (!p || *p != '=')
		return -1;
	p++;
	while (p[n] && p[n] != ' ')
		n++;
	if (len) {
		size_t k = n < len - 1 ? n : len - 1;
		memcpy(buf, p, k);
		buf[k] = '\0';
	}
	return (int)n;
}

int cmdline_has(const struct boot_info *bi, const char *flag)
{
	return find_token(bi->cmdline, flag) != NULL;
}
