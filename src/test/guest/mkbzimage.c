/*
 * Host tool: glues the real-mode setup sectors and the flat protected-mode
 * image into a bzImage, filling in the setup-header fields that depend on
 * the sizes.
 *
 *   mkbzimage setup.bin kernel.bin image_end_hex out
 *
 * image_end is the kernel's end address including .bss (load address 1 MiB).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_ADDR 0x100000UL

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		perror(path);
		exit(1);
	}
	buf = malloc(n + 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n) {
		perror(path);
		exit(1);
	}
	fclose(f);
	*len = n;
	return buf;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

int main(int argc, char **argv)
{
	size_t setup_len, kernel_len, setup_size;
	unsigned char *setup, *kernel, *buf;
	unsigned long image_end, init_size;
	FILE *out;

	if (argc != 5) {
		fprintf(stderr, "usage: %s setup.bin kernel.bin image_end out\n",
			argv[0]);
		return 2;
	}
	setup = slurp(argv[1], &setup_len);
	kernel = slurp(argv[2], &kernel_len);
	image_end = strtoul(argv[3], NULL, 16);

	if (setup_len < 0x400 || memcmp(setup + 0x202, "HdrS", 4) != 0) {
		fprintf(stderr, "%s: not a setup image\n", argv[1]);
		return 1;
	}
	setup_size = (setup[0x1f1] + 1) * 512;
	if (setup_len > setup_size) {
		fprintf(stderr, "%s: %zu bytes, more than setup_sects allows\n",
			argv[1], setup_len);
		return 1;
	}
	if (image_end <= LOAD_ADDR) {
		fprintf(stderr, "bad image end %s\n", argv[3]);
		return 1;
	}
	init_size = (image_end - LOAD_ADDR + 4095) & ~4095UL;

	buf = calloc(1, setup_size + kernel_len);
	memcpy(buf, setup, setup_len);
	memcpy(buf + setup_size, kernel, kernel_len);
	put32(buf + 0x1f4, (uint32_t)((kernel_len + 15) / 16));	/* syssize */
	put32(buf + 0x260, (uint32_t)init_size);		/* init_size */

	out = fopen(argv[4], "wb");
	if (!out || fwrite(buf, 1, setup_size + kernel_len, out) !=
			    setup_size + kernel_len || fclose(out)) {
		perror(argv[4]);
		return 1;
	}
	return 0;
}
