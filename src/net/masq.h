/* The advertising side of subnet routes (docs/routes.md): IP forwarding, and masquerade of tunnel
 * traffic leaving towards the advertised LANs, in one nftables table of our own per tunnel
 * interface (`inet riftgate_IFNAME`), set up through libnftables and deleted on `down`. Control
 * path only (each call runs one nftables transaction). Return 0 or -errno; err says why. */
#ifndef RG_NET_MASQ_H
#define RG_NET_MASQ_H

#include <stdbool.h>
#include <stddef.h>

#include "util/prefix.h"

struct rg_err;

enum { NET_MASQ_TABLE_MAX = 32 };

/* "riftgate_" + ifname with '.' and '-' as '_': the table's name. */
void net_masq_table_name(char out[NET_MASQ_TABLE_MAX], const char *ifname);
/* Replaces the table: packets that arrived on ifname and leave towards one of routes (with
 * all: leave through any other interface, an exit node) get the outgoing interface's address
 * (masquerade). */
int net_masq_set(const char *ifname, const struct rg_prefix *routes, size_t n, bool all,
		 struct rg_err *err);
/* Deletes the table; no table is not an error. */
int net_masq_clear(const char *ifname);

/* Forwarding for a family (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding): sets it to on
 * (1) or off (0); *was (if not NULL) gets the value before. */
int net_forwarding_set(int family, int on, int *was);

#endif
