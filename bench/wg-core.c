/* Micro-benchmark of the WireGuard core's hot path on one core: 1420-byte IP packets through
 * wg_device_tun_input (route, encrypt in place, send) on one device and wg_device_input
 * (decrypt in place, replay check, source check, TUN write) on another, in memory. Reports
 * packets/s and Gbit/s of inner packet bytes, and counts heap allocations during the timed
 * loop (malloc is interposed here) to show the path allocates nothing. After every packet it
 * asks for the device's next deadline, as the agent and riftgate-wg do after input; IDLE_PEERS
 * adds that many more peers with armed timers (a handshake in flight, persistent keepalive) to
 * both devices, and the cost of that query alone is timed too.
 *   bench-wg-core [SECONDS] [PACKET_BYTES] [IDLE_PEERS] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/types.h>

#include "wg/device.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static unsigned long allocs;

void *malloc(size_t n)
{
	allocs++;
	return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	allocs++;
	return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	allocs++;
	return __libc_realloc(p, n);
}

struct node {
	struct wg_device *dev;
	struct wg_endpoint ep;
	struct node *other;
	uint8_t *last;		/* datagram just sent: points into the sender's buffer */
	size_t last_len;
	unsigned long delivered;
	bool copying;		/* setup: handshake messages live on the core's stack */
	uint8_t store[2048];
};

static int on_send(void *o, const struct wg_endpoint *ep, const uint8_t *buf, size_t len)
{
	struct node *n = o;

	(void)ep;
	n->last_len = len;
	if (n->copying && len <= sizeof(n->store)) {
		memcpy(n->store, buf, len);
		n->last = n->store;
	} else {
		n->last = (uint8_t *)buf;	/* the timed loop: our own packet buffer */
	}
	return 0;
}

static void on_tun(void *o, struct wg_peer *peer, uint8_t *pkt, size_t len)
{
	(void)peer, (void)pkt, (void)len;
	((struct node *)o)->delivered++;
}

static uint64_t clock_offset;

static uint64_t mono_ns(void *o)
{
	struct timespec ts;

	(void)o;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + clock_offset;
}

