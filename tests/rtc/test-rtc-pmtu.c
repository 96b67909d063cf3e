/* Path-MTU probe codec and state machine (src/rtc/pmtu.c) on a fake clock. */
#include <glib.h>
#include <string.h>

#include "rtc/pmtu.h"

#define MS ((uint64_t)1000000)

static const uint8_t tok[RTC_PMTU_TOKEN_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void test_codec(void)
{
	static uint8_t buf[1500];
	struct rtc_pmtu_msg m;
	uint8_t ack[RTC_PMTU_HDR_LEN];

	rtc_pmtu_encode_probe(buf, 1472, tok);
	g_assert_cmpuint(buf[0], ==, RTC_PMTU_TYPE);
	/* outside every range RFC 7983 assigns: STUN 0-3, ZRTP 16-19, DTLS 20-63, TURN 64-79,
	 * RTP 128-191 */
	g_assert_true(buf[0] >= 4 && buf[0] <= 15);
	g_assert_true(rtc_pmtu_parse(buf, 1472, &m));
	g_assert_cmpuint(m.kind, ==, RTC_PMTU_KIND_PROBE);
	g_assert_cmpuint(m.size, ==, 1472);
	g_assert_cmpmem(m.token, sizeof(m.token), tok, sizeof(tok));
	/* a truncated probe (a middlebox cut it) is not a probe of its announced size */
	g_assert_false(rtc_pmtu_parse(buf, 1400, &m));
	rtc_pmtu_encode_ack(ack, 1472, tok);
	g_assert_true(rtc_pmtu_parse(ack, sizeof(ack), &m));
	g_assert_cmpuint(m.kind, ==, RTC_PMTU_KIND_ACK);
	g_assert_cmpuint(m.size, ==, 1472);
	g_assert_false(rtc_pmtu_parse(ack, sizeof(ack) - 1, &m));
	ack[5] ^= 1;	/* magic */
	g_assert_false(rtc_pmtu_parse(ack, sizeof(ack), &m));
	ack[5] ^= 1;
	ack[1] = 9;	/* unknown kind */
	g_assert_false(rtc_pmtu_parse(ack, sizeof(ack), &m));
	g_assert_false(rtc_pmtu_parse(ack, 3, &m));
}

static void test_candidates(void)
{
	static const struct { unsigned link; bool v6; uint16_t max; unsigned n; uint16_t c0, last; }
	cases[] = {
		/* 1 */ { 1500, false, 1472, 4, 1472, 1280 },
		/* 2 */ { 1500, true, 1452, 3, 1452, 1280 },
		/* 3 */ { 1300, false, 1272, 1, 1272, 1272 },
		/* 4 */ { 9000, false, 8972, 5, 8972, 1280 },
		/* 5 */ { 65536, false, RTC_PMTU_CEIL, 5, RTC_PMTU_CEIL, 1280 },
		/* 6 */ { 1228, false, 1200, 0, 0, 0 },	/* the floor: nothing to probe */
		/* 7 */ { 1000, false, 0, 0, 0, 0 },
	};
	uint16_t c[RTC_PMTU_MAX_CANDS];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		uint16_t max = rtc_pmtu_link_max(cases[i].link, cases[i].v6);
		unsigned n = rtc_pmtu_candidates(max, c);

		g_assert_cmpuint(max, ==, cases[i].max);
		g_assert_cmpuint(n, ==, cases[i].n);
		if (n) {
			g_assert_cmpuint(c[0], ==, cases[i].c0);
			g_assert_cmpuint(c[n - 1], ==, cases[i].last);
		}
		for (unsigned k = 1; k < n; k++)
			g_assert_cmpuint(c[k], <, c[k - 1]);
	}
}

static struct rtc_pmtu_msg ack_of(uint16_t size, const uint8_t *t)
{
	struct rtc_pmtu_msg a = { .kind = RTC_PMTU_KIND_ACK, .size = size };

	memcpy(a.token, t, RTC_PMTU_TOKEN_LEN);
	return a;
}

static bool has(const uint16_t *s, unsigned n, uint16_t v)
{
	for (unsigned i = 0; i < n; i++)
		if (s[i] == v)
			return true;
	return false;
}

