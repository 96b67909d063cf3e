/* Allowed IPs as two path-compressed binary tries (IPv4, IPv6). A node holds a prefix (key
 * masked to cidr bits) and optionally an owner; inner nodes without owner exist only where two
 * prefixes diverge. Insert/remove run on configuration (device.c, UAPI); lookup runs per packet
 * and only walks pointers. */
#include "wg/allowedips.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wg/device.h"

struct wg_aip_node {
	struct wg_aip_node *bit[2];	/* owned children */
	struct wg_peer *peer;		/* owner, not owned; NULL for a branching node */
	uint8_t cidr;
	uint8_t key[16];
};

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

static unsigned bit_at(const uint8_t *key, unsigned i)
{
	return (key[i >> 3] >> (7 - (i & 7))) & 1;
}

static void mask_key(uint8_t out[16], const uint8_t *in, unsigned cidr, unsigned bits)
{
	memset(out, 0, 16);
	memcpy(out, in, bits / 8);
	for (unsigned i = cidr; i < bits; i++)
		out[i >> 3] &= (uint8_t)~(0x80u >> (i & 7));
}

/* Number of leading bits (at most max) in which a and b agree. */
static unsigned common_bits(const uint8_t *a, const uint8_t *b, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; n < max; i++) {
		uint8_t x = a[i] ^ b[i];

		if (x) {
			n += (unsigned)__builtin_clz(x) - 24;
			break;
		}
		n += 8;
	}
	return n < max ? n : max;
}

static struct wg_aip_node *node_new(const uint8_t key[16], unsigned cidr, struct wg_peer *peer)
{
	struct wg_aip_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	memcpy(n->key, key, 16);
	n->cidr = (uint8_t)cidr;
	n->peer = peer;
	return n;
}

static void free_tree(struct wg_aip_node *n)
{
	if (!n)
		return;
	free_tree(n->bit[0]);
	free_tree(n->bit[1]);
	free(n);
}

void wg_allowedips_init(struct wg_allowedips *t)
{
	t->root4 = t->root6 = NULL;
}

void wg_allowedips_clear(struct wg_allowedips *t)
{
	free_tree(t->root4);
	free_tree(t->root6);
	wg_allowedips_init(t);
}

