/* Tunnel addresses for new devices (riftgate invite): a device's own address names the
 * network's subnet; an address is free when it is inside that subnet, not the subnet's
 * network/broadcast address and not one a known device uses. Knowledge is partial (devices
 * offline, invites not used yet), so picks are random: two invites made before either device
 * joined rarely collide. No allocation, no I/O except getrandom(2). */
#ifndef RG_CONF_ADDRPOOL_H
#define RG_CONF_ADDRPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "util/prefix.h"

enum conf_addrpool_limits {
	CONF_ADDRPOOL_TRIES = 256,		/* random draws in subnets too large to scan */
	CONF_ADDRPOOL_SCAN_HOST_BITS = 16,	/* subnets up to /16 (IPv4) or /112 are scanned */
};

struct conf_addrpool {
	struct rg_prefix self;		/* this device's address; its length sets the subnet */
	const struct rg_prefix *taken;	/* addresses known to be in use (lengths ignored) */
	size_t n_taken;
	/* Random source for picks; NULL: getrandom(2). Tests pass a fixed sequence. */
	uint64_t (*random)(void *opaque);
	void *opaque;
};

enum conf_addr_verdict {
	CONF_ADDR_FREE,
	CONF_ADDR_SELF,		/* this device's own address */
	CONF_ADDR_TAKEN,	/* a known device uses it */
	CONF_ADDR_OUTSIDE,	/* another family, another subnet or another prefix length */
	CONF_ADDR_RESERVED,	/* host part all zeros or all ones */
};

/* The subnet: self with its host bits cleared. */
struct rg_prefix conf_addrpool_subnet(const struct conf_addrpool *pool);
/* What a (an "ADDR/LEN" someone chose) would be in the pool, checked in the order above. */
enum conf_addr_verdict conf_addrpool_check(const struct conf_addrpool *pool,
					   const struct rg_prefix *a);
/* A free address (with the subnet's length): small subnets are scanned from a random start,
 * large ones drawn at random. 0, or -ENOSPC (subnet full, or smaller than /30 and /126). */
int conf_addrpool_pick(const struct conf_addrpool *pool, struct rg_prefix *out);

#endif
