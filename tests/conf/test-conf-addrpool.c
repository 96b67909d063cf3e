/* conf/addrpool: the verdict on a chosen address, and picks (scan of small subnets from a random
 * start, random draws in large ones) with a scripted random source. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "conf/addrpool.h"

static struct rg_prefix P(const char *s)
{
	struct rg_prefix p;

	g_assert_true(rg_prefix_parse_addr(&p, s));
	return p;
}

static void assert_prefix(const struct rg_prefix *p, const char *want)
{
	char buf[RG_PREFIX_STR_MAX];

	g_assert_true(rg_prefix_format(p, buf, sizeof(buf)));
	g_assert_cmpstr(buf, ==, want);
}

/* Returns script[i++], then the last value forever. */
struct script {
	const uint64_t *v;
	size_t n, i;
};

static uint64_t scripted(void *opaque)
{
	struct script *s = opaque;
	uint64_t v = s->v[s->i < s->n ? s->i : s->n - 1];

	s->i++;
	return v;
}

static const struct {
	const char *a;
	enum conf_addr_verdict v;
} check_cases[] = {
	/* 1 */ { "10.10.0.7/24", CONF_ADDR_FREE },
	/* 2 */ { "10.10.0.2/24", CONF_ADDR_SELF },
	/* 3 */ { "10.10.0.2/16", CONF_ADDR_SELF },	/* same host, any length */
	/* 4 */ { "10.10.0.9/24", CONF_ADDR_TAKEN },
	/* 5 */ { "fd00::9/64", CONF_ADDR_TAKEN },	/* a v6 address the agent knows */
	/* 6 */ { "10.10.1.7/24", CONF_ADDR_OUTSIDE },	/* another subnet */
	/* 7 */ { "10.10.0.7/16", CONF_ADDR_OUTSIDE },	/* another length */
	/* 8 */ { "fd00::7/64", CONF_ADDR_OUTSIDE },	/* another family */
	/* 9 */ { "10.10.0.0/24", CONF_ADDR_RESERVED },	/* network */
	/* 10 */ { "10.10.0.255/24", CONF_ADDR_RESERVED },	/* broadcast */
	/* 11 */ { "10.10.0.254/24", CONF_ADDR_FREE },
};

static void test_check(void)
{
	struct rg_prefix taken[] = { P("10.10.0.9/24"), P("fd00::9/64") };
	struct conf_addrpool pool = { .self = P("10.10.0.2/24"), .taken = taken, .n_taken = 2 };
	struct rg_prefix net = conf_addrpool_subnet(&pool);

	assert_prefix(&net, "10.10.0.0/24");
	for (size_t i = 0; i < G_N_ELEMENTS(check_cases); i++) {
		struct rg_prefix a = P(check_cases[i].a);

		g_test_message("case %zu: %s", i + 1, check_cases[i].a);
		g_assert_cmpint(conf_addrpool_check(&pool, &a), ==, check_cases[i].v);
	}
}

/* A /24 is scanned from the random start; taken, own and reserved hosts are skipped. */
static void test_pick_scan(void)
{
	static const uint64_t start[] = { 256 + 9 };	/* 265 % 256 = 9 */
	struct script s = { start, 1, 0 };
	struct rg_prefix taken[] = { P("10.10.0.9"), P("10.10.0.10/24") }, out;
	struct conf_addrpool pool = {
		.self = P("10.10.0.11/24"), .taken = taken, .n_taken = 2,
		.random = scripted, .opaque = &s,
	};

	g_assert_cmpint(conf_addrpool_pick(&pool, &out), ==, 0);
	assert_prefix(&out, "10.10.0.12/24");
	g_assert_cmpuint(s.i, ==, 1);			/* one draw: the start */

	/* From the top: .255 is broadcast, wraps past .0 (network) to .1. */
	static const uint64_t top[] = { 255 };
	s = (struct script){ top, 1, 0 };
	g_assert_cmpint(conf_addrpool_pick(&pool, &out), ==, 0);
	assert_prefix(&out, "10.10.0.1/24");
}

