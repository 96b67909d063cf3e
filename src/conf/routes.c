/* See routes.h. */
#include "conf/routes.h"

enum conf_route_verdict conf_route_check(const struct rg_prefix *r, int tunnel_family)
{
	if (!rg_prefix_family_bits(r->family))
		return CONF_ROUTE_NOT_PREFIX;
	if (r->family != tunnel_family)
		return CONF_ROUTE_FAMILY;
	if (r->len == 0)
		return CONF_ROUTE_DEFAULT;
	if (!rg_prefix_is_network(r))
		return CONF_ROUTE_HOST_BITS;
	return CONF_ROUTE_OK;
}

enum conf_route_verdict conf_route_parse(struct rg_prefix *out, const char *s, int tunnel_family)
{
	if (!rg_prefix_parse(out, s))
		return CONF_ROUTE_NOT_PREFIX;
	return conf_route_check(out, tunnel_family);
}

const char *conf_route_verdict_str(enum conf_route_verdict v)
{
	switch (v) {
	case CONF_ROUTE_OK:
		return "ok";
	case CONF_ROUTE_NOT_PREFIX:
		return "is not an IPv4 or IPv6 prefix (ADDR/LEN)";
	case CONF_ROUTE_HOST_BITS:
		return "is not a network address (host bits are set)";
	case CONF_ROUTE_FAMILY:
		return "is not of the tunnel address's family";
	case CONF_ROUTE_DEFAULT:
		return "is a default route (/0): that is an exit node, not a subnet route";
	}
	return "?";
}
