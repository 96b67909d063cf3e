/* Two (or more) wg devices wired by an in-memory transport with a fake clock, for the unit
 * tests. Datagrams queue in a FIFO and are delivered by harness_run(); tests can drop, inspect
 * or replay them. Everything is deterministic: randomness comes from a counter-seeded stream. */
#ifndef RG_TESTS_WG_HARNESS_H
#define RG_TESTS_WG_HARNESS_H

#include <glib.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "wg/device.h"
#include "wg/messages.h"

enum { H_NODES = 3, H_QUEUE = 512 };

struct h_dgram {
	int from, to;
	size_t len;
	uint8_t *buf;		/* owned, with WG headroom so tests can re-inject */
};

struct harness;

struct h_node {
	struct harness *h;
	int id;
	struct wg_device *dev;
	struct wg_endpoint ep;	/* how others see this node */
	uint8_t priv[32], pub[32];
	unsigned tun_count;
	uint8_t tun_last[2048];
	size_t tun_last_len;
	unsigned events[4];
	unsigned sends;
	bool drop_outgoing;
	/* scripted randomness: call i of the random hook gets script[i] (lengths must match),
	 * then the shared deterministic stream takes over */
	struct { const uint8_t *p; size_t len; } script[8];
	unsigned script_n, script_pos;
	unsigned random_calls;	/* calls of the random hook (the CSPRNG in production) */
};

struct harness {
	struct h_node n[H_NODES];
	int count;		/* nodes in use: 2 unless h_init_n() said otherwise */
	struct h_dgram q[H_QUEUE];
	unsigned qhead, qlen;
	uint64_t now;		/* monotonic ns */
	uint64_t wall;		/* wall ns */
	uint64_t rng;
	bool capture;		/* keep a copy of every datagram in log */
	struct h_dgram log[H_QUEUE];
	unsigned loglen;
};

static inline uint64_t h_mono(void *o)
{
	return ((struct h_node *)o)->h->now;
}

static inline uint64_t h_wall(void *o)
{
	struct h_node *n = o;

	return n->h->wall + n->h->now;
}

