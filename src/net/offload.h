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
	bool v6;
};

/* Checks a TSO packet (gso_type TCPV4/TCPV6, TCP right after the IP header). Returns the number
 * of segments, or 0 when the packet is malformed (drop it). */
unsigned net_tso_parse(struct net_tso *t, const struct virtio_net_hdr *h, const uint8_t *pkt,
		       size_t len);
/* Writes segment k (0-based) into out (capacity >= hdr_len + mss); returns its length. */
size_t net_tso_segment(const struct net_tso *t, unsigned k, uint8_t *out);

#endif
