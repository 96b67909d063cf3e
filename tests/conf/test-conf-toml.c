/* conf/toml: the parser's accept/reject decisions with the position it reports, the tree it
 * builds, and its bounds. toml-test (suite 'toml') covers the spec at large; these rows pin our
 * messages and the cases the config model leans on. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "conf/toml.h"
#include "util/err.h"

/* err: NULL for valid input, else a substring the message must contain (position first). */
static const struct {
	const char *in, *err;
} rows[] = {
	/* 1 */ { "a = 1\n", NULL },
	/* 2 */ { "a = 1\na = 2\n", "t:2:1: duplicate key 'a'" },
	/* 3 */ { "[t]\n[t]\n", "t:2:1: table 't' is already defined" },
	/* 4 */ { "a = \"x\\q\"\n", "t:1:7: invalid escape" },
	/* 5 */ { "a = \"\\uD800\"\n", "not a Unicode scalar value" },
	/* 6 */ { "a = \"\\U00110000\"\n", "not a Unicode scalar value" },
	/* 7 */ { "a = 9223372036854775808\n", "t:1:5: integer does not fit in 64 bits" },
	/* 8 */ { "a = -9223372036854775808\n", NULL },
	/* 9 */ { "a = 0x8000000000000000\n", "does not fit" },
	/* 10 */ { "a = 1__0\n", "malformed number" },
	/* 11 */ { "a = 01\n", "leading zeros" },
	/* 12 */ { "a = 1.\n", "expected digits after '.'" },
	/* 13 */ { "a = +0x1\n", "sign is not allowed" },
	/* 14 */ { "a = 1979-02-29\n", "date out of range" },
	/* 15 */ { "a = 2000-02-29\n", NULL },
	/* 16 */ { "a = 07:32\n", "malformed time" },
	/* 17 */ { "a = {b = 1}\na.c = 2\n", "t:2:1: cannot add keys to table 'a'" },
	/* 18 */ { "a = {b = 1,}\n", "trailing comma" },
	/* 19 */ { "a = {b = 1\n}\n", "newline is not allowed in an inline table" },
	/* 20 */ { "[a]\nb.c = 1\n[a.b]\n", "t:3:1: table 'b' is already defined" },
	/* 21 */ { "[a.b.c]\n[a]\nb.c.d = 1\n", "t:3:3: cannot add keys" },
	/* 22 */ { "a = [1, 'x', {b = 2}, [3]]\n", NULL },
	/* 23 */ { "a = [1]\n[[a]]\n", "not an array of tables" },
	/* 24 */ { "[[a]]\n[a]\n", "already defined" },
	/* 25 */ { "a = \"x\ny\"\n", "t:1:7: newline in a single-line string" },
	/* 26 */ { "a = 1 # ok\n# \x01\n", "t:2:3: control character U+0001" },
	/* 27 */ { "a = \"\x7f\"\n", "control character U+007F" },
	/* 28 */ { "a = 1\r\nb = 2\r", "carriage return" },
	/* 29 */ { "a = \"\xc0\xaf\"\n", "t:1:6: invalid UTF-8" },
	/* 30 */ { "a = \"\xed\xa0\x80\"\n", "invalid UTF-8" },
	/* 31 */ { "a = \"\"\"x\\  \n  y\"\"\"\n", NULL },
	/* 32 */ { "a = \"\"\"x\\ y\"\"\"\n", "line-ending backslash" },
	/* 33 */ { "a = '''x''''''\n", "too many quotes" },
	/* 34 */ { "a = 1 b = 2\n", "t:1:7: expected a newline" },
	/* 35 */ { "= 1\n", "t:1:1: expected a key" },
	/* 36 */ { "a\n", "t:1:2: expected '='" },
	/* 37 */ { "a = \n", "t:1:5: expected a value" },
	/* 38 */ { "\"\"\"k\"\"\" = 1\n", "multi-line string cannot be a key" },
	/* 39 */ { "[a]]\n", "expected a newline" },
	/* 40 */ { "[[a]\n", "expected ']]'" },
	/* 41 */ { "a = inf\nb = -nan\nc = +inf\n", NULL },
	/* 42 */ { "a = infinity\n", "malformed number" },
	/* 43 */ { "a = 1987-07-05T17:45:00Z\nb = 1987-07-05 17:45:00.5+01:30\n", NULL },
	/* 44 */ { "a = 1987-07-05T17:45:00+24:00\n", "offset out of range" },
	/* 45 */ { "a = 1987-07-05T25:45:00\n", "time out of range" },
	/* 46 */ { "a = \"\xe2\x82\xac\"  # \xe2\x82\xac \n", NULL },
	/* 47 */ { "\xe2\x82\xac = 1\n", "t:1:1: expected a key" },
	/* 48 */ { "a.b = 1\n[a]\n", "t:2:1: table 'a' is already defined" },
	/* 49 */ { "a.b = 1\n[a.c]\n", NULL },
	/* 50 */ { "a = true2\n", "expected a value" },
	/* 51 */ { "a = [1 2]\n", "expected ',' or ']'" },
	/* 52 */ { "a = [1,\n# c\n2,]\n", NULL },
	/* 53 */ { "a = [\n", "expected a value" },
	/* 54 */ { "a = \"open\n", "newline in a single-line string" },
	/* 55 */ { "a = \"open", "t:1:5: unterminated string" },
	/* 56 */ { "\xef\xbb\xbf" "a = 1\n", NULL },
	/* 57 */ { "a = 0b102\n", "malformed binary" },
	/* 58 */ { "a = 1e_5\n", "malformed float exponent" },
};

