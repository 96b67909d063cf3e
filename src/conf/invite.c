/* Invite token codec (see invite.h for the format). Called by `riftgate invite` (encode) and
 * `riftgate join` (decode); the decoder parses untrusted text and has a fuzz target
 * (fuzz/invite.c). Decoding builds a local invite and hands it over only when every field
 * passed; every buffer that held the token's bytes is wiped on every path. */
#include "conf/invite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "conf/toml.h"
#include "util/ct.h"
#include "util/encoding.h"
#include "util/err.h"

enum invite_sizes {
	LEN_MAX_BYTES = 3,		/* LEB128 lengths up to 2^21 - 1 */
	EXPIRES_LEN = 8,
	SHA256_LEN = 32,
	PREFIX_MAX = 16,		/* "rgi" + version digits + "-" */
	VERSION_DIGITS_MAX = 4,
};

/* The decoder checks CONF_INVITE_PREFIX "1-" whatever case the text uses. */
_Static_assert(CONF_INVITE_VERSION == 1, "the check's prefix names the version");

/* TURN sub-fields */
enum { TURN_URL = 1, TURN_USERNAME = 2, TURN_CREDENTIAL = 3 };

static void free_secret(char *s)
{
	if (s) {
		rg_memzero(s, strlen(s));
		free(s);
	}
}

void conf_invite_clear(struct conf_invite *inv)
{
	if (!inv)
		return;
	conf_clear(&inv->conf);
	free(inv->inviter);
	free(inv->ticket);
	rg_memzero(inv, sizeof(*inv));
}

void conf_invite_token_free(char *token)
{
	free_secret(token);
}

void conf_invite_format_time(char *buf, size_t cap, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, cap, "@%lld", (long long)t);
}

/* SHA-256(prefix || payload), first CONF_INVITE_CHECK_LEN bytes. */
static int checksum(uint8_t out[static CONF_INVITE_CHECK_LEN], const char *prefix, size_t plen,
		    const uint8_t *payload, size_t n)
{
	uint8_t md[SHA256_LEN];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, prefix, plen) &&
	     EVP_DigestUpdate(ctx, payload, n) && EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -ENOMEM;
	memcpy(out, md, CONF_INVITE_CHECK_LEN);
	rg_memzero(md, sizeof(md));
	return 0;
}

/* ---- base64url without padding, through util's constant-time standard base64 ---- */

/* '+' <-> '-' and '/' <-> '_' without branching on the (secret) characters. */
static char swap_alphabet(char c, char a, char b, char x, char y)
{
	unsigned char u = (unsigned char)c;
	unsigned char is_a = (unsigned char)(-(unsigned)(u == (unsigned char)a)) & 0xff;
	unsigned char is_b = (unsigned char)(-(unsigned)(u == (unsigned char)b)) & 0xff;

	u ^= is_a & (unsigned char)(a ^ x);
	u ^= is_b & (unsigned char)(b ^ y);
	return (char)u;
}

static bool url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* ---- encoding ---- */

/* Two passes over the same code: with p NULL it only counts. */
struct wr {
	uint8_t *p;
	size_t n;
};

static void put(struct wr *w, const void *d, size_t n)
{
	if (w->p)
		memcpy(w->p + w->n, d, n);
	w->n += n;
}

static size_t len_size(size_t n)
{
	return n < 0x80 ? 1 : n < 0x4000 ? 2 : 3;
}

static void put_len(struct wr *w, size_t n)
{
	uint8_t b[LEN_MAX_BYTES];
	size_t k = 0;

	do {
		b[k] = (uint8_t)(n & 0x7f);
		n >>= 7;
		if (n)
			b[k] |= 0x80;
		k++;
	} while (n && k < LEN_MAX_BYTES);
	put(w, b, k);
}

static void put_field(struct wr *w, uint8_t tag, const void *d, size_t n)
{
	put(w, &tag, 1);
	put_len(w, n);
	put(w, d, n);
}

static void put_str(struct wr *w, uint8_t tag, const char *s)
{
	put_field(w, tag, s, strlen(s));
}

static size_t sub_str_size(const char *s)
{
	size_t n = strlen(s);

	return 1 + len_size(n) + n;
}

