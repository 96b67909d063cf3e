/* See dns.h. */
#include <string.h>

#include "net/dns.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

bool net_dns_read_name(const uint8_t *pkt, size_t len, size_t *off,
		       char out[NET_DNS_NAME_MAX + 1])
{
	size_t at = *off, n = 0, wire = 0, end = 0;
	unsigned jumps = 0;

	for (;;) {
		uint8_t l;

		if (at >= len)
			return false;
		l = pkt[at];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (at + 1 >= len || ++jumps > NET_DNS_JUMPS)
				return false;
			to = (size_t)(l & 0x3f) << 8 | pkt[at + 1];
			if (!end)
				end = at + 2;
			if (to >= at)		/* only backwards: no loops, no forward refs */
				return false;
			at = to;
			continue;
		}
		if (l & 0xc0)			/* 0x40, 0x80: reserved label types */
			return false;
		at++;
		wire += 1 + (size_t)l;
		if (wire > 255)
			return false;
		if (l == 0)
			break;
		if (at + l > len)
			return false;
		if (n)
			out[n++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t c = pkt[at + i];

			/* Our names are printable: a dot or a control byte inside a label would make
			 * the dotted text mean another name. */
			if (c <= 0x20 || c >= 0x7f || c == '.')
				return false;
			out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		at += l;
	}
	out[n] = '\0';
	*off = end ? end : at;
	return true;
}

enum net_dns_parse net_dns_parse_query(struct net_dns_query *q, const uint8_t *pkt, size_t len)
{
	uint16_t flags;
	size_t off = NET_DNS_HDR_LEN;

	memset(q, 0, sizeof(*q));
	if (len < NET_DNS_HDR_LEN)
		return NET_DNS_DROP;
	flags = get16(pkt + 2);
	if (flags & 0x8000)			/* QR: a response, never answer one */
		return NET_DNS_DROP;
	q->id = get16(pkt);
	q->rd = (flags & 0x0100) != 0;
	if ((flags >> 11 & 0xf) != 0 || get16(pkt + 4) != 1)	/* OPCODE QUERY, one question */
		return NET_DNS_UNSUPPORTED;
	if (get16(pkt + 6) != 0 || get16(pkt + 8) != 0)	/* answers or authority in a query */
		return NET_DNS_BAD;
	if (!net_dns_read_name(pkt, len, &off, q->name) || off + 4 > len)
		return NET_DNS_BAD;
	q->qtype = get16(pkt + off);
	q->qclass = get16(pkt + off + 2);
	q->end = off + 4;
	return NET_DNS_OK;
}

enum net_dns_parse net_dns_parse_response(struct net_dns_query *q, const uint8_t *pkt,
					  size_t len)
{
	size_t off = NET_DNS_HDR_LEN;

	memset(q, 0, sizeof(*q));
	if (len < NET_DNS_HDR_LEN || !(get16(pkt + 2) & 0x8000) || get16(pkt + 4) != 1 ||
	    !net_dns_read_name(pkt, len, &off, q->name) || off + 4 > len)
		return NET_DNS_DROP;
	q->id = get16(pkt);
	q->qtype = get16(pkt + off);
	q->qclass = get16(pkt + off + 2);
	q->end = off + 4;
	return NET_DNS_OK;
}

/* The name as labels, uncompressed; 0 when it does not fit. */
static size_t put_name(uint8_t *out, size_t cap, const char *name)
{
	size_t n = 0;

	while (*name) {
		size_t l = strcspn(name, ".");

		if (l == 0 || l > NET_DNS_LABEL_MAX || n + 1 + l >= cap)
			return 0;
		out[n++] = (uint8_t)l;
		memcpy(out + n, name, l);
		n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	if (n + 1 > cap)
		return 0;
	out[n++] = 0;
	return n;
}

size_t net_dns_answer(uint8_t *out, size_t cap, const struct net_dns_query *q,
		      enum net_dns_rcode rcode, const uint8_t *addr, size_t addr_len,
		      uint32_t ttl)
{
	size_t n = NET_DNS_HDR_LEN, name;

	if (cap < NET_DNS_HDR_LEN)
		return 0;
	memset(out, 0, NET_DNS_HDR_LEN);
	put16(out, q->id);
	/* QR, AA (we are the authority for our names), RD echoed, RCODE */
	put16(out + 2, (uint16_t)(0x8000 | 0x0400 | (q->rd ? 0x0100 : 0) | (rcode & 0xf)));
	name = put_name(out + n, cap - n, q->name);
	if (!name || n + name + 4 > cap)
		return net_dns_error(out, cap, out, NET_DNS_SERVFAIL);
	put16(out + 4, 1);
	n += name;
	put16(out + n, q->qtype);
	put16(out + n + 2, q->qclass);
	n += 4;
	if (addr && rcode == NET_DNS_NOERROR) {
		if (n + 12 + addr_len > cap)
			return n;
		put16(out + n, 0xc000 | NET_DNS_HDR_LEN);	/* the question's name */
		put16(out + n + 2, addr_len == 16 ? NET_DNS_AAAA : NET_DNS_A);
		put16(out + n + 4, 1);				/* IN */
		put16(out + n + 6, (uint16_t)(ttl >> 16));
		put16(out + n + 8, (uint16_t)ttl);
		put16(out + n + 10, (uint16_t)addr_len);
		memcpy(out + n + 12, addr, addr_len);
		n += 12 + addr_len;
		put16(out + 6, 1);
	}
	return n;
}

size_t net_dns_error(uint8_t *out, size_t cap, const uint8_t *pkt, enum net_dns_rcode rcode)
{
	uint16_t id = get16(pkt), rd = get16(pkt + 2) & 0x0100;

	if (cap < NET_DNS_HDR_LEN)
		return 0;
	memset(out, 0, NET_DNS_HDR_LEN);
	put16(out, id);
	put16(out + 2, (uint16_t)(0x8000 | rd | (rcode & 0xf)));
	return NET_DNS_HDR_LEN;
}
