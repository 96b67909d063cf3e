/* libFuzzer target: arbitrary transport datagrams into the WireGuard core (src/wg). Two devices
 * A and B know each other (the static keys of tests/wg/vectors, so the vector messages are
 * valid seeds). The first input byte picks the starting state:
 *   0  nothing happened yet; datagrams go to B
 *   1  A has sent an initiation (not delivered): A is mid-handshake, waiting for a response
 *   2  the handshake completed both ways and data flowed: sessions exist on both sides
 * The rest is a list of records [control byte][len LE16][len bytes]. Control bits: 0 target
 * device, 1 deliver replies, 2 send a packet from the target, 3 put the target under load,
 * 4-7 advance the clock by 16 s steps. Each datagram is copied into
 * an exactly-sized heap buffer (so ASan sees overreads), given to wg_device_input, and whatever
 * the devices send in reaction is delivered a bounded number of times. Timers run as the fake
 * clock advances. Properties besides memory safety: nothing that fails authentication reaches
 * the TUN callback with an unauthenticated source. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wg/device.h"

enum { QMAX = 16, QBUF = 256 };

struct fz_node;

struct fz {
	struct fz_node *n[2];
	uint64_t now;
	uint64_t rng;
	struct { int to; size_t len; uint8_t buf[QBUF]; } q[QMAX];
	unsigned qlen;
};

struct fz_node {
	struct fz *f;
	int id;
	struct wg_device *dev;
	struct wg_endpoint ep;
};

static int fz_send(void *o, const struct wg_endpoint *ep, const uint8_t *buf, size_t len)
{
	struct fz_node *n = o;
	struct fz *f = n->f;

	(void)ep;
	if (f->qlen < QMAX && len <= QBUF) {
		f->q[f->qlen].to = !n->id;
		f->q[f->qlen].len = len;
		memcpy(f->q[f->qlen].buf, buf, len);
		f->qlen++;
	}
	return 0;
}

static void fz_tun(void *o, struct wg_peer *peer, uint8_t *pkt, size_t len)
{
	(void)o;
	/* the core promises an IP packet whose source belongs to the peer */
	if (len < 20 || !peer)
		abort();
	if ((pkt[0] >> 4) == 4 && wg_device_route(wg_peer_device(peer), AF_INET, pkt + 12) != peer)
		abort();
}

static uint64_t fz_mono(void *o)
{
	return ((struct fz_node *)o)->f->now;
}

static uint64_t fz_wall(void *o)
{
	return 1700000000ull * 1000000000ull + ((struct fz_node *)o)->f->now;
}

static void fz_random(void *o, uint8_t *buf, size_t len)
{
	struct fz *f = ((struct fz_node *)o)->f;

	for (size_t i = 0; i < len; i++) {
		f->rng = f->rng * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (uint8_t)(f->rng >> 56);
	}
}

static void deliver(struct fz *f, unsigned max)
{
	while (f->qlen && max--) {
		uint8_t *b = malloc(f->q[0].len);
		int to = f->q[0].to;
		size_t len = f->q[0].len;

		memcpy(b, f->q[0].buf, len);
		f->qlen--;
		memmove(&f->q[0], &f->q[1], f->qlen * sizeof(f->q[0]));
		wg_device_input(f->n[to]->dev, &f->n[!to]->ep, b, len);
		free(b);
	}
}

static void ping(struct fz *f, int from)
{
	uint8_t buf[WG_DATA_HEADROOM + 64 + WG_DATA_TAILROOM] = { 0 };
	uint8_t *p = buf + WG_DATA_HEADROOM;

	p[0] = 0x45, p[3] = 40, p[9] = 17;
	p[12] = 10, p[15] = (uint8_t)(from + 1), p[16] = 10, p[19] = (uint8_t)(!from + 1);
	wg_device_tun_input(f->n[from]->dev, p, 40);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { .now = 1000ull * 1000000000ull, .rng = 1 };
	struct fz_node nodes[2];
	uint8_t pub[2][32];

	if (size < 1)
		return 0;
	for (int i = 0; i < 2; i++) {
		struct wg_device_ops ops = { .send = fz_send, .tun_write = fz_tun,
					     .mono_ns = fz_mono, .wall_ns = fz_wall,
					     .random = fz_random };
		uint8_t key[32];

		nodes[i] = (struct fz_node){ .f = &f, .id = i, .ep = { .len = 1 } };
		nodes[i].ep.data[0] = (uint8_t)('A' + i);
		f.n[i] = &nodes[i];
		if (wg_device_new(&nodes[i].dev, &ops, &nodes[i]))
			abort();
		for (int k = 0; k < 32; k++)
			key[k] = (uint8_t)((i ? 0x40 : 0x10) + k);
		wg_device_set_private_key(nodes[i].dev, key);
		wg_device_get_public_key(nodes[i].dev, pub[i]);
	}
	for (int i = 0; i < 2; i++) {
		struct wg_allowed_ip ip = { .family = AF_INET, .cidr = 32,
					    .addr = { 10, 0, 0, (uint8_t)(!i + 1) } };
		struct wg_peer *p;

		if (wg_device_add_peer(nodes[i].dev, pub[!i], &p))
			abort();
		wg_peer_set_endpoint(p, &nodes[!i].ep);
		wg_peer_allowed_ip_add(p, &ip);
	}
	switch (data[0] % 3) {
	case 1:
		wg_peer_handshake_now(wg_device_first_peer(nodes[0].dev));
		f.qlen = 0;		/* lost: A waits for a response that never comes */
		break;
	case 2:
		ping(&f, 0);
		deliver(&f, 8);
		ping(&f, 1);
		deliver(&f, 8);
		break;
	}
	data++, size--;

	while (size >= 3) {
		uint8_t ctl = data[0];
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;
		uint8_t *b;

		data += 3, size -= 3;
		if (len > size)
			len = size;
		b = malloc(len ? len : 1);
		memcpy(b, data, len);
		wg_device_input(nodes[ctl & 1].dev, &nodes[!(ctl & 1)].ep, b, len);
		free(b);
		data += len, size -= len;
		if (ctl & 2)
			deliver(&f, 4);
		if (ctl & 4)
			ping(&f, ctl & 1);
		if (ctl & 8)	/* cookie path: the target demands mac2 from now on */
			wg_device_set_under_load(nodes[ctl & 1].dev, 1);
		if (ctl >> 4) {		/* up to 15 * 16 s: reaches every timer */
			f.now += (uint64_t)(ctl >> 4) * 16 * 1000000000ull;
			wg_device_tick(nodes[0].dev);
			wg_device_tick(nodes[1].dev);
		}
	}
	deliver(&f, 8);
	wg_device_free(nodes[0].dev);
	wg_device_free(nodes[1].dev);
	return 0;
}
