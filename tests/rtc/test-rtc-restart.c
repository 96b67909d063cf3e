/* The ICE restart state machine (src/rtc/restart.c): scenarios as numbered tables of events, each
 * with what it must return and the state after it. The pair tests in test-rtc-peer.c run the
 * same machine over real libnice agents. */
#include <glib.h>

#include "rtc/ice.h"
#include "rtc/restart.h"

enum ev {
	END = 0,
	LOCAL,		/* rtc_peer_restart_ice */
	OFFER,		/* rtc_peer_create_offer */
	ANSWER,		/* an answer arrives: ret = whether it is expected (then taken) */
	REMOTE_NEW,	/* re-offer with new credentials: ret = whether ICE must restart */
	REMOTE_SAME,	/* re-offer with the same credentials: ret = whether ICE must restart */
	LOST,		/* ret = enum rtc_path_report */
	PAIR,
	RX,
};

enum { N = RTC_RESTART_NONE, L = RTC_RESTART_LOCAL, C = RTC_RESTART_CHECKING };
enum { R0 = RTC_PATH_REPORT_NONE, RL = RTC_PATH_REPORT_LOST, RR = RTC_PATH_REPORT_RENEWED,
       RB = RTC_PATH_REPORT_BACK, RA = RTC_PATH_REPORT_AGAIN };

struct step {
	enum ev ev;
	int ret;
	int state;
	bool lost, pending, watching;
};

static int run_step(struct rtc_restart *r, enum ev ev)
{
	int ret = 0;

	switch (ev) {
	case LOCAL:
		rtc_restart_local(r);
		break;
	case OFFER:
		rtc_restart_offer_sent(r);
		break;
	case ANSWER:
		ret = rtc_restart_answer_expected(r);
		if (ret)
			rtc_restart_answer_taken(r);
		break;
	case REMOTE_NEW:
	case REMOTE_SAME:
		ret = rtc_restart_remote_needs_ice(r, ev == REMOTE_NEW);
		rtc_restart_remote_taken(r, ev == REMOTE_NEW);
		break;
	case LOST:
		ret = (int)rtc_restart_path_lost(r);
		break;
	case PAIR:
		ret = (int)rtc_restart_pair_selected(r);
		break;
	case RX:
		ret = (int)rtc_restart_rx(r);
		break;
	case END:
		break;
	}
	return ret;
}

/* Every scenario starts established: the first offer was answered (not pending). */
static const struct step scenarios[][8] = {
	/* 1: the path dies, we restart, the answer comes, a new pair: back */
	{ { LOST, RL, N, true, false, false }, { LOCAL, 0, L, true, false, false },
	  { OFFER, 0, L, true, true, false }, { ANSWER, 1, C, true, false, false },
	  { PAIR, RB, N, false, false, true } },
	/* 2: a pair selected while our restart is unanswered is not the new path */
	{ { LOCAL, 0, L, false, false, false }, { OFFER, 0, L, false, true, false },
	  { PAIR, R0, L, false, true, false }, { ANSWER, 1, C, false, false, false },
	  { PAIR, RR, N, false, false, true } },
	/* 3: loss is reported once; packets arriving again end it without a restart */
	{ { LOST, RL, N, true, false, false }, { LOST, R0, N, true, false, false },
	  { RX, RA, N, false, false, true }, { RX, R0, N, false, false, true },
	  { LOST, RL, N, true, false, false } },
	/* 4: during a restart, packets on the old path do not end it; only a new pair does */
	{ { LOST, RL, N, true, false, false }, { LOCAL, 0, L, true, false, false },
	  { OFFER, 0, L, true, true, false }, { RX, R0, L, true, true, false },
	  { ANSWER, 1, C, true, false, false }, { RX, R0, C, true, false, false },
	  { PAIR, RB, N, false, false, true } },
	/* 5: the remote side restarts: ICE restarts here too, checks run, a pair ends it */
	{ { REMOTE_NEW, 1, C, false, false, false }, { PAIR, RR, N, false, false, true } },
	/* 6: glare: our unanswered restart's credentials answer the remote restart (no second
	 * ICE restart) and our offer is rolled back: its answer, if it comes, is stale */
	{ { LOCAL, 0, L, false, false, false }, { OFFER, 0, L, false, true, false },
	  { REMOTE_NEW, 0, C, false, false, false }, { ANSWER, 0, C, false, false, false },
	  { PAIR, RR, N, false, false, true } },
	/* 7: a repeated offer after our own restart gives back the remote credentials */
	{ { LOCAL, 0, L, false, false, false }, { REMOTE_SAME, 0, C, false, false, false },
	  { PAIR, RR, N, false, false, true } },
	/* 8: a repeated offer on a working path changes nothing; an answer nobody asked for is
	 * refused */
	{ { REMOTE_SAME, 0, N, false, false, true }, { ANSWER, 0, N, false, false, true },
	  { PAIR, R0, N, false, false, true } },
	/* 9: a lost path that ICE itself re-selects (no restart) is back */
	{ { LOST, RL, N, true, false, false }, { PAIR, RB, N, false, false, true } },
	/* 10: a restart after we answered a remote one (restart during its checks) */
	{ { REMOTE_NEW, 1, C, false, false, false }, { LOST, RL, C, true, false, false },
	  { LOCAL, 0, L, true, false, false }, { OFFER, 0, L, true, true, false },
	  { ANSWER, 1, C, true, false, false }, { PAIR, RB, N, false, false, true } },
};

