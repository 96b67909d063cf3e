/* Membership records: codec and trust rules (cert.h). Freestanding: it is compiled into the hub
 * core for wasm32 as well (tests/hub/check-freestanding.sh), so no libc call appears here, not
 * even memcpy; byte loops are short (records are < 1 KiB). */
#include "trust/cert.h"

#include "util/ct.h"

/* ---- byte reader / writer ---- */

struct rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

struct wr {
	uint8_t *p;
	size_t cap, off;
	bool bad;
};

static const uint8_t *rd_take(struct rd *r, size_t n)
{
	const uint8_t *at;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return 0;
	}
	at = r->p + r->off;
	r->off += n;
	return at;
}

static uint8_t rd_u8(struct rd *r)
{
	const uint8_t *b = rd_take(r, 1);

	return b ? b[0] : 0;
}

static uint64_t rd_uint(struct rd *r, size_t n)
{
	const uint8_t *b = rd_take(r, n);
	uint64_t v = 0;

	for (size_t i = 0; b && i < n; i++)
		v = v << 8 | b[i];
	return v;
}

static void rd_bytes(struct rd *r, uint8_t *out, size_t n)
{
	const uint8_t *b = rd_take(r, n);

	for (size_t i = 0; b && i < n; i++)
		out[i] = b[i];
}

static bool name_char(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '-';
}

/* STR: 1..TRUST_NAME_MAX characters of the config's name alphabet (conf_valid_name). */
static void rd_name(struct rd *r, char out[static TRUST_NAME_MAX + 1])
{
	size_t n = rd_u8(r);
	const uint8_t *b;

	if (n < 1 || n > TRUST_NAME_MAX) {
		r->bad = true;
		return;
	}
	b = rd_take(r, n);
	for (size_t i = 0; b && i < n; i++) {
		if (!name_char(b[i]))
			r->bad = true;
		out[i] = (char)b[i];
	}
	out[b ? n : 0] = '\0';
}

static void rd_prefix(struct rd *r, struct trust_prefix *p)
{
	size_t alen;

	p->family = rd_u8(r);
	if (p->family != 4 && p->family != 6) {
		r->bad = true;
		return;
	}
	alen = p->family == 4 ? 4 : 16;
	for (size_t i = 0; i < 16; i++)
		p->addr[i] = 0;
	rd_bytes(r, p->addr, alen);
	p->plen = rd_u8(r);
	if (p->plen > alen * 8)
		r->bad = true;
}

static uint8_t rd_prefixes(struct rd *r, struct trust_prefix *p, size_t max, bool nonempty)
{
	size_t n = rd_u8(r);

	if (n > max || (nonempty && n == 0)) {
		r->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n && !r->bad; i++)
		rd_prefix(r, &p[i]);
	return (uint8_t)n;
}

static void rd_header(struct rd *r, uint8_t type)
{
	const uint8_t *h = rd_take(r, 4);

	if (h && (h[0] != 'r' || h[1] != 'g' || h[2] != TRUST_VERSION || h[3] != type))
		r->bad = true;
}

static void wr_bytes(struct wr *w, const void *in, size_t n)
{
	const uint8_t *b = in;

	if (w->bad || n > w->cap - w->off) {
		w->bad = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		w->p[w->off + i] = b[i];
	w->off += n;
}

static void wr_uint(struct wr *w, uint64_t v, size_t n)
{
	uint8_t b[8];

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	wr_bytes(w, b, n);
}

static size_t str_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n <= max && s[n])
		n++;
	return n;
}

static void wr_name(struct wr *w, const char *s)
{
	size_t n = str_len(s, TRUST_NAME_MAX);

	if (n < 1 || n > TRUST_NAME_MAX) {
		w->bad = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!name_char((uint8_t)s[i]))
			w->bad = true;
	wr_uint(w, n, 1);
	wr_bytes(w, s, n);
}

static void wr_prefixes(struct wr *w, const struct trust_prefix *p, size_t n, size_t max,
			bool nonempty)
{
	if (n > max || (nonempty && n == 0)) {
		w->bad = true;
		return;
	}
	wr_uint(w, n, 1);
	for (size_t i = 0; i < n; i++) {
		size_t alen = p[i].family == 4 ? 4 : 16;

		if ((p[i].family != 4 && p[i].family != 6) || p[i].plen > alen * 8)
			w->bad = true;
		wr_uint(w, p[i].family, 1);
		wr_bytes(w, p[i].addr, alen);
		wr_uint(w, p[i].plen, 1);
	}
}

