/* Constant-time compare and wipe, error formatting, clocks, log level parsing. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "util/ct.h"
#include "util/err.h"
#include "util/log.h"
#include "util/clock.h"

static void test_ct(void)
{
	uint8_t a[32] = { 1, 2, 3 }, b[32] = { 1, 2, 3 };

	g_assert_true(rg_ct_eq(a, b, sizeof(a)));
	b[31] ^= 0x80;
	g_assert_false(rg_ct_eq(a, b, sizeof(a)));
	g_assert_true(rg_ct_eq(a, b, 0));
	g_assert_false(rg_ct_is_zero(a, sizeof(a)));
	rg_memzero(a, sizeof(a));
	g_assert_true(rg_ct_is_zero(a, sizeof(a)));
}

static void test_err(void)
{
	struct rg_err err = { 0 };

	g_assert_cmpint(rg_err_set(&err, -EINVAL, "%s:%u:%u: bad '%s'", "f.toml", 3u, 7u, "x"), ==,
			-EINVAL);
	g_assert_cmpint(err.code, ==, -EINVAL);
	g_assert_cmpstr(err.msg, ==, "f.toml:3:7: bad 'x'");
	g_assert_cmpint(rg_err_set(NULL, -ENOENT, "ignored"), ==, -ENOENT);
}

static void test_time(void)
{
	uint64_t a = rg_mono_ns(), b = rg_mono_ns();

	g_assert_cmpuint(b, >=, a);
	g_assert_cmpuint(rg_wall_ns(), >, (uint64_t)1600000000 * RG_NSEC_PER_SEC);
}

static void test_log_levels(void)
{
	enum rg_log_level l = RG_LOG_INFO;

	g_assert_true(rg_log_parse_level("debug", &l));
	g_assert_cmpint(l, ==, RG_LOG_DEBUG);
	g_assert_false(rg_log_parse_level("loud", &l));
	g_assert_cmpint(l, ==, RG_LOG_DEBUG);
	g_assert_true(rg_log_parse_level("warning", &l));	/* journalctl's name */
	g_assert_cmpint(l, ==, RG_LOG_WARN);
	g_assert_true(rg_log_parse_level("warn", &l));
	g_assert_cmpint(l, ==, RG_LOG_WARN);
	rg_log_set_level(RG_LOG_ERROR);
	g_assert_false(rg_log_on(RG_LOG_INFO));
	g_assert_true(rg_log_on(RG_LOG_ERROR));
	rg_log_set_level(RG_LOG_INFO);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/util/ct/compare-wipe", test_ct);
	g_test_add_func("/util/err/format", test_err);
	g_test_add_func("/util/time/monotonic", test_time);
	g_test_add_func("/util/log/levels", test_log_levels);
	return g_test_run();
}
