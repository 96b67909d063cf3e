/* The hub core's bounded JSON reader/writer: validation table, decoding, depth bound, escaping. */
#include <glib.h>
#include <string.h>

#include "hub/hub.h"
#include "hub/json.h"

static void test_validate(void)
{
	static const struct { const char *in; bool ok; } cases[] = {
		/* 1 */ { "{}", true },
		/* 2 */ { " {\"a\":1} ", true },
		/* 3 */ { "{\"a\":[1,2,{\"b\":null}],\"c\":true,\"d\":false}", true },
		/* 4 */ { "{\"a\":-0.5e+10}", true },
		/* 5 */ { "{\"a\":01}", false },
		/* 6 */ { "{\"a\":1.}", false },
		/* 7 */ { "{\"a\":.5}", false },
		/* 8 */ { "{\"a\":1,}", false },
		/* 9 */ { "{\"a\" 1}", false },
		/* 10 */ { "[1]", false },
		/* 11 */ { "\"x\"", false },
		/* 12 */ { "{\"a\":1}{}", false },
		/* 13 */ { "{\"a\":\"\\u00e9\\n\\\"\"}", true },
		/* 14 */ { "{\"a\":\"\\ud83d\\ude00\"}", true },
		/* 15 */ { "{\"a\":\"\\ud83d\"}", false },
		/* 16 */ { "{\"a\":\"\\ude00\"}", false },
		/* 17 */ { "{\"a\":\"\\ud83dx\\ude00\"}", false },
		/* 18 */ { "{\"a\":\"\\x\"}", false },
		/* 19 */ { "{\"a\":\"\\u12g4\"}", false },
		/* 20 */ { "{\"a\":\"tab\there\"}", false },
		/* 21 */ { "{\"a\":\"caf\xc3\xa9\"}", true },
		/* 22 */ { "{\"a\":\"\xc3\"}", false },
		/* 23 */ { "{\"a\":\"\xc0\xaf\"}", false },
		/* 24 */ { "{\"a\":\"\xed\xa0\x80\"}", false },
		/* 25 */ { "{\"a\":\"\xf0\x9f\x98\x80\"}", true },
		/* 26 */ { "{\"a\":\"\xf4\x90\x80\x80\"}", false },
		/* 27 */ { "{\"a\":tru}", false },
		/* 28 */ { "{\"a\":nul", false },
		/* 29 */ { "{\"a\":[}", false },
		/* 30 */ { "{\"a\":[1}", false },
		/* 31 */ { "{\"a\":{]}", false },
		/* 32 */ { "", false },
		/* 33 */ { "{", false },
		/* 34 */ { "{\"a\":\"unterminated}", false },
		/* 35 */ { "{\"a\":[],\"b\":{}}", true },
		/* 36 */ { "{1:2}", false },
		/* member names that decode to text with U+0000: json-glib cuts them there */
		/* 37 */ { "{\"from\\u0000\":\"a\"}", false },
		/* 38 */ { "{\"a\":{\"b\":[{\"\\u0000\":1}]}}", false },
		/* 39 */ { "{\"\\\\u0000\":1}", true },	/* an escaped backslash, then "u0000" */
		/* 40 */ { "{\"a\":\"\\u0000\"}", true },	/* values may hold U+0000 */
		/* 41 */ { "{\"x\\u0001\":1}", true },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		bool ok = hub_json_validate_object(cases[i].in, strlen(cases[i].in), HUB_JSON_DEPTH_MAX);

		if (ok != cases[i].ok)
			g_error("case %zu (%s): got %d", i + 1, cases[i].in, ok);
	}
}

/* An empty WebSocket message may arrive as (NULL, 0): no pointer arithmetic on NULL (UBSan
 * "applying zero offset to null pointer", found by fuzz-hub_server). */
static void test_null(void)
{
	g_assert_false(hub_json_validate_object(NULL, 0, HUB_JSON_DEPTH_MAX));
}

