/* wasm32 glue between the Durable Object (worker/src/worker.mjs) and the hub core (src/hub).
 *
 * Built freestanding by worker/build-wasm.sh: no libc, so this file also supplies the few libc
 * symbols clang may emit calls to (mem.c) and the hub's memory (grow(): a bump pointer over
 * memory.grow; the hub keeps its own free lists, so nothing is ever handed back).
 *
 * The JS side writes an incoming frame into hubw_buf() and calls hubw_text(); the hub's actions
 * come back synchronously through the three imports below, which JS queues and applies after
 * the call returns. Conn ids are 32-bit here (JS numbers); the hub widens them.
 * One hub per wasm instance, one instance per Durable Object.
 */
#include <stddef.h>
#include <stdint.h>

#include "hub/hub.h"

#define IMPORT(name) __attribute__((import_module("env"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("send") void js_send(uint32_t conn, const char *frame, size_t len);
IMPORT("close") void js_close(uint32_t conn, uint32_t code, const char *reason, size_t len);
IMPORT("joined") void js_joined(uint32_t conn, const char *peer_id, size_t peer_len,
				const char *key, size_t key_len, const char *addr, size_t addr_len);
IMPORT("send_binary") void js_send_binary(uint32_t conn, const uint8_t *frame, size_t len);

enum { WASM_PAGE = 65536 };

/* One byte more than the hub accepts: JS copies at most this much, so an oversized frame still
 * reaches the hub as "too big" (it closes with 1009) without the hub reading past the buffer. */
static char inbuf[HUB_FRAME_MAX + 1];
static struct hub hub;
static int ready;
static int seeded;

extern unsigned char __heap_base;
static uintptr_t heap_next, heap_end;

static size_t slen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static void op_send(void *host, uint64_t conn, const char *frame, size_t len)
{
	(void)host;
	js_send((uint32_t)conn, frame, len);
}

static void op_close(void *host, uint64_t conn, uint16_t code, const char *reason)
{
	(void)host;
	js_close((uint32_t)conn, code, reason, reason ? slen(reason) : 0);
}

static void op_joined(void *host, uint64_t conn, const char *peer_id, const char *public_key,
		      const char *address)
{
	(void)host;
	js_joined((uint32_t)conn, peer_id, slen(peer_id), public_key, slen(public_key), address,
		  slen(address));
}

static void op_send_binary(void *host, uint64_t conn, const uint8_t *frame, size_t len)
{
	(void)host;
	js_send_binary((uint32_t)conn, frame, len);
}

/* Memory for the hub: 16-byte aligned slices past the heap base, growing linear memory by whole
 * pages when needed. NULL when the engine refuses to grow (the hub reports out of memory). */
static void *op_grow(void *host, size_t bytes)
{
	uintptr_t p;

	(void)host;
	if (!heap_end) {
		heap_next = (uintptr_t)&__heap_base;
		heap_end = __builtin_wasm_memory_size(0) * WASM_PAGE;
	}
	p = (heap_next + 15) & ~(uintptr_t)15;
	if (bytes > UINTPTR_MAX - p)
		return NULL;
	if (p + bytes > heap_end) {
		size_t pages = (p + bytes - heap_end + WASM_PAGE - 1) / WASM_PAGE;

		if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1)
			return NULL;
		heap_end += pages * WASM_PAGE;
	}
	heap_next = p + bytes;
	return (void *)p;
}

static const struct hub_ops ops = {
	.send = op_send,
	.close = op_close,
	.joined = op_joined,
	.grow = op_grow,
	.send_binary = op_send_binary,	/* no .backlog: a Worker cannot see a socket's buffer */
};

static struct hub *get(void)
{
	if (!ready && hub_init(&hub, &ops, NULL) == 0)
		ready = 1;
	return ready ? &hub : NULL;
}

/* Seeds the hub's peerId hash with a secret (the Durable Object passes 32 bits from
 * crypto.getRandomValues), so peers cannot choose ids that collide in its tables. Called once,
 * right after instantiation, before any event reaches the hub. */
EXPORT("hubw_seed") void hubw_seed(uint32_t seed)
{
	struct hub *h = get();

	if (!h || !seed)
		return;
	hub_set_seed(h, seed);
	seeded = 1;
}

/* 1 once hubw_seed() took a seed (for /stats). */
EXPORT("hubw_seeded") uint32_t hubw_seeded(void)
{
	return (uint32_t)seeded;
}

EXPORT("hubw_buf") char *hubw_buf(void)
{
	return inbuf;
}

EXPORT("hubw_buf_size") uint32_t hubw_buf_size(void)
{
	return sizeof(inbuf);
}

/* 0, -1 out of memory, -2 conn already open, -9 hub_init failed. */
EXPORT("hubw_open") int hubw_open(uint32_t conn)
{
	struct hub *h = get();

	return h ? hub_open(h, conn) : -9;
}