static void wr_header(struct wr *w, uint8_t type)
{
	const uint8_t h[4] = { 'r', 'g', TRUST_VERSION, type };

	wr_bytes(w, h, 4);
}

/* ---- records ---- */

static void rd_ticket_fields(struct rd *r, struct trust_ticket *t)
{
	rd_header(r, TRUST_T_TICKET);
	rd_name(r, t->net);
	rd_name(r, t->name);
	t->n_addrs = rd_prefixes(r, t->addrs, TRUST_ADDRS_MAX, true);
	t->not_before = rd_uint(r, 8);
	t->use_by = rd_uint(r, 8);
	t->cert_not_after = rd_uint(r, 8);
	t->id = rd_uint(r, 8);
	rd_bytes(r, t->ticket_key, TRUST_KEY_LEN);
	rd_bytes(r, t->issuer, TRUST_KEY_LEN);
	rd_bytes(r, t->sig, TRUST_SIG_LEN);
	if (t->id == 0)
		r->bad = true;
}

static void zero(void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = 0;
}

int trust_ticket_parse(struct trust_ticket *out, const uint8_t *in, size_t len)
{
	struct rd r = { .p = in, .len = len };

	zero(out, sizeof(*out));
	rd_ticket_fields(&r, out);
	if (r.bad || r.off != len) {
		zero(out, sizeof(*out));
		return TRUST_E_MALFORMED;
	}
	return TRUST_OK;
}

int trust_cert_parse(struct trust_cert *out, const uint8_t *in, size_t len)
{
	struct rd r = { .p = in, .len = len };
	struct trust_cert *c = out;
	size_t tlen;

	zero(c, sizeof(*c));
	rd_header(&r, TRUST_T_CERT);
	rd_name(&r, c->net);
	rd_name(&r, c->name);
	rd_bytes(&r, c->wg_key, TRUST_KEY_LEN);
	rd_bytes(&r, c->dev_key, TRUST_KEY_LEN);
	c->n_addrs = rd_prefixes(&r, c->addrs, TRUST_ADDRS_MAX, true);
	c->n_routes = rd_prefixes(&r, c->routes, TRUST_ROUTES_MAX, false);
	c->not_before = rd_uint(&r, 8);
	c->not_after = rd_uint(&r, 8);
	c->serial = rd_uint(&r, 8);
	rd_bytes(&r, c->issuer, TRUST_KEY_LEN);
	tlen = rd_uint(&r, 2);
	if (tlen) {
		struct rd tr = { .len = tlen };

		/* The embedded ticket must be exactly tlen bytes. */
		tr.p = rd_take(&r, tlen);
		if (tr.p) {
			rd_ticket_fields(&tr, &c->ticket);
			if (tr.bad || tr.off != tlen)
				r.bad = true;
		}
		c->has_ticket = true;
	}
	rd_bytes(&r, c->sig, TRUST_SIG_LEN);
	if (c->serial == 0 || c->not_after < c->not_before)
		r.bad = true;
	if (r.bad || r.off != len) {
		zero(c, sizeof(*c));
		return TRUST_E_MALFORMED;
	}
	return TRUST_OK;
}

int trust_revoke_parse(struct trust_revoke *out, const uint8_t *in, size_t len)
{
	struct rd r = { .p = in, .len = len };

	zero(out, sizeof(*out));
	rd_header(&r, TRUST_T_REVOKE);
	rd_name(&r, out->net);
	rd_name(&r, out->name);
	out->serial = rd_uint(&r, 8);
	out->revoked_at = rd_uint(&r, 8);
	rd_bytes(&r, out->issuer, TRUST_KEY_LEN);
	rd_bytes(&r, out->sig, TRUST_SIG_LEN);
	if (out->serial == 0)
		r.bad = true;
	if (r.bad || r.off != len) {
		zero(out, sizeof(*out));
		return TRUST_E_MALFORMED;
	}
	return TRUST_OK;
}

