/* "Packet too big" answers written back into the TUN, the way a router on the path would
 * answer: ICMP "fragmentation needed" (type 3 code 4, RFC 1191) for IPv4 packets with DF set,
 * ICMPv6 "packet too big" (type 2, RFC 8201) for IPv6. The kernel then lowers its path MTU for
 * that destination (per-destination PMTU cache), so one TUN with a large MTU can serve peers
 * whose paths carry less. Pure packet code: no I/O. */
#ifndef RG_NET_ICMP_H
#define RG_NET_ICMP_H

#include <stddef.h>
#include <stdint.h>

enum net_icmp_limits {
	NET_ICMP_TOO_BIG_MAX = 1280,	/* largest answer: IPv6's minimum MTU (IPv4's: 576) */
};

/* Builds the answer to pkt[0..len) (an IP packet that does not fit a link of mtu bytes) into
 * out (>= NET_ICMP_TOO_BIG_MAX bytes). Its source is pkt's destination (the kernel refuses
 * packets from its own address and its reverse-path filter accepts this one), its destination
 * pkt's source; it quotes as much of pkt as RFC 1812 / RFC 4443 allow. Returns the length, or 0
 * when no answer is due: an IPv4 packet without DF (fragmenting it is not our job: the caller
 * drops it), an ICMP error (never answered with another), malformed input. */
size_t net_icmp_too_big(uint8_t *out, const uint8_t *pkt, size_t len, unsigned mtu);

#endif
