/* SDP, candidate and DCEP parsers/formatters: golden inputs from Chromium and aiortc (captured
 * on this machine class, see /work/shared/notes/browser-lab.md), our own output, and numbered
 * tables of malformed inputs that must be refused with a reason. */
#include <glib.h>
#include <string.h>

#include "rtc/dcep.h"
#include "rtc/sdp.h"
#include "util/err.h"

/* Chromium 156, data channel only, getUserMedia variant (candidates trickled separately). */
static const char chromium_offer[] =
	"v=0\r\no=- 3874030400391850394 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
	"a=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n"
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
	"a=ice-ufrag:trp4\r\na=ice-pwd:6EsYRlHqiU1+RH9F6ENwPtyc\r\na=ice-options:trickle\r\n"
	"a=fingerprint:sha-256 57:70:C3:D9:7C:46:2B:8F:C0:94:06:FD:2C:BA:99:7A:7A:CA:10:CD:D7:E1:"
	"C2:10:42:09:9E:5B:E6:D3:B8:11\r\n"
	"a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";

/* aiortc 1.4 offer: the pre-RFC 8841 form with a=sctpmap and the port in the m-line. */
static char *edit(const char *from, const char *to);

static const char aiortc_offer[] =
	"v=0\r\no=- 4004861453 4004861453 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
	"a=msid-semantic:WMS *\r\nm=application 58992 DTLS/SCTP 5000\r\nc=IN IP4 127.0.0.1\r\n"
	"a=mid:0\r\na=sctpmap:5000 webrtc-datachannel 65535\r\na=max-message-size:65536\r\n"
	"a=ice-ufrag:jUFV\r\na=ice-pwd:G3NHQjw7RIDZnU5X7NKovJ\r\n"
	"a=fingerprint:sha-256 0C:01:86:D4:AB:23:53:FC:7A:AC:52:98:28:EA:A1:38:F9:CD:6C:CF:58:EC:"
	"E9:B0:AC:27:9F:41:C3:D8:03:80\r\na=setup:actpass\r\n";

/* aiortc's answer shape: a=setup:active, 64 KiB messages, candidates inside the SDP. */
static const char aiortc_answer[] =
	"v=0\r\no=- 3890 3890 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
	"a=msid-semantic:WMS *\r\nm=application 41234 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	"c=IN IP4 127.0.0.1\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:65536\r\n"
	"a=candidate:16572de626da4e5384a0ce2d0d93678a 1 udp 2130706431 127.0.0.1 41234 typ host\r\n"
	"a=end-of-candidates\r\na=ice-ufrag:Ab3d\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
	"a=fingerprint:sha-256 0C:01:86:D4:AB:23:53:FC:7A:AC:52:98:28:EA:A1:38:F9:CD:6C:CF:58:EC:"
	"E9:B0:AC:27:9F:41:C3:D8:03:80\r\na=setup:active\r\n";

static void test_chromium_offer(void)
{
	struct rtc_sdp d;
	struct rg_err err = { 0 };

	g_assert_cmpint(rtc_sdp_parse(&d, chromium_offer, strlen(chromium_offer), &err), ==, 0);
	g_assert_cmpstr(d.ufrag, ==, "trp4");
	g_assert_cmpstr(d.pwd, ==, "6EsYRlHqiU1+RH9F6ENwPtyc");
	g_assert_cmpint(d.fingerprint[0], ==, 0x57);
	g_assert_cmpint(d.fingerprint[31], ==, 0x11);
	g_assert_cmpint(d.setup, ==, RTC_SETUP_ACTPASS);
	g_assert_cmpstr(d.mid, ==, "0");
	g_assert_cmpint(d.sctp_port, ==, 5000);
	g_assert_cmpuint(d.max_message_size, ==, 262144);
	g_assert_true(d.trickle);
	g_assert_false(d.legacy);
	g_assert_false(d.rg_crc32c_offload);
	g_assert_false(d.rg_wg_direct);	/* browsers never advertise the direct path */
	g_assert_cmpuint(d.n_cands, ==, 0);
	g_assert_true(d.has_session_id);
	g_assert_cmpuint(d.session_id, ==, 3874030400391850394ull);
}

