/* Escaping of untrusted text for logs and terminals (util/escape.h), and rg_log using it. */
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "util/escape.h"
#include "util/log.h"

static const struct {
	const char *in;
	size_t len;	/* 0 = strlen */
	const char *out;
} cases[] = {
	/* 1 */ { "alice-01.home_x", 0, "alice-01.home_x" },
	/* 2 */ { "a\nb", 0, "a\\x0ab" },
	/* 3 */ { "\x1b]0;pwned\x07", 0, "\\x1b]0;pwned\\x07" },
	/* 4 */ { "del\x7f", 0, "del\\x7f" },
	/* 5 */ { "caf\xc3\xa9", 0, "caf\xc3\xa9" },		/* é stays */
	/* 6 */ { "\xc2\x9b" "31m", 0, "\\xc2\\x9b31m" },		/* C1 CSI */
	/* 7 */ { "\xe2\x80\xae" "abc", 0, "\\xe2\\x80\\xaeabc" },	/* RLO */
	/* 8 */ { "\xff\xfe", 0, "\\xff\\xfe" },			/* not UTF-8 */
	/* 9 */ { "\xc0\xaf", 0, "\\xc0\\xaf" },			/* overlong '/' */
	/* 10 */ { "\xed\xa0\x80", 0, "\\xed\\xa0\\x80" },		/* surrogate */
	/* 11 */ { "a\0b", 3, "a\\x00b" },
	/* 12 */ { "\xe2\x82", 0, "\\xe2\\x82" },			/* cut sequence */
	/* 13 */ { "tab\there", 0, "tab\\x09here" },
};

static void test_table(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char out[128];
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);

		g_test_message("case %zu", i + 1);
		g_assert_cmpuint(rg_escape_text(out, sizeof(out), cases[i].in, len), ==,
				 strlen(cases[i].out));
		g_assert_cmpstr(out, ==, cases[i].out);
		g_assert_true(rg_text_is_printable(cases[i].in, len) ==
			      (strcmp(cases[i].in, cases[i].out) == 0 && !cases[i].len));
	}
}

static void test_truncate(void)
{
	char out[6];

	/* never half an escape or half a character */
	g_assert_cmpuint(rg_escape_text(out, sizeof(out), "ab\ncd", 5), ==, 2);
	g_assert_cmpstr(out, ==, "ab");
	g_assert_cmpuint(rg_escape_text(out, sizeof(out), "abcd\xc3\xa9", 6), ==, 4);
	g_assert_cmpstr(out, ==, "abcd");
	g_assert_cmpuint(rg_escape_text(out, 1, "abc", 3), ==, 0);
	g_assert_cmpstr(out, ==, "");
}

/* A peer id carrying a newline and a fake log line stays on one escaped line. */
static void test_log_line(void)
{
	int fds[2], saved = dup(STDERR_FILENO);
	char buf[2048];
	ssize_t n;

	g_assert_cmpint(pipe(fds), ==, 0);
	g_assert_cmpint(dup2(fds[1], STDERR_FILENO), >=, 0);
	rg_log(RG_LOG_WARN, "peer %s: left", "evil\n12:00:00.000 error \x1b[2Jforged");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	g_assert_cmpint(n, >, 0);
	buf[n] = '\0';
	g_assert_nonnull(strstr(buf, "peer evil\\x0a12:00:00.000 error \\x1b[2Jforged: left\n"));
	g_assert_nonnull(strchr(buf, '\n'));
	g_assert_true(strchr(buf, '\n') == buf + n - 1);	/* one line */
	g_assert_null(strchr(buf, '\x1b'));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/util/escape/table", test_table);
	g_test_add_func("/util/escape/truncate", test_truncate);
	g_test_add_func("/util/escape/log-line", test_log_line);
	return g_test_run();
}
