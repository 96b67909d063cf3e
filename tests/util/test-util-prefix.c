/* util/prefix: parse (strict CIDR and bare addresses), format, mask, contains, overlap, and bad
 * input refused with the output zeroed. */
#include <arpa/inet.h>
#include <glib.h>
#include <string.h>

#include "util/prefix.h"

static struct rg_prefix P(const char *s)
{
	struct rg_prefix p;

	g_assert_true(rg_prefix_parse_addr(&p, s));
	return p;
}

static const struct {
	const char *in, *out;	/* out NULL: refused by rg_prefix_parse */
	bool bare_ok;		/* accepted by rg_prefix_parse_addr */
} parse_cases[] = {
	/* 1 */ { "10.1.2.3/24", "10.1.2.3/24", true },
	/* 2 */ { "0.0.0.0/0", "0.0.0.0/0", true },
	/* 3 */ { "192.168.1.0/32", "192.168.1.0/32", true },
	/* 4 */ { "fd00::1/64", "fd00::1/64", true },
	/* 5 */ { "FD00:0::1/128", "fd00::1/128", true },
	/* 6 */ { "::/0", "::/0", true },
	/* 7 */ { "::ffff:10.0.0.1/96", "::ffff:10.0.0.1/96", true },
	/* 8 */ { "10.0.0.1", NULL, true },		/* bare: a host */
	/* 9 */ { "fd00::7", NULL, true },
	/* 10 */ { "10.0.0.1/33", NULL, false },
	/* 11 */ { "fd00::/129", NULL, false },
	/* 12 */ { "10.0.0.1/", NULL, false },
	/* 13 */ { "10.0.0.1/2x", NULL, false },
	/* 14 */ { "10.0.0.1/024", NULL, false },	/* leading zero */
	/* 15 */ { "10.0.0.1/-1", NULL, false },
	/* 16 */ { "10.0.0/8", NULL, false },
	/* 17 */ { "/8", NULL, false },
	/* 18 */ { "", NULL, false },
	/* 19 */ { "host/24", NULL, false },
	/* 20 */ { "10.0.0.1/8/8", NULL, false },
	/* 21 */ { " 10.0.0.1/8", NULL, false },
	/* 22 */ { "10.0.0.1/8 ", NULL, false },
	/* 23 */ { "fe80::1%eth0/64", NULL, false },	/* no zone ids */
	/* 24 */ { "1234567890123456789012345678901234567890123456/8", NULL, false },
	/* 25 */ { "10.0.0.1/1000", NULL, false },
};

static void test_parse(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(parse_cases); i++) {
		struct rg_prefix p, zero = { 0 };
		char buf[RG_PREFIX_STR_MAX];
		bool ok = rg_prefix_parse(&p, parse_cases[i].in);

		g_test_message("case %zu: %s", i + 1, parse_cases[i].in);
		g_assert_cmpint(ok, ==, parse_cases[i].out != NULL);
		if (ok) {
			g_assert_true(rg_prefix_format(&p, buf, sizeof(buf)));
			g_assert_cmpstr(buf, ==, parse_cases[i].out);
		} else {
			g_assert_cmpmem(&p, sizeof(p), &zero, sizeof(zero));
		}
		g_assert_cmpint(rg_prefix_parse_addr(&p, parse_cases[i].in), ==,
				parse_cases[i].bare_ok);
	}
	g_assert_false(rg_prefix_parse(&(struct rg_prefix){ 0 }, NULL));
}

static void test_bare(void)
{
	struct rg_prefix p = P("10.0.0.1");
	char buf[RG_PREFIX_STR_MAX];

	g_assert_cmpint(p.family, ==, AF_INET);
	g_assert_cmpuint(p.len, ==, 32);
	p = P("fd00::7");
	g_assert_cmpint(p.family, ==, AF_INET6);
	g_assert_cmpuint(p.len, ==, 128);
	g_assert_true(rg_prefix_format_addr(&p, buf, sizeof(buf)));
	g_assert_cmpstr(buf, ==, "fd00::7");
}

static void test_format(void)
{
	struct rg_prefix p = P("255.255.255.255/32"), none = { 0 };
	char buf[RG_PREFIX_STR_MAX], small[19];

	g_assert_true(rg_prefix_format(&p, small, sizeof(small)));	/* 18 + NUL */
	g_assert_cmpstr(small, ==, "255.255.255.255/32");
	g_assert_false(rg_prefix_format(&p, small, 18));		/* one short */
	g_assert_false(rg_prefix_format(&p, small, 5));
	g_assert_cmpstr(small, ==, "");
	p = P("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128");	/* the longest */
	g_assert_true(rg_prefix_format(&p, buf, sizeof(buf)));
	g_assert_false(rg_prefix_format(&none, buf, sizeof(buf)));
	g_assert_cmpstr(buf, ==, "");
}

