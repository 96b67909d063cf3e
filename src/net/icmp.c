/* ICMP / ICMPv6 "packet too big" construction (icmp.h). Agent loop, per oversized packet. */
#include <string.h>

#include "net/csum.h"
#include "net/icmp.h"

enum {
	V4_HDR = 20, V6_HDR = 40, ICMP_HDR = 8,
	V4_QUOTE_TOTAL = 576,		/* RFC 1812 §4.3.2.3: answer at most 576 bytes */
	PROTO_ICMP = 1, PROTO_ICMPV6 = 58,
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Writes the checksum of buf[0..len) (its field zeroed), plus sum, at field. */
static void put_csum(uint8_t *field, uint64_t sum, const uint8_t *buf, size_t len)
{
	uint16_t c = net_csum_fold(net_csum_add(sum, buf, len));

	memcpy(field, &c, 2);
}

static size_t v4(uint8_t *out, const uint8_t *pkt, size_t len, unsigned mtu)
{
	size_t ihl = (size_t)(pkt[0] & 15) * 4, quote, total;
	uint8_t *icmp = out + V4_HDR;

	if (ihl < V4_HDR || len < ihl || !(pkt[6] & 0x40))
		return 0;	/* malformed, or DF clear */
	/* Never an error about an ICMP error (RFC 1122 §3.2.2): only echo request/reply pass. */
	if (pkt[9] == PROTO_ICMP && (len <= ihl || (pkt[ihl] != 0 && pkt[ihl] != 8)))
		return 0;
	quote = len < V4_QUOTE_TOTAL - V4_HDR - ICMP_HDR ? len : V4_QUOTE_TOTAL - V4_HDR - ICMP_HDR;
	total = V4_HDR + ICMP_HDR + quote;
	memset(out, 0, V4_HDR + ICMP_HDR);
	out[0] = 0x45;
	put16(out + 2, (uint16_t)total);
	out[8] = 64;			/* TTL */
	out[9] = PROTO_ICMP;
	memcpy(out + 12, pkt + 16, 4);	/* from the destination it could not reach */
	memcpy(out + 16, pkt + 12, 4);	/* to the sender */
	put_csum(out + 10, 0, out, V4_HDR);
	icmp[0] = 3;			/* destination unreachable */
	icmp[1] = 4;			/* fragmentation needed and DF set */
	put16(icmp + 6, (uint16_t)(mtu > 0xffff ? 0xffff : mtu));	/* next-hop MTU */
	memcpy(icmp + ICMP_HDR, pkt, quote);
	put_csum(icmp + 2, 0, icmp, ICMP_HDR + quote);
	return total;
}

static size_t v6(uint8_t *out, const uint8_t *pkt, size_t len, unsigned mtu)
{
	size_t quote = len < NET_ICMP_TOO_BIG_MAX - V6_HDR - ICMP_HDR
		       ? len : NET_ICMP_TOO_BIG_MAX - V6_HDR - ICMP_HDR;
	size_t plen = ICMP_HDR + quote;
	uint8_t *icmp = out + V6_HDR;
	/* pseudo-header tail: upper-layer length (plen < 65536), zeros, next header */
	const uint8_t pseudo[4] = { (uint8_t)(plen >> 8), (uint8_t)plen, 0, PROTO_ICMPV6 };

	if (len < V6_HDR)
		return 0;
	/* RFC 4443 §2.4 (e): no error about an error message (types below 128) */
	if (pkt[6] == PROTO_ICMPV6 && (len <= V6_HDR || pkt[V6_HDR] < 128))
		return 0;
	if (pkt[8] == 0xff)	/* multicast source: nobody to tell */
		return 0;
	memset(out, 0, V6_HDR + ICMP_HDR);
	out[0] = 0x60;
	put16(out + 4, (uint16_t)plen);
	out[6] = PROTO_ICMPV6;
	out[7] = 64;			/* hop limit */
	memcpy(out + 8, pkt + 24, 16);	/* source: the unreachable destination */
	memcpy(out + 24, pkt + 8, 16);	/* destination: the sender */
	icmp[0] = 2;			/* packet too big */
	icmp[4] = (uint8_t)(mtu >> 24);
	icmp[5] = (uint8_t)(mtu >> 16);
	icmp[6] = (uint8_t)(mtu >> 8);
	icmp[7] = (uint8_t)mtu;
	memcpy(icmp + ICMP_HDR, pkt, quote);
	/* pseudo-header: source and destination, then its tail */
	put_csum(icmp + 2, net_csum_add(net_csum_add(0, out + 8, 32), pseudo, 4), icmp, plen);
	return V6_HDR + plen;
}

size_t net_icmp_too_big(uint8_t *out, const uint8_t *pkt, size_t len, unsigned mtu)
{
	if (len >= V4_HDR && (pkt[0] >> 4) == 4)
		return v4(out, pkt, len, mtu);
	if (len >= V6_HDR && (pkt[0] >> 4) == 6)
		return v6(out, pkt, len, mtu);
	return 0;
}
