/* See uapi.h. A set request becomes an array of operations (parse, validate), then runs against
 * the device (apply) in request order, with the transport's listen port and fwmark first since
 * only they can fail. Peer semantics follow wireguard-go: `public_key` selects or creates a
 * peer, `update_only=true` makes the block a no-op if the peer does not exist, `remove=true`
 * deletes it, a block naming our own public key is ignored. Buffers that held keys are wiped. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/ct.h"
#include "util/encoding.h"
#include "wg/device.h"
#include "wg/uapi.h"

enum op_type {
	OP_PRIVATE_KEY = 1,
	OP_LISTEN_PORT,
	OP_FWMARK,
	OP_REPLACE_PEERS,
	OP_PEER,
	OP_UPDATE_ONLY,
	OP_REMOVE,
	OP_PRESHARED_KEY,
	OP_ENDPOINT,
	OP_KEEPALIVE,
	OP_REPLACE_ALLOWED_IPS,
	OP_ALLOWED_IP_ADD,
	OP_ALLOWED_IP_DEL,
};

struct op {
	enum op_type type;
	union {
		uint8_t key[WG_KEY_LEN];
		uint16_t port;
		uint32_t u32;
		struct wg_endpoint ep;
		struct wg_allowed_ip ip;
	};
};

struct ops {
	struct op *v;
	size_t n, cap;
};

/* A growable string; growth copies and wipes, since a get reply carries the private key. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sbuf_append(struct sbuf *s, const char *str, size_t n)
{
	if (s->oom)
		return;
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 512;
		char *p;

		while (cap < s->len + n + 1)
			cap *= 2;
		p = malloc(cap);
		if (!p) {
			s->oom = true;
			return;
		}
		if (s->p) {
			memcpy(p, s->p, s->len);
			rg_memzero(s->p, s->cap);
			free(s->p);
		}
		s->p = p;
		s->cap = cap;
	}
	memcpy(s->p + s->len, str, n);
	s->len += n;
	s->p[s->len] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void sbuf_printf(struct sbuf *s, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		s->oom = true;		/* no line of ours is this long */
		return;
	}
	sbuf_append(s, line, (size_t)n);
	rg_memzero(line, sizeof(line));
}

static char *sbuf_finish(struct sbuf *s, size_t *len)
{
	if (s->oom) {
		if (s->p)
			rg_memzero(s->p, s->cap);
		free(s->p);
		return NULL;
	}
	if (!s->p)
		sbuf_append(s, "", 0);
	*len = s->len;
	return s->p;
}

static struct op *ops_push(struct ops *o, enum op_type type)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		struct op *v;

		if (cap > SIZE_MAX / sizeof(*v))
			return NULL;
		v = calloc(cap, sizeof(*v));
		if (!v)
			return NULL;
		if (o->v) {
			memcpy(v, o->v, o->n * sizeof(*v));
			rg_memzero(o->v, o->cap * sizeof(*v));
			free(o->v);
		}
		o->v = v;
		o->cap = cap;
	}
	memset(&o->v[o->n], 0, sizeof(o->v[0]));
	o->v[o->n].type = type;
	return &o->v[o->n++];
}

static void ops_free(struct ops *o)
{
	if (o->v)
		rg_memzero(o->v, o->cap * sizeof(o->v[0]));
	free(o->v);
	memset(o, 0, sizeof(*o));
}

/* Decimal, no sign, like Go's strconv.ParseUint(v, 10, bits). */
static bool parse_uint(const char *v, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;

	if (!*v)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return false;
		if (x > (max - (uint64_t)(*v - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(*v - '0');
	}
	*out = x;
	return true;
}

static bool parse_allowed_ip(const char *v, struct wg_allowed_ip *ip)
{
	const char *slash = strchr(v, '/');
	char addr[INET6_ADDRSTRLEN];
	uint64_t cidr;
	size_t n;

	memset(ip, 0, sizeof(*ip));
	if (!slash)
		return false;
	n = (size_t)(slash - v);
	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, v, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, ip->addr) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, ip->addr) == 1)
		ip->family = AF_INET6;
	else
		return false;
	if (!parse_uint(slash + 1, ip->family == AF_INET ? 32 : 128, &cidr) || strlen(slash + 1) > 3)
		return false;
	ip->cidr = (uint8_t)cidr;
	return true;
}

static bool is_true(const char *v)
{
	return !strcmp(v, "true");
}

