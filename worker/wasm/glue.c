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
#include "trust/cert.h"
#include "util/ct.h"
#include "b64.h"

#define IMPORT(name) __attribute__((import_module("env"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("send") void js_send(uint32_t conn, const char *frame, size_t len);
IMPORT("close") void js_close(uint32_t conn, uint32_t code, const char *reason, size_t len);
IMPORT("joined") void js_joined(uint32_t conn, const char *peer_id, size_t peer_len,
				const char *key, size_t key_len, const char *addr, size_t addr_len);
IMPORT("send_binary") void js_send_binary(uint32_t conn, const uint8_t *frame, size_t len);
IMPORT("revocations") void js_revocations(uint32_t conn, const char *json_array, size_t len);

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

/* Signed membership (docs/worker.md §Signed membership). The hub core asks ops->admit
 * synchronously, but WebCrypto is asynchronous, so signatures are checked in two passes:
 *   1. probe: JS puts a record's raw bytes in hubw_trust_buf() and calls hubw_trust_probe(); the
 *      same rules the native hub runs (src/trust/cert.c) run with a verifier that only records
 *      every (key, message, signature) it is asked about and says yes;
 *   2. JS checks each recorded signature with WebCrypto Ed25519 and marks the good ones
 *      (hubw_trust_sig_ok); then the frame goes to the hub, whose admit runs the rules again with
 *      a verifier that says yes only to a triple byte for byte equal to one JS marked good.
 * So a signature counts only if WebCrypto verified exactly those bytes; whatever JS does wrong
 * can make the hub refuse, never accept. The marks are cleared after every frame. */
enum { SIG_SLOTS = 4 };
struct sig_slot {
	uint8_t pub[TRUST_KEY_LEN];	/* offset 0 */
	uint8_t sig[TRUST_SIG_LEN];	/* offset 32 */
	uint32_t len;			/* offset 96 */
	uint32_t ok;			/* offset 100 */
	uint8_t msg[TRUST_CERT_MAX];	/* offset 104 */
};
static struct sig_slot sigs[SIG_SLOTS];
static uint32_t n_sigs;
static int probing;
static int trust_on;
static struct trust_ctx tctx;
static struct trust_revlist revoked;
static struct trust_bindings bindings;
static struct trust_rotations rotations;	/* newest key rotation seen per cert */
/* bindings or rotations changed since the shell last saved them (hubw_trust_tables_dirty): a
 * Durable Object's wasm memory does not survive eviction, its storage does */
static int tables_dirty;
static uint64_t now_s;
/* raw record bytes from JS: the largest record, or a cert followed by its key rotation */
static uint8_t trust_buf[TRUST_CERT_MAX + TRUST_ROTATION_MAX];

static bool sig_verify(void *opaque, const uint8_t pub[TRUST_KEY_LEN], const uint8_t *msg,
		       size_t len, const uint8_t sig[TRUST_SIG_LEN])
{
	(void)opaque;
	if (len > TRUST_CERT_MAX)
		return false;
	if (probing) {
		struct sig_slot *s;

		if (n_sigs >= SIG_SLOTS)
			return false;
		s = &sigs[n_sigs++];
		for (size_t i = 0; i < TRUST_KEY_LEN; i++)
			s->pub[i] = pub[i];
		for (size_t i = 0; i < TRUST_SIG_LEN; i++)
			s->sig[i] = sig[i];
		for (size_t i = 0; i < len; i++)
			s->msg[i] = msg[i];
		s->len = (uint32_t)len;
		s->ok = 0;
		return true;
	}
	for (uint32_t i = 0; i < n_sigs; i++) {
		const struct sig_slot *s = &sigs[i];

		if (s->ok && s->len == len && rg_ct_eq(s->pub, pub, TRUST_KEY_LEN) &&
		    rg_ct_eq(s->sig, sig, TRUST_SIG_LEN) && rg_ct_eq(s->msg, msg, len))
			return true;
	}
	return false;
}

