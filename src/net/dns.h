/* DNS wire format for the agent's name responder (docs/routes.md#names): one query in (RFC 1035
 * §4.1, hostile bytes from the tunnel), one answer out. Only what a stub resolver sends: a
 * standard QUERY with one question; names are read with compression pointers followed only
 * backwards and at most NET_DNS_JUMPS times, so loops and forward pointers are refused. Pure
 * functions over caller buffers: no allocation. */
#ifndef RG_NET_DNS_H
#define RG_NET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum net_dns_limits {
	NET_DNS_UDP_MAX = 512,		/* answers fit a plain UDP message (no EDNS) */
	NET_DNS_NAME_MAX = 253,		/* dotted text, no trailing dot (RFC 1035: 255 on the wire) */
	NET_DNS_LABEL_MAX = 63,
	NET_DNS_JUMPS = 16,		/* compression pointers followed in one name */
	NET_DNS_HDR_LEN = 12,
};

enum net_dns_type { NET_DNS_A = 1, NET_DNS_AAAA = 28, NET_DNS_ANY = 255 };
enum net_dns_rcode {
	NET_DNS_NOERROR = 0, NET_DNS_FORMERR = 1, NET_DNS_SERVFAIL = 2, NET_DNS_NXDOMAIN = 3,
	NET_DNS_NOTIMP = 4, NET_DNS_REFUSED = 5,
};

struct net_dns_query {
	uint16_t id;
	bool rd;			/* recursion desired: echoed */
	char name[NET_DNS_NAME_MAX + 1];	/* lower case, dotted, "" = the root */
	uint16_t qtype, qclass;
	size_t end;			/* offset just past the question */
};

/* Why a packet is not a query we answer. */
enum net_dns_parse {
	NET_DNS_OK = 0,
	NET_DNS_DROP,			/* not a query at all (too short, a response): no answer */
	NET_DNS_BAD,			/* a query we cannot read: answer FORMERR (header only) */
	NET_DNS_UNSUPPORTED,		/* another opcode, not one question: answer NOTIMP */
};

enum net_dns_parse net_dns_parse_query(struct net_dns_query *q, const uint8_t *pkt, size_t len);
/* An upstream server's response (forwarded names, hostile bytes too): QR set, one question,
 * read into q (id, name, type, class) so it can be matched with the query it answers.
 * NET_DNS_DROP for anything else. */
enum net_dns_parse net_dns_parse_response(struct net_dns_query *q, const uint8_t *pkt,
					  size_t len);
/* Reads the name at *off (advanced past it) into out (lower case, dotted). false: truncated, a
 * name over 255 bytes, a pointer that does not point backwards, too many jumps, a reserved
 * label type, or a byte in a label that is not printable ASCII or is a dot. */
bool net_dns_read_name(const uint8_t *pkt, size_t len, size_t *off,
		       char out[NET_DNS_NAME_MAX + 1]);
/* Writes the answer to q into out (cap >= NET_DNS_UDP_MAX): header, the question again, and
 * one record of q->qtype with addr (4 bytes for A, 16 for AAAA) when addr is not NULL.
 * Returns the length. */
size_t net_dns_answer(uint8_t *out, size_t cap, const struct net_dns_query *q,
		      enum net_dns_rcode rcode, const uint8_t *addr, size_t addr_len,
		      uint32_t ttl);
/* A header-only answer (FORMERR, NOTIMP) to the id and RD of pkt (len >= 12). */
size_t net_dns_error(uint8_t *out, size_t cap, const uint8_t *pkt, enum net_dns_rcode rcode);

#endif