static uint64_t wall_ns(void *o)
{
	struct timespec ts;

	(void)o;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec + clock_offset;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Handles what one side just sent (handshake messages) until both sides are quiet. */
static void pump(struct node *a, struct node *b)
{
	static uint8_t copy[2048];

	for (int i = 0; i < 16; i++) {
		struct node *from = a->last ? a : b->last ? b : NULL;
		size_t len;

		if (!from)
			return;
		len = from->last_len;
		memcpy(copy, from->last, len);
		from->last = NULL;
		wg_device_input(from->other->dev, &from->ep, copy, len);
	}
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3.0;
	size_t size = argc > 2 ? (size_t)atoi(argv[2]) : 1420;
	int idle = argc > 3 ? atoi(argv[3]) : 0;
	struct wg_device_ops ops = { .send = on_send, .tun_write = on_tun, .mono_ns = mono_ns,
				     .wall_ns = wall_ns };
	struct node a = { 0 }, b = { 0 };
	uint8_t ka[32], kb[32], pa[32], pb[32];
	static uint8_t buf[WG_DATA_HEADROOM + 65536 + WG_DATA_TAILROOM];
	uint8_t *pkt = buf + WG_DATA_HEADROOM;
	struct wg_peer *peer;
	unsigned long n = 0, loop_allocs;
	double t0, t, c0, c;

	if (size < 28 || size > 65535)
		return 2;
	for (int i = 0; i < 32; i++)
		ka[i] = (uint8_t)(i + 1), kb[i] = (uint8_t)(i + 101);
	a.other = &b, b.other = &a;
	a.ep.len = b.ep.len = 1;
	a.ep.data[0] = 'a', b.ep.data[0] = 'b';
	if (wg_device_new(&a.dev, &ops, &a) || wg_device_new(&b.dev, &ops, &b))
		return 1;
	wg_device_set_private_key(a.dev, ka);
	wg_device_set_private_key(b.dev, kb);
	wg_device_get_public_key(a.dev, pa);
	wg_device_get_public_key(b.dev, pb);
	struct wg_allowed_ip ipa = { .family = AF_INET, .cidr = 32, .addr = { 10, 0, 0, 1 } };
	struct wg_allowed_ip ipb = { .family = AF_INET, .cidr = 32, .addr = { 10, 0, 0, 2 } };

	wg_device_add_peer(a.dev, pb, &peer);
	wg_peer_set_endpoint(peer, &b.ep);
	wg_peer_allowed_ip_add(peer, &ipb);
	wg_device_add_peer(b.dev, pa, &peer);
	wg_peer_set_endpoint(peer, &a.ep);
	wg_peer_allowed_ip_add(peer, &ipa);

	/* an IPv4 packet 10.0.0.1 -> 10.0.0.2 of `size` bytes */
	memset(pkt, 0x5a, size);
	memset(pkt, 0, 20);
	pkt[0] = 0x45, pkt[2] = (uint8_t)(size >> 8), pkt[3] = (uint8_t)size, pkt[9] = 17;
	pkt[12] = 10, pkt[15] = 1, pkt[16] = 10, pkt[19] = 2;
	a.copying = b.copying = true;
	if (wg_device_tun_input(a.dev, pkt, size) != 1)	/* staged; handshake starts */
		return 1;
	pump(&a, &b);
	if (b.delivered != 1)
		return fprintf(stderr, "bench-wg-core: handshake failed\n"), 1;

	for (int i = 0; i < idle; i++) {
		struct wg_endpoint ep = { .len = 1, .data = { 'z' } };
		uint8_t pub[32];

		for (int k = 0; k < 32; k++)
			pub[k] = (uint8_t)(k < 4 ? (unsigned)i >> (8 * k) : (unsigned)k * 11 + 3);
		if (wg_device_add_peer(a.dev, pub, &peer) || (wg_peer_set_endpoint(peer, &ep), 0))
			return 1;
		wg_peer_set_persistent_keepalive(peer, 25);	/* an initiation: timers armed */
		if (wg_device_add_peer(b.dev, pub, &peer) || (wg_peer_set_endpoint(peer, &ep), 0))
			return 1;
		wg_peer_set_persistent_keepalive(peer, 25);
	}
	a.last = b.last = NULL;
	if (idle) {
		volatile uint64_t sink = 0;
		enum { QUERIES = 1000000 };

		c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		for (int i = 0; i < QUERIES; i++)
			sink += wg_device_next_deadline(a.dev);
		c = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
		printf("wg-core: wg_device_next_deadline with %d peers: %.1f ns per call "
		       "(%d calls in %.3f CPU-s)\n", idle + 1, c * 1e9 / QUERIES, QUERIES, c);
	}

	a.copying = b.copying = false;
	allocs = 0;
	t0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	do {
		for (int i = 0; i < 256; i++) {
			pkt[0] = 0x45;
			if (wg_device_tun_input(a.dev, pkt, size) != 0 || !a.last)
				return fprintf(stderr, "bench-wg-core: send failed\n"), 1;
			if (wg_device_input(b.dev, &a.ep, a.last, a.last_len) != 0)
				return fprintf(stderr, "bench-wg-core: receive failed\n"), 1;
			a.last = NULL;
			if (!wg_device_next_deadline(a.dev) || !wg_device_next_deadline(b.dev))
				return 1;
		}
		n += 256;
		t = clock_s(CLOCK_MONOTONIC) - t0;
	} while (t < secs);
	c = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	loop_allocs = allocs;

	/* Per CPU-second of this thread (other load on the machine does not count against
	 * it), and per wall second for reference. */
	printf("wg-core: %zu-byte packets, %d peers, encrypt+decrypt on one core: %.0f packets/s, "
	       "%.2f Gbit/s per CPU-second (wall: %.2f Gbit/s, %.0f%% CPU); "
	       "%lu heap allocations in %lu packets\n",
	       size, idle + 1, n / c, n * size * 8 / c / 1e9, n * size * 8 / t / 1e9, 100 * c / t,
	       loop_allocs, n);

	/* Drop path: malformed and unauthenticated datagrams of every type, including a real data
	 * message with a flipped bit (known index, bad tag). */
	static uint8_t junk[8][1500];
	static const size_t junk_len[8] = { 148, 92, 64, 1452, 1452, 3, 40, 148 };
	unsigned long drops = 0, drop_allocs;

	pkt[0] = 0x45;
	if (wg_device_tun_input(a.dev, pkt, size) != 0)
		return 1;
	for (int i = 0; i < 8; i++) {
		for (size_t k = 0; k < sizeof(junk[i]); k++)
			junk[i][k] = (uint8_t)(k * 131 + i * 7);
		junk[i][0] = (uint8_t)(i < 4 ? i + 1 : i == 4 ? 4 : i == 6 ? 9 : 1);
		junk[i][1] = junk[i][2] = junk[i][3] = 0;
	}
	memcpy(junk[4], a.last, a.last_len);
	a.last = NULL;
	allocs = 0;
	for (int r = 0; r < 20000; r++)
		for (int i = 0; i < 8; i++) {
			uint8_t copy[1500];

			memcpy(copy, junk[i], junk_len[i]);
			copy[junk_len[i] - 1] ^= 1;
			drops += wg_device_input(b.dev, &a.ep, copy, junk_len[i]) < 0;
		}
	drop_allocs = allocs;
	printf("wg-core: %lu malformed/unauthenticated datagrams dropped, %lu heap allocations\n",
	       drops, drop_allocs);
	if (drops != 20000 * 8)
		return fprintf(stderr, "bench-wg-core: a junk datagram was accepted\n"), 1;

	/* Handshake cost: complete handshakes (initiation, response, keepalive confirmation),
	 * each side's share on this one core. */
	struct wg_peer *first = wg_device_first_peer(a.dev);
	unsigned long hs = 0, ok = b.delivered;

	a.copying = b.copying = true;
	c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	t0 = clock_s(CLOCK_MONOTONIC);
	do {
		/* initiations are spaced by REKEY_TIMEOUT and need newer TAI64N timestamps:
		 * move the device clocks on instead of waiting */
		clock_offset += 6ull * 1000000000ull;
		if (wg_peer_handshake_now(first) != 0)
			return fprintf(stderr, "bench-wg-core: handshake_now failed\n"), 1;
		pump(&a, &b);
		hs++;
		t = clock_s(CLOCK_MONOTONIC) - t0;
	} while (t < secs / 3);
	c = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	printf("wg-core: %.0f handshakes/s per CPU-second (both sides)\n", hs / c);
	wg_device_free(a.dev);
	wg_device_free(b.dev);
	return ok == n + 1 ? 0 : 1;
}
