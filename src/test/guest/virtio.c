#include "virtio.h"
#include "common.h"

/* Legacy I/O registers */
#define VL_HOST_FEATURES 0x00
#define VL_GUEST_FEATURES 0x04
#define VL_QUEUE_PFN 0x08
#define VL_QUEUE_SIZE 0x0c
#define VL_QUEUE_SELECT 0x0e
#define VL_QUEUE_NOTIFY 0x10
#define VL_STATUS 0x12
#define VL_ISR 0x13

/* Modern common configuration */
#define VC_DFSELECT 0x00
#define VC_DF 0x04
#define VC_GFSELECT 0x08
#define VC_GF 0x0c
#define VC_NUM_QUEUES 0x12
#define VC_STATUS 0x14
#define VC_Q_SELECT 0x16
#define VC_Q_SIZE 0x18
#define VC_Q_MSIX 0x1a
#define VC_Q_ENABLE 0x1c
#define VC_Q_NOTIFY_OFF 0x1e
#define VC_Q_DESC 0x20
#define VC_Q_DRIVER 0x28
#define VC_Q_DEVICE 0x30

static const char *const type_names[] = { "?", "net", "blk", "console", "rng" };

const char *virtio_type_name(unsigned type)
{
	return type < 5 ? type_names[type] : "?";
}

static unsigned device_type(uint16_t id, unsigned subsys)
{
	if (id >= 0x1040 && id <= 0x107f)
		return id - 0x1040;
	switch (id) {		/* transitional ids */
	case 0x1000: return VIRTIO_TYPE_NET;
	case 0x1001: return VIRTIO_TYPE_BLK;
	case 0x1003: return VIRTIO_TYPE_CONSOLE;
	case 0x1005: return VIRTIO_TYPE_RNG;
	default: return subsys;
	}
}

/* Address of a capability structure: BAR base + offset; 0 if unusable. */
static uint64_t cap_addr(struct virtio_dev *vd, unsigned bar, uint32_t off)
{
	int io;
	uint64_t base;

	if (bar > 5)
		return 0;
	base = pci_bar(vd->bus, vd->dev, vd->fn, bar, &io);
	if (io || !base) {
		printf("JBT virtio %s bar %u unusable %lx\n", vd->bdf, bar, base);
		return 0;
	}
	if (base + off >= (4ULL << 30)) {
		printf("JBT virtio %s bar %u above-4g %lx skipped\n", vd->bdf,
		       bar, base);
		return 0;
	}
	return base + off;
}

static int probe_modern(struct virtio_dev *vd)
{
	unsigned b = vd->bus, d = vd->dev, f = vd->fn, ptr, n = 0;

	if (!(pci_read16(b, d, f, 0x06) & 0x10))	/* capability list */
		return -1;
	for (ptr = pci_read8(b, d, f, 0x34) & 0xfc; ptr && n < 48;
	     ptr = pci_read8(b, d, f, ptr + 1) & 0xfc, n++) {
		unsigned type, bar;
		uint32_t off;
		uint64_t a;

		if (pci_read8(b, d, f, ptr) != 0x09)
			continue;
		type = pci_read8(b, d, f, ptr + 3);
		bar = pci_read8(b, d, f, ptr + 4);
		off = pci_read32(b, d, f, ptr + 8);
		if (type < 1 || type > 4)
			continue;
		if ((type == 1 && vd->common) || (type == 2 && vd->notify) ||
		    (type == 3 && vd->isr) || (type == 4 && vd->devcfg))
			continue;	/* the first of each type is preferred */
		if (!(a = cap_addr(vd, bar, off)))
			return -1;
		switch (type) {
		case 1: vd->common = a; break;
		case 2:
			vd->notify = a;
			vd->notify_mult = pci_read32(b, d, f, ptr + 16);
			break;
		case 3: vd->isr = a; break;
		case 4: vd->devcfg = a; break;
		}
	}
	return vd->common && vd->notify && vd->isr ? 0 : -1;
}

static int msix_enabled(struct virtio_dev *vd)
{
	unsigned b = vd->bus, d = vd->dev, f = vd->fn, ptr, n = 0;

	if (!(pci_read16(b, d, f, 0x06) & 0x10))
		return 0;
	for (ptr = pci_read8(b, d, f, 0x34) & 0xfc; ptr && n < 48;
	     ptr = pci_read8(b, d, f, ptr + 1) & 0xfc, n++)
		if (pci_read8(b, d, f, ptr) == 0x11)
			return pci_read16(b, d, f, ptr + 2) >> 15;
	return 0;
}

