/* See offload.h. Checksums: net/csum.h. */
#include <arpa/inet.h>
#include <string.h>

#include "net/csum.h"
#include "net/offload.h"

bool net_offload_csum(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len)
{
	size_t start = h->csum_start, at = (size_t)h->csum_start + h->csum_offset;
	uint16_t c;

	if (start >= len || at + 2 > len)
		return false;
	/* The field holds the pseudo-header sum; summing over it completes the checksum. */
	c = net_csum_fold(net_csum_add(0, pkt + start, len - start));
	memcpy(pkt + at, &c, 2);
	return true;
}

unsigned net_tso_parse(struct net_tso *t, const struct virtio_net_hdr *h, const uint8_t *pkt,
		       size_t len)
{
	size_t ip_len, tcp_len;
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	memset(t, 0, sizeof(*t));
	if (len < 20 || h->gso_size == 0)
		return 0;
	if (gso == VIRTIO_NET_HDR_GSO_TCPV4 && pkt[0] >> 4 == 4) {
		ip_len = (size_t)(pkt[0] & 15) * 4;
		if (ip_len < 20 || pkt[9] != IPPROTO_TCP)
			return 0;
	} else if (gso == VIRTIO_NET_HDR_GSO_TCPV6 && pkt[0] >> 4 == 6) {
		ip_len = 40;
		if (pkt[6] != IPPROTO_TCP)
			return 0;	/* extension headers: not produced by our own stack */
		t->v6 = true;
	} else {
		return 0;
	}
	if (len < ip_len + 20)
		return 0;
	tcp_len = (size_t)(pkt[ip_len + 12] >> 4) * 4;
	if (tcp_len < 20 || len < ip_len + tcp_len)
		return 0;
	t->pkt = pkt;
	t->len = len;
	t->ip_len = ip_len;
	t->hdr_len = ip_len + tcp_len;
	t->payload = len - t->hdr_len;
	t->mss = h->gso_size;
	if (t->payload == 0)
		return 0;
	t->segs = (unsigned)((t->payload + t->mss - 1) / t->mss);
	return t->segs;
}

size_t net_tso_segment(const struct net_tso *t, unsigned k, uint8_t *out)
{
	size_t off = (size_t)k * t->mss;
	size_t seg = t->payload - off < t->mss ? t->payload - off : t->mss;
	size_t tcp_len = t->hdr_len - t->ip_len + seg;
	bool last = off + seg == t->payload;
	uint8_t *tcp = out + t->ip_len;
	uint8_t pseudo[4] = { 0, IPPROTO_TCP, (uint8_t)(tcp_len >> 8), (uint8_t)tcp_len };
	uint32_t seq;
	uint64_t sum;
	uint16_t v, c;

	memcpy(out, t->pkt, t->hdr_len);
	memcpy(out + t->hdr_len, t->pkt + t->hdr_len + off, seg);
	if (t->v6) {
		v = htons((uint16_t)tcp_len);
		memcpy(out + 4, &v, 2);
		sum = net_csum_add(0, out + 8, 32);		/* source and destination */
	} else {
		memcpy(&v, out + 4, 2);
		v = htons((uint16_t)(ntohs(v) + k));	/* IP id: one per segment */
		memcpy(out + 4, &v, 2);
		v = htons((uint16_t)(t->hdr_len + seg));
		memcpy(out + 2, &v, 2);
		out[10] = out[11] = 0;
		c = net_csum_fold(net_csum_add(0, out, t->ip_len));
		memcpy(out + 10, &c, 2);
		sum = net_csum_add(0, out + 12, 8);
	}
	memcpy(&seq, tcp + 4, 4);
	seq = htonl(ntohl(seq) + (uint32_t)off);
	memcpy(tcp + 4, &seq, 4);
	if (!last)
		tcp[13] &= (uint8_t)~0x09;		/* FIN, PSH: last segment only */
	if (k)
		tcp[13] &= (uint8_t)~0x80;		/* CWR: first segment only */
	tcp[16] = tcp[17] = 0;
	sum = net_csum_add(sum, pseudo, 4);
	c = net_csum_fold(net_csum_add(sum, tcp, tcp_len));
	memcpy(tcp + 16, &c, 2);
	return t->hdr_len + seg;
}

/* The header checks shared by start and append: plain IPv4 (no options, not a fragment) or IPv6
 * without extension headers, carrying TCP with ACK set and nothing but ACK/PSH. */
static bool gro_eligible(const uint8_t *pkt, size_t len, size_t *ip_len, size_t *tcp_len,
			 bool *v6)
{
	if (len < 40)
		return false;
	if (pkt[0] == 0x45) {
		uint16_t frag = (uint16_t)(pkt[6] << 8 | pkt[7]);

		if (pkt[9] != IPPROTO_TCP || (frag & 0x3fff) || (size_t)(pkt[2] << 8 | pkt[3]) != len)
			return false;
		*ip_len = 20;
		*v6 = false;
	} else if (pkt[0] >> 4 == 6) {
		if (len < 60 || pkt[6] != IPPROTO_TCP || (size_t)(pkt[4] << 8 | pkt[5]) + 40 != len)
			return false;
		*ip_len = 40;
		*v6 = true;
	} else {
		return false;
	}
	*tcp_len = (size_t)(pkt[*ip_len + 12] >> 4) * 4;
	if (*tcp_len < 20 || *ip_len + *tcp_len >= len)	/* no payload: pure ACK */
		return false;
	uint8_t flags = pkt[*ip_len + 13];
	return (flags & ~0x08) == 0x10;			/* ACK, optionally PSH */
}

