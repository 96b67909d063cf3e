/* riftgate-wg's engine: one userspace WireGuard device (src/wg core) bound to a TUN and to UDP
 * (IPv4 + IPv6 sockets on one port), configured over the UAPI socket. One thread, one epoll
 * loop: TUN, both UDP sockets, the UAPI socket, one timerfd armed from the core's next
 * deadline, a signalfd (SIGINT/SIGTERM/SIGHUP) and an inotify watch that ends the daemon when
 * its UAPI socket file is removed (that is how wg-quick stops a userspace implementation).
 *
 * Data path without heap allocation: packets are read in batches (recvmmsg, up to
 * WGD_BATCH reads from TUN) into fixed slots with the core's headroom/tailroom, processed in
 * place, and encrypted datagrams leave in one sendmmsg per batch. */
#ifndef RG_WGD_H
#define RG_WGD_H

#include <stdint.h>

struct rg_err;
struct wgd;

enum wgd_limits {
	WGD_BATCH = 64,		/* packets per fd per wakeup */
	WGD_DEFAULT_MTU = 1420,
};

struct wgd_config {
	const char *ifname;
	unsigned mtu;			/* 0: WGD_DEFAULT_MTU */
	const char *uapi_dir;		/* NULL: /var/run/wireguard */
};

/* Creates the TUN, the UAPI socket and the loop's fds (no UDP socket until a listen_port is set
 * or a peer needs one: like wireguard-go, a random port is bound at start). Blocks SIGINT,
 * SIGTERM and SIGHUP in the calling thread (they are read from a signalfd). */
int wgd_new(struct wgd **out, const struct wgd_config *cfg, struct rg_err *err);
/* Runs until SIGINT/SIGTERM/SIGHUP, the UAPI socket file is removed or the TUN goes away.
 * Returns 0, or -errno on a fatal loop error (err filled). */
int wgd_run(struct wgd *d, struct rg_err *err);
/* Removes the socket file, closes the TUN (the link disappears) and wipes every key. */
void wgd_free(struct wgd *d);

#endif
