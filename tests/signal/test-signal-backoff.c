/* Reconnect backoff with an injected RNG and clock: the ceiling doubles from 0.5 s to the 30 s
 * cap, jitter covers [0, ceiling], the count resets only after 60 s of stable connection, and a
 * very long outage cannot overflow anything. */
#include <glib.h>

#include "signal/backoff.h"

static uint32_t rng_fixed(void *opaque)
{
	return *(uint32_t *)opaque;
}

static void test_ceiling(void)
{
	static const uint32_t want[] = {
		/* 1 */ 500, /* 2 */ 1000, /* 3 */ 2000, /* 4 */ 4000, /* 5 */ 8000,
		/* 6 */ 16000, /* 7 */ 30000, /* 8 */ 30000, /* 9 */ 30000,
	};
	uint32_t r = UINT32_MAX;
	struct sig_backoff b;
	uint64_t now = 1000;

	sig_backoff_init(&b, rng_fixed, &r);
	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		g_assert_cmpuint(sig_backoff_ceiling(&b), ==, want[i]);
		g_assert_cmpuint(sig_backoff_next(&b, now), ==, want[i]);	/* rng max -> ceiling */
		now += want[i];
	}
	r = 0;
	g_assert_cmpuint(sig_backoff_next(&b, now), ==, 0);			/* rng 0 -> 0 */
	r = UINT32_MAX / 2;
	g_assert_cmpuint(sig_backoff_next(&b, now), ==, 15000);			/* midpoint */
}

static void test_no_overflow(void)
{
	uint32_t r = UINT32_MAX;
	struct sig_backoff b;

	sig_backoff_init(&b, rng_fixed, &r);
	/* a week of failures at the cap, then an absurd count */
	for (int i = 0; i < 20000; i++)
		g_assert_cmpuint(sig_backoff_next(&b, 1000), <=, SIG_BACKOFF_CAP_MS);
	b.attempt = UINT32_MAX - 1;
	g_assert_cmpuint(sig_backoff_next(&b, 1000), ==, SIG_BACKOFF_CAP_MS);
	g_assert_cmpuint(sig_backoff_next(&b, 1000), ==, SIG_BACKOFF_CAP_MS);
	g_assert_cmpuint(b.attempt, ==, UINT32_MAX);
}

static void test_reset(void)
{
	uint32_t r = UINT32_MAX;
	struct sig_backoff b;

	sig_backoff_init(&b, rng_fixed, &r);
	for (int i = 0; i < 6; i++)
		sig_backoff_next(&b, 1000);
	g_assert_cmpuint(sig_backoff_ceiling(&b), ==, 30000);
	/* up for 59.999 s: a flapping hub does not reset the count */
	sig_backoff_connected(&b, 100000);
	g_assert_cmpuint(sig_backoff_next(&b, 159999), ==, 30000);
	/* up for 60 s: back to 0.5 s */
	sig_backoff_connected(&b, 200000);
	g_assert_cmpuint(sig_backoff_next(&b, 260000), ==, 500);
	g_assert_cmpuint(sig_backoff_next(&b, 260000), ==, 1000);
	/* a clock that went back never resets */
	sig_backoff_connected(&b, 500000);
	g_assert_cmpuint(sig_backoff_next(&b, 400000), ==, 2000);
}

static void test_default_rng_spread(void)
{
	struct sig_backoff b;
	uint32_t lo = UINT32_MAX, hi = 0;

	sig_backoff_init(&b, NULL, NULL);
	b.attempt = 10;
	for (int i = 0; i < 2000; i++) {
		uint32_t d;

		b.attempt = 10;
		d = sig_backoff_next(&b, 1);
		g_assert_cmpuint(d, <=, SIG_BACKOFF_CAP_MS);
		lo = MIN(lo, d);
		hi = MAX(hi, d);
	}
	/* full jitter really spreads: 2000 draws cover most of [0, 30 s] */
	g_assert_cmpuint(lo, <, 1000);
	g_assert_cmpuint(hi, >, 29000);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/signal/backoff/ceiling", test_ceiling);
	g_test_add_func("/signal/backoff/no-overflow", test_no_overflow);
	g_test_add_func("/signal/backoff/reset", test_reset);
	g_test_add_func("/signal/backoff/default-rng-spread", test_default_rng_spread);
	return g_test_run();
}