/* Parses one key=value line into o. in_peer says whether a public_key line came before. */
static int parse_line(struct wg_device *dev, struct ops *o, bool *in_peer, const char *key,
		      const char *value)
{
	struct op *op;
	uint64_t x;

	if (!*in_peer) {
		if (!strcmp(key, "private_key")) {
			if (!(op = ops_push(o, OP_PRIVATE_KEY)))
				return -ENOMEM;
			return rg_key_from_hex(op->key, value) ? 0 : -EINVAL;
		}
		if (!strcmp(key, "listen_port")) {
			if (!parse_uint(value, UINT16_MAX, &x))
				return -EINVAL;
			if (!(op = ops_push(o, OP_LISTEN_PORT)))
				return -ENOMEM;
			op->port = (uint16_t)x;
			return 0;
		}
		if (!strcmp(key, "fwmark")) {
			if (!parse_uint(value, UINT32_MAX, &x))
				return -EINVAL;
			if (!(op = ops_push(o, OP_FWMARK)))
				return -ENOMEM;
			op->u32 = (uint32_t)x;
			return 0;
		}
		if (!strcmp(key, "replace_peers")) {
			if (!is_true(value))
				return -EINVAL;
			return ops_push(o, OP_REPLACE_PEERS) ? 0 : -ENOMEM;
		}
	}
	if (!strcmp(key, "public_key")) {
		*in_peer = true;
		if (!(op = ops_push(o, OP_PEER)))
			return -ENOMEM;
		return rg_key_from_hex(op->key, value) ? 0 : -EINVAL;
	}
	if (!*in_peer)
		return -EINVAL;		/* unknown device key, or a peer key before public_key */
	if (!strcmp(key, "update_only") || !strcmp(key, "remove") ||
	    !strcmp(key, "replace_allowed_ips")) {
		if (!is_true(value))
			return -EINVAL;
		return ops_push(o, key[0] == 'u' ? OP_UPDATE_ONLY : key[0] == 'r' && key[2] == 'm' ?
				OP_REMOVE : OP_REPLACE_ALLOWED_IPS) ? 0 : -ENOMEM;
	}
	if (!strcmp(key, "preshared_key")) {
		if (!(op = ops_push(o, OP_PRESHARED_KEY)))
			return -ENOMEM;
		return rg_key_from_hex(op->key, value) ? 0 : -EINVAL;
	}
	if (!strcmp(key, "endpoint")) {
		struct wg_endpoint ep = { 0 };

		if (wg_device_endpoint_parse(dev, value, &ep) < 0 || ep.len == 0 ||
		    ep.len > WG_ENDPOINT_MAX)
			return -EINVAL;
		if (!(op = ops_push(o, OP_ENDPOINT)))
			return -ENOMEM;
		op->ep = ep;
		return 0;
	}
	if (!strcmp(key, "persistent_keepalive_interval")) {
		if (!parse_uint(value, UINT16_MAX, &x))
			return -EINVAL;
		if (!(op = ops_push(o, OP_KEEPALIVE)))
			return -ENOMEM;
		op->port = (uint16_t)x;
		return 0;
	}
	if (!strcmp(key, "allowed_ip")) {
		/* "-prefix" removes one prefix (newer wireguard-tools); plain adds. */
		bool del = value[0] == '-';
		struct wg_allowed_ip ip;

		if (!parse_allowed_ip(value + del, &ip))
			return -EINVAL;
		if (!(op = ops_push(o, del ? OP_ALLOWED_IP_DEL : OP_ALLOWED_IP_ADD)))
			return -ENOMEM;
		op->ip = ip;
		return 0;
	}
	if (!strcmp(key, "protocol_version"))
		return strcmp(value, "1") ? -EINVAL : 0;
	return -EINVAL;
}

