/* Hub core state machine (see hub.h for the rules and the host contract).
 *
 * Called by the host's single event loop (riftgate-hub's GMainContext, or the Durable Object's
 * JS via wasm exports). State: every open connection in `by_id`; joined ones also in `by_peer`
 * and the `joined` list (broadcast order). A connection the hub itself closes (replaced, rate
 * limit, too large) leaves the peer table at once, so no ghost stays visible while the host
 * finishes the close; hub_close() then only frees it. Freestanding: no libc calls.
 */
#include "hub/hub-int.h"
#include "hub/hub.h"
#include "hub/json.h"

struct hub_conn {
	uint64_t id;
	struct hub_conn *prev, *next;	/* joined list, not owned */
	bool joined;
	bool closing;			/* hub asked the host to close: ignore its frames */
	bool rate_warned;		/* one rate-limited error per episode */
	int64_t tokens_m;		/* token bucket, in thousandths of a frame */
	uint64_t last_ms;		/* last refill */
	uint32_t peer_hash;
	uint32_t rot_seq;		/* key rotation its join carried (ops->admit), 0 = none */
	uint16_t id_len, key_len, addr_len;
	char peer_id[HUB_ID_MAX + 1];
	char public_key[HUB_KEY_LEN + 1];
	char address[HUB_ADDR_MAX + 1];
	struct hub_relay_conn relay;	/* relay.c's budgets for this socket */
};

struct hub_chunk {
	struct hub_chunk *next;
	size_t bytes;
};

enum {
	CHUNK_MIN = 256 * 1024,
	CLASS_MIN_SHIFT = 4,		/* 16-byte blocks */
	N_CLASSES = 24,			/* up to 128 MiB */
	TOKEN = 1000,			/* one frame, in tokens_m units */
	/* a forwarded join without its unknown members: {"type":"join","peerId":ID,
	 * "publicKey":KEY,"address":ADDR} with every field at its maximum, rounded up */
	JOIN_FIXED_MAX = 256,
};

/* ---- tiny libc replacements ---- */

static void mem_copy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
}

static void mem_zero(void *dst, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = 0;
}

static bool mem_eq(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return false;
	return true;
}

static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* ---- what a join may announce (docs/signaling.md) ---- */

/* 1-64 of A-Z a-z 0-9 . _ -: the network-name alphabet, so an id never carries a control
 * character into a log or `riftgate status`. */
static bool valid_peer_id(const char *s, size_t n)
{
	if (n == 0 || n > HUB_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Standard base64 of exactly 32 bytes: 43 symbols and one '=', the last symbol carrying two
 * zero bits (its index a multiple of 4), so each key has one spelling. */
static bool valid_key(const char *s, size_t n)
{
	static const char last[] = "AEIMQUYcgkosw048";

	if (n != HUB_KEY_LEN || s[43] != '=')
		return false;
	for (size_t i = 0; i < 43; i++)
		if (!is_b64(s[i]))
			return false;
	for (size_t i = 0; i < sizeof(last) - 1; i++)
		if (s[42] == last[i])
			return true;
	return false;
}

/* An IP prefix as text ("10.10.0.2/24", "fd00::2/64"): bounded and made of address characters
 * only. The agent parses it for real; the hub only keeps junk and control bytes out. */
static bool valid_address(const char *s, size_t n)
{
	if (n > HUB_ADDR_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == '.' || c == ':' || c == '/'))
			return false;
	}
	return true;
}

/* ---- allocator: power-of-two size classes over chunks from ops->grow ---- */

static unsigned size_class(size_t n)
{
	unsigned c = 0;

	while (((size_t)1 << (c + CLASS_MIN_SHIFT)) < n)
		c++;
	return c;
}

static void *hub_alloc(struct hub *h, size_t n)
{
	unsigned c = size_class(n);
	size_t bytes;

	if (c >= N_CLASSES)
		return NULL;
	bytes = (size_t)1 << (c + CLASS_MIN_SHIFT);
	if (h->free_lists[c]) {
		void *p = h->free_lists[c];

		h->free_lists[c] = *(void **)p;
		return p;
	}
	if (!h->bump || (size_t)(h->bump_end - h->bump) < bytes) {
		size_t want = bytes + 64 > CHUNK_MIN ? bytes + 64 : CHUNK_MIN;
		struct hub_chunk *ch = h->ops->grow(h->host, want);

		if (!ch)
			return NULL;
		ch->next = h->chunks;
		ch->bytes = want;
		h->chunks = ch;
		/* the rest of the previous chunk is abandoned: at most one block's worth */
		h->bump = (uint8_t *)ch + 32;
		h->bump_end = (uint8_t *)ch + want;
	}
	void *p = h->bump;

	h->bump += bytes;
	return p;
}

