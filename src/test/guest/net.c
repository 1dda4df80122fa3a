/*
 * net.elf: a responder on the wire.  Drives an Intel 8254x (e1000) or a
 * virtio-net NIC by polling its rings in ring 3, answers ARP requests and
 * ICMP echo requests for the address given by ip=, and stops after count=
 * echo replies or timeout= seconds.  See README.md.
 */
#include "common.h"
#include "virtio.h"

#define FRAME_MAX 2048

static const struct boot_info *boot;
static uint8_t my_mac[6];
static uint8_t my_ip[4] = { 10, 0, 2, 15 };
static unsigned arp_replied, icmp_replied;

/* The NIC in use: receive one frame (returns its length, 0 if none; *frame
 * stays valid until rx_done), give the buffer back, transmit one frame. */
static struct {
	unsigned (*rx)(uint8_t **frame);
	void (*rx_done)(void);
	void (*tx)(const uint8_t *frame, unsigned len);
} nic;

static void print_mac(const char *prefix, const uint8_t *m)
{
	printf("%s%02x:%02x:%02x:%02x:%02x:%02x", prefix, m[0], m[1], m[2],
	       m[3], m[4], m[5]);
}

/* ---- e1000 (82540EM/82545EM), legacy descriptors ----------------------- */

#define E1000_CTRL 0x0000
#define E1000_STATUS 0x0008
#define E1000_EERD 0x0014
#define E1000_ICR 0x00c0
#define E1000_IMS 0x00d0
#define E1000_IMC 0x00d8
#define E1000_RCTL 0x0100
#define E1000_TCTL 0x0400
#define E1000_TIPG 0x0410
#define E1000_RDBAL 0x2800
#define E1000_RDBAH 0x2804
#define E1000_RDLEN 0x2808
#define E1000_RDH 0x2810
#define E1000_RDT 0x2818
#define E1000_TDBAL 0x3800
#define E1000_TDBAH 0x3804
#define E1000_TDLEN 0x3808
#define E1000_TDH 0x3810
#define E1000_TDT 0x3818
#define E1000_RAL 0x5400
#define E1000_RAH 0x5404

#define CTRL_ASDE (1u << 5)
#define CTRL_SLU (1u << 6)
#define CTRL_RST (1u << 26)
#define STATUS_LU (1u << 1)
#define RCTL_EN (1u << 1)
#define RCTL_BAM (1u << 15)
#define RCTL_SECRC (1u << 26)
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)
#define TXD_CMD_EOP 0x01
#define TXD_CMD_IFCS 0x02
#define TXD_CMD_RS 0x08
#define DESC_DD 0x01

#define E1000_NRX 32
#define E1000_NTX 8

struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};

static struct {
	uint64_t mmio;
	volatile struct e1000_rx_desc *rx;
	volatile struct e1000_tx_desc *tx;
	uint8_t *rxbuf, *txbuf;
	unsigned rx_next, tx_next;
} e1000;

static uint32_t er(unsigned reg)
{
	return mmio_read32(e1000.mmio + reg);
}

static void ew(unsigned reg, uint32_t v)
{
	mmio_write32(e1000.mmio + reg, v);
}

static unsigned e1000_rx(uint8_t **frame)
{
	volatile struct e1000_rx_desc *d = &e1000.rx[e1000.rx_next];

	if (!(d->status & DESC_DD))
		return 0;
	mb();
	*frame = e1000.rxbuf + e1000.rx_next * FRAME_MAX;
	return d->length ? d->length : 1;
}

static void e1000_rx_done(void)
{
	volatile struct e1000_rx_desc *d = &e1000.rx[e1000.rx_next];

	d->status = 0;
	mb();
	ew(E1000_RDT, e1000.rx_next);	/* hand this descriptor back */
	e1000.rx_next = (e1000.rx_next + 1) % E1000_NRX;
}