static int parse_set(struct wg_device *dev, struct ops *o, const char *body, size_t len)
{
	char line[512];
	bool in_peer = false;
	size_t i = 0;
	int ret = 0;

	while (i < len) {
		const char *nl = memchr(body + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (body + i)) : len - i;
		char *eq;

		if (n == 0)
			break;			/* the empty line ends the request */
		if (n >= sizeof(line) || memchr(body + i, '\0', n)) {
			ret = -EINVAL;
			break;
		}
		memcpy(line, body + i, n);
		line[n] = '\0';
		i += n + (nl ? 1 : 0);
		eq = strchr(line, '=');
		if (!eq) {
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		ret = parse_line(dev, o, &in_peer, line, eq + 1);
		if (ret < 0)
			break;
	}
	rg_memzero(line, sizeof(line));
	return ret;
}

/* The peer a block refers to, created on first use. */
struct cursor {
	uint8_t pub[WG_KEY_LEN];
	struct wg_peer *peer;
	bool active;		/* inside a peer block */
	bool dummy;		/* ignored block: own key, update_only on a missing peer, removed */
};

static struct wg_peer *cursor_peer(struct wg_device *dev, struct cursor *c)
{
	if (!c->active || c->dummy)
		return NULL;
	if (!c->peer) {
		int ret = wg_device_add_peer(dev, c->pub, &c->peer);

		if (ret < 0 && ret != -EEXIST) {
			c->peer = NULL;
			c->dummy = true;
		}
	}
	return c->peer;
}

static void apply(struct wg_device *dev, const struct ops *o)
{
	struct cursor c = { 0 };
	uint8_t cur[WG_KEY_LEN];
	struct wg_peer *p;

	for (size_t i = 0; i < o->n; i++) {
		const struct op *op = &o->v[i];

		switch (op->type) {
		case OP_PRIVATE_KEY:
			/* Re-setting the same key must not drop sessions (`wg syncconf`). */
			if (wg_device_get_private_key(dev, cur) && rg_ct_eq(cur, op->key, WG_KEY_LEN))
				break;
			if (!wg_device_get_private_key(dev, cur) && rg_ct_is_zero(op->key, WG_KEY_LEN))
				break;
			wg_device_set_private_key(dev, op->key);
			break;
		case OP_LISTEN_PORT:
		case OP_FWMARK:
			break;			/* done before the loop */
		case OP_REPLACE_PEERS:
			wg_device_remove_all_peers(dev);
			break;
		case OP_PEER:
			if (c.active && !c.dummy)
				cursor_peer(dev, &c);	/* a bare block still creates its peer */
			memset(&c, 0, sizeof(c));
			c.active = true;
			memcpy(c.pub, op->key, WG_KEY_LEN);
			if (wg_device_get_public_key(dev, cur) && rg_ct_eq(cur, c.pub, WG_KEY_LEN))
				c.dummy = true;
			else
				c.peer = wg_device_lookup_peer(dev, c.pub);
			break;
		case OP_UPDATE_ONLY:
			if (!c.peer)
				c.dummy = true;
			break;
		case OP_REMOVE:
			if (c.peer && !c.dummy)
				wg_device_remove_peer(dev, c.peer);
			c.peer = NULL;
			c.dummy = true;
			break;
		case OP_PRESHARED_KEY:
			if ((p = cursor_peer(dev, &c)))
				wg_peer_set_preshared_key(p, op->key);
			break;
		case OP_ENDPOINT:
			if ((p = cursor_peer(dev, &c)))
				wg_peer_set_endpoint(p, &op->ep);
			break;
		case OP_KEEPALIVE:
			if ((p = cursor_peer(dev, &c)))
				wg_peer_set_persistent_keepalive(p, op->port);
			break;
		case OP_REPLACE_ALLOWED_IPS:
			if ((p = cursor_peer(dev, &c)))
				wg_peer_allowed_ips_clear(p);
			break;
		case OP_ALLOWED_IP_ADD:
			if ((p = cursor_peer(dev, &c)))
				(void)wg_peer_allowed_ip_add(p, &op->ip);
			break;
		case OP_ALLOWED_IP_DEL:
			if ((p = cursor_peer(dev, &c)))
				(void)wg_peer_allowed_ip_remove(p, &op->ip);
			break;
		}
	}
	if (c.active && !c.dummy)
		cursor_peer(dev, &c);
	rg_memzero(cur, sizeof(cur));
	rg_memzero(&c, sizeof(c));
}

int wg_uapi_set(struct wg_device *dev, const struct wg_uapi_hooks *hooks, const char *body,
		size_t len)
{
	const struct op *port = NULL, *mark = NULL;
	struct ops o = { 0 };
	int ret;

	ret = parse_set(dev, &o, body, len);
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < o.n; i++) {
		if (o.v[i].type == OP_LISTEN_PORT)
			port = &o.v[i];
		else if (o.v[i].type == OP_FWMARK)
			mark = &o.v[i];
	}
	/* The only steps that can fail go first: nothing has changed if they do. */
	if (port && hooks && hooks->set_listen_port) {
		ret = hooks->set_listen_port(hooks->opaque, port->port);
		if (ret < 0)
			goto out;
	}
	if (mark && hooks && hooks->set_fwmark) {
		ret = hooks->set_fwmark(hooks->opaque, mark->u32);
		if (ret < 0)
			goto out;
	}
	apply(dev, &o);
	ret = 0;
out:
	ops_free(&o);
	return ret;
}