static bool stun_is_default(const struct conf *from)
{
	struct conf d;
	bool same;

	if (conf_init(&d) < 0)
		return false;
	same = d.n_stun == from->n_stun;
	for (size_t i = 0; same && i < d.n_stun; i++)
		same = strcmp(d.stun_servers[i], from->stun_servers[i]) == 0;
	conf_clear(&d);
	return same;
}

static bool turn_included(const struct conf *from, const struct conf_invite_opts *o, size_t i)
{
	return from->turn[i].username || !o->no_turn_secret;
}

static void write_payload(struct wr *w, const struct conf *from, const struct conf_invite_opts *o,
			  bool stun_default)
{
	uint8_t b[EXPIRES_LEN];

	put_str(w, CONF_INVITE_NETWORK, from->network_name);
	put_str(w, CONF_INVITE_SERVER_URL, from->server_url);
	put_str(w, CONF_INVITE_AUTH_TOKEN, from->auth_token);
	if (from->turn_secret && !o->no_turn_secret)
		put_str(w, CONF_INVITE_TURN_SECRET, from->turn_secret);
	if (from->device_name)
		put_str(w, CONF_INVITE_INVITER, from->device_name);
	if (o->name)
		put_str(w, CONF_INVITE_NAME, o->name);
	put_str(w, CONF_INVITE_ADDRESS, o->address);
	for (int i = 0; i < EXPIRES_LEN; i++)
		b[i] = (uint8_t)((uint64_t)o->expires >> (56 - 8 * i));
	put_field(w, CONF_INVITE_EXPIRES, b, EXPIRES_LEN);
	if (!stun_default) {
		size_t n = 0;
		uint8_t tag = CONF_INVITE_STUN;

		for (size_t i = 0; i < from->n_stun; i++)
			n += sub_str_size(from->stun_servers[i]) - 1;
		put(w, &tag, 1);
		put_len(w, n);
		for (size_t i = 0; i < from->n_stun; i++) {
			put_len(w, strlen(from->stun_servers[i]));
			put(w, from->stun_servers[i], strlen(from->stun_servers[i]));
		}
	}
	for (size_t i = 0; i < from->n_turn; i++) {
		const struct conf_turn *t = &from->turn[i];
		uint8_t tag = CONF_INVITE_TURN;
		size_t n;

		if (!turn_included(from, o, i))
			continue;
		n = sub_str_size(t->url);
		if (t->username)
			n += sub_str_size(t->username) + sub_str_size(t->credential);
		put(w, &tag, 1);
		put_len(w, n);
		put_str(w, TURN_URL, t->url);
		if (t->username) {
			put_str(w, TURN_USERNAME, t->username);
			put_str(w, TURN_CREDENTIAL, t->credential);
		}
	}
	if (from->ordered) {
		b[0] = 1;
		put_field(w, CONF_INVITE_ORDERED, b, 1);
	}
	if (from->max_retransmits) {
		b[0] = (uint8_t)(from->max_retransmits >> 8);
		b[1] = (uint8_t)from->max_retransmits;
		put_field(w, CONF_INVITE_MAX_RETRANSMITS, b, 2);
	}
	if (o->ticket) {
		put_field(w, CONF_INVITE_TICKET, o->ticket, o->ticket_len);
		put_field(w, CONF_INVITE_TICKET_KEY, o->ticket_key, CONF_INVITE_TICKET_KEY_LEN);
	}
	if (from->path_mtu) {
		b[0] = (uint8_t)(from->path_mtu >> 8);
		b[1] = (uint8_t)from->path_mtu;
		put_field(w, CONF_INVITE_PATH_MTU, b, 2);
	}
}

static bool valid_string(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= CONF_STRING_MAX && conf_toml_utf8_valid(s, n);
}

static int check_source(const struct conf *from, const struct conf_invite_opts *o,
			struct rg_err *err)
{
	bool secret = from->turn_secret && !o->no_turn_secret;