int trust_rotation_parse(struct trust_rotation *out, const uint8_t *in, size_t len)
{
	struct rd r = { .p = in, .len = len };

	zero(out, sizeof(*out));
	rd_header(&r, TRUST_T_ROTATION);
	rd_name(&r, out->net);
	rd_name(&r, out->name);
	out->serial = rd_uint(&r, 8);
	out->seq = (uint32_t)rd_uint(&r, 4);
	rd_bytes(&r, out->old_wg, TRUST_KEY_LEN);
	rd_bytes(&r, out->new_wg, TRUST_KEY_LEN);
	out->rotated_at = rd_uint(&r, 8);
	rd_bytes(&r, out->sig, TRUST_SIG_LEN);
	if (out->serial == 0 || out->seq == 0)
		r.bad = true;
	if (r.bad || r.off != len) {
		zero(out, sizeof(*out));
		return TRUST_E_MALFORMED;
	}
	return TRUST_OK;
}

static void wr_ticket(struct wr *w, const struct trust_ticket *t)
{
	wr_header(w, TRUST_T_TICKET);
	wr_name(w, t->net);
	wr_name(w, t->name);
	wr_prefixes(w, t->addrs, t->n_addrs, TRUST_ADDRS_MAX, true);
	wr_uint(w, t->not_before, 8);
	wr_uint(w, t->use_by, 8);
	wr_uint(w, t->cert_not_after, 8);
	wr_uint(w, t->id, 8);
	wr_bytes(w, t->ticket_key, TRUST_KEY_LEN);
	wr_bytes(w, t->issuer, TRUST_KEY_LEN);
	wr_bytes(w, t->sig, TRUST_SIG_LEN);
	if (t->id == 0)
		w->bad = true;
}

size_t trust_ticket_encode(const struct trust_ticket *t, uint8_t *out, size_t cap)
{
	struct wr w = { .p = out, .cap = cap };

	wr_ticket(&w, t);
	return w.bad ? 0 : w.off;
}

size_t trust_cert_encode(const struct trust_cert *c, uint8_t *out, size_t cap)
{
	struct wr w = { .p = out, .cap = cap };

	wr_header(&w, TRUST_T_CERT);
	wr_name(&w, c->net);
	wr_name(&w, c->name);
	wr_bytes(&w, c->wg_key, TRUST_KEY_LEN);
	wr_bytes(&w, c->dev_key, TRUST_KEY_LEN);
	wr_prefixes(&w, c->addrs, c->n_addrs, TRUST_ADDRS_MAX, true);
	wr_prefixes(&w, c->routes, c->n_routes, TRUST_ROUTES_MAX, false);
	wr_uint(&w, c->not_before, 8);
	wr_uint(&w, c->not_after, 8);
	wr_uint(&w, c->serial, 8);
	wr_bytes(&w, c->issuer, TRUST_KEY_LEN);
	if (c->has_ticket) {
		size_t at = w.off + 2;

		wr_uint(&w, 0, 2);	/* length, patched below */
		wr_ticket(&w, &c->ticket);
		if (!w.bad) {
			size_t tlen = w.off - at;

			w.p[at - 2] = (uint8_t)(tlen >> 8);
			w.p[at - 1] = (uint8_t)tlen;
		}
	} else {
		wr_uint(&w, 0, 2);
	}
	wr_bytes(&w, c->sig, TRUST_SIG_LEN);
	if (c->serial == 0 || c->not_after < c->not_before)
		w.bad = true;
	return w.bad ? 0 : w.off;
}

size_t trust_revoke_encode(const struct trust_revoke *rv, uint8_t *out, size_t cap)
{
	struct wr w = { .p = out, .cap = cap };

	wr_header(&w, TRUST_T_REVOKE);
	wr_name(&w, rv->net);
	wr_name(&w, rv->name);
	wr_uint(&w, rv->serial, 8);
	wr_uint(&w, rv->revoked_at, 8);
	wr_bytes(&w, rv->issuer, TRUST_KEY_LEN);
	wr_bytes(&w, rv->sig, TRUST_SIG_LEN);
	if (rv->serial == 0)
		w.bad = true;
	return w.bad ? 0 : w.off;
}

