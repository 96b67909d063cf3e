/* ICMP "fragmentation needed" / ICMPv6 "packet too big" construction (src/net/icmp.c). The
 * checksums are verified with a separate, straightforward implementation. */
#include <glib.h>
#include <stdbool.h>
#include <string.h>

#include "net/icmp.h"

/* RFC 1071, written independently of net/csum.h: a correct checksum sums to 0xffff. */
static uint16_t ref_sum(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	uint64_t s = 0;

	for (size_t i = 0; i < an; i++)
		s += i % 2 ? a[i] : (uint64_t)a[i] << 8;
	for (size_t i = 0; i < bn; i++)
		s += i % 2 ? b[i] : (uint64_t)b[i] << 8;
	while (s > 0xffff)
		s = (s >> 16) + (s & 0xffff);
	return (uint16_t)s;
}

static size_t make_v4(uint8_t *p, size_t len, uint8_t proto, bool df)
{
	memset(p, 0xab, len);
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[6] = df ? 0x40 : 0;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, (uint8_t[]){ 10, 99, 0, 1 }, 4);
	memcpy(p + 16, (uint8_t[]){ 10, 99, 0, 3 }, 4);
	return len;
}

static void test_v4(void)
{
	uint8_t pkt[1400], out[NET_ICMP_TOO_BIG_MAX];
	size_t n;

	n = net_icmp_too_big(out, pkt, make_v4(pkt, sizeof(pkt), 6, true), 1168);
	g_assert_cmpuint(n, ==, 576);	/* RFC 1812: at most 576 bytes */
	g_assert_cmpuint(out[0], ==, 0x45);
	g_assert_cmpuint(out[2] << 8 | out[3], ==, n);
	g_assert_cmpuint(out[9], ==, 1);
	g_assert_cmpmem(out + 12, 4, pkt + 16, 4);	/* from the unreachable destination */
	g_assert_cmpmem(out + 16, 4, pkt + 12, 4);	/* to the sender */
	g_assert_cmpuint(ref_sum(out, 20, NULL, 0), ==, 0xffff);
	g_assert_cmpuint(out[20], ==, 3);
	g_assert_cmpuint(out[21], ==, 4);
	g_assert_cmpuint(out[26] << 8 | out[27], ==, 1168);
	g_assert_cmpuint(ref_sum(out + 20, n - 20, NULL, 0), ==, 0xffff);
	g_assert_cmpmem(out + 28, 28, pkt, 28);	/* quotes the header and 8 bytes, at least */

	/* a short packet is quoted whole (odd length: checksum padding) */
	n = net_icmp_too_big(out, pkt, make_v4(pkt, 61, 17, true), 576);
	g_assert_cmpuint(n, ==, 28 + 61);
	g_assert_cmpuint(ref_sum(out + 20, n - 20, NULL, 0), ==, 0xffff);

	/* DF clear: no answer (the caller drops and counts); ICMP errors are never answered,
	 * echo requests are */
	g_assert_cmpuint(net_icmp_too_big(out, pkt, make_v4(pkt, 1400, 6, false), 1168), ==, 0);
	make_v4(pkt, 1400, 1, true);
	pkt[20] = 3;
	g_assert_cmpuint(net_icmp_too_big(out, pkt, 1400, 1168), ==, 0);
	pkt[20] = 8;
	g_assert_cmpuint(net_icmp_too_big(out, pkt, 1400, 1168), ==, 576);
	/* malformed */
	pkt[0] = 0x44;
	g_assert_cmpuint(net_icmp_too_big(out, pkt, 1400, 1168), ==, 0);
	g_assert_cmpuint(net_icmp_too_big(out, pkt, 10, 1168), ==, 0);
}

static void test_v6(void)
{
	static const uint8_t src[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t dst[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 };
	uint8_t pkt[1500], out[NET_ICMP_TOO_BIG_MAX], pseudo[40] = { 0 };
	size_t n, plen;

	memset(pkt, 0x5a, sizeof(pkt));
	memset(pkt, 0, 40);
	pkt[0] = 0x60;
	pkt[4] = (1500 - 40) >> 8;
	pkt[5] = (1500 - 40) & 0xff;
	pkt[6] = 6;
	pkt[7] = 64;
	memcpy(pkt + 8, src, 16);
	memcpy(pkt + 24, dst, 16);
	n = net_icmp_too_big(out, pkt, sizeof(pkt), 1360);
	g_assert_cmpuint(n, ==, 1280);	/* RFC 4443: no larger than the minimum MTU */
	plen = (size_t)(out[4] << 8 | out[5]);
	g_assert_cmpuint(plen, ==, n - 40);
	g_assert_cmpuint(out[6], ==, 58);
	g_assert_cmpmem(out + 8, 16, dst, 16);
	g_assert_cmpmem(out + 24, 16, src, 16);
	g_assert_cmpuint(out[40], ==, 2);
	g_assert_cmpuint(out[41], ==, 0);
	g_assert_cmpuint((unsigned)out[44] << 24 | out[45] << 16 | out[46] << 8 | out[47], ==,
			 1360);
	memcpy(pseudo, out + 8, 32);
	pseudo[34] = (uint8_t)(plen >> 8);
	pseudo[35] = (uint8_t)plen;
	pseudo[39] = 58;
	g_assert_cmpuint(ref_sum(pseudo, sizeof(pseudo), out + 40, plen), ==, 0xffff);
	g_assert_cmpmem(out + 48, 48, pkt, 48);

	/* no answer to an ICMPv6 error, one to an echo request */
	pkt[6] = 58;
	pkt[40] = 1;
	g_assert_cmpuint(net_icmp_too_big(out, pkt, sizeof(pkt), 1360), ==, 0);
	pkt[40] = 128;
	g_assert_cmpuint(net_icmp_too_big(out, pkt, sizeof(pkt), 1360), ==, 1280);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/net/icmp/frag-needed-v4", test_v4);
	g_test_add_func("/net/icmp/packet-too-big-v6", test_v6);
	return g_test_run();
}
