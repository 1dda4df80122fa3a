/*
 * virtio.elf: drives virtio-blk, virtio-rng and virtio-console through the
 * legacy or the modern PCI interface (iface=legacy|modern) by polling the
 * used rings.  See README.md for the options and output lines.
 */
#include "common.h"
#include "serial.h"
#include "virtio.h"

static int use_modern;
static int check_irq;
static const struct boot_info *boot;

#define XFER_SPINS 200000UL	/* x 1000 PAUSEs: a few seconds */

static void report_isr(struct virtio_dev *vd)
{
	if (check_irq)
		printf("JBT virtio %s isr %x\n", vd->bdf, virtio_isr(vd));
}

static void print_text(const char *prefix, const uint8_t *p, unsigned n)
{
	char out[130];
	unsigned j = 0;

	for (unsigned i = 0; i < n && j + 2 < sizeof(out); i++) {
		uint8_t c = p[i];

		if (c == '"' || c == '\\') {
			out[j++] = '\\';
			out[j++] = (char)c;
		} else {
			out[j++] = (c >= ' ' && c < 0x7f) ? (char)c : '.';
		}
	}
	out[j] = '\0';
	printf("%s\"%s\"", prefix, out);
}

/* ---- virtio-blk --------------------------------------------------------- */

#define VIRTIO_BLK_F_RO (1u << 5)
#define VIRTIO_BLK_F_BLK_SIZE (1u << 6)
#define VIRTIO_BLK_F_FLUSH (1u << 9)

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