size_t trust_rotation_encode(const struct trust_rotation *ro, uint8_t *out, size_t cap)
{
	struct wr w = { .p = out, .cap = cap };

	wr_header(&w, TRUST_T_ROTATION);
	wr_name(&w, ro->net);
	wr_name(&w, ro->name);
	wr_uint(&w, ro->serial, 8);
	wr_uint(&w, ro->seq, 4);
	wr_bytes(&w, ro->old_wg, TRUST_KEY_LEN);
	wr_bytes(&w, ro->new_wg, TRUST_KEY_LEN);
	wr_uint(&w, ro->rotated_at, 8);
	wr_bytes(&w, ro->sig, TRUST_SIG_LEN);
	if (ro->serial == 0 || ro->seq == 0)
		w.bad = true;
	return w.bad ? 0 : w.off;
}

/* ---- trust rules ---- */

const char *trust_verdict_str(int v)
{
	switch (v) {
	case TRUST_OK: return "ok";
	case TRUST_E_MALFORMED: return "malformed certificate";
	case TRUST_E_NETWORK: return "certificate for another network";
	case TRUST_E_ISSUER: return "unknown issuer";
	case TRUST_E_SIGNATURE: return "bad signature";
	case TRUST_E_NOT_YET_VALID: return "certificate not yet valid";
	case TRUST_E_EXPIRED: return "certificate expired";
	case TRUST_E_REVOKED: return "revoked";
	case TRUST_E_TICKET: return "certificate does not match its invite ticket";
	case TRUST_E_TICKET_REUSED: return "invite ticket already used by another key";
	case TRUST_E_NAME: return "certificate name differs from peerId";
	case TRUST_E_KEY: return "certificate key differs from publicKey";
	case TRUST_E_ADDRESS: return "certificate address differs from address";
	case TRUST_E_FULL: return "table full";
	case TRUST_E_ROTATION: return "key rotation does not chain to the certificate";
	case TRUST_E_STALE: return "key replaced by a newer rotation";
	}
	return "unknown";
}

static bool str_eq(const char *a, const char *b)
{
	size_t i = 0;

	for (; i <= TRUST_NAME_MAX && a[i] && a[i] == b[i]; i++)
		;
	return i <= TRUST_NAME_MAX && a[i] == b[i];
}

bool trust_prefix_eq(const struct trust_prefix *a, const struct trust_prefix *b)
{
	for (size_t i = 0; i < 16; i++)
		if (a->addr[i] != b->addr[i])
			return false;
	return a->family == b->family && a->plen == b->plen;
}

static bool sig_ok(const struct trust_ctx *ctx, const uint8_t key[TRUST_KEY_LEN],
		   const uint8_t *buf, size_t len)
{
	return len > TRUST_SIG_LEN && ctx->verify &&
	       ctx->verify(ctx->opaque, key, buf, len - TRUST_SIG_LEN, buf + len - TRUST_SIG_LEN);
}

/* A record the network key signs (ticket, revocation, DNS settings), encoded in buf[0..n): its
 * issuer is the anchor, its network ours, its signature good; checked in this order. */
static int anchor_signed(const struct trust_ctx *ctx, const uint8_t issuer[TRUST_KEY_LEN],
			 const char *net, const uint8_t *buf, size_t n)
{
	if (!n)
		return TRUST_E_MALFORMED;
	if (!rg_ct_eq(issuer, ctx->anchor, TRUST_KEY_LEN))
		return TRUST_E_ISSUER;
	if (!str_eq(net, ctx->net))
		return TRUST_E_NETWORK;
	if (!sig_ok(ctx, issuer, buf, n))
		return TRUST_E_SIGNATURE;
	return TRUST_OK;
}

static bool before(uint64_t now, uint64_t skew, uint64_t t)
{
	return now + skew < t;
}

static bool after(uint64_t now, uint64_t skew, uint64_t t)
{
	return now > t && now - t > skew;
}