static int op_admit(void *host, uint64_t conn, const char *peer_id, const char *public_key,
		    const char *address, const char *cert, const char *rotation, uint32_t *rot_seq,
		    const char **why)
{
	static struct trust_cert tc, view;
	static struct trust_rotation ro;
	static uint8_t raw[TRUST_CERT_MAX];
	uint8_t key[TRUST_KEY_LEN];
	bool has_ro = *rotation != '\0';
	long n;
	int v;

	(void)host;
	(void)conn;
	*rot_seq = 0;
	if (!*cert) {
		*why = "no certificate";
		return -1;
	}
	n = hubw_b64_decode(raw, sizeof(raw), cert, slen(cert));
	if (n < 0 || trust_cert_parse(&tc, raw, (size_t)n) != TRUST_OK) {
		v = TRUST_E_MALFORMED;
	} else if ((v = trust_cert_check(&tctx, &tc, now_s)) != TRUST_OK) {
		;
	} else if (has_ro &&
		   ((n = hubw_b64_decode(raw, sizeof(raw), rotation, slen(rotation))) < 0 ||
		    trust_rotation_parse(&ro, raw, (size_t)n) != TRUST_OK)) {
		v = TRUST_E_MALFORMED;
	} else if (has_ro && (v = trust_rotation_check(&tctx, &tc, &ro, now_s)) != TRUST_OK) {
		;
	} else if (hubw_b64_decode(key, sizeof(key), public_key, slen(public_key)) != TRUST_KEY_LEN) {
		v = TRUST_E_KEY;
	} else {
		/* under its key rotation, the cert names the rotation's new key */
		view = tc;
		if (has_ro)
			for (size_t i = 0; i < TRUST_KEY_LEN; i++)
				view.wg_key[i] = ro.new_wg[i];
		size_t nb = bindings.n, nr = rotations.n;
		const struct trust_rotated *e = trust_rotations_find(&rotations, tc.serial);
		uint32_t seq = e ? e->seq : 0;

		if ((v = trust_cert_matches(&view, peer_id, key, address)) == TRUST_OK &&
		    (v = trust_bindings_use(&bindings, &tc)) == TRUST_OK)
			v = trust_rotations_use(&rotations, &tc, has_ro ? &ro : 0);
		e = trust_rotations_find(&rotations, tc.serial);
		if (bindings.n != nb || rotations.n != nr || (e && e->seq != seq))
			tables_dirty = 1;
	}
	if (v == TRUST_OK) {
		*rot_seq = has_ro ? ro.seq : 0;
		return 0;
	}
	*why = trust_verdict_str(v);
	return -1;
}

static void op_revocations(void *host, uint64_t conn, const char *json_array, size_t len)
{
	(void)host;
	js_revocations((uint32_t)conn, json_array, len);
}

static const struct hub_ops ops_trust = {
	.send = op_send,
	.close = op_close,
	.joined = op_joined,
	.grow = op_grow,
	.send_binary = op_send_binary,
	.admit = op_admit,
	.revocations = op_revocations,
};

static struct hub *get(void)
{
	if (!ready && hub_init(&hub, trust_on ? &ops_trust : &ops, NULL) == 0)
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
	now_s = now_ms > 0 ? (uint64_t)now_ms / 1000 : 0;	/* for op_admit */
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
 * drop_sock_rate, drop_net_rate, drop_fair, drop_receiver, drop_slow, drop_daily, drop_disabled, kicked); -1
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
						   double net_rate, double daily_bytes,
						   double recv_rate, double recv_burst)
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
	if (recv_rate >= 1 && recv_rate < 4294967296.0)
		cfg.recv_rate = (uint32_t)recv_rate;
	if (recv_burst >= 1 && recv_burst < 4294967296.0)
		cfg.recv_burst = (uint32_t)recv_burst;
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

/* Signed membership, switched on before the hub exists (before hubw_seed): hubw_trust_buf()
 * holds the trust anchor (32 bytes) then the network id (net_len bytes). 0, -1 when the hub
 * already exists, -2 for a bad network id. */
EXPORT("hubw_trust_config") int hubw_trust_config(uint32_t net_len)
{
	if (ready)
		return -1;
	if (net_len == 0 || net_len > TRUST_NAME_MAX)
		return -2;
	for (size_t i = 0; i < TRUST_KEY_LEN; i++)
		tctx.anchor[i] = trust_buf[i];
	for (size_t i = 0; i < net_len; i++)
		tctx.net[i] = (char)trust_buf[TRUST_KEY_LEN + i];
	tctx.net[net_len] = '\0';
	tctx.verify = sig_verify;
	tctx.revoked = &revoked;
	tctx.skew_s = TRUST_SKEW_S;
	trust_on = 1;
	return 0;
}

EXPORT("hubw_trust_buf") uint8_t *hubw_trust_buf(void)
{
	return trust_buf;
}

EXPORT("hubw_trust_buf_size") uint32_t hubw_trust_buf_size(void)
{
	return sizeof(trust_buf);
}

/* Pass 1: the record (type 1 cert, 3 revocation) is the first len bytes of hubw_trust_buf();
 * type 4: a cert (the first split bytes) followed by its key rotation (the rest of len).
 * Records the signatures its check needs; returns how many (hubw_trust_sig() gives each), or
 * -1 when it does not parse. Earlier marks are cleared. */
