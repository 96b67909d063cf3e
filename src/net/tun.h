/* TUN devices (layer 3, no packet info header). The fd is plain and non-blocking, so the daemon's
 * epoll loop and the agent's GLib loop can both watch it. Multi-queue: open the device with
 * multi_queue set, then add one fd per worker with net_tun_open_queue(). */
#ifndef RG_NET_TUN_H
#define RG_NET_TUN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct rg_err;

struct net_tun {
	int fd;			/* first queue, -1 when closed */
	int ifindex;
	bool multi_queue;
	bool vnet_hdr;		/* every read/write starts with a struct virtio_net_hdr */
	char name[IFNAMSIZ];
};

/* Checks an interface name (1..15 bytes, no '/', no whitespace, not "." or ".."). */
bool net_ifname_valid(const char *name);

/* Creates (or attaches to) TUN `name`. Errors name the cause: not root (EPERM), no
 * /dev/net/tun (ENOENT), name too long or invalid (EINVAL), name taken by a non-TUN (EBUSY). */
int net_tun_open(struct net_tun *t, const char *name, bool multi_queue, struct rg_err *err);
/* The same with IFF_VNET_HDR and checksum + TCP segmentation offload: reads start with a
 * struct virtio_net_hdr (10 bytes) and may carry a TCP super-segment (see net/offload.h);
 * writes must start with one too. */
int net_tun_open_offload(struct net_tun *t, const char *name, bool multi_queue,
			 struct rg_err *err);
/* Another queue of a multi-queue TUN: returns a non-blocking fd or -errno. */
int net_tun_open_queue(const struct net_tun *t);
void net_tun_close(struct net_tun *t);

/* One packet per call; -errno (-EAGAIN when empty). */
ssize_t net_tun_read(int fd, void *buf, size_t cap);
ssize_t net_tun_write(int fd, const void *buf, size_t len);

#endif