int trust_ticket_check(const struct trust_ctx *ctx, const struct trust_ticket *t, uint64_t now_s)
{
	uint8_t buf[TRUST_TICKET_MAX];
	size_t n = trust_ticket_encode(t, buf, sizeof(buf));
	int ret = anchor_signed(ctx, t->issuer, t->net, buf, n);

	if (ret)
		return ret;
	if (after(now_s, ctx->skew_s, t->use_by))
		return TRUST_E_EXPIRED;
	if (ctx->revoked && trust_revlist_has(ctx->revoked, t->id))
		return TRUST_E_REVOKED;
	return TRUST_OK;
}

/* A ticket-made cert: the ticket is the network's word, the cert may only restate it. */
static int ticket_rules(const struct trust_ctx *ctx, const struct trust_cert *c)
{
	const struct trust_ticket *t = &c->ticket;
	uint8_t buf[TRUST_TICKET_MAX];
	size_t n = trust_ticket_encode(t, buf, sizeof(buf));

	if (!n)
		return TRUST_E_MALFORMED;
	if (!rg_ct_eq(t->issuer, ctx->anchor, TRUST_KEY_LEN))
		return TRUST_E_ISSUER;
	if (!sig_ok(ctx, t->issuer, buf, n))
		return TRUST_E_SIGNATURE;
	if (!str_eq(t->net, c->net) || !str_eq(t->name, c->name) || t->id != c->serial ||
	    t->n_addrs != c->n_addrs || c->n_routes != 0)
		return TRUST_E_TICKET;
	for (size_t i = 0; i < c->n_addrs; i++)
		if (!trust_prefix_eq(&t->addrs[i], &c->addrs[i]))
			return TRUST_E_TICKET;
	/* Made while the ticket was valid, and no longer-lived than the ticket allows. */
	if (c->not_before + ctx->skew_s < t->not_before || c->not_before > t->use_by ||
	    c->not_after > t->cert_not_after)
		return TRUST_E_TICKET;
	return TRUST_OK;
}

int trust_cert_check(const struct trust_ctx *ctx, const struct trust_cert *c, uint64_t now_s)
{
	uint8_t buf[TRUST_CERT_MAX];
	size_t n = trust_cert_encode(c, buf, sizeof(buf));
	int ret;

	if (!n)
		return TRUST_E_MALFORMED;
	if (!rg_ct_eq(c->issuer, ctx->anchor, TRUST_KEY_LEN))
		return TRUST_E_ISSUER;
	if (!str_eq(c->net, ctx->net))
		return TRUST_E_NETWORK;
	if (c->has_ticket) {
		ret = ticket_rules(ctx, c);
		if (ret)
			return ret;
		if (!sig_ok(ctx, c->ticket.ticket_key, buf, n))
			return TRUST_E_SIGNATURE;
	} else if (!sig_ok(ctx, c->issuer, buf, n)) {
		return TRUST_E_SIGNATURE;
	}
	if (before(now_s, ctx->skew_s, c->not_before))
		return TRUST_E_NOT_YET_VALID;
	if (after(now_s, ctx->skew_s, c->not_after))
		return TRUST_E_EXPIRED;
	if (ctx->revoked && trust_revlist_has(ctx->revoked, c->serial))
		return TRUST_E_REVOKED;
	return TRUST_OK;
}

int trust_revoke_check(const struct trust_ctx *ctx, const struct trust_revoke *r)
{
	uint8_t buf[TRUST_REVOKE_MAX];
	size_t n = trust_revoke_encode(r, buf, sizeof(buf));

	return anchor_signed(ctx, r->issuer, r->net, buf, n);
}

int trust_bindings_use(struct trust_bindings *b, const struct trust_cert *c)
{
	struct trust_binding *e;

	if (!c->has_ticket)
		return TRUST_OK;
	for (size_t i = 0; i < b->n; i++) {
		e = &b->b[i];
		if (e->id != c->ticket.id)
			continue;
		if (rg_ct_eq(e->wg_key, c->wg_key, TRUST_KEY_LEN) &&
		    rg_ct_eq(e->dev_key, c->dev_key, TRUST_KEY_LEN))
			return TRUST_OK;
		return TRUST_E_TICKET_REUSED;
	}
	if (b->n == TRUST_BINDINGS_MAX)
		return TRUST_E_FULL;
	e = &b->b[b->n++];
	e->id = c->ticket.id;
	for (size_t i = 0; i < TRUST_KEY_LEN; i++) {
		e->wg_key[i] = c->wg_key[i];
		e->dev_key[i] = c->dev_key[i];
	}
	return TRUST_OK;
}