static void e1000_tx(const uint8_t *frame, unsigned len)
{
	unsigned i = e1000.tx_next;
	volatile struct e1000_tx_desc *d = &e1000.tx[i];
	uint8_t *buf = e1000.txbuf + i * FRAME_MAX;

	memcpy(buf, frame, len);
	d->addr = (uint64_t)buf;
	d->length = (uint16_t)len;
	d->cso = 0;
	d->cmd = TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS;
	d->status = 0;
	d->css = 0;
	d->special = 0;
	mb();
	e1000.tx_next = (i + 1) % E1000_NTX;
	ew(E1000_TDT, e1000.tx_next);
	for (unsigned n = 0; n < 100000 && !(d->status & DESC_DD); n++)
		spin(100);
	if (!(d->status & DESC_DD))
		printf("JBT net tx-timeout\n");
}

static int e1000_init(const struct pci_func *f)
{
	int io;
	uint32_t ral, rah;

	e1000.mmio = pci_bar(f->bus, f->dev, f->fn, 0, &io);
	if (io || !e1000.mmio || e1000.mmio >= (4ULL << 30)) {
		printf("JBT net %02x:%02x.%x bar0 unusable %lx\n", f->bus,
		       f->dev, f->fn, e1000.mmio);
		return -1;
	}
	pci_enable(f->bus, f->dev, f->fn);
	ew(E1000_IMC, 0xffffffff);
	ew(E1000_CTRL, er(E1000_CTRL) | CTRL_RST);
	spin(100000);
	for (unsigned n = 0; n < 10000 && (er(E1000_CTRL) & CTRL_RST); n++)
		spin(1000);
	ew(E1000_IMC, 0xffffffff);
	(void)er(E1000_ICR);
	ew(E1000_CTRL, (er(E1000_CTRL) | CTRL_SLU | CTRL_ASDE) & ~CTRL_RST);

	/* MAC address: EEPROM words 0-2 through EERD, else RAL/RAH */
	for (unsigned w = 0; w < 3; w++) {
		uint32_t v = 0;

		ew(E1000_EERD, w << 8 | 1);		/* address, START */
		for (unsigned n = 0; n < 10000; n++) {
			v = er(E1000_EERD);
			if (v & (1u << 4))		/* DONE */
				break;
			spin(100);
		}
		if (!(v & (1u << 4))) {
			ral = er(E1000_RAL);
			rah = er(E1000_RAH);
			printf("JBT net eerd-timeout\n");
			for (unsigned i = 0; i < 4; i++)
				my_mac[i] = (uint8_t)(ral >> (8 * i));
			my_mac[4] = (uint8_t)rah;
			my_mac[5] = (uint8_t)(rah >> 8);
			break;
		}
		my_mac[2 * w] = (uint8_t)(v >> 16);
		my_mac[2 * w + 1] = (uint8_t)(v >> 24);
	}
	ral = my_mac[0] | my_mac[1] << 8 | my_mac[2] << 16 |
	      (uint32_t)my_mac[3] << 24;
	rah = my_mac[4] | my_mac[5] << 8 | 1u << 31;	/* Address Valid */
	ew(E1000_RAL, ral);
	ew(E1000_RAH, rah);

	e1000.rx = dma_alloc(E1000_NRX * sizeof(struct e1000_rx_desc), 128);
	e1000.tx = dma_alloc(E1000_NTX * sizeof(struct e1000_tx_desc), 128);
	e1000.rxbuf = dma_alloc(E1000_NRX * FRAME_MAX, 4096);
	e1000.txbuf = dma_alloc(E1000_NTX * FRAME_MAX, 4096);
	for (unsigned i = 0; i < E1000_NRX; i++)
		e1000.rx[i].addr = (uint64_t)(e1000.rxbuf + i * FRAME_MAX);
	ew(E1000_RDBAL, (uint32_t)(uint64_t)e1000.rx);
	ew(E1000_RDBAH, (uint32_t)((uint64_t)e1000.rx >> 32));
	ew(E1000_RDLEN, E1000_NRX * sizeof(struct e1000_rx_desc));
	ew(E1000_RDH, 0);
	ew(E1000_RDT, E1000_NRX - 1);
	ew(E1000_TDBAL, (uint32_t)(uint64_t)e1000.tx);
	ew(E1000_TDBAH, (uint32_t)((uint64_t)e1000.tx >> 32));
	ew(E1000_TDLEN, E1000_NTX * sizeof(struct e1000_tx_desc));
	ew(E1000_TDH, 0);
	ew(E1000_TDT, 0);
	ew(E1000_TIPG, 10 | 10 << 10 | 10 << 20);
	ew(E1000_TCTL, TCTL_EN | TCTL_PSP | 0x10 << 4 | 0x40 << 12);
	/* receive: enable, broadcast accept, strip CRC, 2048-byte buffers */
	ew(E1000_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);

	nic.rx = e1000_rx;
	nic.rx_done = e1000_rx_done;
	nic.tx = e1000_tx;
	printf("JBT net %02x:%02x.%x e1000", f->bus, f->dev, f->fn);
	print_mac(" mac ", my_mac);
	printf(" link %s\n", er(E1000_STATUS) & STATUS_LU ? "up" : "down");
	return 0;
}