/* The frame is the first len bytes of hubw_buf() (len <= hubw_buf_size()). */
EXPORT("hubw_text") void hubw_text(uint32_t conn, uint32_t len, double now_ms)
{
	struct hub *h = get();

	if (!h || len > sizeof(inbuf))
		return;
	hub_text(h, conn, inbuf, len, now_ms > 0 ? (uint64_t)now_ms : 0);
}

EXPORT("hubw_close") void hubw_close(uint32_t conn)
{
	struct hub *h = get();

	if (h)
		hub_close(h, conn);
}

/* hubw_buf() holds "peerId\0publicKey\0address\0"; key_off and addr_off index into it. Returns
 * hub_restore()'s result, -8 for offsets outside the buffer, -9 when hub_init failed. */
EXPORT("hubw_restore") int hubw_restore(uint32_t conn, uint32_t key_off, uint32_t addr_off)
{
	struct hub *h = get();

	if (!h)
		return -9;
	if (key_off >= sizeof(inbuf) || addr_off >= sizeof(inbuf))
		return -8;
	inbuf[sizeof(inbuf) - 1] = '\0';
	return hub_restore(h, conn, inbuf, inbuf + key_off, inbuf + addr_off);
}

/* Counter i of struct hub_stats in declaration order (conns, peers, opened, joins, relayed,
 * rejects, replaced, frames_in, frames_out); -1 past the end. Doubles: exact below 2^53. */
EXPORT("hubw_stat") double hubw_stat(uint32_t i)
{
	struct hub_stats s;
	const uint64_t *v = (const uint64_t *)&s;

	if (i >= sizeof(s) / sizeof(uint64_t))
		return -1;
	if (!get())
		return -1;
	hub_get_stats(&hub, &s);
	return (double)v[i];
}

/* Bytes of linear memory the hub has taken so far (for /stats). */
EXPORT("hubw_heap") double hubw_heap(void)
{
	return heap_end ? (double)(heap_next - (uintptr_t)&__heap_base) : 0;
}

/* A binary (relay) frame: the first len bytes of hubw_buf(). A frame longer than the buffer is
 * handed over as len = hubw_buf_size(): over HUB_RELAY_FRAME_MAX, so it counts as oversized. */
EXPORT("hubw_binary") void hubw_binary(uint32_t conn, uint32_t len, double now_ms)
{
	struct hub *h = get();

	if (!h || len > sizeof(inbuf))
		return;
	hub_binary(h, conn, (const uint8_t *)inbuf, len, now_ms > 0 ? (uint64_t)now_ms : 0);
}

/* Counter i of struct hub_relay_stats in declaration order (frames_in, bytes_in, frames_out,
 * bytes_out, drop_malformed, drop_oversized, drop_unjoined, drop_unknown_peer, drop_not_allowed,
 * drop_sock_rate, drop_net_rate, drop_fair, drop_slow, drop_daily, drop_disabled, kicked); -1
 * past the end. */
EXPORT("hubw_relay_stat") double hubw_relay_stat(uint32_t i)
{
	struct hub_relay_stats s;
	const uint64_t *v = (const uint64_t *)&s;

	if (i >= sizeof(s) / sizeof(uint64_t) || !get())
		return -1;
	hub_relay_get_stats(&hub, &s);
	return (double)v[i];
}

/* The operator's relay settings (wrangler vars); 0 keeps a default. enabled 0 switches the
 * relay off. Returns 0, -9 when hub_init failed. */
EXPORT("hubw_relay_config") int hubw_relay_config(uint32_t enabled, double sock_rate,
						   double net_rate, double daily_bytes)
{
	struct hub_relay_cfg cfg;

	if (!get())
		return -9;
	hub_relay_cfg_default(&cfg);
	cfg.enabled = enabled != 0;
	if (sock_rate >= 1 && sock_rate < 4294967296.0)
		cfg.sock_rate = (uint32_t)sock_rate;
	if (net_rate >= 1 && net_rate < 4294967296.0)
		cfg.net_rate = (uint32_t)net_rate;
	if (daily_bytes >= 1 && daily_bytes < 9007199254740992.0)
		cfg.daily_bytes = (uint64_t)daily_bytes;
	hub_relay_configure(&hub, &cfg);
	return 0;
}

/* The daily budget's state: which 0 = UTC day number, 1 = bytes relayed that day. */
EXPORT("hubw_relay_usage") double hubw_relay_usage(uint32_t which)
{
	uint64_t day, bytes;

	if (!get())
		return -1;
	hub_relay_usage(&hub, &day, &bytes);
	return (double)(which ? bytes : day);
}

EXPORT("hubw_relay_set_usage") void hubw_relay_set_usage(double day, double bytes)
{
	if (get() && day >= 0 && bytes >= 0)
		hub_relay_set_usage(&hub, (uint64_t)day, (uint64_t)bytes);
}