/* A clean LAN: every size at once, the largest acked first: done in one RTT. */
static void test_clean(void)
{
	struct rtc_pmtu m;
	uint16_t s[RTC_PMTU_MAX_CANDS + 1];
	unsigned n;
	struct rtc_pmtu_msg a = ack_of(1472, tok);

	rtc_pmtu_init(&m);
	g_assert_cmpuint(m.mtu, ==, RTC_PMTU_FLOOR);
	rtc_pmtu_start(&m, 1472, 1000 * MS, tok);
	g_assert_cmpint(rtc_pmtu_poll(&m, 1000 * MS, s, &n), ==, 0);
	g_assert_cmpuint(n, ==, 5);	/* 1472 1452 1400 1280 and the floor */
	g_assert_true(has(s, n, 1472) && has(s, n, 1200));
	g_assert_cmpint(rtc_pmtu_on_ack(&m, &a, 1001 * MS), ==,
			RTC_PMTU_EV_DONE | RTC_PMTU_EV_CHANGED);
	g_assert_cmpuint(m.mtu, ==, 1472);
	g_assert_true(m.answered);
	/* a late ack of a smaller size changes nothing */
	a = ack_of(1280, tok);
	g_assert_cmpint(rtc_pmtu_on_ack(&m, &a, 1002 * MS), ==, 0);
	g_assert_cmpuint(m.mtu, ==, 1472);
}

/* A 1300-byte link in the middle: 1280 and the floor come back, the rest is resent twice and
 * given up. Forged acks (wrong token) count for nothing. */
static void test_small_link_and_forgery(void)
{
	static const uint8_t bad[RTC_PMTU_TOKEN_LEN] = { 9 };
	struct rtc_pmtu m;
	uint16_t s[RTC_PMTU_MAX_CANDS + 1];
	unsigned n, sends = 0;
	uint64_t now = 5000 * MS;
	struct rtc_pmtu_msg a;
	int ev = 0;

	rtc_pmtu_init(&m);
	rtc_pmtu_start(&m, 1472, now, tok);
	rtc_pmtu_poll(&m, now, s, &n);
	a = ack_of(1472, bad);
	g_assert_cmpint(rtc_pmtu_on_ack(&m, &a, now + MS), ==, 0);
	a = ack_of(1200, tok);
	g_assert_cmpint(rtc_pmtu_on_ack(&m, &a, now + 2 * MS), ==, 0);
	a = ack_of(1280, tok);
	g_assert_cmpint(rtc_pmtu_on_ack(&m, &a, now + 2 * MS), ==, 0);
	g_assert_cmpuint(m.mtu, ==, RTC_PMTU_FLOOR);	/* not before the search ends */
	/* RTT known (2 ms): rounds every 50 ms; only the sizes above 1280 are resent, then sizes
	 * between 1280 and 1400 (the refinement), none answered */
	bool refined = false;

	while (m.phase == RTC_PMTU_SEARCH) {
		g_assert_cmpuint(rtc_pmtu_poll(&m, m.deadline_ns - 1, s, &n), ==, 0);
		g_assert_cmpuint(n, ==, 0);
		now = m.deadline_ns;
		ev = rtc_pmtu_poll(&m, now, s, &n);
		if (n) {
			sends++;
			g_assert_false(has(s, n, 1280));
			for (unsigned k = 0; k < n; k++)
				if (s[k] > 1280 && s[k] < 1400)
					refined = true;
		}
		g_assert_cmpuint(sends, <=, 2 * RTC_PMTU_ROUNDS);
	}
	g_assert_true(refined);
	g_assert_cmpuint(sends, ==, 2 * RTC_PMTU_ROUNDS - 1);
	g_assert_cmpint(ev, ==, RTC_PMTU_EV_DONE | RTC_PMTU_EV_CHANGED);
	g_assert_cmpuint(m.mtu, ==, 1280);
	g_assert_cmpuint(now - 5000 * MS, <, 400 * MS);
}

/* A 1300-byte link (1272 bytes of UDP payload): only the floor among the usual sizes, then the
 * refinement between 1200 and 1280 finds 1266 in one more round. */
static void test_refine(void)
{
	struct rtc_pmtu m;
	uint16_t s[RTC_PMTU_MAX_CANDS + 1];
	unsigned n;
	uint64_t now = 0;
	int ev = 0;

	rtc_pmtu_init(&m);
	rtc_pmtu_start(&m, 1472, now, tok);
	while (m.phase == RTC_PMTU_SEARCH && !ev) {
		now = m.deadline_ns;
		ev = rtc_pmtu_poll(&m, now, s, &n);
		for (unsigned k = 0; k < n; k++) {
			struct rtc_pmtu_msg a = ack_of(s[k], tok);

			if (s[k] <= 1272)	/* what the link carries */
				ev |= rtc_pmtu_on_ack(&m, &a, now + MS);
		}
	}
	g_assert_cmpint(ev, ==, RTC_PMTU_EV_DONE | RTC_PMTU_EV_CHANGED);
	g_assert_cmpuint(m.mtu, ==, 1266);
	g_assert_cmpuint(now, <, 300 * MS);
}

