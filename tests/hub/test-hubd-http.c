/* src/hubd/http.c: request heads, network names, the bearer check, and the fixed replies. */
#include <glib.h>
#include <string.h>

#include "hubd/http.h"

static void test_head_len(void)
{
	static const struct { const char *in; size_t len; } cases[] = {
		/* 1 */ { "", 0 },
		/* 2 */ { "GET / HTTP/1.1\r\n", 0 },
		/* 3 */ { "GET / HTTP/1.1\r\n\r\n", 18 },
		/* 4 */ { "GET / HTTP/1.1\r\nA: b\r\n\r\nextra", 24 },
		/* 5 */ { "\r\n\r", 0 },
	};

	g_assert_cmpuint(hubd_http_head_len(NULL, 0), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpuint(hubd_http_head_len((const uint8_t *)cases[i].in,
						    strlen(cases[i].in)), ==, cases[i].len);
}

static void test_parse(void)
{
	static const char head[] = "GET /connect/home?x=1 HTTP/1.1\r\nHost: h\r\nupgrade: WebSocket\r\n"
				   "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: "
				   "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version:  13 \r\n"
				   "Authorization: Bearer t0k\r\nno colon here\r\n\r\n";
	struct hubd_http_req rq;

	g_assert_true(hubd_http_parse(&rq, head, sizeof(head) - 1));
	g_assert_cmpstr(rq.method, ==, "GET");
	g_assert_cmpstr(rq.path, ==, "/connect/home");
	g_assert_cmpstr(rq.query, ==, "x=1");
	g_assert_cmpstr(rq.version, ==, "13");
	g_assert_cmpstr(rq.auth, ==, "Bearer t0k");
	g_assert_true(hubd_http_has_token(rq.upgrade, "websocket"));
	g_assert_true(hubd_http_has_token(rq.connection, "upgrade"));
	g_assert_false(hubd_http_has_token(rq.connection, "close"));
	g_assert_false(hubd_http_has_token(NULL, "upgrade"));
	hubd_http_req_clear(&rq);

	g_assert_false(hubd_http_parse(&rq, "GET /\r\n\r\n", 9));
	hubd_http_req_clear(&rq);
	g_assert_false(hubd_http_parse(&rq, "GET / SPDY/3\r\n\r\n", 16));
	hubd_http_req_clear(&rq);
}

static void test_network_of(void)
{
	static const struct { const char *path, *query, *want; } cases[] = {
		/* 1 */ { "/", NULL, "default" },
		/* 2 */ { "/connect", NULL, "default" },
		/* 3 */ { "/connect/home", NULL, "home" },
		/* 4 */ { "/connect/home/", NULL, "home" },
		/* 5 */ { "/connect/h%6fme", NULL, "home" },
		/* 6 */ { "/anything", "network=lab.1", "lab.1" },
		/* 7 */ { "/connect/bad!name", NULL, NULL },
		/* 8 */ { "/connect/%zz", NULL, NULL },
		/* 9 */ { "/", "network=", NULL },
		/* 10 */ { "/connect/a%0Ab", NULL, NULL },
		/* 11 */ { "/connect/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			   NULL, NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *n = hubd_http_network_of(cases[i].path, cases[i].query);

		g_assert_cmpstr(n, ==, cases[i].want);
	}
}

static void test_bearer(void)
{
	g_assert_true(hubd_http_bearer_ok(NULL, NULL));
	g_assert_true(hubd_http_bearer_ok("Bearer s3cret", "s3cret"));
	g_assert_true(hubd_http_bearer_ok("bearer s3cret", "s3cret"));
	g_assert_false(hubd_http_bearer_ok("Bearer s3cre", "s3cret"));
	g_assert_false(hubd_http_bearer_ok("Basic s3cret", "s3cret"));
	g_assert_false(hubd_http_bearer_ok(NULL, "s3cret"));
	g_assert_false(hubd_http_bearer_ok("Bearer ", ""));
}

static void test_accept(void)
{
	/* RFC 6455 §1.3's example */
	g_autofree char *a = hubd_http_ws_accept("dGhlIHNhbXBsZSBub25jZQ==");

	g_assert_cmpstr(a, ==, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* Every fixed reply: Content-Length equals the body that follows, and no NUL anywhere (the "bad
 * network name" body used to be sent with a hand-counted length one byte too long). */
static void test_fixed_replies(void)
{
	for (int i = 0; i < HUBD_REPLY_COUNT; i++) {
		GString *r = g_string_new(NULL);
		const char *cl, *body;

		hubd_http_fixed_reply(r, (enum hubd_http_fixed)i);
		g_assert_null(memchr(r->str, '\0', r->len));
		cl = strstr(r->str, "Content-Length: ");
		body = strstr(r->str, "\r\n\r\n");
		g_assert_nonnull(cl);
		g_assert_nonnull(body);
		body += 4;
		g_assert_cmpuint(strtoul(cl + 16, NULL, 10), ==, r->len - (size_t)(body - r->str));
		g_assert_cmpint(r->str[r->len - 1], ==, '\n');
		g_string_free(r, TRUE);
	}
}

/* A request path with a newline must not forge a log line (issue 15 item 5). */
static void test_log_escape(void)
{
	static const struct { const char *in; size_t max; const char *out; } cases[] = {
		/* 1 */ { "/connect", 200, "/connect" },
		/* 2 */ { "/x\nevent=join peer=admin", 200, "/x\\x0aevent=join peer=admin" },
		/* 3 */ { "/\x1b]0;t\x07", 200, "/\\x1b]0;t\\x07" },
		/* 4 */ { "/caf\xc3\xa9\\", 200, "/caf\\xc3\\xa9\\\\" },
		/* 5 */ { "/abcdef", 3, "/ab..." },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *e = hubd_http_log_escape(cases[i].in, cases[i].max);

		g_assert_cmpstr(e, ==, cases[i].out);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hubd/http/head-len", test_head_len);
	g_test_add_func("/hubd/http/parse", test_parse);
	g_test_add_func("/hubd/http/network-of", test_network_of);
	g_test_add_func("/hubd/http/bearer", test_bearer);
	g_test_add_func("/hubd/http/accept", test_accept);
	g_test_add_func("/hubd/http/fixed-replies", test_fixed_replies);
	g_test_add_func("/hubd/http/log-escape", test_log_escape);
	return g_test_run();
}
