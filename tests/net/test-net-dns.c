/* net/dns: queries read (names with and without compression, case folded), refused (truncated,
 * pointer loops and forward pointers, over-long names, responses, other opcodes, several
 * questions) and answered (A, AAAA, NXDOMAIN, header-only errors). */
#include <glib.h>
#include <string.h>

#include "net/dns.h"

/* Header (id 0x1234, RD) + question bytes. */
static size_t query(uint8_t *out, const void *question, size_t qlen)
{
	static const uint8_t hdr[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };

	memcpy(out, hdr, sizeof(hdr));
	memcpy(out + sizeof(hdr), question, qlen);
	return sizeof(hdr) + qlen;
}

#define Q(s) s, sizeof(s) - 1

static const struct {
	const char *q;
	size_t len;
	enum net_dns_parse want;
	const char *name;
} rows[] = {
	/* 1 */ { Q("\x05peer2\x03lab\x04rift\x00\x00\x01\x00\x01"), NET_DNS_OK, "peer2.lab.rift" },
	/* 2 */ { Q("\x05PeEr2\x03LAB\x04rift\x00\x00\x1c\x00\x01"), NET_DNS_OK, "peer2.lab.rift" },
	/* 3 */ { Q("\x00\x00\x02\x00\x01"), NET_DNS_OK, "" },		/* the root */
	/* 4 */ { Q("\x05peer2\x03lab\x04rift\x00\x00\x01\x00"), NET_DNS_BAD, NULL },	/* short */
	/* 5 */ { Q("\x05peer2\x03la"), NET_DNS_BAD, NULL },			/* label cut */
	/* 6 */ { Q("\xc0\x0c\x00\x01\x00\x01"), NET_DNS_BAD, NULL },		/* points at itself */
	/* 7 */ { Q("\xc0\x20\x00\x01\x00\x01"), NET_DNS_BAD, NULL },		/* points forward */
	/* 8 */ { Q("\x03""abc\xc0\x0c\x00\x01\x00\x01"), NET_DNS_BAD, NULL },	/* loop back to it */
	/* 9 */ { Q("\x40""abc\x00\x00\x01\x00\x01"), NET_DNS_BAD, NULL },	/* reserved type */
	/* 10 */ { Q("\x03""a.c\x00\x00\x01\x00\x01"), NET_DNS_BAD, NULL },	/* dot in a label */
	/* 11 */ { Q("\x03""a\x00""c\x00\x00\x01\x00\x01"), NET_DNS_BAD, NULL },	/* NUL in a label */
	/* 12 */ { Q(""), NET_DNS_BAD, NULL },
};

static void test_parse(void)
{
	uint8_t pkt[600];
	struct net_dns_query q;

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		size_t n = query(pkt, rows[i].q, rows[i].len);

		g_test_message("row %zu", i + 1);
		g_assert_cmpint(net_dns_parse_query(&q, pkt, n), ==, rows[i].want);
		if (rows[i].name) {
			g_assert_cmpstr(q.name, ==, rows[i].name);
			g_assert_cmpuint(q.id, ==, 0x1234);
			g_assert_true(q.rd);
			g_assert_cmpuint(q.end, ==, n);
		}
	}
}

/* Names at the limits: 63-byte labels, 255 bytes on the wire; one byte more is refused. */
static void test_limits(void)
{
	uint8_t pkt[600], question[300];
	struct net_dns_query q;
	size_t n = 0;

	for (int l = 0; l < 3; l++) {		/* 3 * 64 = 192 */
		question[n++] = 63;
		memset(question + n, 'a', 63);
		n += 63;
	}
	question[n++] = 61;			/* + 62 = 254, + the root label = 255 */
	memset(question + n, 'b', 61);
	n += 61;
	question[n++] = 0;
	memcpy(question + n, "\x00\x01\x00\x01", 4);
	g_assert_cmpint(net_dns_parse_query(&q, pkt, query(pkt, question, n + 4)), ==, NET_DNS_OK);
	g_assert_cmpuint(strlen(q.name), ==, NET_DNS_NAME_MAX);
	question[3 * 64] = 62;			/* 256 bytes: one too many */
	memmove(question + 3 * 64 + 63, question + 3 * 64 + 62, 6);
	question[3 * 64 + 62] = 'b';
	g_assert_cmpint(net_dns_parse_query(&q, pkt, query(pkt, question, n + 5)), ==, NET_DNS_BAD);

	/* a chain of backward pointers: NET_DNS_JUMPS is fine, one more is not */
	size_t at = NET_DNS_HDR_LEN;

	memset(pkt, 0, sizeof(pkt));
	pkt[5] = 1;
	pkt[at++] = 1;
	pkt[at++] = 'x';
	pkt[at++] = 0;
	for (int j = 0; j <= NET_DNS_JUMPS; j++) {
		size_t prev = j == 0 ? NET_DNS_HDR_LEN : at - 2;
		size_t off = at;
		char name[NET_DNS_NAME_MAX + 1];

		pkt[at++] = (uint8_t)(0xc0 | prev >> 8);
		pkt[at++] = (uint8_t)prev;
		g_assert_cmpint(net_dns_read_name(pkt, at, &off, name), ==, j < NET_DNS_JUMPS);
	}
}

