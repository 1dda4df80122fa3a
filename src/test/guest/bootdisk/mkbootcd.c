/*
 * mkbootcd: builds a minimal bootable ISO 9660 image with an El Torito
 * "no emulation" boot entry.
 *
 *   mkbootcd <boot image> <output.iso>
 *
 * ISO 9660 uses 2048-byte logical sectors; sectors 0-15 are the system
 * area, volume descriptors follow from sector 16 until a terminator (type
 * 255).  Multi-byte numbers are mostly "both-endian": little-endian then
 * big-endian copies.  The Primary Volume Descriptor (type 1) names the
 * volume size, the path tables and holds the root directory record.
 * El Torito adds a Boot Record descriptor (type 0, "EL TORITO
 * SPECIFICATION") pointing to a boot catalog: a validation entry (header
 * id 1, platform 0 = x86, checksum making its 16 words sum to 0, key
 * 55 AA) followed by the initial entry (0x88 = bootable, media 0 = no
 * emulation, load segment 0 = 07C0h, count of 512-byte virtual sectors,
 * image LBA).
 *
 * Layout written here (2048-byte sectors):
 *   16 primary volume descriptor   17 boot record   18 terminator
 *   19 L path table   20 M path table   21 root directory
 *   22 boot catalog   23...  boot image (also the file BOOT.BIN)
 * The volume is padded to PAD_SECTORS.  Dates are fixed, so the output
 * depends only on the boot image.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR		2048
#define PVD_LBA		16
#define BOOT_REC_LBA	17
#define TERM_LBA	18
#define LPATH_LBA	19
#define MPATH_LBA	20
#define ROOT_LBA	21
#define CATALOG_LBA	22
#define IMAGE_LBA	23
#define PAD_SECTORS	64
#define MAX_IMAGE	(32 * SECTOR)	/* a real-mode image fits below 64 KiB */

static uint8_t *iso;

static void le16(uint8_t *p, uint32_t v) { p[0] = v; p[1] = v >> 8; }
static void be16(uint8_t *p, uint32_t v) { p[0] = v >> 8; p[1] = v; }
static void le32(uint8_t *p, uint32_t v) { le16(p, v); le16(p + 2, v >> 16); }
static void be32(uint8_t *p, uint32_t v) { be16(p, v >> 16); be16(p + 2, v); }
static void both16(uint8_t *p, uint32_t v) { le16(p, v); be16(p + 2, v); }
static void both32(uint8_t *p, uint32_t v) { le32(p, v); be32(p + 4, v); }

/* Copies s into the len-byte field p, padded with blanks. */
static void text(uint8_t *p, size_t len, const char *s)
{
	memset(p, ' ', len);
	memcpy(p, s, strlen(s) < len ? strlen(s) : len);
}

/* Starts a volume descriptor of the given type at sector lba. */
static uint8_t *descriptor(uint32_t lba, int type)
{
	uint8_t *d = iso + (size_t)lba * SECTOR;
	d[0] = type;
	memcpy(d + 1, "CD001", 5);
	d[6] = 1;
	return d;
}

/*
 * Writes a directory record at p for a name of nlen bytes; returns its
 * length (33 + nlen, rounded up to even).
 */
static size_t dirent(uint8_t *p, uint32_t lba, uint32_t size, int flags,
		     const char *name, size_t nlen)
{
	size_t len = 33 + nlen + !(nlen & 1);
	p[0] = len;
	both32(p + 2, lba);
	both32(p + 10, size);
	p[18] = 124;			/* 2024-01-01 00:00:00 UTC */
	p[19] = 1;
	p[20] = 1;
	p[25] = flags;
	both16(p + 28, 1);		/* volume sequence number */
	p[32] = nlen;
	memcpy(p + 33, name, nlen);
	return len;
}