static void hub_free(struct hub *h, void *p, size_t n)
{
	unsigned c = size_class(n);

	if (!p)
		return;
	*(void **)p = h->free_lists[c];
	h->free_lists[c] = p;
}

/* ---- hash tables (open addressing, linear probing, backward-shift delete) ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint32_t str_hash(uint32_t seed, const char *s, size_t n)
{
	uint32_t v = 2166136261u ^ seed;	/* FNV-1a from a seeded basis, then a final mix */

	for (size_t i = 0; i < n; i++) {
		v ^= (uint8_t)s[i];
		v *= 16777619u;
	}
	return (uint32_t)mix64((uint64_t)v << 32 | seed);
}

static size_t slot_of_conn(const struct hub_conn *c, bool by_peer)
{
	return by_peer ? c->peer_hash : (size_t)mix64(c->id);
}

/* Rehashes table *tab (cap *cap) into a table of new_cap slots. */
static bool table_resize(struct hub *h, struct hub_conn ***tab, size_t *cap, size_t new_cap,
			 bool by_peer)
{
	struct hub_conn **nt = hub_alloc(h, new_cap * sizeof(*nt));

	if (!nt)
		return false;
	mem_zero(nt, new_cap * sizeof(*nt));
	for (size_t i = 0; i < *cap; i++) {
		struct hub_conn *c = (*tab)[i];

		if (!c)
			continue;
		size_t j = slot_of_conn(c, by_peer) & (new_cap - 1);

		while (nt[j])
			j = (j + 1) & (new_cap - 1);
		nt[j] = c;
	}
	hub_free(h, *tab, *cap * sizeof(**tab));
	*tab = nt;
	*cap = new_cap;
	return true;
}

static bool table_insert(struct hub *h, struct hub_conn ***tab, size_t *cap, size_t *used,
			 struct hub_conn *c, bool by_peer)
{
	if ((*used + 1) * 2 > *cap && !table_resize(h, tab, cap, *cap ? *cap * 2 : 64, by_peer))
		return false;
	size_t j = slot_of_conn(c, by_peer) & (*cap - 1);

	while ((*tab)[j])
		j = (j + 1) & (*cap - 1);
	(*tab)[j] = c;
	(*used)++;
	return true;
}

static void table_remove(struct hub_conn **tab, size_t cap, size_t *used, struct hub_conn *c,
			 bool by_peer)
{
	size_t mask = cap - 1, i;

	if (!cap)
		return;
	for (i = slot_of_conn(c, by_peer) & mask; tab[i] != c; i = (i + 1) & mask)
		if (!tab[i])
			return;
	/* backward shift: pull later members of the probe run into the hole */
	for (size_t j = (i + 1) & mask; tab[j]; j = (j + 1) & mask) {
		size_t home = slot_of_conn(tab[j], by_peer) & mask;

		if (((j - home) & mask) >= ((j - i) & mask)) {
			tab[i] = tab[j];
			i = j;
		}
	}
	tab[i] = NULL;
	(*used)--;
}

static struct hub_conn *find_conn(const struct hub *h, uint64_t id)
{
	size_t mask = h->by_id_cap - 1;

	if (!h->by_id_cap)
		return NULL;
	for (size_t i = (size_t)mix64(id) & mask; h->by_id[i]; i = (i + 1) & mask)
		if (h->by_id[i]->id == id)
			return h->by_id[i];
	return NULL;
}

static struct hub_conn *find_peer(const struct hub *h, const char *pid, size_t len)
{
	size_t mask = h->by_peer_cap - 1;
	uint32_t hv = str_hash(h->seed, pid, len);

	if (!h->by_peer_cap)
		return NULL;
	for (size_t i = hv & mask; h->by_peer[i]; i = (i + 1) & mask) {
		struct hub_conn *c = h->by_peer[i];

		if (c->peer_hash == hv && c->id_len == len && mem_eq(c->peer_id, pid, len))
			return c;
	}
	return NULL;
}

/* ---- output ---- */

struct out {
	struct hub *h;
	size_t len;
	bool oom;
};

static bool out_reserve(struct out *o, size_t more)
{
	struct hub *h = o->h;
	size_t need = o->len + more, cap;

	if (o->oom)
		return false;
	if (need <= h->out_cap)
		return true;
	for (cap = h->out_cap ? h->out_cap : 4096; cap < need; cap *= 2)
		;
	char *nb = hub_alloc(h, cap);

	if (!nb) {
		o->oom = true;
		return false;
	}
	mem_copy(nb, h->out, o->len);
	hub_free(h, h->out, h->out_cap);
	h->out = nb;
	h->out_cap = cap;
	return true;
}

