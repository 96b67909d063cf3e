/* The write side of a TUN, shared by the agent (GLib loop) and riftgate-wg (epoll loop): every
 * packet the WireGuard core decrypted goes through net_tun_writer_put(). On a TUN opened with
 * offload (net_tun_open_offload) in-order TCP segments of one flow are merged into one
 * super-segment (userspace GRO, net/offload.h) and written with a virtio header, so the stack
 * handles one skb instead of dozens; everything else is written at once, after the open train,
 * so packets reach the TUN in the order they were put. The owner calls net_tun_writer_flush()
 * before its loop sleeps. No allocation; loop-thread only. */
#ifndef RG_NET_TUNWRITE_H
#define RG_NET_TUNWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/offload.h"

struct net_tun;

struct net_tun_writer {
	int fd;			/* not owned */
	bool vnet_hdr;		/* the TUN expects a virtio header on every write */
	uint64_t errors;	/* failed writes (the packet is dropped, as a full queue would) */
	struct net_gro train;	/* buf points at train_buf */
	uint8_t train_buf[NET_GRO_MAX];
};

void net_tun_writer_init(struct net_tun_writer *w, const struct net_tun *t);
/* One packet the core authenticated (its checksum is not verified again, as the kernel module
 * does). pkt is copied or written before returning. Returns true when the packet started a
 * new train: the caller must flush before its loop sleeps. */
bool net_tun_writer_put(struct net_tun_writer *w, const uint8_t *pkt, size_t len);
/* Writes pkt on its own (never merged), after the open train: e.g. an ICMP answer. */
void net_tun_writer_put_alone(struct net_tun_writer *w, const uint8_t *pkt, size_t len);
/* Writes the open train, if any. */
void net_tun_writer_flush(struct net_tun_writer *w);

#endif
