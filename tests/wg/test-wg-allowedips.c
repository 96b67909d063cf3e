/* Allowed-IPs trie: numbered routing cases for IPv4 and IPv6 (/0, /32, /128, overlaps,
 * owner changes, removal) and a randomized comparison with a linear longest-prefix model. */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/socket.h>

#include "wg/allowedips.h"
#include "wg/device.h"

/* Peers are just distinct addresses here; the trie never dereferences them. */
static char peers[8];
#define P(i) ((struct wg_peer *)&peers[i])

static struct wg_allowed_ip ip(const char *text, uint8_t cidr)
{
	struct wg_allowed_ip a = { .cidr = cidr };

	if (strchr(text, ':')) {
		a.family = AF_INET6;
		g_assert_cmpint(inet_pton(AF_INET6, text, a.addr), ==, 1);
	} else {
		a.family = AF_INET;
		g_assert_cmpint(inet_pton(AF_INET, text, a.addr), ==, 1);
	}
	return a;
}

static struct wg_peer *lookup(struct wg_allowedips *t, const char *text)
{
	struct wg_allowed_ip a = ip(text, 0);

	return wg_allowedips_lookup(t, a.family, a.addr);
}

static void insert(struct wg_allowedips *t, const char *text, uint8_t cidr, int peer)
{
	struct wg_allowed_ip a = ip(text, cidr);

	g_assert_cmpint(wg_allowedips_insert(t, &a, P(peer)), ==, 0);
}

static void test_table(void)
{
	struct wg_allowedips t;
	static const struct { const char *addr; int peer; } cases[] = {
		/* 1 */ { "192.168.4.20", 2 },
		/* 2 */ { "192.168.4.0", 1 },
		/* 3 */ { "192.168.5.0", 1 },
		/* 4 */ { "192.168.200.182", 3 },
		/* 5 */ { "192.95.5.69", 4 },
		/* 6 */ { "192.95.5.64", 4 },
		/* 7 */ { "192.95.5.65", 5 },
		/* 8 */ { "192.95.5.70", 4 },
		/* 9 */ { "10.1.0.1", 6 },
		/* 10 */ { "10.1.0.2", 7 },
		/* 11 */ { "8.8.8.8", 0 },		/* default route */
		/* 12 */ { "0.0.0.0", 0 },
		/* 13 */ { "255.255.255.255", 0 },
		/* 14 */ { "2001:db8::1", 1 },
		/* 15 */ { "2001:db8::2", 2 },
		/* 16 */ { "2001:db8:ffff::", 1 },
		/* 17 */ { "2001:db9::", -1 },	/* no v6 default */
		/* 18 */ { "fe80::1", 3 },
		/* 19 */ { "fe80:0:0:1::1", -1 },
		/* 20 */ { "::", -1 },
	};

	wg_allowedips_init(&t);
	insert(&t, "192.168.4.0", 24, 1);
	insert(&t, "192.168.4.4", 32, 8);
	insert(&t, "192.168.4.20", 32, 2);	/* /32 inside a /24 */
	insert(&t, "192.168.4.4", 32, 1);	/* same prefix: owner changes 8 -> 1 */
	insert(&t, "192.168.5.0", 24, 1);
	insert(&t, "192.168.200.0", 24, 3);
	insert(&t, "192.95.5.64", 27, 4);
	insert(&t, "192.95.5.65", 32, 5);
	insert(&t, "10.1.0.1", 32, 6);
	insert(&t, "10.1.0.2", 31, 7);		/* host bits masked: 10.1.0.2/31 */
	insert(&t, "0.0.0.0", 0, 0);
	insert(&t, "2001:db8::", 32, 1);
	insert(&t, "2001:db8::2", 128, 2);
	insert(&t, "fe80::", 64, 3);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("case %zu: %s", i + 1, cases[i].addr);
		g_assert_true(lookup(&t, cases[i].addr) ==
			      (cases[i].peer < 0 ? NULL : P(cases[i].peer)));
	}
	g_assert_true(lookup(&t, "192.168.4.4") == P(1));
	g_assert_true(lookup(&t, "10.1.0.3") == P(7));

	/* removal: exact prefix and owner only */
	struct wg_allowed_ip a = ip("192.168.4.20", 32);

	g_assert_cmpint(wg_allowedips_remove(&t, &a, P(1)), ==, -ENOENT);
	g_assert_cmpint(wg_allowedips_remove(&t, &a, P(2)), ==, 0);
	g_assert_cmpint(wg_allowedips_remove(&t, &a, P(2)), ==, -ENOENT);
	g_assert_true(lookup(&t, "192.168.4.20") == P(1));
	a = ip("192.168.4.0", 23);
	g_assert_cmpint(wg_allowedips_remove(&t, &a, P(1)), ==, -ENOENT);
	a = ip("0.0.0.0", 0);
	g_assert_cmpint(wg_allowedips_remove(&t, &a, P(0)), ==, 0);
	g_assert_null(lookup(&t, "8.8.8.8"));
	g_assert_true(lookup(&t, "192.95.5.65") == P(5));

	/* removing a peer removes all its prefixes, others stay */
	wg_allowedips_remove_peer(&t, P(1));
	g_assert_null(lookup(&t, "192.168.4.4"));
	g_assert_null(lookup(&t, "2001:db8::1"));
	g_assert_true(lookup(&t, "2001:db8::2") == P(2));
	g_assert_true(lookup(&t, "192.168.200.1") == P(3));

	/* bad input */
	a = ip("1.2.3.4", 33);
	g_assert_cmpint(wg_allowedips_insert(&t, &a, P(1)), ==, -EINVAL);
	a = ip("::1", 129);
	g_assert_cmpint(wg_allowedips_insert(&t, &a, P(1)), ==, -EINVAL);
	a.family = 99;
	a.cidr = 8;
	g_assert_cmpint(wg_allowedips_insert(&t, &a, P(1)), ==, -EINVAL);
	wg_allowedips_clear(&t);
}