static void out_raw(struct out *o, const char *s, size_t n)
{
	if (out_reserve(o, n)) {
		mem_copy(o->h->out + o->len, s, n);
		o->len += n;
	}
}

static void out_lit(struct out *o, const char *s)
{
	out_raw(o, s, str_len(s));
}

static void out_str(struct out *o, const char *s, size_t n)
{
	if (out_reserve(o, hub_json_escaped_len(s, n)))
		o->len += hub_json_escape(o->h->out + o->len, s, n);
}

static void out_u32(struct out *o, uint32_t v)
{
	char d[10];
	size_t n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out_raw(o, &d[--n], 1);
}

static void out_begin(struct out *o, struct hub *h)
{
	o->h = h;
	o->len = 0;
	o->oom = false;
}

/* False when nothing was sent: out of memory, or over the client's frame limit (callers check
 * sizes first; this is the last guard, so no frame over HUB_FRAME_MAX ever leaves the hub). */
static bool send_out(struct hub *h, struct out *o, uint64_t conn)
{
	if (o->oom || o->len > HUB_FRAME_MAX)
		return false;
	h->ops->send(h->host, conn, h->out, o->len);
	h->stats.frames_out++;
	return true;
}

static void send_error(struct hub *h, struct hub_conn *c, const char *code, const char *msg,
		       const char *arg, size_t arg_len)
{
	struct out o;

	out_begin(&o, h);
	out_lit(&o, "{\"type\":\"error\",\"code\":\"");
	out_lit(&o, code);
	out_lit(&o, "\",\"message\":");
	if (arg) {
		/* message + ": " + arg, escaped as one string */
		size_t ml = str_len(msg);
		char buf[96 + HUB_ID_MAX];
		size_t n = 0;

		for (size_t i = 0; i < ml && n < 80; i++)
			buf[n++] = msg[i];
		buf[n++] = ':';
		buf[n++] = ' ';
		for (size_t i = 0; i < arg_len && i < HUB_ID_MAX; i++)
			buf[n++] = arg[i];
		out_str(&o, buf, n);
	} else {
		out_str(&o, msg, str_len(msg));
	}
	out_lit(&o, "}");
	send_out(h, &o, c->id);
	h->stats.rejects++;
}

static void broadcast(struct hub *h, struct out *o, const struct hub_conn *except)
{
	if (o->oom || o->len > HUB_FRAME_MAX)
		return;
	for (struct hub_conn *c = h->joined_head; c; c = c->next) {
		if (c == except)
			continue;
		h->ops->send(h->host, c->id, h->out, o->len);
		h->stats.frames_out++;
	}
}

/* ---- membership ---- */

/* Removes c from the peer table and list; the others get peer-left unless silent. */
static void unregister(struct hub *h, struct hub_conn *c, bool silent)
{
	struct out o;

	if (!c->joined)
		return;
	table_remove(h->by_peer, h->by_peer_cap, &h->by_peer_used, c, true);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->joined_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		h->joined_tail = c->prev;
	c->prev = c->next = NULL;
	c->joined = false;
	h->stats.peers--;
	if (silent)
		return;
	out_begin(&o, h);
	out_lit(&o, "{\"type\":\"peer-left\",\"peerId\":");
	out_str(&o, c->peer_id, c->id_len);
	out_lit(&o, "}");
	broadcast(h, &o, c);
}

/* The hub ends c: optional error frame, close request, no longer a peer. */
static void hub_kick(struct hub *h, struct hub_conn *c, uint16_t code, const char *err_code,
		     const char *reason)
{
	if (err_code)
		send_error(h, c, err_code, reason, NULL, 0);
	c->closing = true;
	h->ops->close(h->host, c->id, code, reason);
	unregister(h, c, false);
}

static void set_identity(const struct hub *h, struct hub_conn *c, const char *pid,
			 size_t pid_len, const char *key, size_t key_len, const char *addr,
			 size_t addr_len)
{
	mem_copy(c->peer_id, pid, pid_len);
	c->peer_id[pid_len] = '\0';
	c->id_len = (uint16_t)pid_len;
	c->peer_hash = str_hash(h->seed, pid, pid_len);
	mem_copy(c->public_key, key, key_len);
	c->public_key[key_len] = '\0';
	c->key_len = (uint16_t)key_len;
	mem_copy(c->address, addr, addr_len);
	c->address[addr_len] = '\0';
	c->addr_len = (uint16_t)addr_len;
}