/* o= sess-id (tells a renegotiation from a new peer connection): read when it is a decimal of
 * at most 19 digits, else absent; never an error. */
static void test_session_id(void)
{
	static const struct { const char *o; bool has; uint64_t id; } cases[] = {
		/* 1 */ { "o=- 3874030400391850394 2 IN IP4 127.0.0.1", true, 3874030400391850394ull },
		/* 2 */ { "o=mozilla...THIS_IS_SDPARTA-99 42 0 IN IP4 0.0.0.0", true, 42 },
		/* 3 */ { "o=- 0 2 IN IP4 127.0.0.1", true, 0 },
		/* 4 */ { "o=- 9223372036854775807 2 IN IP4 1.2.3.4", true, 9223372036854775807ull },
		/* 5 */ { "o=- 12345678901234567890 2 IN IP4 1.2.3.4", false, 0 },	/* 20 digits */
		/* 6 */ { "o=- 12x4 2 IN IP4 1.2.3.4", false, 0 },
		/* 7 */ { "o=-", false, 0 },
		/* 8 */ { "o=", false, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rtc_sdp d;
		struct rg_err err = { 0 };
		char *s = edit("o=- 3874030400391850394 2 IN IP4 127.0.0.1", cases[i].o);

		g_assert_cmpint(rtc_sdp_parse(&d, s, strlen(s), &err), ==, 0);
		g_assert_cmpint(d.has_session_id, ==, cases[i].has);
		if (cases[i].has)
			g_assert_cmpuint(d.session_id, ==, cases[i].id);
		g_free(s);
	}
}

static void test_aiortc(void)
{
	struct rtc_sdp d;
	struct rg_err err = { 0 };

	g_assert_cmpint(rtc_sdp_parse(&d, aiortc_offer, strlen(aiortc_offer), &err), ==, 0);
	g_assert_true(d.legacy);
	g_assert_cmpint(d.sctp_port, ==, 5000);
	g_assert_cmpuint(d.max_message_size, ==, 65536);
	g_assert_cmpstr(d.ufrag, ==, "jUFV");
	g_assert_cmpint(d.setup, ==, RTC_SETUP_ACTPASS);

	g_assert_cmpint(rtc_sdp_parse(&d, aiortc_answer, strlen(aiortc_answer), &err), ==, 0);
	g_assert_false(d.legacy);
	g_assert_cmpint(d.setup, ==, RTC_SETUP_ACTIVE);
	g_assert_cmpuint(d.n_cands, ==, 1);
	g_assert_true(d.end_of_candidates);
	g_assert_cmpstr(d.cands[0].addr, ==, "127.0.0.1");
	g_assert_cmpint(d.cands[0].port, ==, 41234);
	g_assert_cmpint(d.cands[0].type, ==, RTC_CAND_HOST);
}

static void test_format_roundtrip(void)
{
	struct rtc_sdp d = { 0 }, back;
	struct rg_err err = { 0 };
	char *s;
	static const char golden[] =
		"v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
		"a=ice-ufrag:uFrg\r\na=ice-pwd:0123456789abcdefghijkl\r\na=ice-options:trickle\r\n"
		"a=fingerprint:sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:"
		"14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\r\na=setup:actpass\r\na=mid:0\r\n"
		"a=sctp-port:5000\r\na=max-message-size:262144\r\na=x-rg-crc32c-offload\r\n";

	strcpy(d.ufrag, "uFrg");
	strcpy(d.pwd, "0123456789abcdefghijkl");
	for (int i = 0; i < RTC_FP_LEN; i++)
		d.fingerprint[i] = (uint8_t)i;
	d.setup = RTC_SETUP_ACTPASS;
	strcpy(d.mid, "0");
	d.sctp_port = 5000;
	d.max_message_size = 262144;
	d.rg_crc32c_offload = true;
	s = rtc_sdp_format(&d, 42);
	g_assert_cmpstr(s, ==, golden);
	g_assert_cmpint(rtc_sdp_parse(&back, s, strlen(s), &err), ==, 0);
	g_assert_true(back.has_session_id);
	g_assert_cmpuint(back.session_id, ==, 42);
	g_assert_cmpmem(back.fingerprint, RTC_FP_LEN, d.fingerprint, RTC_FP_LEN);
	g_assert_true(back.rg_crc32c_offload);
	g_assert_false(back.rg_wg_direct);
	g_assert_true(back.trickle);
	free(s);

	/* the direct path's attribute: said only when set, read back */
	d.rg_wg_direct = true;
	s = rtc_sdp_format(&d, 42);
	g_assert_nonnull(strstr(s, "a=x-rg-crc32c-offload\r\na=x-rg-wg-direct\r\n"));
	g_assert_cmpint(rtc_sdp_parse(&back, s, strlen(s), &err), ==, 0);
	g_assert_true(back.rg_wg_direct);
	free(s);
	d.rg_wg_direct = false;

	/* legacy answer mirrors the legacy offer */
	d.legacy = true;
	d.setup = RTC_SETUP_ACTIVE;
	s = rtc_sdp_format(&d, 42);
	g_assert_nonnull(strstr(s, "m=application 9 DTLS/SCTP 5000\r\n"));
	g_assert_nonnull(strstr(s, "a=sctpmap:5000 webrtc-datachannel 65535\r\n"));
	g_assert_cmpint(rtc_sdp_parse(&back, s, strlen(s), &err), ==, 0);
	g_assert_true(back.legacy);
	g_assert_cmpint(back.setup, ==, RTC_SETUP_ACTIVE);
	free(s);
}

static char *edit(const char *from, const char *to)
{
	gchar **parts = g_strsplit(chromium_offer, from, 2);
	char *s;

	g_assert_nonnull(parts[1]);
	s = g_strconcat(parts[0], to, parts[1], NULL);
	g_strfreev(parts);
	return s;
}

static void test_sdp_malformed(void)
{
	static const struct { const char *from, *to; bool ok; } cases[] = {
		/* 1 */ { "v=0\r\n", "", false },
		/* 2 */ { "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "m=audio 9 RTP/AVP 0", false },
		/* 3 */ { "m=application 9 ", "m=application 0 ", false },
		/* 4 */ { "webrtc-datachannel\r\n", "webrtc-data\r\n", false },
		/* 5 */ { "a=ice-ufrag:trp4", "a=ice-ufrag:tr", false },
		/* 6 */ { "a=ice-pwd:6EsYRlHqiU1+RH9F6ENwPtyc\r\n", "", false },
		/* 7 */ { "sha-256 57:70", "sha-256 5:770", false },
		/* 8 */ { "sha-256 ", "sha-1 ", false },
		/* 9 */ { "a=setup:actpass", "a=setup:holdconn", false },
		/* 10 */ { "a=sctp-port:5000", "a=sctp-port:99999", false },
		/* 11 */ { "a=max-message-size:262144", "a=max-message-size:x", false },
		/* 12 */ { "a=mid:0", "a=mid:", false },
		/* 13 */ { "s=-\r\n", "garbage\r\n", false },
		/* 14 */ { "a=setup:actpass", "a=setup:passive", true },
		/* 15 */ { "a=mid:0", "a=mid:data", true },
		/* 16 */ { "a=sctp-port:5000\r\n", "", true },	/* defaults to 5000 */
		/* 17 */ { "a=max-message-size:262144", "a=max-message-size:0", true },
		/* 18 */ { "a=mid:0\r\n", "a=mid:0\r\na=candidate:bad\r\n", true },	/* skipped */
		/* 19 */ { "\r\n", "\n", true },	/* bare LF line ends */
		/* 20 */ { "c=IN IP4 0.0.0.0\r\n", "c=IN IP4 0.0.0.0\r\na=ice-lite\r\n", true },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *s = edit(cases[i].from, cases[i].to);
		struct rtc_sdp d;
		struct rg_err err = { 0 };
		int r = rtc_sdp_parse(&d, s, strlen(s), &err);

		if (cases[i].ok != (r == 0))
			g_error("case %zu: got %d (%s)", i + 1, r, err.msg);
		if (!cases[i].ok)
			g_assert_cmpuint(strlen(err.msg), >, 0);
		g_free(s);
	}
}

static void test_sdp_nul_and_size(void)
{
	struct rtc_sdp d;
	struct rg_err err = { 0 };
	char buf[sizeof(chromium_offer)];
	char *big = g_malloc0(RTC_SDP_MAX_LEN + 2);

	memcpy(buf, chromium_offer, sizeof(buf));
	buf[20] = '\0';
	g_assert_cmpint(rtc_sdp_parse(&d, buf, sizeof(buf) - 1, &err), ==, -EINVAL);
	memset(big, 'a', RTC_SDP_MAX_LEN + 1);
	g_assert_cmpint(rtc_sdp_parse(&d, big, RTC_SDP_MAX_LEN + 1, &err), ==, -EINVAL);
	g_free(big);
}

static void test_candidates(void)
{
	static const struct {
		const char *s;
		bool ok;
		enum rtc_cand_type type;
		const char *addr;
		uint16_t port;
		bool tcp;
	} cases[] = {
		/* 1 */ { "candidate:1081494188 1 udp 2122260223 127.0.0.1 44147 typ host generation 0 "
			  "ufrag trp4 network-id 1 network-cost 50", true, RTC_CAND_HOST, "127.0.0.1", 44147, false },
		/* 2 */ { "candidate:3202129464 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active "
			  "generation 0", true, RTC_CAND_HOST, "127.0.0.1", 9, true },
		/* 3 */ { "a=candidate:2 1 UDP 1694498815 203.0.113.7 51000 typ srflx raddr 10.0.0.2 "
			  "rport 40000", true, RTC_CAND_SRFLX, "203.0.113.7", 51000, false },
		/* 4 */ { "candidate:3 1 udp 16777215 2001:db8::1 3478 typ relay raddr 0.0.0.0 rport 0",
			  true, RTC_CAND_RELAY, "2001:db8::1", 3478, false },
		/* 5 */ { "candidate:4 1 udp 2122260223 3f1c2b4e-aaaa.local 5000 typ host", true,
			  RTC_CAND_HOST, "3f1c2b4e-aaaa.local", 5000, false },
		/* 6 */ { "candidate:5 1 udp 1 1.2.3.4 5 typ prflx\r\n", true, RTC_CAND_PRFLX, "1.2.3.4", 5, false },
		/* 7 */ { "candidate:1 1 udp 1 1.2.3.4 5", false },
		/* 8 */ { "candidate:1 1 udp 1 1.2.3.4 70000 typ host", false },
		/* 9 */ { "candidate:1 0 udp 1 1.2.3.4 5 typ host", false },
		/* 10 */ { "candidate:1 1 udp 1 1.2.3.4 5 typ bogus", false },
		/* 11 */ { "candidate:123456789012345678901234567890123 1 udp 1 1.2.3.4 5 typ host", false },
		/* 12 */ { "candidate:1 1 udp 1 1.2.3.4 5 typ host generation", false },
		/* 13 */ { "", false },
		/* 14 */ { "candidate:1 1 sctp 1 1.2.3.4 5 typ host", false },
		/* 15 */ { "candidate:1 1 udp 99999999999 1.2.3.4 5 typ host", false },
		/* 16 */ { "cand:1 1 udp 1 1.2.3.4 5 typ host", false },
		/* 17 */ { "candidate:1 1 udp 1 1.2.3.4 5 typ srflx raddr 1.1.1.1 rport x", false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rtc_cand c;
		struct rg_err err = { 0 };
		int r = rtc_cand_parse(&c, cases[i].s, strlen(cases[i].s), &err);

		if (cases[i].ok != (r == 0))
			g_error("case %zu: got %d (%s)", i + 1, r, err.msg);
		if (!cases[i].ok) {
			g_assert_cmpuint(strlen(err.msg), >, 0);
			continue;
		}
		g_assert_cmpint(c.type, ==, cases[i].type);
		g_assert_cmpstr(c.addr, ==, cases[i].addr);
		g_assert_cmpint(c.port, ==, cases[i].port);
		g_assert_cmpint(c.tcp, ==, cases[i].tcp);
	}
}

static void test_candidate_format(void)
{
	struct rtc_cand c = { 0 }, back;
	char buf[RTC_CAND_STR_MAX + 1];

	strcpy(c.foundation, "1");
	c.component = 1;
	c.priority = 1694498815;
	strcpy(c.addr, "198.51.100.4");
	c.port = 61000;
	c.type = RTC_CAND_SRFLX;
	c.has_raddr = true;
	strcpy(c.raddr, "10.0.0.2");
	c.rport = 40000;
	g_assert_cmpint(rtc_cand_format(buf, sizeof(buf), &c), >, 0);
	g_assert_cmpstr(buf, ==, "candidate:1 1 udp 1694498815 198.51.100.4 61000 typ srflx "
				 "raddr 10.0.0.2 rport 40000");
	g_assert_cmpint(rtc_cand_parse(&back, buf, strlen(buf), NULL), ==, 0);
	g_assert_cmpint(back.rport, ==, 40000);
	g_assert_cmpint(rtc_cand_format(buf, 10, &c), ==, -ENOSPC);
}

static void test_dcep(void)
{
	static const uint8_t golden[] = { 0x03, 0x81, 0x01, 0x00, 0, 0, 0, 0, 0x00, 0x09, 0x00, 0x00,
					  'w', 'i', 'r', 'e', 'g', 'u', 'a', 'r', 'd' };
	struct rtc_dcep_open o = { .channel_type = RTC_DCEP_PARTIAL_RELIABLE_REXMIT | RTC_DCEP_UNORDERED,
				   .priority = 256, .reliability = 0,
				   .label = (const uint8_t *)"wireguard", .label_len = 9 }, d;
	uint8_t buf[64];

	g_assert_cmpint(rtc_dcep_encode_open(buf, sizeof(buf), &o), ==, sizeof(golden));
	g_assert_cmpmem(buf, sizeof(golden), golden, sizeof(golden));
	g_assert_true(rtc_dcep_decode_open(&d, buf, sizeof(golden)));
	g_assert_cmpint(d.channel_type, ==, 0x81);
	g_assert_cmpint(d.priority, ==, 256);
	g_assert_cmpmem(d.label, d.label_len, "wireguard", 9);
	g_assert_cmpint(d.protocol_len, ==, 0);
	g_assert_cmpint(rtc_dcep_encode_open(buf, 10, &o), ==, -ENOSPC);
	g_assert_cmpint(rtc_dcep_msg_type(golden, 0), ==, -1);
	g_assert_cmpint(rtc_dcep_msg_type((const uint8_t *)"\x02", 1), ==, RTC_DCEP_ACK);

	/* malformed: numbered */
	memcpy(buf, golden, sizeof(golden));
	/* 1 short */ g_assert_false(rtc_dcep_decode_open(&d, buf, 11));
	/* 2 trailing byte */ g_assert_false(rtc_dcep_decode_open(&d, buf, sizeof(golden) + 1));
	/* 3 label longer than buffer */ buf[9] = 10;
	g_assert_false(rtc_dcep_decode_open(&d, buf, sizeof(golden)));
	buf[9] = 9;
	/* 4 unknown channel type */ buf[1] = 0x05;
	g_assert_false(rtc_dcep_decode_open(&d, buf, sizeof(golden)));
	buf[1] = 0x81;
	/* 5 not an OPEN */ buf[0] = RTC_DCEP_ACK;
	g_assert_false(rtc_dcep_decode_open(&d, buf, sizeof(golden)));
	buf[0] = RTC_DCEP_OPEN;
	/* 6 protocol field counted */ buf[11] = 1;
	g_assert_false(rtc_dcep_decode_open(&d, buf, sizeof(golden)));
	g_assert_true(rtc_dcep_decode_open(&d, buf, sizeof(golden) + 0) == false);
	buf[11] = 0;
	/* 7 ok again */ g_assert_true(rtc_dcep_decode_open(&d, buf, sizeof(golden)));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtc/sdp/chromium-offer", test_chromium_offer);
	g_test_add_func("/rtc/sdp/session-id", test_session_id);
	g_test_add_func("/rtc/sdp/aiortc", test_aiortc);
	g_test_add_func("/rtc/sdp/format-roundtrip", test_format_roundtrip);
	g_test_add_func("/rtc/sdp/malformed", test_sdp_malformed);
	g_test_add_func("/rtc/sdp/nul-and-size", test_sdp_nul_and_size);
	g_test_add_func("/rtc/sdp/candidates", test_candidates);
	g_test_add_func("/rtc/sdp/candidate-format", test_candidate_format);
	g_test_add_func("/rtc/dcep/open-ack", test_dcep);
	return g_test_run();
}