	if (!from->network_name || !conf_valid_name(from->network_name))
		return rg_err_set(err, -EINVAL, "invite: network.name is not valid");
	if (!from->server_url || !conf_valid_server_url(from->server_url))
		return rg_err_set(err, -EINVAL, "invite: network.server_url is not valid");
	if (!from->auth_token || !valid_string(from->auth_token) ||
	    !conf_valid_auth_token(from->auth_token))
		return rg_err_set(err, -EINVAL, "invite: network.auth_token is not valid");
	if (secret && !valid_string(from->turn_secret))
		return rg_err_set(err, -EINVAL, "invite: network.turn_secret is not valid");
	if (from->device_name && !conf_valid_name(from->device_name))
		return rg_err_set(err, -EINVAL, "invite: device.name is not valid");
	if (o->name && !conf_valid_name(o->name))
		return rg_err_set(err, -EINVAL, "invite: the new device's name must be 1-%d "
				  "characters of A-Z a-z 0-9 . _ -", CONF_NAME_MAX);
	if (!o->address || !rg_prefix_parse(&(struct rg_prefix){ 0 }, o->address))
		return rg_err_set(err, -EINVAL, "invite: the new device's address must be an IPv4 "
				  "or IPv6 address with a prefix length");
	if (o->expires <= 0)
		return rg_err_set(err, -EINVAL, "invite: expiry time must be after 1970");
	if (o->ticket && (!o->ticket_key || o->ticket_len < 1 ||
			  o->ticket_len > CONF_INVITE_TICKET_MAX))
		return rg_err_set(err, -EINVAL, "invite: the enrollment ticket is empty, too long "
				  "or has no key");
	if (from->n_stun > CONF_LIST_MAX || from->n_turn > CONF_LIST_MAX)
		return rg_err_set(err, -EINVAL, "invite: more than %d STUN or TURN servers",
				  CONF_LIST_MAX);
	for (size_t i = 0; i < from->n_stun; i++)
		if (!valid_string(from->stun_servers[i]) ||
		    !conf_valid_stun_url(from->stun_servers[i]))
			return rg_err_set(err, -EINVAL, "invite: stun.servers[%zu] is not valid", i);
	for (size_t i = 0; i < from->n_turn; i++) {
		const struct conf_turn *t = &from->turn[i];

		if (!turn_included(from, o, i))
			continue;
		if (!valid_string(t->url) || !conf_valid_turn_url(t->url) ||
		    !t->username != !t->credential || (t->username && !valid_string(t->username)) ||
		    (t->credential && !valid_string(t->credential)) || (!t->username && !secret))
			return rg_err_set(err, -EINVAL, "invite: turn[%zu] is not valid", i);
	}
	if (from->max_retransmits > 65535)
		return rg_err_set(err, -EINVAL, "invite: webrtc.max_retransmits must be 0-65535");
	if (from->path_mtu && (from->path_mtu < CONF_PATH_MTU_MIN ||
			       from->path_mtu > CONF_PATH_MTU_MAX))
		return rg_err_set(err, -EINVAL, "invite: webrtc.path_mtu must be %d-%d",
				  CONF_PATH_MTU_MIN, CONF_PATH_MTU_MAX);
	return 0;
}

int conf_invite_encode(const struct conf *from, const struct conf_invite_opts *o, char **token,
		       struct rg_err *err)
{
	char prefix[PREFIX_MAX], *b64 = NULL, *out = NULL;
	struct wr w = { 0 };
	bool stun_default;
	size_t plen, raw_len, tlen, b64_len;
	int ret;

	*token = NULL;
	if ((ret = check_source(from, o, err)) < 0)
		return ret;
	stun_default = stun_is_default(from);
	plen = (size_t)snprintf(prefix, sizeof(prefix), CONF_INVITE_PREFIX "%d-",
				CONF_INVITE_VERSION);
	write_payload(&w, from, o, stun_default);
	raw_len = w.n + CONF_INVITE_CHECK_LEN;
	b64_len = rg_base64_len(raw_len);
	if (plen + b64_len > CONF_INVITE_TOKEN_MAX)
		return rg_err_set(err, -E2BIG, "invite: the token would be longer than %d "
				  "characters", CONF_INVITE_TOKEN_MAX);
	w.p = malloc(raw_len);
	b64 = malloc(b64_len + 1);
	out = malloc(plen + b64_len + 1);
	if (!w.p || !b64 || !out) {
		ret = rg_err_set(err, -ENOMEM, "invite: out of memory");
		goto out;
	}
	w.n = 0;
	write_payload(&w, from, o, stun_default);
	if ((ret = checksum(w.p + w.n, prefix, plen, w.p, w.n)) < 0) {
		rg_err_set(err, ret, "invite: SHA-256 failed");
		goto out;
	}
	rg_base64_encode(b64, w.p, raw_len);
	memcpy(out, prefix, plen);
	tlen = plen;
	for (size_t i = 0; i < b64_len && b64[i] != '='; i++)
		out[tlen++] = swap_alphabet(b64[i], '+', '/', '-', '_');
	out[tlen] = '\0';
	*token = out;
	out = NULL;
	ret = 0;
out:
	if (w.p) {
		rg_memzero(w.p, raw_len);
		free(w.p);
	}
	if (b64) {
		rg_memzero(b64, b64_len + 1);
		free(b64);
	}
	free(out);	/* only on failure, before anything secret was written */
	return ret;
}

