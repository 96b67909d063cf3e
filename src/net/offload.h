/* TUN offload helpers for a TUN opened with net_tun_open_offload(): completing a partial
 * checksum, and splitting a TCP super-segment (virtio gso_type TCPV4/TCPV6) into MSS-sized IP
 * packets the way the kernel's tcp_gso_segment would (IPv4 id + k, sequence numbers, FIN/PSH on
 * the last segment only, CWR on the first only, fresh IP and TCP checksums). Pure functions over
 * caller buffers: no allocation, usable from any loop. */
#ifndef RG_NET_OFFLOAD_H
#define RG_NET_OFFLOAD_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { NET_VNET_HDR_LEN = sizeof(struct virtio_net_hdr) };

/* Completes a CHECKSUM_PARTIAL packet in place (flags NEEDS_CSUM). false: offsets out of range. */
bool net_offload_csum(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len);

/* Parsed super-segment: headers [0, hdr_len) are copied to every segment. */
struct net_tso {
	const uint8_t *pkt;
	size_t len, hdr_len, ip_len, payload;
	uint16_t mss;
	unsigned segs;		/* the number of segments */
	bool v6;
};

/* Checks a TSO packet (gso_type TCPV4/TCPV6, TCP right after the IP header). Returns the number
 * of segments, or 0 when the packet is malformed (drop it). */
unsigned net_tso_parse(struct net_tso *t, const struct virtio_net_hdr *h, const uint8_t *pkt,
		       size_t len);
/* Writes segment k (0-based) into out (capacity >= hdr_len + mss); returns its length. */
size_t net_tso_segment(const struct net_tso *t, unsigned k, uint8_t *out);

/* What one read from an offload TUN holds (raw: the virtio header, then the packet). */
enum net_vnet_rx {
	NET_VNET_RX_DROP,	/* no packet, malformed, or segments over max_seg bytes */
	NET_VNET_RX_PACKET,	/* one packet at raw + NET_VNET_HDR_LEN, its checksum complete */
	NET_VNET_RX_TSO,	/* a TCP super-segment, parsed into *t */
};

/* Classifies a read of n bytes at raw; completes a partial checksum in place. */
enum net_vnet_rx net_vnet_rx(uint8_t *raw, size_t n, size_t max_seg, struct net_tso *t);

/* Receive-side coalescing towards the TUN (GRO in userspace): consecutive in-order TCP segments
 * of one flow with identical headers (except length, IPv4 id/checksum, sequence, PSH on the
 * last) are merged into one super-segment written with a virtio header (gso TCPV4/TCPV6,
 * partial checksum), so the stack handles one skb instead of dozens. */
struct net_gro {
	uint8_t *buf;		/* caller's, >= NET_GRO_MAX bytes */
	size_t len, ip_len, tcp_len;
	uint32_t next_seq;
	uint16_t mss;
	unsigned segs;
	bool v6, open, closed;
};

enum { NET_GRO_MAX = 65535 };

/* Starts a train with pkt (copied). false: pkt cannot be coalesced (write it alone). */
bool net_gro_start(struct net_gro *g, const uint8_t *pkt, size_t len);
/* Appends pkt to the open train; false when it does not continue it. */
bool net_gro_append(struct net_gro *g, const uint8_t *pkt, size_t len);
/* Fixes the merged headers, fills *h, closes the train; returns the packet length at g->buf. */
size_t net_gro_finish(struct net_gro *g, struct virtio_net_hdr *h);

#endif