enum net_vnet_rx net_vnet_rx(uint8_t *raw, size_t n, size_t max_seg, struct net_tso *t)
{
	uint8_t *pkt = raw + NET_VNET_HDR_LEN;
	struct virtio_net_hdr h;
	size_t len;

	if (n <= NET_VNET_HDR_LEN)
		return NET_VNET_RX_DROP;
	memcpy(&h, raw, sizeof(h));
	len = n - NET_VNET_HDR_LEN;
	if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		if (net_tso_parse(t, &h, pkt, len) == 0 || t->hdr_len + t->mss > max_seg)
			return NET_VNET_RX_DROP;
		return NET_VNET_RX_TSO;
	}
	if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !net_offload_csum(&h, pkt, len))
		return NET_VNET_RX_DROP;
	return NET_VNET_RX_PACKET;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool net_gro_start(struct net_gro *g, const uint8_t *pkt, size_t len)
{
	size_t ip_len, tcp_len;
	bool v6;

	g->open = false;
	if (!gro_eligible(pkt, len, &ip_len, &tcp_len, &v6) || len > NET_GRO_MAX)
		return false;
	memcpy(g->buf, pkt, len);
	g->len = len;
	g->ip_len = ip_len;
	g->tcp_len = tcp_len;
	g->v6 = v6;
	g->mss = (uint16_t)(len - ip_len - tcp_len);
	g->next_seq = get32(pkt + ip_len + 4) + g->mss;
	g->segs = 1;
	g->open = true;
	g->closed = (pkt[ip_len + 13] & 0x08) != 0;	/* PSH ends a train */
	return true;
}

bool net_gro_append(struct net_gro *g, const uint8_t *pkt, size_t len)
{
	size_t ip_len, tcp_len, payload;
	const uint8_t *a = g->buf, *b = pkt;
	bool v6;

	if (!g->open || g->closed || !gro_eligible(pkt, len, &ip_len, &tcp_len, &v6) ||
	    v6 != g->v6 || tcp_len != g->tcp_len)
		return false;
	payload = len - ip_len - tcp_len;
	if (payload > g->mss || g->len + payload > NET_GRO_MAX || g->segs >= 64)
		return false;
	if (v6) {
		/* version/class/flow, next header + hop limit, addresses */
		if (memcmp(a, b, 4) || memcmp(a + 6, b + 6, 34))
			return false;
	} else {
		/* version/IHL/TOS, flags, TTL/protocol, addresses */
		if (memcmp(a, b, 2) || memcmp(a + 6, b + 6, 4) || memcmp(a + 12, b + 12, 8))
			return false;
	}
	a += ip_len;
	b += ip_len;
	/* ports, ack, data offset, window, urgent, options: identical; seq: the next one */
	if (memcmp(a, b, 4) || get32(b + 4) != g->next_seq || memcmp(a + 8, b + 8, 5) ||
	    memcmp(a + 14, b + 14, 2) || memcmp(a + 18, b + 18, tcp_len - 18))
		return false;
	memcpy(g->buf + g->len, pkt + ip_len + tcp_len, payload);
	g->len += payload;
	g->next_seq += (uint32_t)payload;
	g->segs++;
	if (b[13] & 0x08) {
		g->buf[g->ip_len + 13] |= 0x08;
		g->closed = true;
	}
	if (payload < g->mss)
		g->closed = true;			/* a short segment ends the train */
	return true;
}

size_t net_gro_finish(struct net_gro *g, struct virtio_net_hdr *h)
{
	uint8_t *ip = g->buf, *tcp = g->buf + g->ip_len;
	size_t tcp_total = g->len - g->ip_len;
	uint8_t pseudo[4] = { 0, IPPROTO_TCP, (uint8_t)(tcp_total >> 8), (uint8_t)tcp_total };
	uint64_t sum;
	uint16_t v;

	memset(h, 0, sizeof(*h));
	g->open = false;
	if (g->segs == 1) {
		h->flags = VIRTIO_NET_HDR_F_DATA_VALID;	/* untouched, authenticated */
		return g->len;
	}
	if (g->v6) {
		v = htons((uint16_t)tcp_total);
		memcpy(ip + 4, &v, 2);
		sum = net_csum_add(0, ip + 8, 32);
	} else {
		v = htons((uint16_t)g->len);
		memcpy(ip + 2, &v, 2);
		ip[10] = ip[11] = 0;
		v = net_csum_fold(net_csum_add(0, ip, 20));
		memcpy(ip + 10, &v, 2);
		sum = net_csum_add(0, ip + 12, 8);
	}
	/* CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum, not complemented. */
	sum = net_csum_add(sum, pseudo, 4);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	v = (uint16_t)sum;
	memcpy(tcp + 16, &v, 2);
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = g->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = g->mss;
	h->hdr_len = (uint16_t)(g->ip_len + g->tcp_len);
	h->csum_start = (uint16_t)g->ip_len;
	h->csum_offset = 16;
	return g->len;
}