static inline void h_random(void *o, uint8_t *buf, size_t len)
{
	struct h_node *n = o;

	n->random_calls++;
	if (n->script_pos < n->script_n) {
		g_assert_cmpuint(n->script[n->script_pos].len, ==, len);
		memcpy(buf, n->script[n->script_pos++].p, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		n->h->rng = n->h->rng * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (uint8_t)(n->h->rng >> 56);
	}
}

static inline int h_node_of(struct harness *h, const struct wg_endpoint *ep)
{
	for (int i = 0; i < h->count; i++)
		if (ep->len == h->n[i].ep.len && memcmp(ep->data, h->n[i].ep.data, ep->len) == 0)
			return i;
	return -1;
}

static inline int h_send(void *o, const struct wg_endpoint *ep, const uint8_t *buf, size_t len)
{
	struct h_node *n = o;
	struct harness *h = n->h;
	int to = h_node_of(h, ep);
	struct h_dgram *d;

	n->sends++;
	if (to < 0 || n->drop_outgoing)
		return 0;	/* lost on the way */
	g_assert_cmpuint(h->qlen, <, H_QUEUE);
	d = &h->q[(h->qhead + h->qlen++) % H_QUEUE];
	d->from = n->id;
	d->to = to;
	d->len = len;
	d->buf = malloc(len + 64);
	memcpy(d->buf + 16, buf, len);
	if (h->capture && h->loglen < H_QUEUE) {
		struct h_dgram *l = &h->log[h->loglen++];

		*l = *d;
		l->buf = malloc(len + 64);
		memcpy(l->buf + 16, buf, len);
	}
	return 0;
}

static inline void h_tun_write(void *o, struct wg_peer *peer, uint8_t *pkt, size_t len)
{
	struct h_node *n = o;

	(void)peer;
	n->tun_count++;
	g_assert_cmpuint(len, <=, sizeof(n->tun_last));
	memcpy(n->tun_last, pkt, len);
	n->tun_last_len = len;
}

static inline void h_event(void *o, struct wg_peer *peer, enum wg_peer_event ev)
{
	(void)peer;
	((struct h_node *)o)->events[ev]++;
}

static inline void h_key(uint8_t k[32], uint8_t seed)
{
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(seed * 31 + i * 7 + 1);
	k[0] &= 248;
	k[31] = (k[31] & 127) | 64;
}

/* Node i owns 10.0.0.(i+1)/32 and fd00::(i+1)/128 as seen by the other node. keys[i], if
 * given, is node i's private key. */
static inline void h_init_nodes(struct harness *h, int count, const uint8_t (*keys)[32])
{
	memset(h, 0, sizeof(*h));
	h->count = count;
	h->now = 1000ull * 1000000000ull;
	h->wall = 1700000000ull * 1000000000ull;
	h->rng = 42;
	for (int i = 0; i < h->count; i++) {
		struct h_node *n = &h->n[i];
		struct wg_device_ops ops = {
			.send = h_send, .tun_write = h_tun_write, .peer_event = h_event,
			.mono_ns = h_mono, .wall_ns = h_wall, .random = h_random,
		};

		n->h = h;
		n->id = i;
		n->ep.len = 2;
		n->ep.data[0] = 'N';
		n->ep.data[1] = (uint8_t)('A' + i);
		g_assert_cmpint(wg_device_new(&n->dev, &ops, n), ==, 0);
		if (keys)
			memcpy(n->priv, keys[i], 32);
		else
			h_key(n->priv, (uint8_t)(i + 1));
		wg_device_set_private_key(n->dev, n->priv);
		g_assert_true(wg_device_get_public_key(n->dev, n->pub));
	}
	for (int i = 0; i < h->count; i++)
		for (int j = 0; j < h->count; j++) {
			struct wg_peer *p;
			struct wg_allowed_ip v4 = { .family = AF_INET, .cidr = 32,
						    .addr = { 10, 0, 0, (uint8_t)(j + 1) } };
			struct wg_allowed_ip v6 = { .family = AF_INET6, .cidr = 128,
						    .addr = { 0xfd, [15] = (uint8_t)(j + 1) } };

			if (i == j)
				continue;
			g_assert_cmpint(wg_device_add_peer(h->n[i].dev, h->n[j].pub, &p), ==, 0);
			wg_peer_set_endpoint(p, &h->n[j].ep);
			g_assert_cmpint(wg_peer_allowed_ip_add(p, &v4), ==, 0);
			g_assert_cmpint(wg_peer_allowed_ip_add(p, &v6), ==, 0);
		}
}

static inline void h_init_keys(struct harness *h, const uint8_t (*keys)[32])
{
	h_init_nodes(h, 2, keys);
}

static inline void h_init(struct harness *h)
{
	h_init_nodes(h, 2, NULL);
}

static inline struct wg_peer *h_peer(struct harness *h, int at, int of)
{
	return wg_device_lookup_peer(h->n[at].dev, h->n[of].pub);
}

static inline void h_free_dgram(struct h_dgram *d)
{
	free(d->buf);
	d->buf = NULL;
}

static inline void h_drain(struct harness *h)
{
	while (h->qlen) {
		h_free_dgram(&h->q[h->qhead]);
		h->qhead = (h->qhead + 1) % H_QUEUE;
		h->qlen--;
	}
}

static inline void h_clear(struct harness *h)
{
	h_drain(h);
	for (unsigned i = 0; i < h->loglen; i++)
		h_free_dgram(&h->log[i]);
	for (int i = 0; i < h->count; i++)
		wg_device_free(h->n[i].dev);
}

/* Delivers one queued datagram; returns wg_device_input's result, or 1 if the queue is empty. */
static inline int h_step(struct harness *h)
{
	struct h_dgram d;
	int ret;

	if (!h->qlen)
		return 1;
	d = h->q[h->qhead];
	h->qhead = (h->qhead + 1) % H_QUEUE;
	h->qlen--;
	ret = wg_device_input(h->n[d.to].dev, &h->n[d.from].ep, d.buf + 16, d.len);
	h_free_dgram(&d);
	return ret;
}

static inline void h_run(struct harness *h)
{
	for (int i = 0; i < 10000 && h->qlen; i++)
		h_step(h);
}

/* Advances the fake clock to t, running every device's timers on the way. */
static inline void h_advance_to(struct harness *h, uint64_t t)
{
	for (;;) {
		uint64_t next = UINT64_MAX;

		for (int i = 0; i < h->count; i++) {
			uint64_t d = wg_device_next_deadline(h->n[i].dev);

			if (d < next)
				next = d;
		}
		if (next > t)
			break;
		if (next > h->now)
			h->now = next;
		for (int i = 0; i < h->count; i++)
			wg_device_tick(h->n[i].dev);
		h_run(h);
		/* whatever was due ran and re-armed later: a deadline left at or before now is
		 * stale bookkeeping, and this loop would spin on it */
		for (int i = 0; i < h->count; i++)
			g_assert_cmpuint(wg_device_next_deadline(h->n[i].dev), >, h->now);
	}
	h->now = t;
	for (int i = 0; i < h->count; i++)
		wg_device_tick(h->n[i].dev);
	h_run(h);
}

static inline void h_advance(struct harness *h, double seconds)
{
	h_advance_to(h, h->now + (uint64_t)(seconds * 1e9));
}

/* Builds a minimal IPv4 packet from node `from` to node `to` with payload len bytes. */
static inline size_t h_ipv4(uint8_t *pkt, int from, int to, size_t payload, uint8_t fill)
{
	size_t len = 20 + payload;

	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	pkt[8] = 64;
	pkt[9] = 17;
	pkt[12] = 10, pkt[15] = (uint8_t)(from + 1);
	pkt[16] = 10, pkt[19] = (uint8_t)(to + 1);
	memset(pkt + 20, fill, payload);
	return len;
}

/* Sends an IPv4 packet from node `from` to node `to` through tun_input. */
static inline int h_ping(struct harness *h, int from, int to, size_t payload, uint8_t fill)
{
	uint8_t buf[WG_DATA_HEADROOM + 2048 + WG_DATA_TAILROOM];
	size_t len = h_ipv4(buf + WG_DATA_HEADROOM, from, to, payload, fill);

	return wg_device_tun_input(h->n[from].dev, buf + WG_DATA_HEADROOM, len);
}

#endif