static void test_rows(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		struct conf_toml_value *root = NULL;
		struct rg_err err = { 0 };
		int r = conf_toml_parse(&root, rows[i].in, strlen(rows[i].in), "t", &err);

		g_test_message("row %zu: %s", i + 1, err.msg);
		if (!rows[i].err) {
			g_assert_cmpint(r, ==, 0);
			g_assert_nonnull(root);
		} else {
			g_assert_cmpint(r, ==, -EINVAL);
			g_assert_null(root);
			g_assert_nonnull(strstr(err.msg, rows[i].err));
		}
		conf_toml_free(root);
	}
}

static void test_tree(void)
{
	static const char doc[] =
		"title = 'T'\n"
		"[owner]\nname = \"\\u00e9\\tx\"\nn = 0x_ff\n"
		"[owner.pets]\ncat.name = 'Tom'\n"
		"[[fruit]]\nname = 'apple'\n[[fruit]]\nname = 'pear'\n"
		"[x]\nf = -1_000.5e-1\nb = false\nd = 2024-02-29\nt = 23:59:60.123456789123\n"
		"k = \"a\\u0000b\"\n";
	struct conf_toml_value *root;
	const struct conf_toml_value *v, *o;
	struct rg_err err = { 0 };
	char buf[64];

	/* row 1: 0x_ff is invalid (underscore right after the prefix) */
	g_assert_cmpint(conf_toml_parse(&root, doc, strlen(doc), "d", &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err.msg, "d:4:5: malformed hex integer"));

	char *fixed = g_strdup(doc);
	memcpy(strstr(fixed, "0x_ff"), "0xf_f", 5);
	g_assert_cmpint(conf_toml_parse(&root, fixed, strlen(fixed), "d", &err), ==, 0);
	g_free(fixed);

	v = conf_toml_get(root, "title");
	g_assert_cmpint(v->type, ==, CONF_TOML_STRING);
	g_assert_cmpstr(v->str.ptr, ==, "T");
	g_assert_cmpuint(v->line, ==, 1);
	g_assert_cmpuint(v->col, ==, 9);
	g_assert_cmpuint(root->table.items[0].line, ==, 1);	/* key positions */
	g_assert_cmpuint(root->table.items[0].col, ==, 1);
	o = conf_toml_get(root, "owner");
	g_assert_cmpint(o->type, ==, CONF_TOML_TABLE);
	g_assert_cmpuint(o->table.items[1].line, ==, 4);
	g_assert_cmpstr(o->table.items[1].key, ==, "n");
	g_assert_cmpstr(conf_toml_get(o, "name")->str.ptr, ==, "\xc3\xa9\tx");
	g_assert_cmpint(conf_toml_get(o, "n")->i, ==, 255);
	v = conf_toml_get(conf_toml_get(conf_toml_get(o, "pets"), "cat"), "name");
	g_assert_cmpstr(v->str.ptr, ==, "Tom");
	v = conf_toml_get(root, "fruit");
	g_assert_cmpint(v->type, ==, CONF_TOML_ARRAY);
	g_assert_cmpuint(v->array.n, ==, 2);
	g_assert_cmpstr(conf_toml_get(v->array.items[1], "name")->str.ptr, ==, "pear");
	o = conf_toml_get(root, "x");
	g_assert_cmpfloat(conf_toml_get(o, "f")->f, ==, -100.05);
	g_assert_false(conf_toml_get(o, "b")->b);
	v = conf_toml_get(o, "d");
	g_assert_cmpint(v->type, ==, CONF_TOML_DATE_LOCAL);
	conf_toml_datetime_format(buf, sizeof(buf), v);
	g_assert_cmpstr(buf, ==, "2024-02-29");
	v = conf_toml_get(o, "t");
	g_assert_cmpint(v->type, ==, CONF_TOML_TIME_LOCAL);
	g_assert_cmpuint(v->dt.nsec, ==, 123456789);
	conf_toml_datetime_format(buf, sizeof(buf), v);
	g_assert_cmpstr(buf, ==, "23:59:60.123456789");
	v = conf_toml_get(o, "k");
	g_assert_cmpuint(v->str.len, ==, 3);
	g_assert_cmpint(memcmp(v->str.ptr, "a\0b", 3), ==, 0);
	g_assert_null(conf_toml_get(root, "missing"));
	g_assert_null(conf_toml_get(v, "k"));	/* not a table */
	conf_toml_free(root);
}