static void test_mask(void)
{
	struct rg_prefix p = P("10.1.2.3/8"), q = P("fd00:1:2:3::9/62");
	char buf[RG_PREFIX_STR_MAX];

	g_assert_false(rg_prefix_is_network(&p));
	rg_prefix_mask(&p);
	g_assert_true(rg_prefix_is_network(&p));
	g_assert_true(rg_prefix_format(&p, buf, sizeof(buf)));
	g_assert_cmpstr(buf, ==, "10.0.0.0/8");
	rg_prefix_mask(&q);
	g_assert_true(rg_prefix_format(&q, buf, sizeof(buf)));
	g_assert_cmpstr(buf, ==, "fd00:1:2::/62");
	p = P("192.168.1.255/31");
	g_assert_false(rg_prefix_is_network(&p));
	p = P("192.168.1.254/31");
	g_assert_true(rg_prefix_is_network(&p));
}

/* outer, inner, contains, overlap */
static const struct {
	const char *a, *b;
	bool contains, overlap;
} rel_cases[] = {
	/* 1 */ { "10.0.0.0/8", "10.1.2.3", true, true },
	/* 2 */ { "10.0.0.0/8", "11.0.0.1", false, false },
	/* 3 */ { "10.0.0.0/8", "10.0.0.0/8", true, true },
	/* 4 */ { "10.1.0.0/16", "10.0.0.0/8", false, true },	/* b contains a */
	/* 5 */ { "0.0.0.0/0", "203.0.113.9", true, true },
	/* 6 */ { "192.168.1.0/25", "192.168.1.128/25", false, false },
	/* 7 */ { "192.168.1.0/24", "192.168.1.128/25", true, true },
	/* 8 */ { "10.0.0.0/8", "fd00::1", false, false },	/* families differ */
	/* 9 */ { "::/0", "10.0.0.1", false, false },
	/* 10 */ { "fd00::/8", "fd12:3456::1", true, true },
	/* 11 */ { "fd12::/16", "fd13::/16", false, false },
	/* 12 */ { "fd12::/15", "fd13::1/128", true, true },	/* 15 bits, mid-byte */
	/* 13 */ { "10.0.0.0/9", "10.128.0.1", false, false },	/* bit 9 differs */
	/* 14 */ { "10.0.0.0/9", "10.127.255.255", true, true },
	/* 15 */ { "10.1.2.3/8", "10.200.0.0/16", true, true },	/* host bits of outer ignored */
};

static void test_relations(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rel_cases); i++) {
		struct rg_prefix a = P(rel_cases[i].a), b = P(rel_cases[i].b);

		g_test_message("case %zu: %s %s", i + 1, rel_cases[i].a, rel_cases[i].b);
		g_assert_cmpint(rg_prefix_contains(&a, &b), ==, rel_cases[i].contains);
		g_assert_cmpint(rg_prefix_overlap(&a, &b), ==, rel_cases[i].overlap);
		g_assert_cmpint(rg_prefix_overlap(&b, &a), ==, rel_cases[i].overlap);
	}
	struct rg_prefix none = { 0 };
	g_assert_false(rg_prefix_contains(&none, &none));
}

static void test_equal(void)
{
	struct rg_prefix a = P("10.0.0.1/24"), b = P("10.0.0.1/16"), c = P("10.0.0.1/24");

	g_assert_true(rg_prefix_equal(&a, &c));
	g_assert_false(rg_prefix_equal(&a, &b));
	g_assert_true(rg_prefix_same_addr(&a, &b));
	b = P("10.0.0.2/24");
	g_assert_false(rg_prefix_same_addr(&a, &b));
	g_assert_cmpuint(rg_prefix_family_bits(AF_INET), ==, 32);
	g_assert_cmpuint(rg_prefix_family_bits(AF_INET6), ==, 128);
	g_assert_cmpuint(rg_prefix_family_bits(0), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/util/prefix/parse", test_parse);
	g_test_add_func("/util/prefix/bare", test_bare);
	g_test_add_func("/util/prefix/format", test_format);
	g_test_add_func("/util/prefix/mask", test_mask);
	g_test_add_func("/util/prefix/relations", test_relations);
	g_test_add_func("/util/prefix/equal", test_equal);
	return g_test_run();
}