struct collect {
	GString *s;
};

static int collect_cb(void *ctx, const struct wg_allowed_ip *a, struct wg_peer *owner)
{
	char text[INET6_ADDRSTRLEN];
	struct collect *c = ctx;

	inet_ntop(a->family, a->addr, text, sizeof(text));
	g_string_append_printf(c->s, "%s/%u=%d ", text, a->cidr, (int)((char *)owner - peers));
	return 0;
}

static void test_foreach(void)
{
	struct wg_allowedips t;
	struct collect c = { g_string_new(NULL) };

	wg_allowedips_init(&t);
	insert(&t, "10.0.0.0", 8, 1);
	insert(&t, "10.1.2.3", 16, 2);		/* stored masked */
	insert(&t, "0.0.0.0", 0, 1);
	insert(&t, "::", 0, 2);
	insert(&t, "fd00::1", 128, 1);
	wg_allowedips_foreach(&t, NULL, collect_cb, &c);
	g_assert_cmpstr(c.s->str, ==,
			"0.0.0.0/0=1 10.0.0.0/8=1 10.1.0.0/16=2 ::/0=2 fd00::1/128=1 ");
	g_string_truncate(c.s, 0);
	wg_allowedips_foreach(&t, P(1), collect_cb, &c);
	g_assert_cmpstr(c.s->str, ==, "0.0.0.0/0=1 10.0.0.0/8=1 fd00::1/128=1 ");
	g_string_free(c.s, TRUE);
	wg_allowedips_clear(&t);
}

/* Random prefixes and lookups, compared with a linear scan for the longest match; half of the
 * prefixes are removed again on the way. */
static bool prefix_match(const uint8_t *p, unsigned cidr, const uint8_t *a)
{
	for (unsigned i = 0; i < cidr; i++)
		if (((p[i / 8] ^ a[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

static void random_family(int family, unsigned bytes)
{
	enum { N = 600 };
	struct { struct wg_allowed_ip ip; int peer; bool live; } model[N];
	struct wg_allowedips t;
	GRand *rng = g_rand_new_with_seed(family);

	wg_allowedips_init(&t);
	for (int i = 0; i < N; i++) {
		struct wg_allowed_ip *a = &model[i].ip;

		memset(a, 0, sizeof(*a));
		a->family = (uint16_t)family;
		/* cluster addresses so prefixes overlap */
		for (unsigned b = 0; b < bytes; b++)
			a->addr[b] = (uint8_t)(b < 2 ? g_rand_int_range(rng, 0, 3)
						   : g_rand_int_range(rng, 0, 256));
		a->cidr = (uint8_t)g_rand_int_range(rng, 0, (int)bytes * 8 + 1);
		for (unsigned b = a->cidr; b < bytes * 8; b++)
			a->addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
		model[i].peer = g_rand_int_range(rng, 0, 8);
		model[i].live = true;
		/* a later identical prefix replaces the owner: mirror that in the model */
		for (int j = 0; j < i; j++)
			if (model[j].live && model[j].ip.cidr == a->cidr &&
			    memcmp(model[j].ip.addr, a->addr, 16) == 0)
				model[j].live = false;
		g_assert_cmpint(wg_allowedips_insert(&t, a, P(model[i].peer)), ==, 0);
		if (i % 2 && g_rand_boolean(rng)) {
			int k = g_rand_int_range(rng, 0, i + 1);

			if (model[k].live) {
				g_assert_cmpint(wg_allowedips_remove(&t, &model[k].ip,
								     P(model[k].peer)), ==, 0);
				model[k].live = false;
			}
		}
	}
	for (int q = 0; q < 20000; q++) {
		uint8_t addr[16] = { 0 };
		int best = -1, best_cidr = -1;

		for (unsigned b = 0; b < bytes; b++)
			addr[b] = (uint8_t)(b < 2 ? g_rand_int_range(rng, 0, 3)
					     : g_rand_int_range(rng, 0, 256));
		if (q % 3 == 0) {	/* probe near a stored prefix */
			int k = g_rand_int_range(rng, 0, N);

			memcpy(addr, model[k].ip.addr, bytes);
			addr[bytes - 1] ^= (uint8_t)g_rand_int_range(rng, 0, 4);
		}
		for (int i = 0; i < N; i++)
			if (model[i].live && (int)model[i].ip.cidr > best_cidr &&
			    prefix_match(model[i].ip.addr, model[i].ip.cidr, addr)) {
				best = model[i].peer;
				best_cidr = model[i].ip.cidr;
			}
		g_assert_true(wg_allowedips_lookup(&t, family, addr) == (best < 0 ? NULL : P(best)));
	}
	g_rand_free(rng);
	wg_allowedips_clear(&t);
}

static void test_random_v4(void)
{
	random_family(AF_INET, 4);
}

static void test_random_v6(void)
{
	random_family(AF_INET6, 16);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/wg/allowedips/table", test_table);
	g_test_add_func("/wg/allowedips/foreach", test_foreach);
	g_test_add_func("/wg/allowedips/random_v4", test_random_v4);
	g_test_add_func("/wg/allowedips/random_v6", test_random_v6);
	return g_test_run();
}