static bool register_peer(struct hub *h, struct hub_conn *c)
{
	if (!table_insert(h, &h->by_peer, &h->by_peer_cap, &h->by_peer_used, c, true))
		return false;
	c->joined = true;
	c->prev = h->joined_tail;
	c->next = NULL;
	if (h->joined_tail)
		h->joined_tail->next = c;
	else
		h->joined_head = c;
	h->joined_tail = c;
	h->stats.peers++;
	return true;
}

/* ---- public API ---- */

int hub_init(struct hub *h, const struct hub_ops *ops, void *host)
{
	mem_zero(h, sizeof(*h));
	if (!ops || !ops->send || !ops->close || !ops->grow)
		return -1;
	h->ops = ops;
	h->host = host;
	hub_relay_cfg_default(&h->relay.cfg);
	h->join_extra_max = HUB_JOIN_EXTRA_DEFAULT;
	return 0;
}

void hub_set_seed(struct hub *h, uint32_t seed)
{
	h->seed = seed;
}

void hub_set_join_extra_max(struct hub *h, size_t bytes)
{
	if (bytes > HUB_FRAME_MAX - JOIN_FIXED_MAX)
		bytes = HUB_FRAME_MAX - JOIN_FIXED_MAX;
	h->join_extra_max = bytes;
}

void hub_clear(struct hub *h)
{
	const struct hub_ops *ops = h->ops;
	void *host = h->host;
	uint32_t seed = h->seed;
	struct hub_relay_cfg relay_cfg = h->relay.cfg;
	size_t join_extra_max = h->join_extra_max;
	struct hub_chunk *ch = h->chunks;

	while (ch) {
		struct hub_chunk *next = ch->next;

		if (ops && ops->release)
			ops->release(host, ch, ch->bytes);
		ch = next;
	}
	mem_zero(h, sizeof(*h));
	h->ops = ops;
	h->host = host;
	h->seed = seed;
	h->relay.cfg = relay_cfg;
	h->join_extra_max = join_extra_max;
}

int hub_open(struct hub *h, uint64_t conn)
{
	struct hub_conn *c;

	if (find_conn(h, conn))
		return -2;
	c = hub_alloc(h, sizeof(*c));
	if (!c)
		return -1;
	mem_zero(c, sizeof(*c));
	c->id = conn;
	c->tokens_m = (int64_t)HUB_RATE_BURST * TOKEN;
	if (!table_insert(h, &h->by_id, &h->by_id_cap, &h->by_id_used, c, false)) {
		hub_free(h, c, sizeof(*c));
		return -1;
	}
	h->stats.conns++;
	h->stats.opened++;
	return 0;
}

void hub_close(struct hub *h, uint64_t conn)
{
	struct hub_conn *c = find_conn(h, conn);

	if (!c)
		return;
	unregister(h, c, false);
	table_remove(h->by_id, h->by_id_cap, &h->by_id_used, c, false);
	hub_free(h, c, sizeof(*c));
	h->stats.conns--;
}

int hub_restore(struct hub *h, uint64_t conn, const char *peer_id, const char *public_key,
		const char *address)
{
	size_t il, kl, al;
	struct hub_conn *c, *holder;

	if (!peer_id || !public_key)
		return -2;
	if (!address)
		address = "";
	il = str_len(peer_id);
	kl = str_len(public_key);
	al = str_len(address);
	if (!valid_peer_id(peer_id, il) || !valid_key(public_key, kl) || !valid_address(address, al))
		return -2;
	c = find_conn(h, conn);
	if (!c) {
		int r = hub_open(h, conn);

		if (r)
			return r;
		c = find_conn(h, conn);
	}
	holder = find_peer(h, peer_id, il);
	if (holder && holder != c)
		return -3;
	unregister(h, c, true);
	set_identity(h, c, peer_id, il, public_key, kl, address, al);
	if (!register_peer(h, c))
		return -1;
	return 0;
}

void hub_get_stats(const struct hub *h, struct hub_stats *out)
{
	*out = h->stats;
}

size_t hub_peer_count(const struct hub *h)
{
	return (size_t)h->stats.peers;
}

/* ---- frame handling ---- */

/* Known members of an incoming frame (the last occurrence wins, as in Go's encoding/json). */
struct frame {
	struct hub_json_span type, peer_id, public_key, address, to, cert, revocations, rotation;
	bool has_type, has_peer_id, has_public_key, has_address, has_to, has_cert, has_revocations,
	     has_rotation;
};

enum key_id { K_OTHER, K_TYPE, K_PEER_ID, K_PUBLIC_KEY, K_ADDRESS, K_FROM, K_TO, K_CERT,
	      K_REVOCATIONS, K_ROTATION };

