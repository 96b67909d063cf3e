/* libFuzzer target: the DNS parsers of the agent's name responder (src/net/dns.c), fed
 * whatever arrives on the tunnel address's port 53 (as a query) or from a [network] dns server
 * (as the response to a forwarded query). Checked beyond memory safety: an accepted
 * query's answer stays within the buffer and, read back, carries the same name, type and id. */
#include <stdlib.h>
#include <string.h>

#include "net/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t addr[16] = { 10, 0, 0, 1 };
	uint8_t out[NET_DNS_UDP_MAX];
	struct net_dns_query q, back;
	size_t n;

	/* the same bytes as an upstream server's response to a forwarded query */
	if (net_dns_parse_response(&back, data, size) == NET_DNS_OK &&
	    (strlen(back.name) > NET_DNS_NAME_MAX || back.end > size))
		abort();
	switch (net_dns_parse_query(&q, data, size)) {
	case NET_DNS_OK:
		break;
	case NET_DNS_BAD:
	case NET_DNS_UNSUPPORTED:
		if (net_dns_error(out, sizeof(out), data, NET_DNS_FORMERR) != NET_DNS_HDR_LEN)
			abort();
		return 0;
	default:
		return 0;
	}
	if (strlen(q.name) > NET_DNS_NAME_MAX || q.end > size)
		abort();
	n = net_dns_answer(out, sizeof(out), &q, NET_DNS_NOERROR, addr,
			   q.qtype == NET_DNS_AAAA ? 16 : 4, 60);
	if (n < NET_DNS_HDR_LEN || n > sizeof(out))
		abort();
	if ((out[3] & 0xf) == NET_DNS_NOERROR) {
		out[2] &= 0x7f;		/* read the answer back as a query: QR off, no answers */
		out[6] = out[7] = 0;
		if (net_dns_parse_query(&back, out, n) != NET_DNS_OK || strcmp(back.name, q.name) ||
		    back.qtype != q.qtype || back.id != q.id)
			abort();
	}
	return 0;
}
