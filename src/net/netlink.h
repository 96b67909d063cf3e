/* Link configuration over rtnetlink (libmnl): up/down, MTU, addresses, routes. Each call opens a
 * short-lived NETLINK_ROUTE socket, sends one request and waits for the kernel's ACK, so it is
 * safe from any loop (control path only, never per packet). Return 0 or -errno. */
#ifndef RG_NET_NETLINK_H
#define RG_NET_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "util/prefix.h"

struct rg_err;

int net_link_set_up(int ifindex, bool up);
int net_link_set_mtu(int ifindex, unsigned mtu);
/* Reads the link's MTU into *mtu. */
int net_link_get_mtu(int ifindex, unsigned *mtu);
/* Adds (replaces) an address on the link; -EEXIST is not an error. */
int net_addr_add(int ifindex, const struct rg_prefix *p);
/* Adds a route for prefix p via the link (scope link); -EEXIST is not an error. */
int net_route_add(int ifindex, const struct rg_prefix *p);
int net_route_del(int ifindex, const struct rg_prefix *p);
/* The same in routing table `table` (policy routing). */
int net_route_table(bool add, int ifindex, const struct rg_prefix *p, uint32_t table);
/* A default route of type blackhole (dropped) in `table`. */
int net_route_blackhole(bool add, int family, uint32_t table);

/* A policy routing rule ("ip rule"): lookup `table` for packets WITHOUT mark not_fwmark (0: any
 * packet), ignoring that table's routes of prefix length <= suppress_prefixlen (-1: none), at
 * priority (0: the kernel picks the one below the first rule). */
struct net_rule {
	int family;
	uint32_t table;
	uint32_t not_fwmark;
	int suppress_prefixlen;
	uint32_t priority;
};
/* Adds (-EEXIST is not an error) or deletes the rule with exactly these attributes. */
int net_rule(bool add, const struct net_rule *r);
/* Forgets the path MTU the kernel learned (from ICMP) towards addr (4 or 16 bytes, by family)
 * through the link, so a raised MTU takes effect at once instead of after 10 minutes. IPv4
 * can only flush every learned PMTU of the namespace; IPv6 deletes that one cached route. */
int net_route_flush_pmtu(int ifindex, int family, const uint8_t *addr);

#endif