int trust_rotation_check(const struct trust_ctx *ctx, const struct trust_cert *c,
			 const struct trust_rotation *r, uint64_t now_s)
{
	uint8_t buf[TRUST_ROTATION_MAX];
	size_t n = trust_rotation_encode(r, buf, sizeof(buf));

	if (!n)
		return TRUST_E_MALFORMED;
	if (!str_eq(r->net, c->net) || !str_eq(r->name, c->name) || r->serial != c->serial)
		return TRUST_E_ROTATION;
	if (r->seq == 1 && !rg_ct_eq(r->old_wg, c->wg_key, TRUST_KEY_LEN))
		return TRUST_E_ROTATION;
	if (rg_ct_eq(r->old_wg, r->new_wg, TRUST_KEY_LEN))
		return TRUST_E_ROTATION;
	if (!sig_ok(ctx, c->dev_key, buf, n))
		return TRUST_E_SIGNATURE;
	if (before(r->rotated_at, ctx->skew_s, c->not_before))
		return TRUST_E_ROTATION;
	if (before(now_s, ctx->skew_s, r->rotated_at))
		return TRUST_E_NOT_YET_VALID;
	return TRUST_OK;
}

const struct trust_rotated *trust_rotations_find(const struct trust_rotations *t, uint64_t serial)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].serial == serial)
			return &t->e[i];
	return 0;
}

int trust_rotations_use(struct trust_rotations *t, const struct trust_cert *c,
			const struct trust_rotation *r)
{
	struct trust_rotated *e = (struct trust_rotated *)trust_rotations_find(t, c->serial);

	if (!r)
		return e ? TRUST_E_STALE : TRUST_OK;
	if (e) {
		if (r->seq < e->seq)
			return TRUST_E_STALE;
		if (r->seq == e->seq)
			return rg_ct_eq(r->new_wg, e->wg_key, TRUST_KEY_LEN) ? TRUST_OK : TRUST_E_STALE;
		if (r->seq == e->seq + 1 && !rg_ct_eq(r->old_wg, e->wg_key, TRUST_KEY_LEN))
			return TRUST_E_ROTATION;
	} else {
		if (t->n == TRUST_ROTATIONS_MAX)
			return TRUST_E_FULL;
		e = &t->e[t->n++];
		e->serial = c->serial;
	}
	e->seq = r->seq;
	for (size_t i = 0; i < TRUST_KEY_LEN; i++)
		e->wg_key[i] = r->new_wg[i];
	return TRUST_OK;
}

/* Binary search: the first index whose serial is >= s. */
static size_t rev_lower(const struct trust_revlist *l, uint64_t s)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->serial[mid] < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool trust_revlist_has(const struct trust_revlist *l, uint64_t serial)
{
	size_t i = rev_lower(l, serial);

	return i < l->n && l->serial[i] == serial;
}

int trust_revlist_add(struct trust_revlist *l, uint64_t serial)
{
	size_t i = rev_lower(l, serial);

	if (serial == 0)
		return TRUST_E_MALFORMED;
	if (i < l->n && l->serial[i] == serial)
		return TRUST_OK;
	if (l->n == TRUST_REVOKED_MAX)
		return TRUST_E_FULL;
	for (size_t j = l->n; j > i; j--)
		l->serial[j] = l->serial[j - 1];
	l->serial[i] = serial;
	l->n++;
	return TRUST_OK;
}

/* ---- textual prefixes ---- */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decimal 0..max without leading zeros; advances *i. */
static bool dec(const char *s, size_t len, size_t *i, unsigned max, unsigned *out)
{
	size_t start = *i;
	unsigned v = 0;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (unsigned)(s[*i] - '0');
		if (v > max)
			return false;
		(*i)++;
	}
	if (*i == start || *i - start > 3 || (s[start] == '0' && *i - start > 1))
		return false;
	*out = v;
	return true;
}

static bool parse_v4(const char *s, size_t len, uint8_t out[4])
{
	size_t i = 0;

	for (int k = 0; k < 4; k++) {
		unsigned v;

		if (k && (i >= len || s[i++] != '.'))
			return false;
		if (!dec(s, len, &i, 255, &v))
			return false;
		out[k] = (uint8_t)v;
	}
	return i == len;
}

