/* The local addresses ICE may gather host candidates on. A host candidate on a tunnel interface
 * (riftgate's own, another VPN's) would let ICE select a pair *through* that tunnel: riftgate
 * inside riftgate is a loop, and inside another VPN it runs at that VPN's speed and RTT (issue 15
 * item 10: 2.3 Gbit/s fell to 170 Mbit/s). So these are skipped: interfaces that are down,
 * loopback, IPv6 link-local addresses, riftgate's own interface, every interface whose rtnetlink
 * kind is a tunnel (NET_HOSTADDR_TUNNEL_KINDS: TUN/TAP, used by riftgate, Tailscale, OpenVPN,
 * wireguard-go; kernel WireGuard), and names matching an exclude pattern (fnmatch(3) globs,
 * [webrtc] exclude_interfaces). Control path only: one getifaddrs and one link dump per call. */
#ifndef RG_NET_HOSTADDR_H
#define RG_NET_HOSTADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define NET_HOSTADDR_TUNNEL_KINDS { "tun", "wireguard" }

struct net_hostaddr_filter {
	const char *own_ifname;			/* riftgate's interface; NULL = none */
	const char *const *exclude;		/* fnmatch patterns on interface names */
	size_t n_exclude;
};

/* Whether ICE must not gather on interface ifname of rtnetlink kind kind ("" = none known). */
bool net_hostaddr_skip(const struct net_hostaddr_filter *f, const char *ifname, const char *kind);
/* Writes the usable addresses as IP literals (getifaddrs order) into out, at most max; returns
 * how many. 0 when none, or when the host's addresses cannot be read. */
size_t net_hostaddrs(const struct net_hostaddr_filter *f, char out[][INET6_ADDRSTRLEN],
		     size_t max);

#endif