static void date17(uint8_t *p, const char *digits16)
{
	memcpy(p, digits16, 16);
	p[16] = 0;			/* GMT offset */
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s <boot image> <output.iso>\n", argv[0]);
		return 2;
	}
	FILE *in = fopen(argv[1], "rb");
	if (!in) {
		perror(argv[1]);
		return 1;
	}
	static uint8_t image[MAX_IMAGE + 1];
	size_t size = fread(image, 1, sizeof(image), in);
	fclose(in);
	if (size == 0 || size > MAX_IMAGE) {
		fprintf(stderr, "%s: boot image must be 1..%d bytes\n", argv[1], MAX_IMAGE);
		return 1;
	}
	uint32_t image_sectors = (size + SECTOR - 1) / SECTOR;
	uint32_t total = IMAGE_LBA + image_sectors;
	if (total < PAD_SECTORS)
		total = PAD_SECTORS;
	iso = calloc(total, SECTOR);
	if (!iso) {
		perror("calloc");
		return 1;
	}

	uint8_t *d = descriptor(PVD_LBA, 1);
	text(d + 8, 32, "");
	text(d + 40, 32, "JBT_BOOTCD");
	both32(d + 80, total);
	both16(d + 120, 1);		/* volume set size */
	both16(d + 124, 1);		/* volume sequence number */
	both16(d + 128, SECTOR);
	both32(d + 132, 10);		/* path table size: the root only */
	le32(d + 140, LPATH_LBA);
	be32(d + 148, MPATH_LBA);
	dirent(d + 156, ROOT_LBA, SECTOR, 2, "\0", 1);
	text(d + 190, 128, "");		/* volume set ... data preparer */
	text(d + 318, 128, "");
	text(d + 446, 128, "");
	text(d + 574, 128, "JBHYVE MKBOOTCD");
	text(d + 702, 37 * 3, "");	/* copyright, abstract, bibliography */
	date17(d + 813, "2024010100000000");
	date17(d + 830, "2024010100000000");
	date17(d + 847, "0000000000000000");
	date17(d + 864, "0000000000000000");
	d[881] = 1;			/* file structure version */

	d = descriptor(BOOT_REC_LBA, 0);
	memcpy(d + 7, "EL TORITO SPECIFICATION", 23);
	le32(d + 71, CATALOG_LBA);

	descriptor(TERM_LBA, 255);

	/* Path tables: one record for the root (its own parent, number 1). */
	uint8_t *l = iso + LPATH_LBA * SECTOR, *m = iso + MPATH_LBA * SECTOR;
	l[0] = m[0] = 1;
	le32(l + 2, ROOT_LBA);
	be32(m + 2, ROOT_LBA);
	le16(l + 6, 1);
	be16(m + 6, 1);

	uint8_t *r = iso + ROOT_LBA * SECTOR;
	r += dirent(r, ROOT_LBA, SECTOR, 2, "\0", 1);		/* "." */
	r += dirent(r, ROOT_LBA, SECTOR, 2, "\1", 1);		/* ".." */
	dirent(r, IMAGE_LBA, size, 0, "BOOT.BIN;1", 10);

	uint8_t *c = iso + CATALOG_LBA * SECTOR;
	c[0] = 1;			/* validation entry */
	c[1] = 0;			/* platform 80x86 */
	memcpy(c + 4, "JBHYVE", 6);
	c[30] = 0x55;
	c[31] = 0xaa;
	uint16_t sum = 0;
	for (int i = 0; i < 32; i += 2)
		sum += c[i] | c[i + 1] << 8;
	le16(c + 28, (uint16_t)-sum);
	c[32] = 0x88;			/* initial entry: bootable */
	c[33] = 0;			/* no emulation */
	le16(c + 34, 0);		/* load segment: default 07C0h */
	le16(c + 38, (size + 511) / 512);
	le32(c + 40, IMAGE_LBA);

	memcpy(iso + IMAGE_LBA * SECTOR, image, size);

	FILE *out = fopen(argv[2], "wb");
	if (!out || fwrite(iso, SECTOR, total, out) != total || fclose(out) != 0) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