static bool parse_v6(const char *s, size_t len, uint8_t out[16])
{
	uint16_t w[8] = { 0 };
	int n = 0, gap = -1;
	size_t i = 0;

	if (len >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	} else if (len >= 1 && s[0] == ':') {
		return false;
	}
	while (i < len) {
		unsigned v = 0;
		size_t start = i;

		if (n == 8)
			return false;
		while (i < len && hexval(s[i]) >= 0 && i - start < 4)
			v = v << 4 | (unsigned)hexval(s[i++]);
		if (i == start)
			return false;
		w[n++] = (uint16_t)v;
		if (i == len)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < len && s[i] == ':') {
			if (gap >= 0)
				return false;
			gap = n;
			i++;
		} else if (i == len) {
			return false;	/* trailing single ':' */
		}
	}
	if (gap < 0 && n != 8)
		return false;
	if (gap >= 0 && n > 7)
		return false;
	for (int k = 0; k < 16; k++)
		out[k] = 0;
	for (int k = 0; k < n; k++) {
		int pos = (gap >= 0 && k >= gap) ? k + (8 - n) : k;

		out[2 * pos] = (uint8_t)(w[k] >> 8);
		out[2 * pos + 1] = (uint8_t)w[k];
	}
	return true;
}

bool trust_prefix_parse(struct trust_prefix *p, const char *s, size_t len)
{
	size_t slash = len, i;
	unsigned plen;
	bool v6 = false;

	for (size_t k = 0; k < len; k++) {
		if (s[k] == '/' && slash == len)
			slash = k;
		if (s[k] == ':')
			v6 = true;
	}
	if (slash == len)
		return false;
	zero(p, sizeof(*p));
	if (v6 ? !parse_v6(s, slash, p->addr) : !parse_v4(s, slash, p->addr))
		return false;
	i = slash + 1;
	if (!dec(s, len, &i, v6 ? 128 : 32, &plen) || i != len)
		return false;
	p->family = v6 ? 6 : 4;
	p->plen = (uint8_t)plen;
	return true;
}

static char *put_dec(char *o, unsigned v)
{
	char tmp[4];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*o++ = tmp[--n];
	return o;
}

void trust_prefix_format(const struct trust_prefix *p, char out[static TRUST_PREFIX_STR_MAX])
{
	static const char hx[] = "0123456789abcdef";
	char *o = out;

	if (p->family == 4) {
		for (int k = 0; k < 4; k++) {
			if (k)
				*o++ = '.';
			o = put_dec(o, p->addr[k]);
		}
	} else {
		int best = -1, best_len = 0;

		/* RFC 5952: the longest run of >= 2 zero groups becomes "::", the first on a tie. */
		for (int k = 0; k < 8;) {
			int run = 0;

			while (k + run < 8 && !p->addr[2 * (k + run)] && !p->addr[2 * (k + run) + 1])
				run++;
			if (run > best_len && run >= 2) {
				best = k;
				best_len = run;
			}
			k += run ? run : 1;
		}
		for (int k = 0; k < 8; k++) {
			unsigned v = (unsigned)p->addr[2 * k] << 8 | p->addr[2 * k + 1];
			bool lead = true;

			if (k == best) {
				*o++ = ':';
				*o++ = ':';
				k += best_len - 1;
				continue;
			}
			if (k && !(best >= 0 && k == best + best_len))
				*o++ = ':';
			for (int sh = 12; sh >= 0; sh -= 4) {
				unsigned d = (v >> sh) & 15;

				if (d || !lead || sh == 0) {
					*o++ = hx[d];
					lead = false;
				}
			}
		}
	}
	*o++ = '/';
	o = put_dec(o, p->plen);
	*o = '\0';
}