struct blk_req {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static struct {
	struct virtio_dev vd;
	struct virtq q;
	struct blk_req *hdr;
	uint8_t *data;
	uint8_t *status;
	uint64_t capacity;
} blk;

/* One request: header, optional data (device_writes for reads), status. */
static int blk_request(uint32_t type, uint64_t sector, uint32_t len,
		       int device_writes)
{
	struct vbuf b[3];
	unsigned n = 0;
	long r;

	blk.hdr->type = type;
	blk.hdr->reserved = 0;
	blk.hdr->sector = sector;
	*blk.status = 0xff;
	b[n++] = (struct vbuf){ blk.hdr, sizeof(*blk.hdr), 0 };
	if (len)
		b[n++] = (struct vbuf){ blk.data, len, device_writes };
	b[n++] = (struct vbuf){ blk.status, 1, 1 };
	r = virtq_xfer(&blk.q, b, n, XFER_SPINS);
	if (r < 0) {
		printf("JBT vblk timeout\n");
		return -1;
	}
	report_isr(&blk.vd);
	return *blk.status;
}

static void blk_read(uint64_t sector, const char *what)
{
	char hex[33];
	int st;

	memset(blk.data, 0, 512);
	st = blk_request(VIRTIO_BLK_T_IN, sector, 512, 1);
	hex_bytes(hex, blk.data, 16);
	if (!strcmp(what, "readpast"))
		printf("JBT vblk readpast status %d\n", st);
	else
		printf("JBT vblk read %lu status %d data %s\n", sector, st, hex);
}

static void blk_write(uint64_t sector, const char *text, const char *what)
{
	unsigned tl = (unsigned)strlen(text);

	for (unsigned i = 0; i < 512; i++)
		blk.data[i] = tl ? (uint8_t)text[i % tl] : 0;
	printf("JBT vblk %s %lu status %d\n", what, sector,
	       blk_request(VIRTIO_BLK_T_OUT, sector, 512, 0));
}

/*
 * churn:N — writes sectors 1..N in turn for ever, each write followed by a flush, and reports
 * "JBT vblk durable SEQ" once the flush of write SEQ completed: from then on the VMM owes that
 * write (and every earlier one) to the disk, even if it is killed. Write SEQ goes to sector
 * 1 + (SEQ - 1) % N and holds "JBD" and SEQ as 10 decimal digits, repeated.
 */
static void blk_churn(unsigned sectors)
{
	unsigned seq;

	if (!sectors)
		sectors = 1;
	for (seq = 1;; seq++) {
		unsigned i, v = seq;
		char tag[16] = "JBD0000000000 ";
		int st;

		for (i = 12; i >= 3; i--) {
			tag[i] = (char)('0' + v % 10);
			v /= 10;
		}
		for (i = 0; i < 512; i++)
			blk.data[i] = (uint8_t)tag[i % 14];
		st = blk_request(VIRTIO_BLK_T_OUT, 1 + (seq - 1) % sectors, 512, 0);
		if (st == 0)
			st = blk_request(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
		if (st != 0) {
			printf("JBT vblk churn %u status %d\n", seq, st);
			return;
		}
		printf("JBT vblk durable %u\n", seq);
	}
}

static void blk_actions(const char *list)
{
	char tok[96];

	while (*list) {
		unsigned n = 0;
		const char *arg;

		while (*list && *list != ',' && n + 1 < sizeof(tok))
			tok[n++] = *list++;
		tok[n] = '\0';
		if (*list == ',')
			list++;
		arg = strchr(tok, ':') ? strchr(tok, ':') + 1 : "";
		if (starts_with(tok, "read:")) {
			blk_read(parse_uint(arg, 0, 0), "read");
		} else if (starts_with(tok, "write:") ||
			   starts_with(tok, "writero:")) {
			const char *end;
			uint64_t s = parse_uint(arg, &end, 0);

			blk_write(s, *end == ':' ? end + 1 : "jbhyve",
				  tok[5] == 'r' ? "writero" : "write");
		} else if (!strcmp(tok, "flush")) {
			printf("JBT vblk flush status %d\n",
			       blk_request(VIRTIO_BLK_T_FLUSH, 0, 0, 0));
		} else if (starts_with(tok, "churn:")) {
			blk_churn((unsigned)parse_uint(arg, 0, 0));
		} else if (!strcmp(tok, "readpast")) {
			blk_read(blk.capacity, "readpast");
		} else if (!strcmp(tok, "getid")) {
			int st;

			memset(blk.data, 0, 21);
			st = blk_request(VIRTIO_BLK_T_GET_ID, 0, 20, 1);
			print_text("JBT vblk id ", blk.data,
				   (unsigned)strlen((char *)blk.data));
			printf(" status %d\n", st);
		} else if (n) {
			printf("JBT vblk unknown %s\n", tok);
		}
	}
}

static void do_blk(void)
{
	static char list[512];
	struct virtio_dev *vd = &blk.vd;
	uint32_t bsize = 512;
	int r = virtio_find(VIRTIO_TYPE_BLK, use_modern, 0, vd);

	if (r < 0) {
		if (r == -1)
			printf("JBT vblk none\n");
		return;
	}
	if (virtio_init(vd, VIRTIO_BLK_F_RO | VIRTIO_BLK_F_BLK_SIZE |
				    VIRTIO_BLK_F_FLUSH) < 0)
		return;
	if (virtq_setup(vd, &blk.q, 0, 128) < 0) {
		printf("JBT vblk %s no-queue\n", vd->bdf);
		return;
	}
	virtio_driver_ok(vd);
	blk.capacity = virtio_cfg64(vd, 0);
	if (vd->accepted & VIRTIO_BLK_F_BLK_SIZE)
		bsize = virtio_cfg32(vd, 20);
	printf("JBT vblk %s iface %s capacity %lu blk_size %u features %lx ro %d\n",
	       vd->bdf, vd->modern ? "modern" : "legacy", blk.capacity, bsize,
	       vd->features, (vd->features & VIRTIO_BLK_F_RO) ? 1 : 0);
	blk.hdr = dma_alloc(sizeof(*blk.hdr), 16);
	blk.status = dma_alloc(16, 16);
	blk.data = dma_alloc(4096, 4096);
	if (cmdline_get(boot, "blk", list, sizeof(list)) > 0)
		blk_actions(list);
}

/*
 * ticks=N: a guest that counts.  About once a second (RTC seconds) it reads
 * sector tick % 8 of the virtio-blk disk and prints
 * "JBT tick <n> read <sector> status <st> data <hex of 8 bytes>", N times.
 * With gate=K it prints "JBT gate K" after tick K and waits, polling COM1,
 * until a byte arrives: a test can take a snapshot there without racing the
 * count.  A snapshot taken between two ticks must resume at the next one.
 */
static void do_ticks(unsigned count, unsigned gate)
{
	for (unsigned n = 1; n <= count; n++) {
		struct rtc_timer t;
		int st;

		timer_start(&t, 1);
		while (!timer_expired(&t))
			spin(20000);
		memset(blk.data, 0, 512);
		st = blk.hdr ? blk_request(VIRTIO_BLK_T_IN, n % 8, 512, 1) : -1;
		{
			char hex[17];

			hex_bytes(hex, blk.data, 8);
			printf("JBT tick %u read %u status %d data %s\n", n, n % 8, st, hex);
		}
		if (n == gate) {
			printf("JBT gate %u\n", n);
			while (serial_getc_nonblock() < 0)
				spin(20000);
		}
	}
}

/* ---- virtio-rng --------------------------------------------------------- */

static void do_rng(void)
{
	struct virtio_dev vd;
	struct virtq q;
	char num[24];
	unsigned want, got = 0, nonzero = 0;
	uint8_t *buf;
	int r;

	if (cmdline_get(boot, "rng", num, sizeof(num)) < 0)
		return;
	want = (unsigned)parse_uint(num, 0, 0);
	r = virtio_find(VIRTIO_TYPE_RNG, use_modern, 0, &vd);

	if (r < 0) {
		if (r == -1)
			printf("JBT vrng none\n");
		return;
	}
	if (virtio_init(&vd, 0) < 0 || virtq_setup(&vd, &q, 0, 64) < 0)
		return;
	virtio_driver_ok(&vd);
	buf = dma_alloc(4096, 4096);
	while (got < want) {
		unsigned chunk = want - got > 4096 ? 4096 : want - got;
		struct vbuf b = { buf, chunk, 1 };
		long r = virtq_xfer(&q, &b, 1, XFER_SPINS);

		if (r < 0) {
			printf("JBT vrng timeout\n");
			break;
		}
		report_isr(&vd);
		for (long i = 0; i < r; i++)
			nonzero += buf[i] != 0;
		got += (unsigned)r;
	}
	printf("JBT vrng %s got %u nonzero %u\n", vd.bdf, got, nonzero);
}

/* ---- virtio-console ----------------------------------------------------- */

#define VIRTIO_CONSOLE_F_SIZE (1u << 0)
#define VIRTIO_CONSOLE_F_MULTIPORT (1u << 1)

#define VCON_DEVICE_READY 0
#define VCON_DEVICE_ADD 1
#define VCON_DEVICE_REMOVE 2
#define VCON_PORT_READY 3
#define VCON_CONSOLE_PORT 4
#define VCON_RESIZE 5
#define VCON_PORT_OPEN 6
#define VCON_PORT_NAME 7

#define VCON_PORTS 4		/* ports 0..3 get queues */
#define VCON_RXBUFS 8
#define VCON_BUFSZ 256

struct vcon_ctrl {
	uint32_t id;
	uint16_t event;
	uint16_t value;
};

static struct {
	struct virtio_dev vd;
	struct virtq rx[VCON_PORTS], tx[VCON_PORTS], crx, ctx;
	uint8_t *rxbuf[VCON_PORTS], *crxbuf, *ctlbuf, *txbuf;
	int multiport, port, port_added;
	uint8_t recv[64];
	unsigned nrecv;
} con;

static unsigned rx_queue(unsigned port)
{
	return port == 0 ? 0 : 2 * port + 2;
}

static void post_rx(struct virtq *q, uint8_t *bufs, unsigned slot)
{
	struct vbuf b = { bufs + slot * VCON_BUFSZ, VCON_BUFSZ, 1 };

	virtq_add(q, slot, &b, 1);
}

static void con_control(uint32_t id, uint16_t event, uint16_t value)
{
	struct vcon_ctrl *c = (struct vcon_ctrl *)con.ctlbuf;
	struct vbuf b = { c, sizeof(*c), 0 };

	c->id = id;
	c->event = event;
	c->value = value;
	if (virtq_xfer(&con.ctx, &b, 1, XFER_SPINS) < 0)
		printf("JBT vcon control-timeout\n");
}

/* Handles the control messages that arrived; returns how many. */
static unsigned con_poll_control(void)
{
	unsigned n = 0;
	uint32_t len;
	int head;

	while ((head = virtq_get(&con.crx, &len)) >= 0) {
		struct vcon_ctrl *c =
			(struct vcon_ctrl *)(con.crxbuf + head * VCON_BUFSZ);

		n++;
		switch (c->event) {
		case VCON_DEVICE_ADD:
			printf("JBT vcon port-add %u\n", c->id);
			con_control(c->id, VCON_PORT_READY, 1);
			if (!con.port_added && (con.port < 0 ||
						(unsigned)con.port == c->id)) {
				con.port = (int)c->id;
				con.port_added = 1;
			}
			break;
		case VCON_PORT_NAME: {
			const uint8_t *name = (const uint8_t *)(c + 1);
			unsigned nl = 0;

			while (nl + sizeof(*c) < len && nl < 64 && name[nl])
				nl++;
			printf("JBT vcon port-name %u ", c->id);
			print_text("", name, nl);
			printf("\n");
			break;
		}
		case VCON_CONSOLE_PORT:
			printf("JBT vcon console-port %u\n", c->id);
			break;
		case VCON_PORT_OPEN:
			printf("JBT vcon host-open %u %u\n", c->id, c->value);
			break;
		default:
			printf("JBT vcon control %u %u %u\n", c->id, c->event,
			       c->value);
			break;
		}
		post_rx(&con.crx, con.crxbuf, (unsigned)head % VCON_RXBUFS);
		virtq_kick(&con.crx);
	}
	return n;
}

static void con_poll_data(void)
{
	unsigned p = (unsigned)con.port;
	uint32_t len;
	int head;

	while ((head = virtq_get(&con.rx[p], &len)) >= 0) {
		uint8_t *b = con.rxbuf[p] + head * VCON_BUFSZ;

		for (uint32_t i = 0; i < len && con.nrecv < sizeof(con.recv); i++)
			con.recv[con.nrecv++] = b[i];
		post_rx(&con.rx[p], con.rxbuf[p], (unsigned)head % VCON_RXBUFS);
		virtq_kick(&con.rx[p]);
	}
}

static void do_con(void)
{
	struct virtio_dev *vd = &con.vd;
	char text[128], num[16];
	unsigned nports = 1, secs = 3, tl;
	struct rtc_timer t;
	int r;

	if (cmdline_get(boot, "con", text, sizeof(text)) < 0)
		return;
	tl = (unsigned)strlen(text);
	con.port = -1;
	if (cmdline_get(boot, "conport", num, sizeof(num)) > 0)
		con.port = (int)parse_uint(num, 0, 0);
	if (cmdline_get(boot, "contime", num, sizeof(num)) > 0)
		secs = (unsigned)parse_uint(num, 0, 0);
	r = virtio_find(VIRTIO_TYPE_CONSOLE, use_modern, 0, vd);

	if (r < 0) {
		if (r == -1)
			printf("JBT vcon none\n");
		return;
	}
	if (virtio_init(vd, VIRTIO_CONSOLE_F_MULTIPORT) < 0)
		return;
	con.multiport = !!(vd->accepted & VIRTIO_CONSOLE_F_MULTIPORT);
	if (con.multiport) {
		nports = virtio_cfg32(vd, 4);		/* max_nr_ports */
		if (nports > VCON_PORTS)
			nports = VCON_PORTS;
	} else {
		con.port = 0;
		con.port_added = 1;
	}
	printf("JBT vcon %s iface %s multiport %d max_ports %u\n", vd->bdf,
	       vd->modern ? "modern" : "legacy", con.multiport,
	       con.multiport ? virtio_cfg32(vd, 4) : 1);
	if (con.port >= (int)nports) {
		printf("JBT vcon bad-port %d\n", con.port);
		return;
	}
	for (unsigned p = 0; p < nports; p++) {
		if (virtq_setup(vd, &con.rx[p], rx_queue(p), 64) < 0 ||
		    virtq_setup(vd, &con.tx[p], rx_queue(p) + 1, 64) < 0) {
			printf("JBT vcon no-queue %u\n", p);
			return;
		}
		con.rxbuf[p] = dma_alloc(VCON_RXBUFS * VCON_BUFSZ, 4096);
		for (unsigned i = 0; i < VCON_RXBUFS; i++)
			post_rx(&con.rx[p], con.rxbuf[p], i);
	}
	if (con.multiport) {
		if (virtq_setup(vd, &con.crx, 2, 64) < 0 ||
		    virtq_setup(vd, &con.ctx, 3, 64) < 0) {
			printf("JBT vcon no-control-queue\n");
			return;
		}
		con.crxbuf = dma_alloc(VCON_RXBUFS * VCON_BUFSZ, 4096);
		for (unsigned i = 0; i < VCON_RXBUFS; i++)
			post_rx(&con.crx, con.crxbuf, i);
	}
	con.ctlbuf = dma_alloc(4096, 4096);
	con.txbuf = dma_alloc(4096, 4096);
	virtio_driver_ok(vd);
	for (unsigned p = 0; p < nports; p++)
		virtq_kick(&con.rx[p]);
	if (con.multiport) {
		virtq_kick(&con.crx);
		con_control(0, VCON_DEVICE_READY, 1);
		timer_start(&t, secs);
		while (!con.port_added && !timer_expired(&t)) {
			if (!con_poll_control())
				spin(20000);
		}
		if (!con.port_added) {
			printf("JBT vcon no-port\n");
			return;
		}
		con_control((uint32_t)con.port, VCON_PORT_OPEN, 1);
		/* give the device a moment to report the other ports */
		for (unsigned i = 0; i < 20; i++)
			if (!con_poll_control())
				spin(20000);
	}
	memcpy(con.txbuf, text, tl);
	{
		struct vbuf b = { con.txbuf, tl, 0 };
		long r = virtq_xfer(&con.tx[con.port], &b, 1, XFER_SPINS);

		printf("JBT vcon sent %u port %d%s\n", tl, con.port,
		       r < 0 ? " timeout" : "");
	}
	report_isr(vd);
	timer_start(&t, secs);
	while (con.nrecv < tl && con.nrecv < sizeof(con.recv) &&
	       !timer_expired(&t)) {
		con_poll_data();
		if (con.multiport)
			con_poll_control();
		spin(20000);
	}
	con_poll_data();
	print_text("JBT vcon recv ", con.recv, con.nrecv);
	printf("\n");
}

static long user_main(void *arg)
{
	char iface[16], v[8];

	boot = arg;
	if (cmdline_get(boot, "iface", iface, sizeof(iface)) > 0 &&
	    !strcmp(iface, "modern"))
		use_modern = 1;
	check_irq = cmdline_get(boot, "irq", v, sizeof(v)) > 0 && v[0] == '1';
	printf("JBT virtio-guest iface %s\n", use_modern ? "modern" : "legacy");
	do_blk();
	if (cmdline_get(boot, "ticks", v, sizeof(v)) > 0) {
		unsigned count = (unsigned)parse_uint(v, 0, 0);

		do_ticks(count, cmdline_get(boot, "gate", v, sizeof(v)) > 0 ?
					(unsigned)parse_uint(v, 0, 0) : 0);
	}
	do_rng();
	do_con();
	if (cmdline_get(boot, "spin", v, sizeof(v)) > 0 && v[0] == '1') {
		/* Stay alive so a test can kill the VMM after the writes above. */
		printf("JBT spinning\n");
		for (;;)
			;
	}
	guest_exit(0);
	return 0;
}

void guest_main(const struct boot_info *bi)
{
	run_user(user_main, (void *)bi);
	guest_exit(0x7f);
}