static void test_depth(void)
{
	GString *s = g_string_new("{\"a\":");

	/* 31 arrays inside the object: depth 32, accepted */
	for (int i = 0; i < 31; i++)
		g_string_append_c(s, '[');
	for (int i = 0; i < 31; i++)
		g_string_append_c(s, ']');
	g_string_append_c(s, '}');
	g_assert_true(hub_json_validate_object(s->str, s->len, HUB_JSON_DEPTH_MAX));
	g_string_assign(s, "{\"a\":");
	for (int i = 0; i < 32; i++)
		g_string_append_c(s, '[');
	for (int i = 0; i < 32; i++)
		g_string_append_c(s, ']');
	g_string_append_c(s, '}');
	g_assert_false(hub_json_validate_object(s->str, s->len, HUB_JSON_DEPTH_MAX));
	/* a million brackets: rejected without touching the C stack */
	g_string_assign(s, "{\"a\":");
	for (int i = 0; i < 1000000; i++)
		g_string_append_c(s, '[');
	g_assert_false(hub_json_validate_object(s->str, s->len, HUB_JSON_DEPTH_MAX));
	g_string_free(s, TRUE);
}

static long decode(const char *json_string, char *out, size_t cap, bool allow_nul)
{
	struct hub_json_span sp = { json_string, strlen(json_string), HUB_JSON_STRING };

	return hub_json_decode(&sp, out, cap, allow_nul);
}

static void test_decode(void)
{
	char buf[64];

	g_assert_cmpint(decode("\"a\\\"b\\\\c\\/d\\n\"", buf, sizeof(buf), false), ==, 8);
	g_assert_cmpstr(buf, ==, "a\"b\\c/d\n");
	g_assert_cmpint(decode("\"\\u00e9\\u20ac\"", buf, sizeof(buf), false), ==, 5);
	g_assert_cmpstr(buf, ==, "\xc3\xa9\xe2\x82\xac");
	g_assert_cmpint(decode("\"\\ud83d\\ude00\"", buf, sizeof(buf), false), ==, 4);
	g_assert_cmpstr(buf, ==, "\xf0\x9f\x98\x80");
	g_assert_cmpint(decode("\"x\\u0000y\"", buf, sizeof(buf), false), ==, -1);
	g_assert_cmpint(decode("\"x\\u0000y\"", buf, sizeof(buf), true), ==, 3);
	g_assert_cmpint(decode("\"abcd\"", buf, 5, false), ==, 4);
	g_assert_cmpint(decode("\"abcde\"", buf, 5, false), ==, -1);
	g_assert_cmpint(decode("\"\"", buf, 1, false), ==, 0);
}

static void test_escape_roundtrip(void)
{
	const char src[] = "q\"b\\n\n\r\t\x01\x1f caf\xc3\xa9";
	size_t n = hub_json_escaped_len(src, strlen(src));
	g_autofree char *out = g_malloc(n + 1);
	char back[64];

	g_assert_cmpuint(hub_json_escape(out, src, strlen(src)), ==, n);
	out[n] = '\0';
	g_assert_cmpstr(out, ==, "\"q\\\"b\\\\n\\n\\r\\t\\u0001\\u001f caf\xc3\xa9\"");
	g_assert_cmpint(decode(out, back, sizeof(back), false), ==, (long)strlen(src));
	g_assert_cmpstr(back, ==, src);
}

static void test_iter(void)
{
	const char *s = " { \"a\" : 1 , \"b\":[1,{\"c\":2}], \"d\":\"x\" } ";
	struct hub_json_iter it;
	struct hub_json_span k, v;
	GString *seen = g_string_new(NULL);

	g_assert_true(hub_json_validate_object(s, strlen(s), HUB_JSON_DEPTH_MAX));
	hub_json_iter_init(&it, s, strlen(s));
	while (hub_json_iter_next(&it, &k, &v))
		g_string_append_printf(seen, "%.*s=%.*s;", (int)k.len, k.p, (int)v.len, v.p);
	g_assert_cmpstr(seen->str, ==, "\"a\"=1;\"b\"=[1,{\"c\":2}];\"d\"=\"x\";");
	g_string_free(seen, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hub/json/validate", test_validate);
	g_test_add_func("/hub/json/depth", test_depth);
	g_test_add_func("/hub/json/null", test_null);
	g_test_add_func("/hub/json/decode", test_decode);
	g_test_add_func("/hub/json/escape-roundtrip", test_escape_roundtrip);
	g_test_add_func("/hub/json/iter", test_iter);
	return g_test_run();
}