int virtio_find(unsigned type, int modern, unsigned nth, struct virtio_dev *vd)
{
	for (unsigned d = 0; d < 32; d++) {
		unsigned nfn = 1;

		for (unsigned f = 0; f < nfn; f++) {
			uint32_t id = pci_read32(0, d, f, 0);
			unsigned subsys;

			if ((id & 0xffff) == 0xffff)
				continue;
			if (f == 0 && (pci_read8(0, d, f, 0x0e) & 0x80))
				nfn = 8;
			if ((id & 0xffff) != VIRTIO_VENDOR)
				continue;
			subsys = pci_read16(0, d, f, 0x2e);
			if (device_type((uint16_t)(id >> 16), subsys) != type)
				continue;
			if (nth--)
				continue;
			memset(vd, 0, sizeof(*vd));
			vd->bus = 0;
			vd->dev = (uint8_t)d;
			vd->fn = (uint8_t)f;
			vd->device_id = (uint16_t)(id >> 16);
			vd->type = type;
			vd->modern = modern;
			snprintf(vd->bdf, sizeof(vd->bdf), "%02x:%02x.%x", 0, d, f);
			pci_enable(0, d, f);
			if (modern) {
				if (probe_modern(vd) < 0) {
					printf("JBT virtio %s %04x no-modern\n",
					       vd->bdf, vd->device_id);
					return -2;
				}
				return 0;
			}
			{
				int io;
				uint64_t bar0 = pci_bar(0, d, f, 0, &io);

				if (vd->device_id >= 0x1040 || !io || !bar0) {
					printf("JBT virtio %s %04x no-legacy\n",
					       vd->bdf, vd->device_id);
					return -2;
				}
				vd->io = (uint16_t)bar0;
				vd->cfg_off = msix_enabled(vd) ? 0x18 : 0x14;
			}
			return 0;
		}
	}
	return -1;
}

static void set_status(struct virtio_dev *vd, uint8_t s)
{
	if (vd->modern)
		mmio_write8(vd->common + VC_STATUS, s);
	else
		outb(vd->io + VL_STATUS, s);
}

uint8_t virtio_status(struct virtio_dev *vd)
{
	return vd->modern ? mmio_read8(vd->common + VC_STATUS)
			  : inb(vd->io + VL_STATUS);
}

uint8_t virtio_isr(struct virtio_dev *vd)
{
	return vd->modern ? mmio_read8(vd->isr) : inb(vd->io + VL_ISR);
}