/* ---- virtio-net ---------------------------------------------------------- */

#define VIRTIO_NET_F_MAC (1u << 5)
#define VIRTIO_NET_F_MRG_RXBUF (1u << 15)
#define VIRTIO_NET_F_STATUS (1u << 16)

static struct {
	struct virtio_dev vd;
	struct virtq rxq, txq;
	uint8_t *rxbuf, *txbuf;
	unsigned hdr_len;
	int cur;		/* descriptor of the frame being handled */
} vnet;

static void vnet_post(unsigned slot)
{
	struct vbuf b = { vnet.rxbuf + slot * FRAME_MAX, FRAME_MAX, 1 };

	virtq_add(&vnet.rxq, slot, &b, 1);
}

static unsigned vnet_rx(uint8_t **frame)
{
	uint32_t len;
	int head = virtq_get(&vnet.rxq, &len);

	if (head < 0)
		return 0;
	vnet.cur = head;
	*frame = vnet.rxbuf + head * FRAME_MAX + vnet.hdr_len;
	return len > vnet.hdr_len ? len - vnet.hdr_len : 1;
}

static void vnet_rx_done(void)
{
	vnet_post((unsigned)vnet.cur);
	virtq_kick(&vnet.rxq);
}

static void vnet_tx(const uint8_t *frame, unsigned len)
{
	struct vbuf b[2] = {
		{ vnet.txbuf, vnet.hdr_len, 0 },	/* zeroed header */
		{ vnet.txbuf + 64, len, 0 },
	};

	memset(vnet.txbuf, 0, 64);
	memcpy(vnet.txbuf + 64, frame, len);
	if (virtq_xfer(&vnet.txq, b, 2, 10000) < 0)
		printf("JBT net tx-timeout\n");
}

static int vnet_init(int modern)
{
	struct virtio_dev *vd = &vnet.vd;
	char v[8];
	uint32_t want = VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS;
	int link = 1;

	if (cmdline_get(boot, "mrg", v, sizeof(v)) > 0 && v[0] == '1')
		want |= VIRTIO_NET_F_MRG_RXBUF;
	if (virtio_init(vd, want) < 0)
		return -1;
	vnet.hdr_len = (vd->modern || (vd->accepted & VIRTIO_NET_F_MRG_RXBUF))
			       ? 12 : 10;
	if (virtq_setup(vd, &vnet.rxq, 0, 64) < 0 ||
	    virtq_setup(vd, &vnet.txq, 1, 64) < 0) {
		printf("JBT net %s no-queue\n", vd->bdf);
		return -1;
	}
	vnet.rxbuf = dma_alloc((uint64_t)vnet.rxq.size * FRAME_MAX, 4096);
	vnet.txbuf = dma_alloc(FRAME_MAX + 64, 4096);
	for (unsigned i = 0; i < vnet.rxq.size; i++)
		vnet_post(i);
	virtio_driver_ok(vd);
	virtq_kick(&vnet.rxq);
	if (vd->accepted & VIRTIO_NET_F_MAC) {
		for (unsigned i = 0; i < 6; i++)
			my_mac[i] = virtio_cfg8(vd, i);
	} else {
		static const uint8_t fallback[6] = { 0x52, 0x54, 0x00, 0x4a, 0x42, 0x54 };
		memcpy(my_mac, fallback, 6);
	}
	if (vd->accepted & VIRTIO_NET_F_STATUS)
		link = virtio_cfg16(vd, 6) & 1;
	nic.rx = vnet_rx;
	nic.rx_done = vnet_rx_done;
	nic.tx = vnet_tx;
	printf("JBT net %s virtio-net", vd->bdf);
	print_mac(" mac ", my_mac);
	printf(" link %s\n", link ? "up" : "down");
	printf("JBT net iface %s features %lx hdr %u queue %u\n",
	       modern ? "modern" : "legacy", vd->features, vnet.hdr_len,
	       vnet.rxq.size);
	return 0;
}