/* ---- decoding ---- */

struct rd {
	const uint8_t *p;
	size_t n, off;
	struct rg_err *err;
};

static int malformed(struct rd *r, const char *what)
{
	return rg_err_set(r->err, -EPROTO, "invite token is malformed: %s (was it made by a "
			  "different riftgate?)", what);
}

static int invalid(struct rd *r, const char *field, const char *rule)
{
	return rg_err_set(r->err, -EPROTO, "invite token carries an invalid %s: %s", field, rule);
}

static int missing(struct rd *r, const char *field)
{
	return rg_err_set(r->err, -EPROTO, "invite token has no %s", field);
}

/* Canonical LEB128, at most LEN_MAX_BYTES. */
static int get_len(struct rd *r, size_t *out)
{
	size_t v = 0;

	for (int k = 0; k < LEN_MAX_BYTES; k++) {
		uint8_t b;

		if (r->off >= r->n)
			return malformed(r, "a field is cut short");
		b = r->p[r->off++];
		v |= (size_t)(b & 0x7f) << (7 * k);
		if (!(b & 0x80)) {
			if (k > 0 && b == 0)
				return malformed(r, "a length is not in canonical form");
			*out = v;
			return 0;
		}
	}
	return malformed(r, "a length is too large");
}

/* Next TAG LEN VALUE; value points into the buffer. */
static int get_field(struct rd *r, uint8_t *tag, const uint8_t **v, size_t *n)
{
	int ret;

	*tag = r->p[r->off++];
	if ((ret = get_len(r, n)) < 0)
		return ret;
	if (*n > r->n - r->off)
		return malformed(r, "a field is cut short");
	*v = r->p + r->off;
	r->off += *n;
	return 0;
}

/* A string value: 1..CONF_STRING_MAX bytes of UTF-8 without NUL. */
static int take_string(struct rd *r, const uint8_t *v, size_t n, const char *field, char **out)
{
	if (*out)
		return malformed(r, "a field is repeated");
	if (n == 0 || n > CONF_STRING_MAX || memchr(v, 0, n) || !conf_toml_utf8_valid(v, n))
		return invalid(r, field, "not a non-empty UTF-8 string of at most 1024 bytes");
	*out = malloc(n + 1);
	if (!*out)
		return rg_err_set(r->err, -ENOMEM, "out of memory");
	memcpy(*out, v, n);
	(*out)[n] = '\0';
	return 0;
}

static int read_stun(struct rd *r, struct conf *c, const uint8_t *v, size_t n)
{
	struct rd sub = { .p = v, .n = n, .err = r->err };
	char **list;
	int ret;

	/* conf_init's defaults go; the token's list (maybe empty) replaces them. */
	for (size_t i = 0; i < c->n_stun; i++)
		free(c->stun_servers[i]);
	free(c->stun_servers);
	c->stun_servers = NULL;
	c->n_stun = 0;
	list = calloc(CONF_LIST_MAX, sizeof(*list));
	if (!list)
		return rg_err_set(r->err, -ENOMEM, "out of memory");
	c->stun_servers = list;
	while (sub.off < sub.n) {
		size_t len;

		if (c->n_stun == CONF_LIST_MAX)
			return invalid(r, "STUN server list", "more than 32 servers");
		if ((ret = get_len(&sub, &len)) < 0)
			return ret;
		if (len > sub.n - sub.off)
			return malformed(r, "a field is cut short");
		if ((ret = take_string(r, sub.p + sub.off, len, "STUN server",
				       &list[c->n_stun])) < 0)
			return ret;
		c->n_stun++;
		sub.off += len;
		if (!conf_valid_stun_url(list[c->n_stun - 1]))
			return invalid(r, "STUN server", "not stun:HOST[:PORT]");
	}
	return 0;
}

