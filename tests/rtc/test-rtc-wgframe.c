/* The direct path's framing and the ICE 5-tuple demultiplexer (src/rtc/wgframe.c): numbered
 * tables of first bytes, frames that must be refused, GRO train cuts, and round trips. */
#include <glib.h>
#include <string.h>

#include "rtc/wgframe.h"

static void test_classify(void)
{
	static const struct { uint8_t first; enum rtc_demux want; } cases[] = {
		/* 1 */ { 0, RTC_DEMUX_STUN },	/* 2 */ { 3, RTC_DEMUX_STUN },
		/* 3 */ { 4, RTC_DEMUX_DROP },	/* 4 */ { 8, RTC_DEMUX_DIRECT },
		/* 5 */ { 12, RTC_DEMUX_PMTU },	/* 6 */ { 15, RTC_DEMUX_DROP },
		/* 7 */ { 16, RTC_DEMUX_DROP },	/* 8 */ { 19, RTC_DEMUX_DROP },	/* ZRTP */
		/* 9 */ { 20, RTC_DEMUX_DTLS },	/* 10 */ { 63, RTC_DEMUX_DTLS },
		/* 11 */ { 64, RTC_DEMUX_DROP },	/* 12 */ { 79, RTC_DEMUX_DROP },	/* TURN ch */
		/* 13 */ { 128, RTC_DEMUX_DROP },	/* 14 */ { 191, RTC_DEMUX_DROP },	/* RTP */
		/* 15 */ { 255, RTC_DEMUX_DROP },	/* 16 */ { 1, RTC_DEMUX_STUN },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpint(rtc_demux_classify(&cases[i].first, 1), ==, cases[i].want);
	g_assert_cmpint(rtc_demux_classify(NULL, 0), ==, RTC_DEMUX_DROP);
}

static size_t wg(uint8_t *buf, uint8_t type, size_t len)
{
	memset(buf, 0, len);
	buf[0] = type;
	for (size_t i = 4; i < len; i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	return len;
}

static void test_round_trip(void)
{
	static const struct { uint8_t type; size_t len; } cases[] = {
		/* 1 */ { 1, 148 }, /* 2 */ { 2, 92 }, /* 3 */ { 3, 64 }, /* 4 */ { 4, 32 },
		/* 5 */ { 4, 1392 }, /* 6 */ { 4, 9000 }, /* 7 */ { 4, 65535 },
	};
	static uint8_t buf[65535], orig[65535];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t n = wg(orig, cases[i].type, cases[i].len);

		memcpy(buf, orig, n);
		g_assert_true(rtc_wgframe_wrap(buf, n));
		g_assert_cmpuint(buf[0], ==, RTC_WGF_TYPE);
		g_assert_cmpuint(buf[1], ==, cases[i].type);
		g_assert_cmpuint((size_t)buf[2] << 8 | buf[3], ==, n);
		g_assert_cmpmem(buf + 4, n - 4, orig + 4, n - 4);	/* the rest untouched */
		g_assert_cmpint(rtc_demux_classify(buf, n), ==, RTC_DEMUX_DIRECT);
		g_assert_cmpint(rtc_wgframe_unwrap(buf, n), ==, RTC_WGF_WG);
		g_assert_cmpmem(buf, n, orig, n);
	}
}

/* What wrap refuses (not a WireGuard message) leaves the buffer as it was. */
static void test_wrap_refuses(void)
{
	static const struct { uint8_t b0, b1; size_t len; } cases[] = {
		/* 1 */ { 0, 0, 64 },	/* type 0 */
		/* 2 */ { 5, 0, 64 },	/* type 5 */
		/* 3 */ { 4, 1, 64 },	/* reserved byte set */
		/* 4 */ { 4, 0, 31 },	/* shorter than a keepalive */
		/* 5 */ { 23, 0, 64 },	/* a DTLS record */
	};
	uint8_t buf[128], orig[128];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		memset(orig, 0, sizeof(orig));
		orig[0] = cases[i].b0;
		orig[1] = cases[i].b1;
		memcpy(buf, orig, sizeof(buf));
		g_assert_false(rtc_wgframe_wrap(buf, cases[i].len));
		g_assert_cmpmem(buf, sizeof(buf), orig, sizeof(orig));
	}
	g_assert_false(rtc_wgframe_wrap(buf, 65536));
}

