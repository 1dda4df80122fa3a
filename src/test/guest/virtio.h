/*
 * A minimal virtio PCI driver core (virtio 1.x "modern" and 0.9.5 "legacy"
 * interfaces), polling only.
 *
 * Discovery: vendor 0x1AF4 on bus 0.  Device ids 0x1000-0x103F are
 * transitional (legacy I/O BAR0, device type in the subsystem id; 0x1000
 * net, 0x1001 block, 0x1003 console, 0x1005 entropy), 0x1040 + type are
 * modern-only.
 *
 * Legacy interface, I/O BAR0: 0x00 device features (32 bits), 0x04 driver
 * features, 0x08 queue PFN (address >> 12), 0x0C queue size (read only),
 * 0x0E queue select, 0x10 queue notify, 0x12 status, 0x13 ISR (read
 * clears), device-specific configuration at 0x14 (0x18 with MSI-X on).
 * Queue layout is fixed: descriptors, avail ring, then the used ring at the
 * next 4 KiB boundary.
 *
 * Modern interface: vendor-specific PCI capabilities (id 0x09) name a BAR
 * and an offset for each structure: cfg_type 1 common configuration,
 * 2 notifications (+ notify_off_multiplier), 3 ISR, 4 device configuration.
 * Feature bit 32 (VERSION_1) must be accepted, and status FEATURES_OK (8)
 * set and read back before the queues are configured.
 *
 * Split virtqueue: descriptors {addr u64, len u32, flags u16 (1 NEXT,
 * 2 WRITE = device writes), next u16}; the driver puts chain heads in the
 * avail ring {flags, idx, ring[]}, the device returns {id, len} pairs in
 * the used ring {flags, idx, ring[]}.
 */
#ifndef TEST_VIRTIO_H
#define TEST_VIRTIO_H

#include <stdint.h>

#define VIRTIO_VENDOR 0x1af4

#define VIRTIO_TYPE_NET 1
#define VIRTIO_TYPE_BLK 2
#define VIRTIO_TYPE_CONSOLE 3
#define VIRTIO_TYPE_RNG 4

#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_FAILED 0x80

#define VIRTIO_F_VERSION_1 (1ULL << 32)

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];
};

struct virtio_dev {
	uint8_t bus, dev, fn;
	uint16_t device_id;
	unsigned type;
	int modern;
	char bdf[8];			/* "bb:dd.f" */
	uint16_t io;			/* legacy: I/O BAR0 */
	uint16_t cfg_off;		/* legacy: 0x14, or 0x18 with MSI-X on */
	uint64_t common, notify, isr, devcfg;	/* modern: addresses */
	uint32_t notify_mult;
	uint64_t features;		/* offered by the device */
	uint64_t accepted;		/* negotiated */
};

struct virtq {
	struct virtio_dev *vd;
	uint16_t index, size;
	uint16_t avail_idx, last_used;
	volatile struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	uint64_t notify_addr;		/* modern */
};

/* One buffer of a descriptor chain. */
struct vbuf {
	void *addr;
	uint32_t len;
	int device_writes;
};

/*
 * Finds the nth (0-based) virtio device of the given type on bus 0 that
 * offers the wanted interface (modern = 1) and fills vd.  Returns 0; -1 if
 * there is no such device; -2 after a "JBT virtio ..." line explaining why
 * the device was skipped (no legacy BAR, no modern capabilities, BAR above
 * 4 GiB).
 */
int virtio_find(unsigned type, int modern, unsigned nth, struct virtio_dev *vd);
/* Name of the device type: "net", "blk", "console", "rng". */
const char *virtio_type_name(unsigned type);

/*
 * Reset, ACKNOWLEDGE | DRIVER, read the device features, accept
 * features & wanted (plus VERSION_1 for modern), FEATURES_OK.  0 or -1.
 */
int virtio_init(struct virtio_dev *vd, uint64_t wanted);
/* Sets up queue index with at most max_size entries (legacy: the device's
 * size, whatever max_size).  0 or -1 (queue absent). */
int virtq_setup(struct virtio_dev *vd, struct virtq *q, unsigned index,
		unsigned max_size);
void virtio_driver_ok(struct virtio_dev *vd);
uint8_t virtio_status(struct virtio_dev *vd);
/* Reads (and so clears) the ISR status: bit 0 queue, bit 1 config. */
uint8_t virtio_isr(struct virtio_dev *vd);

uint8_t virtio_cfg8(struct virtio_dev *vd, unsigned off);
uint16_t virtio_cfg16(struct virtio_dev *vd, unsigned off);
uint32_t virtio_cfg32(struct virtio_dev *vd, unsigned off);
uint64_t virtio_cfg64(struct virtio_dev *vd, unsigned off);

/*
 * Puts a chain of n buffers in descriptors head..head+n-1 (mod size) and
 * makes it available; virtq_kick notifies the device.
 */
void virtq_add(struct virtq *q, unsigned head, const struct vbuf *bufs,
	       unsigned n);
void virtq_kick(struct virtq *q);
/* Next used element: returns its chain head and sets *len, or -1. */
int virtq_get(struct virtq *q, uint32_t *len);
/* virtq_add + kick, then polls for the result (bounded, about spins
 * iterations of 1000 PAUSEs); returns the used length or -1 on timeout. */
long virtq_xfer(struct virtq *q, const struct vbuf *bufs, unsigned n,
		unsigned long spins);

#endif