static enum key_id key_id(const struct hub_json_span *k)
{
	static const struct { const char *name; enum key_id id; } keys[] = {
		{ "type", K_TYPE }, { "peerId", K_PEER_ID }, { "publicKey", K_PUBLIC_KEY },
		{ "address", K_ADDRESS }, { "from", K_FROM }, { "to", K_TO }, { "cert", K_CERT },
		{ "revocations", K_REVOCATIONS }, { "rotation", K_ROTATION },
	};
	char buf[16];
	long n = hub_json_decode(k, buf, sizeof(buf), false);

	if (n < 0)
		return K_OTHER;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (str_len(keys[i].name) == (size_t)n && mem_eq(keys[i].name, buf, (size_t)n))
			return keys[i].id;
	return K_OTHER;
}

static bool scan_frame(struct frame *f, const char *s, size_t len)
{
	struct hub_json_iter it;
	struct hub_json_span k, v;

	mem_zero(f, sizeof(*f));
	hub_json_iter_init(&it, s, len);
	while (hub_json_iter_next(&it, &k, &v)) {
		switch (key_id(&k)) {
		case K_TYPE: f->type = v; f->has_type = true; break;
		case K_PEER_ID: f->peer_id = v; f->has_peer_id = true; break;
		case K_PUBLIC_KEY: f->public_key = v; f->has_public_key = true; break;
		case K_ADDRESS: f->address = v; f->has_address = true; break;
		case K_TO: f->to = v; f->has_to = true; break;
		case K_CERT: f->cert = v; f->has_cert = true; break;
		case K_REVOCATIONS: f->revocations = v; f->has_revocations = true; break;
		case K_ROTATION: f->rotation = v; f->has_rotation = true; break;
		default: break;
		}
	}
	return true;
}

/* Copies every member of the frame except those in skip (a bitmask of 1 << key_id). */
static void copy_members(struct out *o, const char *s, size_t len, unsigned skip)
{
	struct hub_json_iter it;
	struct hub_json_span k, v;

	hub_json_iter_init(&it, s, len);
	while (hub_json_iter_next(&it, &k, &v)) {
		if (skip & (1u << key_id(&k)))
			continue;
		out_lit(o, ",");
		out_raw(o, k.p, k.len);
		out_lit(o, ":");
		out_raw(o, v.p, v.len);
	}
}

/* Bytes copy_members() would write. */
static size_t members_len(const char *s, size_t len, unsigned skip)
{
	struct hub_json_iter it;
	struct hub_json_span k, v;
	size_t n = 0;

	hub_json_iter_init(&it, s, len);
	while (hub_json_iter_next(&it, &k, &v))
		if (!(skip & (1u << key_id(&k))))
			n += 2 + k.len + v.len;
	return n;
}

/* Decodes a string member into buf; -1 when not a string, too long or has U+0000. */
static long field(const struct hub_json_span *v, char *buf, size_t cap)
{
	if (v->kind != HUB_JSON_STRING)
		return -1;
	return hub_json_decode(v, buf, cap, false);
}

static void write_peer_entry(struct out *o, const struct hub_conn *p)
{
	out_lit(o, "{\"peerId\":");
	out_str(o, p->peer_id, p->id_len);
	out_lit(o, ",\"publicKey\":");
	out_str(o, p->public_key, p->key_len);
	if (p->addr_len) {
		out_lit(o, ",\"address\":");
		out_str(o, p->address, p->addr_len);
	}
	out_lit(o, "}");
}

/* What a join announces, decoded and checked. */
struct join_req {
	char id[HUB_ID_MAX + 1], key[HUB_KEY_LEN + 1], addr[HUB_ADDR_MAX + 1];
	size_t id_len, key_len, addr_len;
	uint32_t rot_seq;	/* signed: the key rotation the host accepted, 0 = none */
};

/* Members of a join the hub writes itself; everything else is "extra" and forwarded as is. */
static const unsigned join_own = 1u << K_TYPE | 1u << K_PEER_ID | 1u << K_PUBLIC_KEY |
				 1u << K_ADDRESS | 1u << K_FROM;