/* Nobody answers (old peer, or the path drops everything odd): 250 + 500 + 1000 ms, then the
 * floor, and no confirmations at the floor. */
static void test_no_answer(void)
{
	struct rtc_pmtu m;
	uint16_t s[RTC_PMTU_MAX_CANDS + 1];
	unsigned n;
	uint64_t t0 = 7 * MS, now = t0;
	int ev = 0;

	rtc_pmtu_init(&m);
	rtc_pmtu_start(&m, 1472, now, tok);
	while (m.phase == RTC_PMTU_SEARCH) {
		now = m.deadline_ns;
		ev = rtc_pmtu_poll(&m, now, s, &n);
	}
	g_assert_cmpuint(now - t0, ==, 1750 * (uint64_t)MS);
	g_assert_cmpint(ev, ==, RTC_PMTU_EV_DONE);
	g_assert_false(m.answered);
	g_assert_cmpuint(m.mtu, ==, RTC_PMTU_FLOOR);
	g_assert_cmpuint(m.deadline_ns, ==, UINT64_MAX);
}

/* After settling: a confirmation every 10 s (one postponed while idle); answered ones keep the
 * size; three missed in a row start a search below it, which settles on what still gets
 * through. The ceiling (usrsctp
 * cannot grow an association) caps every later search. */
static void test_black_hole(void)
{
	struct rtc_pmtu m;
	uint16_t s[RTC_PMTU_MAX_CANDS + 1];
	unsigned n;
	uint64_t now = 0;
	struct rtc_pmtu_msg a = ack_of(1472, tok);
	int ev = 0;

	rtc_pmtu_init(&m);
	rtc_pmtu_start(&m, 1472, now, tok);
	rtc_pmtu_poll(&m, now, s, &n);
	rtc_pmtu_on_ack(&m, &a, now + MS);
	m.ceiling = m.mtu;
	g_assert_cmpuint(m.deadline_ns, ==, MS + (uint64_t)RTC_PMTU_CONFIRM_MS * MS);
	now = m.deadline_ns;
	rtc_pmtu_poll(&m, now, s, &n);
	g_assert_cmpuint(n, ==, 1);
	g_assert_cmpuint(s[0], ==, 1472);
	rtc_pmtu_on_ack(&m, &a, now + MS);	/* answered */
	/* idle (the caller saw no data): postponed by an interval, nothing sent, no miss */
	now = m.deadline_ns;
	rtc_pmtu_postpone(&m, now);
	g_assert_cmpuint(m.deadline_ns, ==, now + (uint64_t)RTC_PMTU_CONFIRM_MS * MS);
	g_assert_false(m.confirm_out);
	g_assert_cmpuint(m.misses, ==, 0);
	/* one more confirmation, then RTC_PMTU_CONFIRM_MISSES deadlines pass without an ack */
	for (int miss = 0; miss <= RTC_PMTU_CONFIRM_MISSES; miss++) {
		g_assert_cmpint(m.phase, ==, RTC_PMTU_SETTLED);
		now = m.deadline_ns;
		ev = rtc_pmtu_poll(&m, now, s, &n);
		g_assert_cmpint(ev, ==, 0);
	}
	/* the third miss: a search downwards, 1472 included, nothing above */
	g_assert_cmpint(m.phase, ==, RTC_PMTU_SEARCH);
	g_assert_cmpuint(m.mtu, ==, 1472);
	g_assert_true(has(s, n, 1472) && has(s, n, 1400) && !has(s, n, 1500));
	a = ack_of(1400, tok);
	rtc_pmtu_on_ack(&m, &a, now + MS);
	while (m.phase == RTC_PMTU_SEARCH) {
		now = m.deadline_ns;
		ev = rtc_pmtu_poll(&m, now, s, &n);
	}
	g_assert_cmpint(ev, ==, RTC_PMTU_EV_DONE | RTC_PMTU_EV_CHANGED);
	g_assert_cmpuint(m.mtu, ==, 1400);
	/* a new pair allowing more still searches only up to the ceiling */
	rtc_pmtu_start(&m, 8000, now, tok);
	g_assert_cmpuint(m.cands[0], ==, 1472);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtc/pmtu/codec", test_codec);
	g_test_add_func("/rtc/pmtu/candidates", test_candidates);
	g_test_add_func("/rtc/pmtu/clean-lan", test_clean);
	g_test_add_func("/rtc/pmtu/small-link-and-forged-ack", test_small_link_and_forgery);
	g_test_add_func("/rtc/pmtu/refine-between-sizes", test_refine);
	g_test_add_func("/rtc/pmtu/no-answer", test_no_answer);
	g_test_add_func("/rtc/pmtu/black-hole", test_black_hole);
	return g_test_run();
}
