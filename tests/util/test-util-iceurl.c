/* STUN/TURN server URLs (util/iceurl.h): every form the config check, rtc's ICE layer and the
 * TURN-over-TLS proxy accepted or refused before they shared this parser. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "util/iceurl.h"

enum { S = RG_ICE_URL_STUN, T = RG_ICE_URL_TURN, TS = RG_ICE_URL_TURNS };

static const struct {
	const char *url;
	int ret;
	int scheme;
	bool tcp, has_port;
	uint16_t port;
	const char *host;
} cases[] = {
	/* schemes and default ports */
	/* 1 */ { "turn:relay.example.com", 0, T, false, false, 3478, "relay.example.com" },
	/* 2 */ { "turns:relay.example.com", 0, TS, true, false, 5349, "relay.example.com" },
	/* 3 */ { "stun:stun.l.google.com:19302", 0, S, false, true, 19302, "stun.l.google.com" },
	/* 4 */ { "stun:h", 0, S, false, false, 3478, "h" },
	/* ports */
	/* 5 */ { "turn:127.0.0.1:3478", 0, T, false, true, 3478, "127.0.0.1" },
	/* 6 */ { "turns:198.18.0.1:443", 0, TS, true, true, 443, "198.18.0.1" },
	/* 7 */ { "turn:h:1", 0, T, false, true, 1, "h" },
	/* 8 */ { "turn:h:65535", 0, T, false, true, 65535, "h" },
	/* 9 */ { "turn:h:0", -EINVAL },
	/* 10 */ { "turn:h:65536", -EINVAL },
	/* 11 */ { "turn:h:", -EINVAL },
	/* 12 */ { "turn:h:123456", -EINVAL },
	/* 13 */ { "turn:h:34a", -EINVAL },
	/* 14 */ { "turn:h:-1", -EINVAL },
	/* 15 */ { "turn:h:3478:1", -EINVAL },
	/* ?transport= */
	/* 16 */ { "turn:127.0.0.1:3478?transport=udp", 0, T, false, true, 3478, "127.0.0.1" },
	/* 17 */ { "turn:h?transport=tcp", 0, T, true, false, 3478, "h" },
	/* 18 */ { "turns:relay.example.com:5349?transport=tcp", 0, TS, true, true, 5349,
		   "relay.example.com" },
	/* 19 */ { "turns:h?transport=udp", -EPROTONOSUPPORT },	/* DTLS to TURN */
	/* 20 */ { "turn:h?transport=sctp", -EINVAL },
	/* 21 */ { "turn:h?transport=tcp&x=1", -EINVAL },
	/* 22 */ { "turn:h?", -EINVAL },
	/* 23 */ { "turn:h?transport=TCP", -EINVAL },
	/* 24 */ { "stun:h?transport=udp", -EINVAL },		/* stun: has no query */
	/* 25 */ { "turn:?transport=udp", -EINVAL },
	/* IPv6 in brackets */
	/* 26 */ { "turns:[2001:db8::7]:5349", 0, TS, true, true, 5349, "2001:db8::7" },
	/* 27 */ { "turn:[::1]", 0, T, false, false, 3478, "::1" },
	/* 28 */ { "turn:[::1]?transport=tcp", 0, T, true, false, 3478, "::1" },
	/* 29 */ { "stun:[fe80::1]:3478", 0, S, false, true, 3478, "fe80::1" },
	/* 30 */ { "turn:[::1", -EINVAL },
	/* 31 */ { "turn:[]:3478", -EINVAL },
	/* 32 */ { "turn:[nothex]:3478", -EINVAL },
	/* 33 */ { "turn:[::1]3478", -EINVAL },
	/* 34 */ { "turn:[::1]:", -EINVAL },
	/* 35 */ { "turn:::1", -EINVAL },			/* unbracketed IPv6 */
	/* 36 */ { "turn:[1.2.3.4]", -EINVAL },
	/* bad input */
	/* 37 */ { "", -EINVAL },
	/* 38 */ { "turn:", -EINVAL },
	/* 39 */ { "turns:", -EINVAL },
	/* 40 */ { "http://relay.example.com", -EINVAL },
	/* 41 */ { "TURN:h", -EINVAL },
	/* 42 */ { "turn://h:3478", -EINVAL },
	/* 43 */ { "turn:.h", -EINVAL },
	/* 44 */ { "turn:-h", -EINVAL },
	/* 45 */ { "turn:h h", -EINVAL },
	/* 46 */ { "turn:h/x", -EINVAL },
	/* 47 */ { "turn:user@h", -EINVAL },
	/* 48 */ { "turn:h\n", -EINVAL },
	/* 49 */ { "stuns:h", -EINVAL },
	/* 50 */ { "turn:under_score-ok.example", 0, T, false, false, 3478, "under_score-ok.example" },
};

static void test_table(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_ice_url u;
		int ret;

		memset(&u, 0xa5, sizeof(u));
		ret = rg_ice_url_parse(&u, cases[i].url);
		g_test_message("case %zu: '%s' -> %d", i + 1, cases[i].url, ret);
		g_assert_cmpint(ret, ==, cases[i].ret);
		if (ret < 0) {
			g_assert_cmpuint(((const uint8_t *)&u)[0], ==, 0xa5);	/* untouched */
			g_assert_false(rg_ice_url_is_turn(cases[i].url));
			g_assert_false(rg_ice_url_is_stun(cases[i].url));
			continue;
		}
		g_assert_cmpint(u.scheme, ==, cases[i].scheme);
		g_assert_cmpint(u.tcp, ==, cases[i].tcp);
		g_assert_cmpint(u.has_port, ==, cases[i].has_port);
		g_assert_cmpuint(u.port, ==, cases[i].port);
		g_assert_cmpstr(u.host, ==, cases[i].host);
		g_assert_cmpint(rg_ice_url_is_turn(cases[i].url), ==, cases[i].scheme != S);
		g_assert_cmpint(rg_ice_url_is_stun(cases[i].url), ==, cases[i].scheme == S);
	}
}

/* The longest name fits; one more byte does not. NULL is refused. */
static void test_limits(void)
{
	char url[8 + RG_ICE_URL_HOST_MAX + 2];
	struct rg_ice_url u;

	memcpy(url, "turn:", 5);
	memset(url + 5, 'a', RG_ICE_URL_HOST_MAX);
	url[5 + RG_ICE_URL_HOST_MAX] = '\0';
	g_assert_cmpint(rg_ice_url_parse(&u, url), ==, 0);
	g_assert_cmpuint(strlen(u.host), ==, RG_ICE_URL_HOST_MAX);
	url[5 + RG_ICE_URL_HOST_MAX] = 'a';
	url[6 + RG_ICE_URL_HOST_MAX] = '\0';
	g_assert_cmpint(rg_ice_url_parse(&u, url), ==, -EINVAL);
	g_assert_cmpint(rg_ice_url_parse(&u, NULL), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/util/iceurl/table", test_table);
	g_test_add_func("/util/iceurl/limits", test_limits);
	return g_test_run();
}