int virtio_init(struct virtio_dev *vd, uint64_t wanted)
{
	set_status(vd, 0);				/* reset */
	for (unsigned i = 0; i < 1000 && virtio_status(vd); i++)
		spin(100);
	set_status(vd, VIRTIO_STATUS_ACK);
	set_status(vd, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	if (!vd->modern) {
		vd->features = inl(vd->io + VL_HOST_FEATURES);
		vd->accepted = vd->features & wanted & 0xffffffffULL;
		outl(vd->io + VL_GUEST_FEATURES, (uint32_t)vd->accepted);
		return 0;
	}
	mmio_write32(vd->common + VC_DFSELECT, 0);
	vd->features = mmio_read32(vd->common + VC_DF);
	mmio_write32(vd->common + VC_DFSELECT, 1);
	vd->features |= (uint64_t)mmio_read32(vd->common + VC_DF) << 32;
	if (!(vd->features & VIRTIO_F_VERSION_1)) {
		printf("JBT virtio %s no-version-1\n", vd->bdf);
		set_status(vd, VIRTIO_STATUS_FAILED);
		return -1;
	}
	vd->accepted = vd->features & (wanted | VIRTIO_F_VERSION_1);
	mmio_write32(vd->common + VC_GFSELECT, 0);
	mmio_write32(vd->common + VC_GF, (uint32_t)vd->accepted);
	mmio_write32(vd->common + VC_GFSELECT, 1);
	mmio_write32(vd->common + VC_GF, (uint32_t)(vd->accepted >> 32));
	set_status(vd, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
			       VIRTIO_STATUS_FEATURES_OK);
	if (!(virtio_status(vd) & VIRTIO_STATUS_FEATURES_OK)) {
		printf("JBT virtio %s features-not-ok\n", vd->bdf);
		set_status(vd, VIRTIO_STATUS_FAILED);
		return -1;
	}
	return 0;
}

void virtio_driver_ok(struct virtio_dev *vd)
{
	set_status(vd, vd->modern ? (VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_FEATURES_OK |
				     VIRTIO_STATUS_DRIVER_OK)
				  : (VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
				     VIRTIO_STATUS_DRIVER_OK));
}

int virtq_setup(struct virtio_dev *vd, struct virtq *q, unsigned index,
		unsigned max_size)
{
	unsigned size;
	uint64_t avail_off, used_off, total;
	uint8_t *mem;

	memset(q, 0, sizeof(*q));
	q->vd = vd;
	q->index = (uint16_t)index;
	if (vd->modern) {
		if (index >= mmio_read16(vd->common + VC_NUM_QUEUES))
			return -1;
		mmio_write16(vd->common + VC_Q_SELECT, (uint16_t)index);
		size = mmio_read16(vd->common + VC_Q_SIZE);
		if (size > max_size)
			size = max_size;
	} else {
		outw(vd->io + VL_QUEUE_SELECT, (uint16_t)index);
		size = inw(vd->io + VL_QUEUE_SIZE);
	}
	if (!size)
		return -1;
	q->size = (uint16_t)size;
	avail_off = 16ULL * size;
	used_off = (avail_off + 6 + 2ULL * size + 4095) & ~4095ULL;
	total = used_off + 6 + 8ULL * size;
	mem = dma_alloc(total, 4096);
	q->desc = (volatile struct virtq_desc *)mem;
	q->avail = (volatile struct virtq_avail *)(mem + avail_off);
	q->used = (volatile struct virtq_used *)(mem + used_off);
	if (!vd->modern) {
		outl(vd->io + VL_QUEUE_PFN, (uint32_t)((uint64_t)mem >> 12));
		return 0;
	}
	mmio_write16(vd->common + VC_Q_SIZE, (uint16_t)size);
	mmio_write16(vd->common + VC_Q_MSIX, 0xffff);	/* no vector */
	mmio_write32(vd->common + VC_Q_DESC, (uint32_t)(uint64_t)q->desc);
	mmio_write32(vd->common + VC_Q_DESC + 4, (uint32_t)((uint64_t)q->desc >> 32));
	mmio_write32(vd->common + VC_Q_DRIVER, (uint32_t)(uint64_t)q->avail);
	mmio_write32(vd->common + VC_Q_DRIVER + 4, (uint32_t)((uint64_t)q->avail >> 32));
	mmio_write32(vd->common + VC_Q_DEVICE, (uint32_t)(uint64_t)q->used);
	mmio_write32(vd->common + VC_Q_DEVICE + 4, (uint32_t)((uint64_t)q->used >> 32));
	q->notify_addr = vd->notify +
			 (uint64_t)mmio_read16(vd->common + VC_Q_NOTIFY_OFF) *
				 vd->notify_mult;
	mmio_write16(vd->common + VC_Q_ENABLE, 1);
	return 0;
}

static uint64_t cfg_addr(struct virtio_dev *vd, unsigned off)
{
	return vd->devcfg + off;
}

uint8_t virtio_cfg8(struct virtio_dev *vd, unsigned off)
{
	return vd->modern ? mmio_read8(cfg_addr(vd, off))
			  : inb((uint16_t)(vd->io + vd->cfg_off + off));
}

uint16_t virtio_cfg16(struct virtio_dev *vd, unsigned off)
{
	return vd->modern ? mmio_read16(cfg_addr(vd, off))
			  : inw((uint16_t)(vd->io + vd->cfg_off + off));
}

uint32_t virtio_cfg32(struct virtio_dev *vd, unsigned off)
{
	return vd->modern ? mmio_read32(cfg_addr(vd, off))
			  : inl((uint16_t)(vd->io + vd->cfg_off + off));
}

uint64_t virtio_cfg64(struct virtio_dev *vd, unsigned off)
{
	return virtio_cfg32(vd, off) | (uint64_t)virtio_cfg32(vd, off + 4) << 32;
}

void virtq_add(struct virtq *q, unsigned head, const struct vbuf *bufs,
	       unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		volatile struct virtq_desc *d = &q->desc[(head + i) % q->size];

		d->addr = (uint64_t)bufs[i].addr;
		d->len = bufs[i].len;
		d->flags = (uint16_t)((bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) |
				      (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		d->next = (uint16_t)((head + i + 1) % q->size);
	}
	q->avail->ring[q->avail_idx % q->size] = (uint16_t)(head % q->size);
	mb();
	q->avail_idx++;
	q->avail->idx = q->avail_idx;
	mb();
}

void virtq_kick(struct virtq *q)
{
	if (q->vd->modern)
		mmio_write16(q->notify_addr, q->index);
	else
		outw(q->vd->io + VL_QUEUE_NOTIFY, q->index);
}

int virtq_get(struct virtq *q, uint32_t *len)
{
	volatile struct virtq_used_elem *e;

	if (q->used->idx == q->last_used)
		return -1;
	mb();
	e = &q->used->ring[q->last_used % q->size];
	q->last_used++;
	if (len)
		*len = e->len;
	return (int)e->id;
}

long virtq_xfer(struct virtq *q, const struct vbuf *bufs, unsigned n,
		unsigned long spins)
{
	uint32_t len;

	virtq_add(q, 0, bufs, n);
	virtq_kick(q);
	for (unsigned long i = 0; i < spins; i++) {
		if (virtq_get(q, &len) >= 0)
			return len;
		spin(1000);
	}
	return -1;
}