static void test_scenarios(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(scenarios); i++) {
		struct rtc_restart r = { 0 };

		for (size_t j = 0; j < G_N_ELEMENTS(scenarios[i]) && scenarios[i][j].ev; j++) {
			const struct step *s = &scenarios[i][j];
			int ret = run_step(&r, s->ev);

			if (ret != s->ret || (int)r.state != s->state || r.lost != s->lost ||
			    (r.state == RTC_RESTART_LOCAL && r.offer_pending) != s->pending ||
			    rtc_restart_watching(&r) != s->watching)
				g_error("scenario %zu step %zu: ret %d (want %d), state %d (%d), lost %d "
					"(%d), pending %d (%d)", i + 1, j + 1, ret, s->ret, r.state,
					s->state, r.lost, s->lost,
					r.state == RTC_RESTART_LOCAL && r.offer_pending, s->pending);
		}
	}
}

/* A description lists our candidates once per restart (local or remote), not after. */
static void test_list_candidates(void)
{
	struct rtc_restart r = { 0 };

	g_assert_false(rtc_restart_take_list_cands(&r));
	rtc_restart_local(&r);
	g_assert_true(rtc_restart_take_list_cands(&r));
	g_assert_false(rtc_restart_take_list_cands(&r));
	rtc_restart_remote_taken(&r, false);
	g_assert_false(rtc_restart_take_list_cands(&r));
	rtc_restart_remote_taken(&r, true);
	g_assert_true(rtc_restart_take_list_cands(&r));
	g_assert_false(rtc_restart_take_list_cands(&r));
}

/* The ICE layer's liveness tick (rtc_ice_tick) on a fake clock: what the datagram counters say,
 * before the peer decides what it means. Ticks every 500 ms; silence 3 s, consent 30 s. */
static void test_liveness(void)
{
	enum { S = 1000000000, MS = 1000000 };
	enum { LRX = RTC_ICE_LIVE_RX, UN = RTC_ICE_LIVE_UNANSWERED, SI = RTC_ICE_LIVE_SILENT };
	static const struct {
		unsigned at_ms, tx, rx;	/* datagrams sent/received since the previous row */
		bool rearm_un, rearm_si;	/* the peer reported, before this tick */
		unsigned want;
	} rows[] = {
		/* 1 */ { 500, 5, 5, false, false, LRX },
		/* 2 */ { 1000, 5, 0, false, false, 0 },	/* sending, nothing back: clock starts */
		/* 3 */ { 3500, 5, 0, false, false, 0 },	/* 2.5 s */
		/* 4 */ { 4000, 5, 0, false, false, UN },	/* 3 s unanswered */
		/* 5 */ { 4500, 5, 0, false, false, UN },	/* still, until the peer rearms */
		/* 6 */ { 5000, 5, 0, true, false, 0 },	/* rearmed: starts at the next send */
		/* 7 */ { 8000, 5, 0, false, false, UN },
		/* 8 */ { 8500, 0, 1, false, false, LRX },	/* one datagram back clears it */
		/* 9 */ { 38500, 0, 0, false, false, 0 },	/* idle 30 s: not yet over */
		/* 10 */ { 39000, 0, 0, false, false, SI },	/* over the consent timeout */
		/* 11 */ { 39500, 0, 0, false, true, 0 },	/* rearmed: one more timeout */
		/* 12 */ { 70000, 0, 0, false, false, SI },
	};
	struct rtc_ice ice = { 0 };

	ice.connected = true;
	ice.last_rx_ns = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		uint64_t now = (uint64_t)rows[i].at_ms * MS;
		unsigned ev;

		if (rows[i].rearm_un || rows[i].rearm_si)
			rtc_ice_rearm(&ice, (uint64_t)rows[i - 1].at_ms * MS,
				      (rows[i].rearm_un ? UN : 0) | (rows[i].rearm_si ? SI : 0));
		ice.tx_datagrams += rows[i].tx;
		ice.rx_datagrams += rows[i].rx;
		ev = rtc_ice_tick(&ice, now, 3ull * S, 0, 30ull * S);
		if (ev != rows[i].want)
			g_error("row %zu: events %#x, want %#x", i + 1, ev, rows[i].want);
	}
	/* before ICE connected nothing but RX is said */
	ice = (struct rtc_ice){ 0 };
	ice.tx_datagrams = 9;
	g_assert_cmpuint(rtc_ice_tick(&ice, 100ull * S, 3ull * S, 0, 30ull * S), ==, 0);
	g_assert_cmpuint(rtc_ice_tick(&ice, 200ull * S, 3ull * S, 0, 30ull * S), ==, 0);
	/* without a silence time there is no UNANSWERED */
	ice.connected = true;
	ice.last_rx_ns = 200ull * S;
	ice.tx_datagrams++;
	g_assert_cmpuint(rtc_ice_tick(&ice, 201ull * S, 0, 0, 30ull * S), ==, 0);
	ice.tx_datagrams++;
	g_assert_cmpuint(rtc_ice_tick(&ice, 220ull * S, 0, 0, 30ull * S), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtc/restart/scenarios", test_scenarios);
	g_test_add_func("/rtc/restart/list-candidates", test_list_candidates);
	g_test_add_func("/rtc/restart/ice-liveness", test_liveness);
	return g_test_run();
}
