/* Replay window: numbered edge cases (in the manner of the kernel's counter selftest) and a
 * randomized comparison with a naive model. */
#include <glib.h>

#include "wg/messages.h"
#include "wg/replay.h"

#define T_LIM ((uint64_t)WG_REPLAY_WINDOW + 1)
#define RAM WG_REJECT_AFTER_MESSAGES

static void test_table(void)
{
	static const struct { uint64_t n; bool ok; } cases[] = {
		/* 1 */ { 0, true },
		/* 2 */ { 1, true },
		/* 3 */ { 1, false },
		/* 4 */ { 9, true },
		/* 5 */ { 8, true },
		/* 6 */ { 7, true },
		/* 7 */ { 7, false },
		/* 8 */ { T_LIM, true },
		/* 9 */ { T_LIM - 1, true },
		/* 10 */ { T_LIM - 1, false },
		/* 11 */ { T_LIM - 2, true },
		/* 12 */ { 2, true },
		/* 13 */ { 2, false },
		/* 14 */ { T_LIM + 16, true },
		/* 15 */ { 3, false },		/* fell out of the window */
		/* 16 */ { T_LIM + 16, false },
		/* 17 */ { T_LIM * 4, true },
		/* 18 */ { T_LIM * 4 - (T_LIM - 1), true },	/* exactly WINDOW back */
		/* 19 */ { 10, false },
		/* 20 */ { T_LIM * 4 - T_LIM, false },		/* WINDOW + 1 back */
		/* 21 */ { T_LIM * 4 - (T_LIM + 1), false },
		/* 22 */ { T_LIM * 4 - (T_LIM - 2), true },
		/* 23 */ { T_LIM * 4 + 1 - T_LIM, false },	/* same as 18 */
		/* 24 */ { 0, false },
		/* 25 */ { RAM, false },			/* at the message limit */
		/* 26 */ { RAM - 1, true },
		/* 27 */ { RAM, false },
		/* 28 */ { RAM - 1, false },
		/* 29 */ { RAM - 2, true },
		/* 30 */ { RAM + 1, false },
		/* 31 */ { RAM + 2, false },
		/* 32 */ { RAM - 2, false },
		/* 33 */ { RAM - 3, true },
		/* 34 */ { 0, false },
		/* 35 */ { UINT64_MAX, false },
	};
	struct wg_replay r;

	wg_replay_init(&r);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("case %zu: %" G_GUINT64_FORMAT, i + 1, cases[i].n);
		g_assert_cmpint(wg_replay_accept(&r, cases[i].n), ==, cases[i].ok);
	}
}

/* Every counter below the window start in order, then backwards through the full window. */
static void test_sequences(void)
{
	struct wg_replay r;

	wg_replay_init(&r);
	for (uint64_t i = 1; i <= WG_REPLAY_BITS_TOTAL * 3; i++)
		g_assert_true(wg_replay_accept(&r, i));
	wg_replay_init(&r);
	for (uint64_t i = WG_REPLAY_WINDOW + 1; i-- > 0;)
		g_assert_true(wg_replay_accept(&r, i));
	wg_replay_init(&r);
	g_assert_true(wg_replay_accept(&r, WG_REPLAY_WINDOW + 2));
	g_assert_false(wg_replay_accept(&r, 1));
	g_assert_true(wg_replay_accept(&r, 2));
	for (uint64_t i = WG_REPLAY_WINDOW + 1; i > 2; i--)
		g_assert_true(wg_replay_accept(&r, i));
	for (uint64_t i = 2; i <= WG_REPLAY_WINDOW + 2; i++)
		g_assert_false(wg_replay_accept(&r, i));
}

/* Random walk against a model that remembers every counter. */
static void test_random_model(void)
{
	enum { SPAN = 3 * WG_REPLAY_BITS_TOTAL };
	static bool seen[SPAN];
	struct wg_replay r;
	GRand *rng = g_rand_new_with_seed(7);
	uint64_t greatest = 0;
	bool any = false;

	wg_replay_init(&r);
	for (int i = 0; i < 200000; i++) {
		uint64_t n = (uint64_t)g_rand_int_range(rng, 0, SPAN);
		bool want = !seen[n] && (!any || n + WG_REPLAY_WINDOW >= greatest);

		g_assert_cmpint(wg_replay_accept(&r, n), ==, want);
		if (want) {
			seen[n] = true;
			if (!any || n > greatest)
				greatest = n;
			any = true;
		}
	}
	g_rand_free(rng);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/wg/replay/table", test_table);
	g_test_add_func("/wg/replay/sequences", test_sequences);
	g_test_add_func("/wg/replay/random_model", test_random_model);
	return g_test_run();
}