/* Frames unwrap refuses, and the probe kinds. */
static void test_unwrap(void)
{
	uint8_t f[64], tok[RTC_WGF_TOKEN_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const struct { uint8_t b0, b1; uint16_t lenfield; size_t len; enum rtc_wgframe_kind want; } cases[] = {
		/* 1 */ { 8, 4, 64, 64, RTC_WGF_WG },
		/* 2 */ { 8, 4, 63, 64, RTC_WGF_BAD },	/* length field disagrees */
		/* 3 */ { 8, 4, 65, 64, RTC_WGF_BAD },
		/* 4 */ { 8, 0, 64, 64, RTC_WGF_BAD },	/* kind 0 */
		/* 5 */ { 8, 5, 64, 64, RTC_WGF_BAD },	/* kind 5 */
		/* 6 */ { 8, 0x80, 64, 64, RTC_WGF_BAD },	/* a probe is 16 bytes */
		/* 7 */ { 8, 4, 16, 16, RTC_WGF_BAD },	/* WireGuard below 32 bytes */
		/* 8 */ { 9, 4, 64, 64, RTC_WGF_BAD },	/* not our type */
		/* 9 */ { 8, 4, 3, 3, RTC_WGF_BAD },	/* shorter than the header */
		/* 10 */ { 8, 1, 32, 32, RTC_WGF_WG },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		memset(f, 0, sizeof(f));
		f[0] = cases[i].b0;
		f[1] = cases[i].b1;
		f[2] = (uint8_t)(cases[i].lenfield >> 8);
		f[3] = (uint8_t)cases[i].lenfield;
		g_assert_cmpint(rtc_wgframe_unwrap(f, cases[i].len), ==, cases[i].want);
	}
	rtc_wgframe_probe(f, RTC_WGF_KIND_PROBE, tok);
	g_assert_cmpint(rtc_wgframe_unwrap(f, RTC_WGF_PROBE_LEN), ==, RTC_WGF_PROBE);
	g_assert_cmpmem(rtc_wgframe_token(f), RTC_WGF_TOKEN_LEN, tok, sizeof(tok));
	g_assert_cmpint(rtc_wgframe_unwrap(f, RTC_WGF_PROBE_LEN + 1), ==, RTC_WGF_BAD);
	f[15] = 1;	/* padding must be zero */
	g_assert_cmpint(rtc_wgframe_unwrap(f, RTC_WGF_PROBE_LEN), ==, RTC_WGF_BAD);
	rtc_wgframe_probe(f, RTC_WGF_KIND_PROBE_ACK, tok);
	g_assert_cmpint(rtc_wgframe_unwrap(f, RTC_WGF_PROBE_LEN), ==, RTC_WGF_ACK);
}

/* GRO trains: frames and DTLS records are cut by their own length; garbage is not cut. */
static void test_train_cut(void)
{
	uint8_t t[400];
	size_t n = 0;

	n += wg(t + n, 4, 100);
	g_assert_true(rtc_wgframe_wrap(t, 100));
	n += wg(t + n, 4, 100);
	g_assert_true(rtc_wgframe_wrap(t + 100, 100));
	n += wg(t + n, 4, 60);
	g_assert_true(rtc_wgframe_wrap(t + 200, 60));
	g_assert_cmpuint(rtc_demux_train_cut(t, n), ==, 100);
	g_assert_cmpuint(rtc_demux_train_cut(t + 100, n - 100), ==, 100);
	g_assert_cmpuint(rtc_demux_train_cut(t + 200, n - 200), ==, 0);	/* the last one */
	/* a DTLS record of 13 + 20 bytes followed by another */
	memset(t, 0, 66);
	t[0] = t[33] = 23;
	t[12] = t[45] = 20;
	g_assert_cmpuint(rtc_demux_train_cut(t, 66), ==, 33);
	g_assert_cmpuint(rtc_demux_train_cut(t + 33, 33), ==, 0);
	/* a length field of 0..3, or past the end: not cut */
	t[0] = RTC_WGF_TYPE;
	t[2] = 0;
	t[3] = 2;
	g_assert_cmpuint(rtc_demux_train_cut(t, 66), ==, 0);
	t[3] = 200;
	g_assert_cmpuint(rtc_demux_train_cut(t, 66), ==, 0);
	t[0] = 1;	/* STUN is never cut */
	g_assert_cmpuint(rtc_demux_train_cut(t, 66), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtc/wgframe/classify", test_classify);
	g_test_add_func("/rtc/wgframe/round-trip", test_round_trip);
	g_test_add_func("/rtc/wgframe/wrap-refuses", test_wrap_refuses);
	g_test_add_func("/rtc/wgframe/unwrap", test_unwrap);
	g_test_add_func("/rtc/wgframe/train-cut", test_train_cut);
	return g_test_run();
}
