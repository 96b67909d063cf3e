/* See offload.h. Checksums are RFC 1071 ones'-complement sums computed on native-order 32-bit
 * loads and folded at the end (the sum is byte-order independent up to one final swap, which
 * storing the folded value with memcpy undoes). */
#include <arpa/inet.h>
#include <string.h>

#include "net/offload.h"

static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	while (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { *p, 0 };
		uint16_t w;

		memcpy(&w, last, 2);
		sum += w;
	}
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	return sum ? (uint16_t)sum : 0xffff;	/* like the kernel's CSUM_MANGLED_0 */
}

bool net_offload_csum(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len)
{
	size_t start = h->csum_start, at = (size_t)h->csum_start + h->csum_offset;
	uint16_t c;

	if (start >= len || at + 2 > len)
		return false;
	/* The field holds the pseudo-header sum; summing over it completes the checksum. */
	c = csum_fold(csum_add(0, pkt + start, len - start));
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
	return (unsigned)((t->payload + t->mss - 1) / t->mss);
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
		sum = csum_add(0, out + 8, 32);		/* source and destination */
	} else {
		memcpy(&v, out + 4, 2);
		v = htons((uint16_t)(ntohs(v) + k));	/* IP id: one per segment */
		memcpy(out + 4, &v, 2);
		v = htons((uint16_t)(t->hdr_len + seg));
		memcpy(out + 2, &v, 2);
		out[10] = out[11] = 0;
		c = csum_fold(csum_add(0, out, t->ip_len));
		memcpy(out + 10, &c, 2);
		sum = csum_add(0, out + 12, 8);
	}
	memcpy(&seq, tcp + 4, 4);
	seq = htonl(ntohl(seq) + (uint32_t)off);
	memcpy(tcp + 4, &seq, 4);
	if (!last)
		tcp[13] &= (uint8_t)~0x09;		/* FIN, PSH: last segment only */
	if (k)
		tcp[13] &= (uint8_t)~0x80;		/* CWR: first segment only */
	tcp[16] = tcp[17] = 0;
	sum = csum_add(sum, pseudo, 4);
	c = csum_fold(csum_add(sum, tcp, tcp_len));
	memcpy(tcp + 16, &c, 2);
	return t->hdr_len + seg;
}