static int read_turn(struct rd *r, struct conf *c, const uint8_t *v, size_t n)
{
	struct rd sub = { .p = v, .n = n, .err = r->err };
	struct conf_turn *t;
	unsigned last = 0;
	int ret;

	if (c->n_turn == CONF_LIST_MAX)
		return invalid(r, "TURN server list", "more than 32 servers");
	if (!c->turn && !(c->turn = calloc(CONF_LIST_MAX, sizeof(*c->turn))))
		return rg_err_set(r->err, -ENOMEM, "out of memory");
	t = &c->turn[c->n_turn++];
	while (sub.off < sub.n) {
		const uint8_t *fv = NULL;
		uint8_t tag;
		size_t fn = 0;

		if ((ret = get_field(&sub, &tag, &fv, &fn)) < 0)
			return ret;
		if (tag <= last)
			return malformed(r, "TURN fields are out of order or repeated");
		last = tag;
		switch (tag) {
		case TURN_URL:
			ret = take_string(r, fv, fn, "TURN server URL", &t->url);
			break;
		case TURN_USERNAME:
			ret = take_string(r, fv, fn, "TURN username", &t->username);
			break;
		case TURN_CREDENTIAL:
			ret = take_string(r, fv, fn, "TURN credential", &t->credential);
			break;
		default:
			ret = tag < 0x80 ? malformed(r, "unknown TURN field") : 0;
			break;
		}
		if (ret < 0)
			return ret;
	}
	if (!t->url)
		return invalid(r, "TURN server", "no URL");
	if (!conf_valid_turn_url(t->url))
		return invalid(r, "TURN server URL", "not turn:HOST[:PORT] or turns:HOST[:PORT]");
	if (!t->username != !t->credential)
		return invalid(r, "TURN server", "a username without a credential or the reverse");
	if (!t->username && !c->turn_secret)
		return invalid(r, "TURN server", "no credentials and no TURN secret");
	return 0;
}