/* Decodes and checks a join's fields; on failure answers c with an error frame. */
static bool parse_join(struct hub *h, struct hub_conn *c, const struct frame *f, const char *s,
		       size_t len, struct join_req *j)
{
	long il, kl, al = 0;

	if (!f->has_peer_id || !f->has_public_key) {
		send_error(h, c, "bad-message", f->has_peer_id ? "join: missing field 'publicKey'" :
			   "join: missing field 'peerId'", NULL, 0);
		return false;
	}
	/* one byte of room past each limit, so an overlong value decodes and fails the check */
	il = field(&f->peer_id, j->id, sizeof(j->id));
	kl = field(&f->public_key, j->key, sizeof(j->key));
	if (f->has_address && f->address.kind != HUB_JSON_NULL)
		al = field(&f->address, j->addr, sizeof(j->addr));
	else
		j->addr[0] = '\0';
	if (il < 0 || !valid_peer_id(j->id, (size_t)il)) {
		send_error(h, c, "bad-message", "join: peerId must be 1-64 of A-Z a-z 0-9 . _ -",
			   NULL, 0);
		return false;
	}
	if (kl < 0 || !valid_key(j->key, (size_t)kl)) {
		send_error(h, c, "bad-message",
			   "join: publicKey must be the base64 of a 32-byte key (44 characters)", NULL, 0);
		return false;
	}
	if (al < 0 || !valid_address(j->addr, (size_t)al)) {
		send_error(h, c, "bad-message",
			   "join: address must be an IP prefix of at most 49 characters", NULL, 0);
		return false;
	}
	/* unknown members go to every peer: bounded, so a join cannot make the hub queue
	 * 64 KiB for each of them */
	if (members_len(s, len, join_own) > h->join_extra_max) {
		send_error(h, c, "too-large", "join: unknown fields over the hub's limit", NULL, 0);
		return false;
	}
	j->id_len = (size_t)il;
	j->key_len = (size_t)kl;
	j->addr_len = (size_t)al;
	return true;
}

/* Whether c may hold the id: the first live connection keeps it; another one takes it over only
 * with the same key (the same device reconnecting while its old socket has not died yet). */
static bool admit(struct hub *h, struct hub_conn *c, const struct join_req *j)
{
	struct hub_conn *old;

	if (c->joined && (c->id_len != j->id_len || !mem_eq(c->peer_id, j->id, j->id_len))) {
		send_error(h, c, "already-joined", "this connection already joined as",
			   c->peer_id, c->id_len);
		return false;
	}
	old = find_peer(h, j->id, j->id_len);
	if (!old || old == c)
		return true;
	if (h->ops->admit) {
		/* signed network: the seat is not the hub's to give away, not even to the same key
		 * (a certificate is public; possession of the key is not proven to the hub). The
		 * exception is a newer key rotation than the seat's, verified by the host: the seat's
		 * key is superseded, so its holder is the device before it rotated (or a thief of the
		 * old key) and the rotated device takes the seat. */
		if (j->rot_seq > old->rot_seq) {
			h->stats.replaced++;
			hub_kick(h, old, HUB_CLOSE_REPLACED, "replaced",
				 "replaced by the same device under a newer key rotation");
			return true;
		}
		h->stats.refused++;
		hub_kick(h, c, HUB_CLOSE_ID_TAKEN, "peer-id-taken",
			 "this peerId is connected on another socket");
		return false;
	}
	if (old->key_len != j->key_len || !mem_eq(old->public_key, j->key, j->key_len)) {
		hub_kick(h, c, HUB_CLOSE_ID_IN_USE, "id-in-use",
			 "peerId in use by another device");
		return false;
	}
	/* the others see peer-left, then the join below */
	h->stats.replaced++;
	hub_kick(h, old, HUB_CLOSE_REPLACED, "replaced", "replaced by a newer connection");
	return true;
}

/* The `peers` reply: every joined peer but c, in join order, in as many frames as it takes to
 * keep each within HUB_FRAME_MAX (one frame, maybe empty, when they fit). */
static void send_peers(struct hub *h, struct hub_conn *c)
{
	static const char head[] = "{\"type\":\"peers\",\"peers\":[";
	bool relay = hub_relay_available(h);
	/* "],"relay":true,"relayRate":4294967295,"relayBurst":4294967295}" at most */
	size_t tail_len = relay ? 64 : 2;
	struct hub_conn *p = h->joined_head;
	struct out o;

	do {
		bool first = true;

		out_begin(&o, h);
		out_lit(&o, head);
		for (; p; p = p->next) {
			size_t mark = o.len;

			if (p == c)
				continue;
			if (!first)
				out_lit(&o, ",");
			write_peer_entry(&o, p);
			/* an entry is a few hundred bytes at most (bounded id, key, address),
			 * so a frame always holds at least one */
			if (!first && o.len + tail_len > HUB_FRAME_MAX) {
				o.len = mark;	/* this entry opens the next frame */
				break;
			}
			first = false;
		}
		if (relay) {
			/* the sender's budget, so clients pace to it (docs/signaling.md §Relay) */
			out_lit(&o, "],\"relay\":true,\"relayRate\":");
			out_u32(&o, h->relay.cfg.sock_rate);
			out_lit(&o, ",\"relayBurst\":");
			out_u32(&o, h->relay.cfg.sock_burst);
			out_lit(&o, "}");
		} else {
			out_lit(&o, "]}");
		}
		if (!send_out(h, &o, c->id))
			return;
	} while (p);
}