/* The limits of small subnets: a /30 has two hosts, a /31 none we would hand out. */
static void test_pick_full(void)
{
	struct rg_prefix taken[] = { P("192.168.7.2") }, out;
	struct conf_addrpool pool = { .self = P("192.168.7.1/30") };

	for (int i = 0; i < 8; i++) {			/* any start finds the one free host */
		g_assert_cmpint(conf_addrpool_pick(&pool, &out), ==, 0);
		assert_prefix(&out, "192.168.7.2/30");
	}
	pool.taken = taken;
	pool.n_taken = 1;
	g_assert_cmpint(conf_addrpool_pick(&pool, &out), ==, -ENOSPC);
	pool.self = P("192.168.7.1/31");
	g_assert_cmpint(conf_addrpool_pick(&pool, &out), ==, -ENOSPC);
	pool.self = P("192.168.7.1/32");
	g_assert_cmpint(conf_addrpool_pick(&pool, &out), ==, -ENOSPC);
	pool.self = (struct rg_prefix){ 0 };
	g_assert_cmpint(conf_addrpool_pick(&pool, &out), ==, -ENOSPC);
}

/* A /64 is drawn at random: a taken draw and a reserved one (host 0) are skipped; high bits of
 * a draw never leave the subnet. */
static void test_pick_random(void)
{
	static const uint64_t draws[] = { 0x9, 0, 0xffffffffffffffffull, 0xabcdef0000000042ull };
	struct script s = { draws, G_N_ELEMENTS(draws), 0 };
	struct rg_prefix taken[] = { P("fd00:1::9/64") }, out;
	struct conf_addrpool pool = {
		.self = P("fd00:1::1/64"), .taken = taken, .n_taken = 1,
		.random = scripted, .opaque = &s,
	};

	g_assert_cmpint(conf_addrpool_pick(&pool, &out), ==, 0);
	assert_prefix(&out, "fd00:1::abcd:ef00:0:42/64");
	g_assert_cmpuint(s.i, ==, 4);

	/* Every draw taken: gives up after CONF_ADDRPOOL_TRIES. */
	static const uint64_t same[] = { 0x9 };
	s = (struct script){ same, 1, 0 };
	g_assert_cmpint(conf_addrpool_pick(&pool, &out), ==, -ENOSPC);
	g_assert_cmpuint(s.i, ==, CONF_ADDRPOOL_TRIES);

	/* A /100 (28 host bits) is drawn too, masked to its host bits. */
	static const uint64_t wide[] = { 0xfffffffff1234567ull };
	s = (struct script){ wide, 1, 0 };
	pool.self = P("fd00:1::1/100");
	g_assert_cmpint(conf_addrpool_pick(&pool, &out), ==, 0);
	assert_prefix(&out, "fd00:1::123:4567/100");
}

/* Without a scripted source: real random picks land in the subnet and are free. */
static void test_pick_getrandom(void)
{
	struct conf_addrpool pool = { .self = P("10.99.0.1/16") };
	struct rg_prefix net = conf_addrpool_subnet(&pool), out;

	for (int i = 0; i < 32; i++) {
		g_assert_cmpint(conf_addrpool_pick(&pool, &out), ==, 0);
		g_assert_true(rg_prefix_contains(&net, &out));
		g_assert_cmpint(conf_addrpool_check(&pool, &out), ==, CONF_ADDR_FREE);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conf/addrpool/check", test_check);
	g_test_add_func("/conf/addrpool/pick-scan", test_pick_scan);
	g_test_add_func("/conf/addrpool/pick-full", test_pick_full);
	g_test_add_func("/conf/addrpool/pick-random", test_pick_random);
	g_test_add_func("/conf/addrpool/pick-getrandom", test_pick_getrandom);
	return g_test_run();
}