EXPORT("hubw_trust_probe") int hubw_trust_probe(uint32_t type, uint32_t len, double now,
						uint32_t split)
{
	static struct trust_cert c;
	static struct trust_rotation ro;
	struct trust_revoke r;

	n_sigs = 0;
	if (!trust_on || len > sizeof(trust_buf) || split > len)
		return -1;
	now_s = now > 0 ? (uint64_t)now : 0;
	probing = 1;
	if (type == TRUST_T_CERT && trust_cert_parse(&c, trust_buf, len) == TRUST_OK)
		(void)trust_cert_check(&tctx, &c, now_s);
	else if (type == TRUST_T_ROTATION && trust_cert_parse(&c, trust_buf, split) == TRUST_OK &&
		 trust_rotation_parse(&ro, trust_buf + split, len - split) == TRUST_OK)
		(void)(trust_cert_check(&tctx, &c, now_s) ||
		       trust_rotation_check(&tctx, &c, &ro, now_s));
	else if (type == TRUST_T_REVOKE && trust_revoke_parse(&r, trust_buf, len) == TRUST_OK)
		(void)trust_revoke_check(&tctx, &r);
	else
		n_sigs = (uint32_t)-1;
	probing = 0;
	if (n_sigs == (uint32_t)-1) {
		n_sigs = 0;
		return -1;
	}
	return (int)n_sigs;
}

/* Recorded signature i: {pub[32], sig[64], u32 len, u32 ok, msg[len]} (offsets 0, 32, 96, 100,
 * 104), or NULL. */
EXPORT("hubw_trust_sig") struct sig_slot *hubw_trust_sig(uint32_t i)
{
	return i < n_sigs ? &sigs[i] : NULL;
}

/* Pass 2: WebCrypto verified recorded signature i. */
EXPORT("hubw_trust_sig_ok") void hubw_trust_sig_ok(uint32_t i)
{
	if (i < n_sigs)
		sigs[i].ok = 1;
}

/* Forgets every recorded signature (after each frame). */
EXPORT("hubw_trust_clear") void hubw_trust_clear(void)
{
	n_sigs = 0;
}

/* Adds the revocation in hubw_trust_buf() (len bytes) if it verifies with the marked
 * signatures: 1 added, 0 already known, a negative trust verdict otherwise. */
EXPORT("hubw_trust_revoke") int hubw_trust_revoke(uint32_t len)
{
	struct trust_revoke r;
	int v;

	if (!trust_on || len > sizeof(trust_buf))
		return TRUST_E_MALFORMED;
	if ((v = trust_revoke_parse(&r, trust_buf, len)) != TRUST_OK ||
	    (v = trust_revoke_check(&tctx, &r)) != TRUST_OK)
		return v;
	if (trust_revlist_has(&revoked, r.serial))
		return 0;
	v = trust_revlist_add(&revoked, r.serial);
	return v == TRUST_OK ? 1 : v;
}

/* 1 when the serial (hi << 32 | lo) is revoked: the shell refuses such a client at the upgrade
 * (X-Riftgate-Serial), before a WebSocket exists. */
EXPORT("hubw_trust_is_revoked") uint32_t hubw_trust_is_revoked(uint32_t hi, uint32_t lo)
{
	return trust_on && trust_revlist_has(&revoked, (uint64_t)hi << 32 | lo) ? 1 : 0;
}

/* Persistence of the one-binding-per-ticket table and the newest rotation per cert: the shell
 * reads the raw entries (struct trust_binding / struct trust_rotated, wasm32 layout) after a
 * frame that changed them and keeps them in storage; at construction it writes them back in
 * place and sets the counts. */
EXPORT("hubw_trust_tables_dirty") uint32_t hubw_trust_tables_dirty(void)
{
	uint32_t d = (uint32_t)tables_dirty;

	tables_dirty = 0;
	return d;
}

/* which: 0 bindings, 1 rotations. */
EXPORT("hubw_trust_table") void *hubw_trust_table(uint32_t which)
{
	return which ? (void *)rotations.e : (void *)bindings.b;
}

EXPORT("hubw_trust_table_entry_size") uint32_t hubw_trust_table_entry_size(uint32_t which)
{
	return which ? sizeof(rotations.e[0]) : sizeof(bindings.b[0]);
}

EXPORT("hubw_trust_table_count") uint32_t hubw_trust_table_count(uint32_t which)
{
	return (uint32_t)(which ? rotations.n : bindings.n);
}

/* After the shell wrote n entries at hubw_trust_table(which): 0, or -1 when n is over the
 * table's capacity (the table is then left empty). */
EXPORT("hubw_trust_table_set_count") int hubw_trust_table_set_count(uint32_t which, uint32_t n)
{
	if (which ? n > TRUST_ROTATIONS_MAX : n > TRUST_BINDINGS_MAX)
		return -1;
	if (which)
		rotations.n = n;
	else
		bindings.n = n;
	return 0;
}

/* Revoked serials held (for /stats). */
EXPORT("hubw_trust_revoked") uint32_t hubw_trust_revoked(void)
{
	return (uint32_t)revoked.n;
}