int trust_cert_matches(const struct trust_cert *c, const char *name,
		       const uint8_t wg_key[TRUST_KEY_LEN], const char *address)
{
	struct trust_prefix p;
	size_t alen;

	if (!str_eq(c->name, name))
		return TRUST_E_NAME;
	if (!rg_ct_eq(c->wg_key, wg_key, TRUST_KEY_LEN))
		return TRUST_E_KEY;
	if (!address || !address[0])
		return TRUST_OK;
	alen = str_len(address, TRUST_PREFIX_STR_MAX);
	if (alen >= TRUST_PREFIX_STR_MAX || !trust_prefix_parse(&p, address, alen))
		return TRUST_E_ADDRESS;
	for (size_t i = 0; i < c->n_addrs; i++)
		if (trust_prefix_eq(&c->addrs[i], &p))
			return TRUST_OK;
	return TRUST_E_ADDRESS;
}

/* ---- network DNS settings ---- */

static bool domain_ok(const uint8_t *b, size_t n)
{
	size_t label = 0;

	if (n < 1 || n > TRUST_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		uint8_t ch = i < n ? b[i] : '.';

		if (ch == '.') {
			/* no empty label, none starting or ending with '-' */
			if (label == 0 || b[i - label] == '-' || b[i - 1] == '-')
				return false;
			label = 0;
		} else if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			   (ch >= '0' && ch <= '9') || ch == '-') {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

static bool host_prefixes(const struct trust_prefix *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].plen != (p[i].family == 4 ? 32 : 128))
			return false;
	return true;
}

int trust_settings_parse(struct trust_settings *out, const uint8_t *in, size_t len)
{
	struct rd r = { .p = in, .len = len };

	zero(out, sizeof(*out));
	rd_header(&r, TRUST_T_SETTINGS);
	rd_name(&r, out->net);
	out->serial = rd_uint(&r, 8);
	out->issued_at = rd_uint(&r, 8);
	out->n_dns = rd_prefixes(&r, out->dns, TRUST_DNS_MAX, false);
	out->n_search = rd_u8(&r);
	if (out->n_search > TRUST_SEARCH_MAX)
		r.bad = true;
	for (size_t i = 0; i < out->n_search && !r.bad; i++) {
		size_t n = rd_u8(&r);
		const uint8_t *b = rd_take(&r, n);

		if (!b || !domain_ok(b, n)) {
			r.bad = true;
			break;
		}
		for (size_t k = 0; k < n; k++)
			out->search[i][k] = (char)b[k];
		out->search[i][n] = '\0';
	}
	rd_bytes(&r, out->issuer, TRUST_KEY_LEN);
	rd_bytes(&r, out->sig, TRUST_SIG_LEN);
	if (out->serial == 0 || !host_prefixes(out->dns, out->n_dns))
		r.bad = true;
	if (r.bad || r.off != len) {
		zero(out, sizeof(*out));
		return TRUST_E_MALFORMED;
	}
	return TRUST_OK;
}

size_t trust_settings_encode(const struct trust_settings *s, uint8_t *out, size_t cap)
{
	struct wr w = { .p = out, .cap = cap };

	wr_header(&w, TRUST_T_SETTINGS);
	wr_name(&w, s->net);
	wr_uint(&w, s->serial, 8);
	wr_uint(&w, s->issued_at, 8);
	wr_prefixes(&w, s->dns, s->n_dns, TRUST_DNS_MAX, false);
	if (s->n_search > TRUST_SEARCH_MAX)
		w.bad = true;
	wr_uint(&w, s->n_search, 1);
	for (size_t i = 0; i < s->n_search && !w.bad; i++) {
		size_t n = str_len(s->search[i], TRUST_DOMAIN_MAX);

		if (!domain_ok((const uint8_t *)s->search[i], n))
			w.bad = true;
		wr_uint(&w, n, 1);
		wr_bytes(&w, s->search[i], n);
	}
	wr_bytes(&w, s->issuer, TRUST_KEY_LEN);
	wr_bytes(&w, s->sig, TRUST_SIG_LEN);
	if (s->serial == 0 || !host_prefixes(s->dns, s->n_dns))
		w.bad = true;
	return w.bad ? 0 : w.off;
}

int trust_settings_check(const struct trust_ctx *ctx, const struct trust_settings *s)
{
	uint8_t buf[TRUST_SETTINGS_MAX];
	size_t n = trust_settings_encode(s, buf, sizeof(buf));

	return anchor_signed(ctx, s->issuer, s->net, buf, n);
}
