/* See addrpool.h. */
#include <errno.h>
#include <sys/random.h>

#include "conf/addrpool.h"

struct rg_prefix conf_addrpool_subnet(const struct conf_addrpool *pool)
{
	struct rg_prefix net = pool->self;

	rg_prefix_mask(&net);
	return net;
}

/* Host part all zeros (IPv4 network, IPv6 subnet-router anycast) or all ones (IPv4 broadcast). */
static bool reserved_host(const struct rg_prefix *a, unsigned len)
{
	bool zeros = true, ones = true;

	for (unsigned i = len; i < rg_prefix_family_bits(a->family); i++) {
		bool bit = (a->addr[i / 8] >> (7 - i % 8)) & 1;

		zeros &= !bit;
		ones &= bit;
	}
	return zeros || ones;
}

static bool known(const struct conf_addrpool *pool, const struct rg_prefix *a)
{
	for (size_t i = 0; i < pool->n_taken; i++)
		if (rg_prefix_same_addr(&pool->taken[i], a))
			return true;
	return false;
}

enum conf_addr_verdict conf_addrpool_check(const struct conf_addrpool *pool,
					   const struct rg_prefix *a)
{
	struct rg_prefix net = conf_addrpool_subnet(pool);

	if (rg_prefix_same_addr(a, &pool->self))
		return CONF_ADDR_SELF;
	if (known(pool, a))
		return CONF_ADDR_TAKEN;
	if (a->len != net.len || !rg_prefix_contains(&net, a))
		return CONF_ADDR_OUTSIDE;
	if (reserved_host(a, net.len))
		return CONF_ADDR_RESERVED;
	return CONF_ADDR_FREE;
}

static uint64_t random_u64(const struct conf_addrpool *pool)
{
	uint64_t v = 0;

	if (pool->random)
		return pool->random(pool->opaque);
	while (getrandom(&v, sizeof(v), 0) != sizeof(v))
		;
	return v;
}

/* net with its lowest host bits set to h (h < 2^host bits). */
static struct rg_prefix with_host(const struct rg_prefix *net, uint64_t h)
{
	struct rg_prefix r = *net;
	unsigned last = rg_prefix_family_bits(net->family) / 8 - 1;

	for (unsigned i = 0; h && i <= last; i++, h >>= 8)
		r.addr[last - i] |= (uint8_t)(h & 0xff);
	return r;
}

int conf_addrpool_pick(const struct conf_addrpool *pool, struct rg_prefix *out)
{
	struct rg_prefix net = conf_addrpool_subnet(pool);
	unsigned host_bits = rg_prefix_family_bits(net.family) - net.len;

	if (!rg_prefix_family_bits(net.family) || host_bits < 2)
		return -ENOSPC;
	if (host_bits <= CONF_ADDRPOOL_SCAN_HOST_BITS) {
		uint64_t count = (uint64_t)1 << host_bits, start = random_u64(pool) % count;

		for (uint64_t i = 0; i < count; i++) {
			*out = with_host(&net, (start + i) % count);
			if (conf_addrpool_check(pool, out) == CONF_ADDR_FREE)
				return 0;
		}
		return -ENOSPC;
	}
	for (int i = 0; i < CONF_ADDRPOOL_TRIES; i++) {
		uint64_t h = random_u64(pool);

		if (host_bits < 64)
			h &= ((uint64_t)1 << host_bits) - 1;
		*out = with_host(&net, h);
		if (conf_addrpool_check(pool, out) == CONF_ADDR_FREE)
			return 0;
	}
	return -ENOSPC;
}
