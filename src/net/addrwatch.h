/* Watches the host's addresses over rtnetlink (libmnl): a NETLINK_ROUTE socket subscribed to
 * the IPv4/IPv6 address groups. The agent polls its fd from its loop and restarts ICE when an
 * address it could use for candidates comes or goes (DESIGN: a network change). Control path
 * only; no GLib. Return 0 or -errno. */
#ifndef RG_NET_ADDRWATCH_H
#define RG_NET_ADDRWATCH_H

struct mnl_socket;

struct net_addrwatch {
	struct mnl_socket *nl;	/* owned; NULL when closed */
};

int net_addrwatch_open(struct net_addrwatch *w);
int net_addrwatch_fd(const struct net_addrwatch *w);
/* Drains what is queued (non-blocking). Returns how many addresses of global or site scope
 * were added or removed on interfaces other than skip_ifindex (0 = none worth a restart:
 * loopback, link-local, our own TUN), or -errno. A lost event (ENOBUFS: the kernel's queue
 * overflowed) counts as one change. */
int net_addrwatch_read(struct net_addrwatch *w, int skip_ifindex);
void net_addrwatch_close(struct net_addrwatch *w);

#endif