static int read_fields(struct rd *r, struct conf_invite *inv)
{
	struct conf *c = &inv->conf;
	bool have_expires = false;
	unsigned last = 0;
	int ret;

	while (r->off < r->n) {
		const uint8_t *v = NULL;
		uint8_t tag;
		size_t n = 0;

		if ((ret = get_field(r, &tag, &v, &n)) < 0)
			return ret;
		if (tag < last || (tag == last && tag != CONF_INVITE_TURN))
			return malformed(r, "fields are out of order or repeated");
		last = tag;
		switch (tag) {
		case CONF_INVITE_NETWORK:
			if ((ret = take_string(r, v, n, "network name", &c->network_name)) < 0)
				return ret;
			if (!conf_valid_name(c->network_name))
				return invalid(r, "network name", "not 1-64 of A-Z a-z 0-9 . _ -");
			break;
		case CONF_INVITE_SERVER_URL:
			if ((ret = take_string(r, v, n, "hub URL", &c->server_url)) < 0)
				return ret;
			if (!conf_valid_server_url(c->server_url))
				return invalid(r, "hub URL", "not ws://HOST[:PORT][/PATH] or wss://…");
			break;
		case CONF_INVITE_AUTH_TOKEN:
			if ((ret = take_string(r, v, n, "hub auth token", &c->auth_token)) < 0)
				return ret;
			if (!conf_valid_auth_token(c->auth_token))
				return invalid(r, "hub auth token", "spaces or control characters");
			break;
		case CONF_INVITE_TURN_SECRET:
			if ((ret = take_string(r, v, n, "TURN secret", &c->turn_secret)) < 0)
				return ret;
			break;
		case CONF_INVITE_INVITER:
			if ((ret = take_string(r, v, n, "inviter name", &inv->inviter)) < 0)
				return ret;
			if (!conf_valid_name(inv->inviter))
				return invalid(r, "inviter name", "not 1-64 of A-Z a-z 0-9 . _ -");
			break;
		case CONF_INVITE_NAME:
			if ((ret = take_string(r, v, n, "device name", &c->device_name)) < 0)
				return ret;
			if (!conf_valid_name(c->device_name))
				return invalid(r, "device name", "not 1-64 of A-Z a-z 0-9 . _ -");
			break;
		case CONF_INVITE_ADDRESS:
			if ((ret = take_string(r, v, n, "tunnel address", &c->address)) < 0)
				return ret;
			if (!rg_prefix_parse(&c->addr, c->address))
				return invalid(r, "tunnel address", "not an address/prefix (CIDR)");
			break;
		case CONF_INVITE_EXPIRES: {
			uint64_t t = 0;

			if (n != EXPIRES_LEN)
				return invalid(r, "expiry time", "not 8 bytes");
			for (int i = 0; i < EXPIRES_LEN; i++)
				t = t << 8 | v[i];
			if (t == 0 || t > INT64_MAX)
				return invalid(r, "expiry time", "out of range");
			inv->expires = (int64_t)t;
			have_expires = true;
			break;
		}
		case CONF_INVITE_STUN:
			if ((ret = read_stun(r, c, v, n)) < 0)
				return ret;
			break;
		case CONF_INVITE_TURN:
			if ((ret = read_turn(r, c, v, n)) < 0)
				return ret;
			break;
		case CONF_INVITE_ORDERED:
			if (n != 1 || v[0] > 1)
				return invalid(r, "webrtc.ordered", "not 0 or 1");
			c->ordered = v[0];
			break;
		case CONF_INVITE_MAX_RETRANSMITS:
			if (n != 2)
				return invalid(r, "webrtc.max_retransmits", "not 2 bytes");
			c->max_retransmits = (unsigned)v[0] << 8 | v[1];
			break;
		case CONF_INVITE_TICKET:
			if (n < 1 || n > CONF_INVITE_TICKET_MAX)
				return invalid(r, "enrollment ticket", "empty or too long");
			if (!(inv->ticket = malloc(n)))
				return rg_err_set(r->err, -ENOMEM, "out of memory");
			memcpy(inv->ticket, v, n);
			inv->ticket_len = n;
			break;
		case CONF_INVITE_TICKET_KEY:
			if (n != CONF_INVITE_TICKET_KEY_LEN)
				return invalid(r, "ticket key", "not 32 bytes");
			memcpy(inv->ticket_key, v, n);
			inv->has_ticket_key = true;
			break;
		case CONF_INVITE_PATH_MTU:
			if (n != 2)
				return invalid(r, "webrtc.path_mtu", "not 2 bytes");
			c->path_mtu = (unsigned)v[0] << 8 | v[1];
			if (c->path_mtu < CONF_PATH_MTU_MIN || c->path_mtu > CONF_PATH_MTU_MAX)
				return invalid(r, "webrtc.path_mtu", "outside 1200-9000");
			break;
		default:
			if (tag < 0x80) {
				char what[96];

				snprintf(what, sizeof(what), "unknown field %u; a newer riftgate made "
					 "it: upgrade this one", tag);
				return rg_err_set(r->err, -EPROTO, "invite token has an %s", what);
			}
			break;	/* an optional extension: skipped */
		}
	}
	if (!c->network_name)
		return missing(r, "network name");
	if (!c->server_url)
		return missing(r, "hub URL");
	if (!c->auth_token)
		return missing(r, "hub auth token");
	if (!c->address)
		return missing(r, "tunnel address");
	if (!have_expires)
		return missing(r, "expiry time");
	if (!inv->ticket != !inv->has_ticket_key)
		return missing(r, inv->ticket ? "ticket key" : "enrollment ticket");
	return 0;
}

/* Validates the text's shape and returns the payload (with its checksum verified). */
static int unwrap(const char *text, size_t len, uint8_t **raw, size_t *raw_len,
		  struct rg_err *err)
{
	uint8_t check[CONF_INVITE_CHECK_LEN];
	size_t i = strlen(CONF_INVITE_PREFIX), digits = 0, blen, cap, std_len;
	const char *body;
	char *std = NULL;
	unsigned version = 0;
	int ret;