static void test_datetime_format(void)
{
	static const char doc[] = "a = 1979-05-27t07:32:00.5z\nb = 1979-05-27 07:32:00-07:30\n"
				  "c = 1979-05-27T00:32:00.999999\n";
	struct conf_toml_value *root;
	struct rg_err err = { 0 };
	char buf[64];

	g_assert_cmpint(conf_toml_parse(&root, doc, strlen(doc), "d", &err), ==, 0);
	conf_toml_datetime_format(buf, sizeof(buf), conf_toml_get(root, "a"));
	g_assert_cmpstr(buf, ==, "1979-05-27T07:32:00.5Z");
	conf_toml_datetime_format(buf, sizeof(buf), conf_toml_get(root, "b"));
	g_assert_cmpstr(buf, ==, "1979-05-27T07:32:00-07:30");
	conf_toml_datetime_format(buf, sizeof(buf), conf_toml_get(root, "c"));
	g_assert_cmpstr(buf, ==, "1979-05-27T00:32:00.999999");
	g_assert_cmpint(conf_toml_get(root, "c")->type, ==, CONF_TOML_DATETIME_LOCAL);
	conf_toml_free(root);
}

/* Deep nesting of every kind ends in an error, not a stack overflow. */
static void test_depth(void)
{
	/* prefix, repeated part, suffix */
	static const char *const kinds[][3] = {
		{ "x = ", "[", "" },		/* arrays */
		{ "x = ", "{a=", "" },		/* inline tables */
		{ "", "a.", "b = 1" },		/* dotted key */
		{ "[", "a.", "b]" },		/* table header */
		{ "x = ", "{a.a.a.a=", "" },	/* dotted keys inside inline tables */
	};

	for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
		GString *s = g_string_new(kinds[k][0]);
		struct conf_toml_value *root;
		struct rg_err err = { 0 };

		for (int i = 0; i < 100000; i++)
			g_string_append(s, kinds[k][1]);
		g_string_append(s, kinds[k][2]);
		g_assert_cmpint(conf_toml_parse(&root, s->str, s->len, "deep", &err), <, 0);
		g_assert_null(root);
		g_test_message("kind %zu: %s", k, err.msg);
		g_assert_true(strstr(err.msg, "deeper than") || strstr(err.msg, "more than"));
		g_string_free(s, TRUE);
	}
	/* Just inside the bound is fine. */
	GString *s = g_string_new("x = ");
	struct conf_toml_value *root;
	struct rg_err err = { 0 };

	for (int i = 0; i < CONF_TOML_MAX_DEPTH - 1; i++)
		g_string_append(s, "[");
	for (int i = 0; i < CONF_TOML_MAX_DEPTH - 1; i++)
		g_string_append(s, "]");
	g_assert_cmpint(conf_toml_parse(&root, s->str, s->len, "deep", &err), ==, 0);
	conf_toml_free(root);
	g_string_free(s, TRUE);
}

/* Embedded NUL bytes in the input are control characters, not terminators. */
static void test_nul(void)
{
	static const char doc[] = "a = \"x\0y\"\n";
	struct conf_toml_value *root;
	struct rg_err err = { 0 };

	g_assert_cmpint(conf_toml_parse(&root, doc, sizeof(doc) - 1, "n", &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err.msg, "n:1:7: control character U+0000"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conf/toml/rows", test_rows);
	g_test_add_func("/conf/toml/tree", test_tree);
	g_test_add_func("/conf/toml/datetime-format", test_datetime_format);
	g_test_add_func("/conf/toml/depth", test_depth);
	g_test_add_func("/conf/toml/nul", test_nul);
	return g_test_run();
}