static void test_other(void)
{
	uint8_t pkt[64];
	struct net_dns_query q;
	size_t n = query(pkt, Q("\x01x\x00\x00\x01\x00\x01"));

	pkt[2] |= 0x80;					/* a response */
	g_assert_cmpint(net_dns_parse_query(&q, pkt, n), ==, NET_DNS_DROP);
	pkt[2] = 0x01 | 0x10;				/* opcode 2 (STATUS) */
	g_assert_cmpint(net_dns_parse_query(&q, pkt, n), ==, NET_DNS_UNSUPPORTED);
	pkt[2] = 0x01;
	pkt[5] = 2;					/* two questions */
	g_assert_cmpint(net_dns_parse_query(&q, pkt, n), ==, NET_DNS_UNSUPPORTED);
	pkt[5] = 1;
	pkt[7] = 1;					/* an answer in a query */
	g_assert_cmpint(net_dns_parse_query(&q, pkt, n), ==, NET_DNS_BAD);
	g_assert_cmpint(net_dns_parse_query(&q, pkt, 11), ==, NET_DNS_DROP);
}

static void test_answer(void)
{
	static const uint8_t v4[4] = { 10, 98, 100, 2 }, v6[16] = { 0xfd, 0x98, [15] = 2 };
	uint8_t pkt[64], out[NET_DNS_UDP_MAX];
	struct net_dns_query q;
	size_t n = query(pkt, Q("\x05Peer2\x03lab\x04rift\x00\x00\x01\x00\x01")), a;

	g_assert_cmpint(net_dns_parse_query(&q, pkt, n), ==, NET_DNS_OK);
	a = net_dns_answer(out, sizeof(out), &q, NET_DNS_NOERROR, v4, 4, 60);
	g_assert_cmpuint(a, ==, n + 16);
	g_assert_cmpmem(out, 2, "\x12\x34", 2);
	g_assert_cmpuint(out[2], ==, 0x85);		/* QR, AA, RD */
	g_assert_cmpuint(out[3], ==, 0x00);
	g_assert_cmpmem(out + 4, 4, "\x00\x01\x00\x01", 4);	/* 1 question, 1 answer */
	g_assert_cmpmem(out + 12, n - 12 - 4, "\x05peer2\x03lab\x04rift\x00", n - 12 - 4);
	g_assert_cmpmem(out + n, 12, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04", 12);
	g_assert_cmpmem(out + n + 12, 4, v4, 4);
	a = net_dns_answer(out, sizeof(out), &q, NET_DNS_NOERROR, v6, 16, 60);
	g_assert_cmpuint(a, ==, n + 28);
	g_assert_cmpuint(out[n + 3], ==, NET_DNS_AAAA);
	a = net_dns_answer(out, sizeof(out), &q, NET_DNS_NXDOMAIN, NULL, 0, 0);
	g_assert_cmpuint(a, ==, n);
	g_assert_cmpuint(out[3], ==, NET_DNS_NXDOMAIN);
	g_assert_cmpuint(out[7], ==, 0);
	a = net_dns_error(out, sizeof(out), pkt, NET_DNS_FORMERR);
	g_assert_cmpuint(a, ==, NET_DNS_HDR_LEN);
	g_assert_cmpuint(out[2], ==, 0x81);
	g_assert_cmpuint(out[3], ==, NET_DNS_FORMERR);
	g_assert_cmpuint(out[5], ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/net/dns/parse", test_parse);
	g_test_add_func("/net/dns/limits", test_limits);
	g_test_add_func("/net/dns/other", test_other);
	g_test_add_func("/net/dns/answer", test_answer);
	return g_test_run();
}