	*raw = NULL;
	/* Any case: a chat app may capitalise the first letter. The check covers "rgi1-". */
	if (len < i || strncasecmp(text, CONF_INVITE_PREFIX, i) != 0)
		return rg_err_set(err, -EINVAL, "this is not a riftgate invite token (a token "
				  "starts with '" CONF_INVITE_PREFIX "%d-')", CONF_INVITE_VERSION);
	while (i < len && text[i] >= '0' && text[i] <= '9' && digits < VERSION_DIGITS_MAX) {
		version = version * 10 + (unsigned)(text[i++] - '0');
		digits++;
	}
	if (!digits || i >= len || text[i] != '-')
		return rg_err_set(err, -EINVAL, "this is not a riftgate invite token (a token "
				  "starts with '" CONF_INVITE_PREFIX "%d-')", CONF_INVITE_VERSION);
	if (version != CONF_INVITE_VERSION || digits != 1)
		return rg_err_set(err, -EPROTONOSUPPORT, "invite token version %u is not supported "
				  "(this riftgate reads version %d); use the same riftgate release "
				  "on both devices", version, CONF_INVITE_VERSION);
	i++;
	body = text + i;
	blen = len - i;
	for (size_t k = 0; k < blen; k++)
		if (!url_char(body[k]))
			return rg_err_set(err, -EBADMSG, "invite token is damaged: character %zu is "
					  "not allowed (a token has only A-Z a-z 0-9 - _); copy it "
					  "again", i + k + 1);
	/* 4 characters per 3 bytes; a remainder of 1 character cannot happen. */
	if (blen % 4 == 1 || (blen / 4) * 3 + (blen % 4 ? blen % 4 - 1 : 0) <
				     CONF_INVITE_CHECK_LEN + 2)
		return rg_err_set(err, -EBADMSG, "invite token is damaged: it is cut short; copy "
				  "it again");
	std_len = (blen + 3) / 4 * 4;
	cap = std_len / 4 * 3;
	std = malloc(std_len);
	*raw = malloc(cap);
	if (!std || !*raw) {
		ret = rg_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < std_len; k++)
		std[k] = k < blen ? swap_alphabet(body[k], '-', '_', '+', '/') : '=';
	if (rg_base64_decode(*raw, cap, raw_len, std, std_len) < 0) {
		ret = rg_err_set(err, -EBADMSG, "invite token is damaged: its last character is "
				 "wrong or it is cut short; copy it again");
		goto out;
	}
	*raw_len -= CONF_INVITE_CHECK_LEN;
	if ((ret = checksum(check, CONF_INVITE_PREFIX "1-", i, *raw, *raw_len)) < 0) {
		rg_err_set(err, ret, "SHA-256 failed");
		goto out;
	}
	if (!rg_ct_eq(check, *raw + *raw_len, CONF_INVITE_CHECK_LEN)) {
		ret = rg_err_set(err, -EBADMSG, "invite token is damaged (checksum mismatch): a "
				 "character was changed, added or lost while copying; copy it "
				 "again");
		goto out;
	}
	ret = 0;
out:
	if (std) {
		rg_memzero(std, std_len);
		free(std);
	}
	if (ret < 0 && *raw) {
		rg_memzero(*raw, cap);
		free(*raw);
		*raw = NULL;
	}
	return ret;
}

int conf_invite_decode(struct conf_invite *out, const char *text, size_t len, int64_t now,
		       struct rg_err *err)
{
	struct conf_invite inv;
	struct rd r = { .err = err };
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(&inv, 0, sizeof(inv));
	if (len > CONF_INVITE_TOKEN_MAX)
		return rg_err_set(err, -E2BIG, "invite token is too long (%zu characters, at most "
				  "%d)", len, CONF_INVITE_TOKEN_MAX);
	if ((ret = unwrap(text, len, &raw, &raw_len, err)) < 0)
		return ret;
	if ((ret = conf_init(&inv.conf)) < 0) {
		rg_err_set(err, ret, "out of memory");
		goto out;
	}
	r.p = raw;
	r.n = raw_len;
	if ((ret = read_fields(&r, &inv)) < 0)
		goto out;
	if (inv.expires <= now) {
		char when[48];

		conf_invite_format_time(when, sizeof(when), inv.expires);
		ret = rg_err_set(err, -ETIME, "invite token expired at %s; ask for a new one "
				 "(riftgate invite on a member device)", when);
		goto out;
	}
	*out = inv;
	memset(&inv, 0, sizeof(inv));
	ret = 0;
out:
	conf_invite_clear(&inv);
	if (raw) {
		rg_memzero(raw, raw_len + CONF_INVITE_CHECK_LEN);
		free(raw);
	}
	return ret;
}