/* ---- choosing the NIC ---------------------------------------------------- */

struct nic_search {
	int want;		/* 0 any, 1 e1000, 2 virtio-net */
	int found;		/* 1 e1000, 2 virtio-net */
	struct pci_func f;
};

static void match_nic(const struct pci_func *f, void *ctx)
{
	struct nic_search *s = ctx;
	int kind = 0;

	if (s->found)
		return;
	if (f->vendor == 0x8086 && (f->device == 0x100e || f->device == 0x100f))
		kind = 1;
	else if (f->vendor == VIRTIO_VENDOR &&
		 (f->device == 0x1000 || f->device == 0x1041))
		kind = 2;
	if (kind && (!s->want || s->want == kind)) {
		s->found = kind;
		s->f = *f;
	}
}

/* ---- ARP and ICMP -------------------------------------------------------- */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Internet checksum (RFC 1071) */
static uint16_t inet_csum(const uint8_t *p, unsigned len)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += be16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint8_t out[FRAME_MAX];

static void handle_arp(const uint8_t *f, unsigned len)
{
	const uint8_t *a = f + 14;

	if (len < 42 || be16(a) != 1 || be16(a + 2) != 0x0800 || a[4] != 6 ||
	    a[5] != 4 || be16(a + 6) != 1 || memcmp(a + 24, my_ip, 4))
		return;
	memset(out, 0, 60);
	memcpy(out, a + 8, 6);			/* to the sender */
	memcpy(out + 6, my_mac, 6);
	put_be16(out + 12, 0x0806);
	put_be16(out + 14, 1);			/* Ethernet */
	put_be16(out + 16, 0x0800);		/* IPv4 */
	out[18] = 6;
	out[19] = 4;
	put_be16(out + 20, 2);			/* reply */
	memcpy(out + 22, my_mac, 6);		/* sender: us */
	memcpy(out + 28, my_ip, 4);
	memcpy(out + 32, a + 8, 6);		/* target: the requester */
	memcpy(out + 38, a + 14, 4);
	nic.tx(out, 60);
	printf("JBT net arp-replied %u\n", ++arp_replied);
}

static void handle_ipv4(const uint8_t *f, unsigned len)
{
	const uint8_t *ip = f + 14;
	unsigned ihl, total;
	uint8_t *oip, *icmp;

	if (len < 14 + 20 || (ip[0] >> 4) != 4)
		return;
	ihl = (ip[0] & 15) * 4u;
	total = be16(ip + 2);
	if (ihl < 20 || total < ihl + 8 || 14 + total > len ||
	    total > FRAME_MAX - 14 || memcmp(ip + 16, my_ip, 4) ||
	    ip[9] != 1 || ip[ihl] != 8)		/* ICMP echo request */
		return;
	if (inet_csum(ip, ihl) != 0)
		return;
	memcpy(out, f + 6, 6);
	memcpy(out + 6, my_mac, 6);
	put_be16(out + 12, 0x0800);
	oip = out + 14;
	memcpy(oip, ip, total);
	memcpy(oip + 12, my_ip, 4);		/* source: us */
	memcpy(oip + 16, ip + 12, 4);		/* destination: the sender */
	oip[8] = 64;				/* TTL */
	put_be16(oip + 10, 0);
	put_be16(oip + 10, inet_csum(oip, ihl));
	icmp = oip + ihl;
	icmp[0] = 0;				/* echo reply */
	icmp[1] = 0;
	put_be16(icmp + 2, 0);
	put_be16(icmp + 2, inet_csum(icmp, total - ihl));
	nic.tx(out, 14 + total < 60 ? 60 : 14 + total);
	printf("JBT net icmp-replied %u\n", ++icmp_replied);
}