/* Signed membership: the host checks the certificate (ops->admit). A refusal closes the
 * connection, so a client without a valid certificate costs one frame. */
static bool certified(struct hub *h, struct hub_conn *c, const struct frame *f,
		      struct join_req *j)
{
	char cert[HUB_CERT_MAX + 1], rot[HUB_ROTATION_MAX + 1];
	const char *why = "refused";
	long cl = 0, rl = 0;

	j->rot_seq = 0;
	if (!h->ops->admit)
		return true;
	if (f->has_cert && f->cert.kind != HUB_JSON_NULL)
		cl = field(&f->cert, cert, sizeof(cert));
	if (f->has_rotation && f->rotation.kind != HUB_JSON_NULL)
		rl = field(&f->rotation, rot, sizeof(rot));
	if (cl >= 0 && rl >= 0) {
		/* no cert: still the host's to count and log ("" is never a valid cert) */
		cert[cl] = '\0';
		rot[rl] = '\0';
		if (h->ops->admit(h->host, c->id, j->id, j->key, j->addr, cert, rot, &j->rot_seq,
				  &why) == 0)
			return true;
	} else {
		why = cl < 0 ? "cert must be a string of at most 2047 bytes" :
			       "rotation must be a string of at most 511 bytes";
	}
	h->stats.refused++;
	hub_kick(h, c, HUB_CLOSE_NOT_ADMITTED, "not-admitted", why ? why : "refused");
	return false;
}

static void handle_join(struct hub *h, struct hub_conn *c, const struct frame *f,
			const char *s, size_t len)
{
	struct join_req j;
	struct out o;

	if (!parse_join(h, c, f, s, len, &j) || !certified(h, c, f, &j) || !admit(h, c, &j))
		return;
	/* same peerId again on a joined connection: key and address are refreshed in place (a key
	 * rotation arrives this way) */
	set_identity(h, c, j.id, j.id_len, j.key, j.key_len, j.addr, j.addr_len);
	c->rot_seq = j.rot_seq;
	if (!c->joined && !register_peer(h, c)) {
		send_error(h, c, "overloaded", "hub out of memory", NULL, 0);
		return;
	}
	h->stats.joins++;
	if (h->ops->joined)
		h->ops->joined(h->host, c->id, c->peer_id, c->public_key, c->address);
	send_peers(h, c);

	out_begin(&o, h);
	out_lit(&o, "{\"type\":\"join\",\"peerId\":");
	out_str(&o, c->peer_id, c->id_len);
	out_lit(&o, ",\"publicKey\":");
	out_str(&o, c->public_key, c->key_len);
	if (c->addr_len) {
		out_lit(&o, ",\"address\":");
		out_str(&o, c->address, c->addr_len);
	}
	copy_members(&o, s, len, join_own);
	out_lit(&o, "}");
	broadcast(h, &o, c);
}

static void handle_relay(struct hub *h, struct hub_conn *c, const char *type, const struct frame *f,
			 const char *s, size_t len)
{
	char to[HUB_ID_MAX + 1];
	long tl;
	struct hub_conn *dst;
	struct out o;

	if (!c->joined) {
		send_error(h, c, "not-joined", "send join first", NULL, 0);
		return;
	}
	if (!f->has_to || (tl = field(&f->to, to, sizeof(to))) <= 0) {
		send_error(h, c, "bad-message", "missing or invalid field 'to'", NULL, 0);
		return;
	}
	dst = find_peer(h, to, (size_t)tl);
	if (!dst) {
		send_error(h, c, "unknown-peer", "no such peer", to, (size_t)tl);
		return;
	}
	out_begin(&o, h);
	out_lit(&o, "{\"type\":\"");
	out_lit(&o, type);
	out_lit(&o, "\",\"from\":");
	out_str(&o, c->peer_id, c->id_len);
	copy_members(&o, s, len, 1u << K_TYPE | 1u << K_FROM);
	out_lit(&o, "}");
	if (o.oom) {
		send_error(h, c, "overloaded", "hub out of memory", NULL, 0);
		return;
	}
	/* checked after the rewrite: "from" makes the frame longer than the one received */
	if (o.len > HUB_FRAME_MAX) {
		send_error(h, c, "too-large", "frame would exceed 65536 bytes once relayed", NULL, 0);
		return;
	}
	send_out(h, &o, dst->id);
	h->stats.relayed++;
	if (h->ops->revocations && f->has_revocations && f->revocations.kind == HUB_JSON_ARRAY &&
	    type[0] == 'r')	/* "revoke": the only relayed type starting with 'r' */
		h->ops->revocations(h->host, c->id, f->revocations.p, f->revocations.len);
}

