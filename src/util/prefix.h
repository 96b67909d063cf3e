/* IP prefixes (an address and a prefix length, IPv4 or IPv6): the one type the config, the
 * address pool, netlink and the route checks share. Pure functions, no allocation. */
#ifndef RG_UTIL_PREFIX_H
#define RG_UTIL_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rg_prefix {
	int family;		/* AF_INET or AF_INET6; 0 = none */
	uint8_t addr[16];	/* network order; the first 4 bytes for AF_INET, the rest zero */
	uint8_t len;		/* prefix length: 0..32 or 0..128 */
};

enum {
	/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" and its NUL */
	RG_PREFIX_STR_MAX = 46 + 4,
};

/* "ADDR/LEN" in either family (LEN without leading zeros). Host bits may be set: the address
 * is kept as written (an interface address); see rg_prefix_is_network(). false on anything
 * else, *p zeroed. */
bool rg_prefix_parse(struct rg_prefix *p, const char *s);
/* The same, where a bare "ADDR" means the full-length prefix (a host). */
bool rg_prefix_parse_addr(struct rg_prefix *p, const char *s);
/* "ADDR/LEN" into buf; returns false when it does not fit (buf then holds ""). */
bool rg_prefix_format(const struct rg_prefix *p, char *buf, size_t cap);
/* "ADDR" only. */
bool rg_prefix_format_addr(const struct rg_prefix *p, char *buf, size_t cap);

/* 32 or 128; 0 for anything else. */
unsigned rg_prefix_family_bits(int family);
/* Clears the host bits (10.1.2.3/8 becomes 10.0.0.0/8). */
void rg_prefix_mask(struct rg_prefix *p);
/* True when no host bit is set: p names a network, not an address in one. */
bool rg_prefix_is_network(const struct rg_prefix *p);
/* Same family, length and address bytes. */
bool rg_prefix_equal(const struct rg_prefix *a, const struct rg_prefix *b);
/* Same family and address (lengths ignored): the same host. */
bool rg_prefix_same_addr(const struct rg_prefix *a, const struct rg_prefix *b);
/* Every address of inner is inside outer (same family, inner->len >= outer->len, and the first
 * outer->len bits agree). An address is a full-length prefix. */
bool rg_prefix_contains(const struct rg_prefix *outer, const struct rg_prefix *inner);
/* The two share at least one address: one contains the other. */
bool rg_prefix_overlap(const struct rg_prefix *a, const struct rg_prefix *b);

#endif