static struct wg_aip_node **root_of(struct wg_allowedips *t, int family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

int wg_allowedips_insert(struct wg_allowedips *t, const struct wg_allowed_ip *ip,
			 struct wg_peer *peer)
{
	unsigned bits = family_bits(ip->family), cidr = ip->cidr, common;
	struct wg_aip_node **slot, *n, *fresh, *mid;
	uint8_t key[16];

	if (!bits || cidr > bits || !peer)
		return -EINVAL;
	mask_key(key, ip->addr, cidr, bits);
	slot = root_of(t, ip->family);
	while ((n = *slot)) {
		common = common_bits(n->key, key, n->cidr < cidr ? n->cidr : cidr);
		if (common == n->cidr) {
			if (n->cidr == cidr) {
				n->peer = peer;
				return 0;
			}
			slot = &n->bit[bit_at(key, n->cidr)];
			continue;
		}
		/* The new prefix leaves n's path after `common` bits. */
		fresh = node_new(key, cidr, peer);
		if (!fresh)
			return -ENOMEM;
		if (common == cidr) {		/* new prefix contains n */
			fresh->bit[bit_at(n->key, cidr)] = n;
			*slot = fresh;
			return 0;
		}
		uint8_t mkey[16];

		mask_key(mkey, key, common, bits);
		mid = node_new(mkey, common, NULL);
		if (!mid) {
			free(fresh);
			return -ENOMEM;
		}
		mid->bit[bit_at(key, common)] = fresh;
		mid->bit[bit_at(n->key, common)] = n;
		*slot = mid;
		return 0;
	}
	*slot = node_new(key, cidr, peer);
	return *slot ? 0 : -ENOMEM;
}

/* Drops a node that no longer carries an owner and branches at most one way. */
static struct wg_aip_node *prune(struct wg_aip_node *n)
{
	struct wg_aip_node *child;

	if (!n || n->peer || (n->bit[0] && n->bit[1]))
		return n;
	child = n->bit[0] ? n->bit[0] : n->bit[1];
	free(n);
	return child;
}

static struct wg_aip_node *remove_exact(struct wg_aip_node *n, const uint8_t key[16],
					unsigned cidr, const struct wg_peer *peer, bool *found)
{
	if (!n || n->cidr > cidr || common_bits(n->key, key, n->cidr) < n->cidr)
		return n;
	if (n->cidr == cidr) {
		if (n->peer == peer && memcmp(n->key, key, 16) == 0) {
			n->peer = NULL;
			*found = true;
		}
		return prune(n);
	}
	unsigned b = bit_at(key, n->cidr);

	n->bit[b] = remove_exact(n->bit[b], key, cidr, peer, found);
	return prune(n);
}

int wg_allowedips_remove(struct wg_allowedips *t, const struct wg_allowed_ip *ip,
			 const struct wg_peer *peer)
{
	unsigned bits = family_bits(ip->family);
	struct wg_aip_node **root;
	bool found = false;
	uint8_t key[16];

	if (!bits || ip->cidr > bits)
		return -EINVAL;
	mask_key(key, ip->addr, ip->cidr, bits);
	root = root_of(t, ip->family);
	*root = remove_exact(*root, key, ip->cidr, peer, &found);
	return found ? 0 : -ENOENT;
}

static struct wg_aip_node *remove_peer(struct wg_aip_node *n, const struct wg_peer *peer)
{
	if (!n)
		return NULL;
	n->bit[0] = remove_peer(n->bit[0], peer);
	n->bit[1] = remove_peer(n->bit[1], peer);
	if (n->peer == peer)
		n->peer = NULL;
	return prune(n);
}

void wg_allowedips_remove_peer(struct wg_allowedips *t, const struct wg_peer *peer)
{
	t->root4 = remove_peer(t->root4, peer);
	t->root6 = remove_peer(t->root6, peer);
}

struct wg_peer *wg_allowedips_lookup(const struct wg_allowedips *t, int family,
				     const uint8_t *addr)
{
	unsigned bits = family_bits(family);
	const struct wg_aip_node *n;
	struct wg_peer *best = NULL;

	if (!bits)
		return NULL;
	n = family == AF_INET ? t->root4 : t->root6;
	while (n) {
		if (common_bits(n->key, addr, n->cidr) < n->cidr)
			break;
		if (n->peer)
			best = n->peer;
		if (n->cidr >= bits)
			break;
		n = n->bit[bit_at(addr, n->cidr)];
	}
	return best;
}

static int walk(const struct wg_aip_node *n, int family, const struct wg_peer *peer,
		int (*fn)(void *, const struct wg_allowed_ip *, struct wg_peer *), void *ctx)
{
	int ret;

	if (!n)
		return 0;
	if (n->peer && (!peer || n->peer == peer)) {
		struct wg_allowed_ip ip = { .family = (uint16_t)family, .cidr = n->cidr };

		memcpy(ip.addr, n->key, 16);
		if ((ret = fn(ctx, &ip, n->peer)))
			return ret;
	}
	if ((ret = walk(n->bit[0], family, peer, fn, ctx)))
		return ret;
	return walk(n->bit[1], family, peer, fn, ctx);
}

int wg_allowedips_foreach(const struct wg_allowedips *t, const struct wg_peer *peer,
			  int (*fn)(void *ctx, const struct wg_allowed_ip *ip,
				    struct wg_peer *owner),
			  void *ctx)
{
	int ret = walk(t->root4, AF_INET, peer, fn, ctx);

	return ret ? ret : walk(t->root6, AF_INET6, peer, fn, ctx);
}