/* Token bucket: false when the frame must be dropped (and maybe the conn closed). */
static bool rate_ok(struct hub *h, struct hub_conn *c, uint64_t now_ms)
{
	const int64_t cap = (int64_t)HUB_RATE_BURST * TOKEN;

	if (now_ms > c->last_ms) {
		uint64_t dt = now_ms - c->last_ms;

		/* HUB_RATE_PER_S frames per 1000 ms = HUB_RATE_PER_S tokens_m per ms */
		if (dt > (uint64_t)cap)
			dt = (uint64_t)cap;
		c->tokens_m += (int64_t)dt * HUB_RATE_PER_S;
		if (c->tokens_m > cap)
			c->tokens_m = cap;
	}
	if (now_ms > c->last_ms || c->last_ms == 0)
		c->last_ms = now_ms;
	c->tokens_m -= TOKEN;
	if (c->tokens_m >= 0) {
		c->rate_warned = false;
		return true;
	}
	if (c->tokens_m <= -(int64_t)HUB_RATE_CLOSE_DEBT * TOKEN) {
		hub_kick(h, c, HUB_CLOSE_POLICY, "rate-limited", "rate limit exceeded");
		return false;
	}
	if (!c->rate_warned) {
		c->rate_warned = true;
		send_error(h, c, "rate-limited", "too many frames; dropped", NULL, 0);
	} else {
		h->stats.rejects++;
	}
	return false;
}

void hub_text(struct hub *h, uint64_t conn, const char *s, size_t len, uint64_t now_ms)
{
	struct hub_conn *c = find_conn(h, conn);
	struct frame f;
	char type[16];
	long tl;

	if (!c || c->closing)
		return;
	h->stats.frames_in++;
	if (len > HUB_FRAME_MAX) {
		hub_kick(h, c, HUB_CLOSE_TOO_BIG, "too-large", "frame larger than 65536 bytes");
		return;
	}
	if (!rate_ok(h, c, now_ms))
		return;
	if (!hub_json_validate_object(s, len, HUB_JSON_DEPTH_MAX)) {
		send_error(h, c, "bad-json", "frame is not a valid JSON object", NULL, 0);
		return;
	}
	scan_frame(&f, s, len);
	if (!f.has_type || (tl = field(&f.type, type, sizeof(type))) < 0) {
		send_error(h, c, "bad-message", "missing or invalid field 'type'", NULL, 0);
		return;
	}
	if (tl == 4 && mem_eq(type, "join", 4)) {
		handle_join(h, c, &f, s, len);
	} else if ((tl == 5 && mem_eq(type, "offer", 5)) || (tl == 6 && mem_eq(type, "answer", 6)) ||
		   (tl == 13 && mem_eq(type, "ice-candidate", 13)) ||
		   (tl == 6 && mem_eq(type, "revoke", 6))) {
		handle_relay(h, c, type, &f, s, len);
	} else {
		send_error(h, c, "unknown-type", "unknown message type", type, (size_t)tl);
	}
}

/* ---- relay.c's view (hub-int.h) ---- */

static void view_of(struct hub_conn *c, struct hub_conn_view *out)
{
	out->id = c->id;
	out->joined = c->joined;
	out->peer_id = c->joined ? c->peer_id : "";
	out->id_len = c->joined ? c->id_len : 0;
	out->relay = &c->relay;
}

bool hub_int_conn(struct hub *h, uint64_t conn, struct hub_conn_view *out)
{
	struct hub_conn *c = find_conn(h, conn);

	if (!c || c->closing)
		return false;
	view_of(c, out);
	return true;
}

bool hub_int_peer(struct hub *h, const uint8_t *peer_id, size_t len, struct hub_conn_view *out)
{
	struct hub_conn *c;

	if (len == 0 || len > HUB_ID_MAX)
		return false;
	c = find_peer(h, (const char *)peer_id, len);
	if (!c || c->closing)
		return false;
	view_of(c, out);
	return true;
}

void hub_int_kick(struct hub *h, uint64_t conn, uint16_t code, const char *reason)
{
	struct hub_conn *c = find_conn(h, conn);

	if (c && !c->closing)
		hub_kick(h, c, code, "rate-limited", reason);
}
