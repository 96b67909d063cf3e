/* Subnet routes (docs/routes.md): the LAN prefixes a device advertises (`[device] routes`) and the
 * check every route passes before anything uses it, on the advertising device (its config) and
 * on every receiving device (a peer's signaling message: hostile bytes). */
#ifndef RG_CONF_ROUTES_H
#define RG_CONF_ROUTES_H

#include <stdbool.h>

#include "util/prefix.h"

enum conf_routes_limits {
	CONF_ROUTES_MAX = 16,		/* routes one device advertises (and a receiver keeps) */
};

enum conf_route_verdict {
	CONF_ROUTE_OK,
	CONF_ROUTE_NOT_PREFIX,	/* not ADDR/LEN */
	CONF_ROUTE_HOST_BITS,	/* 192.168.1.5/24: an address, not a network */
	CONF_ROUTE_FAMILY,	/* not the family of the tunnel that would carry it */
	CONF_ROUTE_DEFAULT,	/* /0: all traffic, which is an exit node's job */
};

/* Parses s into *out and checks it for a tunnel of family tunnel_family (AF_INET/AF_INET6). */
enum conf_route_verdict conf_route_parse(struct rg_prefix *out, const char *s, int tunnel_family);
/* The same check on a parsed prefix. */
enum conf_route_verdict conf_route_check(const struct rg_prefix *r, int tunnel_family);
/* One line for a verdict ("is not a network address (host bits set)", ...). */
const char *conf_route_verdict_str(enum conf_route_verdict v);

#endif