static int put_allowed_ip(void *ctx, const struct wg_allowed_ip *ip)
{
	char addr[INET6_ADDRSTRLEN];

	if (!inet_ntop(ip->family, ip->addr, addr, sizeof(addr)))
		return 0;
	sbuf_printf(ctx, "allowed_ip=%s/%u\n", addr, ip->cidr);
	return 0;
}

char *wg_uapi_get(struct wg_device *dev, const struct wg_uapi_hooks *hooks, size_t *len)
{
	char hex[RG_KEY_HEX_LEN + 1], ep_text[128];
	uint8_t key[WG_KEY_LEN];
	struct sbuf s = { 0 };
	uint32_t mark = 0;
	uint16_t port = 0;

	if (wg_device_get_private_key(dev, key)) {
		rg_key_to_hex(hex, key);
		sbuf_printf(&s, "private_key=%s\n", hex);
	}
	if (hooks && hooks->get_listen_port)
		port = hooks->get_listen_port(hooks->opaque);
	if (port)
		sbuf_printf(&s, "listen_port=%u\n", port);
	if (hooks && hooks->get_fwmark)
		mark = hooks->get_fwmark(hooks->opaque);
	if (mark)
		sbuf_printf(&s, "fwmark=%u\n", mark);
	for (struct wg_peer *p = wg_device_first_peer(dev); p; p = wg_device_next_peer(p)) {
		struct wg_peer_stats st;
		struct wg_endpoint ep;

		wg_peer_get_public_key(p, key);
		rg_key_to_hex(hex, key);
		sbuf_printf(&s, "public_key=%s\n", hex);
		wg_peer_get_preshared_key(p, key);	/* zeroed when none: printed as zeros */
		rg_key_to_hex(hex, key);
		sbuf_printf(&s, "preshared_key=%s\n", hex);
		sbuf_printf(&s, "protocol_version=1\n");
		if (wg_peer_get_endpoint(p, &ep) &&
		    wg_device_endpoint_format(dev, &ep, ep_text, sizeof(ep_text)) == 0)
			sbuf_printf(&s, "endpoint=%s\n", ep_text);
		wg_peer_get_stats(p, &st);
		sbuf_printf(&s, "last_handshake_time_sec=%lld\nlast_handshake_time_nsec=%lld\n"
			    "tx_bytes=%llu\nrx_bytes=%llu\npersistent_keepalive_interval=%u\n",
			    (long long)st.last_handshake_sec, (long long)st.last_handshake_nsec,
			    (unsigned long long)st.tx_bytes, (unsigned long long)st.rx_bytes,
			    wg_peer_get_persistent_keepalive(p));
		wg_peer_allowed_ips_foreach(p, put_allowed_ip, &s);
	}
	rg_memzero(key, sizeof(key));
	rg_memzero(hex, sizeof(hex));
	return sbuf_finish(&s, len);
}

char *wg_uapi_handle(struct wg_device *dev, const struct wg_uapi_hooks *hooks, const char *req,
		     size_t len, size_t *reply_len)
{
	struct sbuf s = { 0 };
	size_t body_len;
	char *body;

	if (len >= 6 && !memcmp(req, "get=1\n", 6)) {
		body = wg_uapi_get(dev, hooks, &body_len);
		if (!body)
			return NULL;
		s.p = body;
		s.len = body_len;
		s.cap = body_len + 1;
		sbuf_append(&s, "errno=0\n\n", 9);
		return sbuf_finish(&s, reply_len);
	}
	if (len >= 6 && !memcmp(req, "set=1\n", 6)) {
		int ret = wg_uapi_set(dev, hooks, req + 6, len - 6);

		/* wg(8) reads a positive errno; 0 on success. */
		sbuf_printf(&s, "errno=%d\n\n", ret < 0 ? -ret : 0);
		return sbuf_finish(&s, reply_len);
	}
	return NULL;
}