static void handle_frame(const uint8_t *f, unsigned len)
{
	if (len < 14)
		return;
	if (memcmp(f, my_mac, 6) && memcmp(f, "\xff\xff\xff\xff\xff\xff", 6))
		return;
	switch (be16(f + 12)) {
	case 0x0806: handle_arp(f, len); break;
	case 0x0800: handle_ipv4(f, len); break;
	}
}

static int parse_ip(const char *s, uint8_t ip[4])
{
	for (unsigned i = 0; i < 4; i++) {
		const char *end;
		uint64_t v = parse_uint(s, &end, 10);

		if (end == s || v > 255 || (i < 3 && *end != '.'))
			return -1;
		ip[i] = (uint8_t)v;
		s = end + 1;
	}
	return 0;
}

static long user_main(void *arg)
{
	char v[32];
	struct nic_search s = { 0 };
	unsigned count = 0, timeout = 30;
	int modern = 0;
	struct rtc_timer t;
	unsigned long idle = 0;

	boot = arg;
	printf("JBT net-guest\n");
	if (cmdline_get(boot, "ip", v, sizeof(v)) > 0 && parse_ip(v, my_ip) < 0) {
		printf("JBT net bad-ip %s\n", v);
		guest_exit(0x7f);
	}
	if (cmdline_get(boot, "count", v, sizeof(v)) > 0)
		count = (unsigned)parse_uint(v, 0, 0);
	if (cmdline_get(boot, "timeout", v, sizeof(v)) > 0)
		timeout = (unsigned)parse_uint(v, 0, 0);
	if (cmdline_get(boot, "iface", v, sizeof(v)) > 0 && !strcmp(v, "modern"))
		modern = 1;
	if (cmdline_get(boot, "nic", v, sizeof(v)) > 0)
		s.want = !strcmp(v, "e1000") ? 1 : !strcmp(v, "virtio-net") ? 2 : -1;
	pci_scan_bus(0, match_nic, &s);
	if (s.found == 1) {
		if (e1000_init(&s.f) < 0)
			guest_exit(0x7c);
	} else if (s.found == 2) {
		if (virtio_find(VIRTIO_TYPE_NET, modern, 0, &vnet.vd) < 0 ||
		    vnet_init(modern) < 0)
			guest_exit(0x7c);
	} else {
		printf("JBT net none\n");
		guest_exit(0x7c);
	}
	printf("JBT net ready ip %u.%u.%u.%u\n", my_ip[0], my_ip[1], my_ip[2],
	       my_ip[3]);

	timer_start(&t, timeout);
	for (;;) {
		uint8_t *frame;
		unsigned len = nic.rx(&frame);

		if (len) {
			handle_frame(frame, len);
			nic.rx_done();
			if (count && icmp_replied >= count) {
				printf("JBT net done %u\n", icmp_replied);
				guest_exit(0);
			}
			continue;
		}
		spin(500);
		if (++idle % 256 == 0 && timeout && timer_expired(&t)) {
			printf("JBT net stats arp %u icmp %u\n", arp_replied,
			       icmp_replied);
			printf("JBT net timeout\n");
			guest_exit(2);
		}
	}
	return 0;
}

void guest_main(const struct boot_info *bi)
{
	run_user(user_main, (void *)bi);
	guest_exit(0x7f);
}
