/* Ours ↔ ours in one process: two rtc_peers on one GMainContext over loopback, signaling by
 * direct calls. Covers channel opens both ways, ordered/reliable and unordered/unreliable
 * messages, a large message, a wrong fingerprint, and a vanished peer. */
#include <errno.h>
#include <glib.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rtc/peer.h"	/* internals for the loss hook */
#include "rtc/rtc.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

enum { MAX_CH = 8, WAIT_MS = 20000 };

struct side {
	const char *name;
	struct rtc_peer *p;
	struct side *other;
	enum rtc_state state;
	int n_states[RTC_STATE_CLOSED + 1];
	struct rtc_channel *ch[MAX_CH];
	int n_open;
	int n_closed;
	int n_msgs;
	size_t bytes;
	GByteArray *last;
	bool last_binary;
	bool eoc;
	bool drop_candidates;
	int n_writable;
	int n_lost, n_back;		/* ops.ice_path calls */
	int n_wg;			/* ops.wg_datagram calls */
	bool wg_src_recurses;		/* the last one ran in a source that may recurse */
	bool wg_by_own;			/* the last one was read by our own receive (ice.c rx_*) */
	unsigned acks_at_wg;		/* direct.acks when the last one arrived */
	GByteArray *last_wg;
	int n_direct_up, n_direct_down;	/* ops.direct_changed calls */
};

static void on_cand(void *o, const char *c)
{
	struct side *s = o;
	struct rg_err err = { 0 };

	if (!c)
		s->eoc = true;
	if (s->drop_candidates || !s->other->p)
		return;
	g_assert_cmpint(rtc_peer_add_remote_candidate(s->other->p, c, &err), ==, 0);
}

static void on_state(void *o, enum rtc_state st)
{
	struct side *s = o;

	s->state = st;
	s->n_states[st]++;
}

static void on_open(void *o, struct rtc_channel *ch)
{
	struct side *s = o;

	g_assert_cmpint(s->n_open, <, MAX_CH);
	s->ch[s->n_open++] = ch;
}

static void on_msg(void *o, struct rtc_channel *ch, const uint8_t *d, size_t n, bool binary)
{
	struct side *s = o;

	(void)ch;
	s->n_msgs++;
	s->bytes += n;
	g_byte_array_set_size(s->last, 0);
	g_byte_array_append(s->last, d, (guint)n);
	s->last_binary = binary;
}

static void on_closed(void *o, struct rtc_channel *ch)
{
	struct side *s = o;

	for (int i = 0; i < s->n_open; i++)
		if (s->ch[i] == ch)
			s->ch[i] = NULL;
	s->n_closed++;
}

static void on_writable(void *o, struct rtc_channel *ch)
{
	(void)ch;
	((struct side *)o)->n_writable++;
}

static void on_path(void *o, bool up, const char *why)
{
	struct side *s = o;

	if (up) {
		s->n_back++;
	} else {
		g_assert_nonnull(why);
		s->n_lost++;
	}
}

static void on_wg(void *o, uint8_t *buf, size_t len)
{
	struct side *s = o;

	s->n_wg++;
	{
		GSource *src = g_main_current_source();

		s->wg_src_recurses = src && g_source_get_can_recurse(src);
		s->wg_by_own = src && !g_strcmp0(g_source_get_name(src), "rtc-rx");
	}
	s->acks_at_wg = s->p ? s->p->direct.acks : 0;
	if (!s->last_wg)
		s->last_wg = g_byte_array_new();
	g_byte_array_set_size(s->last_wg, 0);
	g_byte_array_append(s->last_wg, buf, (guint)len);
}

static void on_direct(void *o, bool up)
{
	struct side *s = o;

	if (up)
		s->n_direct_up++;
	else
		s->n_direct_down++;
}

static const struct rtc_peer_ops ops = {
	.local_candidate = on_cand, .state_changed = on_state, .channel_open = on_open,
	.channel_message = on_msg, .channel_closed = on_closed, .channel_writable = on_writable,
};
/* The same plus ice_path: a dead path waits for an ICE restart instead of failing. */
static const struct rtc_peer_ops path_ops = {
	.local_candidate = on_cand, .state_changed = on_state, .channel_open = on_open,
	.channel_message = on_msg, .channel_closed = on_closed, .channel_writable = on_writable,
	.ice_path = on_path,
};
/* The same plus the direct path's callbacks. */
static const struct rtc_peer_ops direct_ops = {
	.local_candidate = on_cand, .state_changed = on_state, .channel_open = on_open,
	.channel_message = on_msg, .channel_closed = on_closed, .channel_writable = on_writable,
	.ice_path = on_path, .wg_datagram = on_wg, .direct_changed = on_direct,
};
static unsigned pair_silence_ms;	/* > 0: pair_new uses path_ops with this path_silence_ms */

struct pair {
	struct side a, b;	/* a offers */
};

/* Two peers a and b from their configs (log ids set here), sharing ops. */
static void pair_new_cfg(struct pair *t, struct rtc_config *ca, struct rtc_config *cb,
			 const struct rtc_peer_ops *o)
{
	struct rg_err err = { 0 };

	memset(t, 0, sizeof(*t));
	t->a.name = "a";
	t->b.name = "b";
	t->a.other = &t->b;
	t->b.other = &t->a;
	t->a.last = g_byte_array_new();
	t->b.last = g_byte_array_new();
	ca->log_id = "a";
	g_assert_cmpint(rtc_peer_new(&t->a.p, NULL, ca, o, &t->a, &err), ==, 0);
	cb->log_id = "b";
	g_assert_cmpint(rtc_peer_new(&t->b.p, NULL, cb, o, &t->b, &err), ==, 0);
}

static void pair_new(struct pair *t, unsigned consent_ms, bool no_offload)
{
	static const char *const lo[] = { "127.0.0.1" };
	struct rtc_config cfg = { .local_addrs = lo, .n_local_addrs = 1,
				  .consent_timeout_ms = consent_ms,
				  .path_silence_ms = pair_silence_ms,
				  .no_crc32c_offload = no_offload };
	struct rtc_config cb = cfg;

	pair_new_cfg(t, &cfg, &cb, pair_silence_ms ? &path_ops : &ops);
}

/* A loopback pair where a and b each probe the path MTU or not. */
static void pair_new_probing(struct pair *t, bool a_probes, bool b_probes)
{
	static const char *const lo[] = { "127.0.0.1" };
	struct rtc_config ca = { .local_addrs = lo, .n_local_addrs = 1,
				 .probe_path_mtu = a_probes };
	struct rtc_config cb = ca;

	cb.probe_path_mtu = b_probes;
	pair_new_cfg(t, &ca, &cb, &ops);
}

static void pair_free(struct pair *t)
{
	rtc_peer_free(t->a.p);
	rtc_peer_free(t->b.p);
	g_byte_array_free(t->a.last, TRUE);
	g_byte_array_free(t->b.last, TRUE);
	if (t->a.last_wg)
		g_byte_array_free(t->a.last_wg, TRUE);
	if (t->b.last_wg)
		g_byte_array_free(t->b.last_wg, TRUE);
}

/* Iterates the default context until cond() holds; fails the test after WAIT_MS. */
#define WAIT_FOR(cond)                                                                    \
	do {                                                                              \
		uint64_t deadline_ = rg_mono_ns() + (uint64_t)WAIT_MS * RG_NSEC_PER_MSEC; \
		while (!(cond)) {                                                         \
			g_assert_cmpuint(rg_mono_ns(), <, deadline_);                     \
			g_main_context_iteration(NULL, TRUE);                             \
		}                                                                         \
	} while (0)

static void negotiate(struct pair *t, const char *tamper_fp)
{
	struct rg_err err = { 0 };
	char *offer = NULL, *answer = NULL;

	g_assert_cmpint(rtc_peer_create_offer(t->a.p, &offer, &err), ==, 0);
	g_assert_nonnull(strstr(offer, "a=setup:actpass"));
	g_assert_cmpint(rtc_peer_set_remote_description(t->b.p, RTC_SDP_OFFER, offer, &err), ==, 0);
	g_assert_cmpint(rtc_peer_create_answer(t->b.p, &answer, &err), ==, 0);
	g_assert_nonnull(strstr(answer, "a=setup:active"));
	if (tamper_fp) {
		char *fp = strstr(answer, "a=fingerprint:sha-256 ");

		g_assert_nonnull(fp);
		memcpy(fp + strlen("a=fingerprint:sha-256 "), tamper_fp, strlen(tamper_fp));
	}
	g_assert_cmpint(rtc_peer_set_remote_description(t->a.p, RTC_SDP_ANSWER, answer, &err), ==,
			0);
	g_free(offer);
	g_free(answer);
}

static void test_connect_and_channels(gconstpointer data)
{
	bool no_offload = GPOINTER_TO_INT(data);
	struct pair t;
	struct rtc_channel *ca = NULL, *cb = NULL;
	struct rtc_stats st;
	uint8_t big[200000];

	pair_new(&t, 0, no_offload);
	/* Offerer-created channel before connecting: opens once SCTP is up. */
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "wireguard", false, 0, &ca), ==, 0);
	negotiate(&t, NULL);
	WAIT_FOR(t.a.n_open == 1 && t.b.n_open == 1);
	g_assert_cmpint(t.a.state, ==, RTC_STATE_CONNECTED);
	g_assert_cmpint(t.b.state, ==, RTC_STATE_CONNECTED);
	g_assert_true(t.a.ch[0] == ca);
	g_assert_cmpstr(rtc_channel_label(t.b.ch[0]), ==, "wireguard");
	g_assert_false(rtc_channel_ordered(t.b.ch[0]));
	g_assert_cmpint(rtc_channel_max_retransmits(t.b.ch[0]), ==, 0);
	/* a is the DTLS server (answer said active): odd stream ids. */
	g_assert_cmpint(rtc_channel_stream(ca) % 2, ==, 1);

	/* unordered/unreliable both ways */
	for (int i = 0; i < 50; i++) {
		char m[64];

		g_snprintf(m, sizeof(m), "a-%d", i);
		g_assert_cmpint(rtc_channel_send(ca, m, strlen(m), true), ==, 0);
		g_snprintf(m, sizeof(m), "b-%d", i);
		g_assert_cmpint(rtc_channel_send(t.b.ch[0], m, strlen(m), false), ==, 0);
	}
	WAIT_FOR(t.a.n_msgs == 50 && t.b.n_msgs == 50);
	g_assert_false(t.a.last_binary);
	g_assert_true(t.b.last_binary);

	/* Answerer-created, ordered reliable channel: even stream id. */
	g_assert_cmpint(rtc_peer_create_channel(t.b.p, "ctl", true, -1, &cb), ==, 0);
	WAIT_FOR(t.a.n_open == 2 && t.b.n_open == 2);
	g_assert_true(t.b.ch[1] == cb);
	g_assert_cmpint(rtc_channel_stream(cb) % 2, ==, 0);
	g_assert_true(rtc_channel_ordered(t.a.ch[1]));
	g_assert_cmpint(rtc_channel_max_retransmits(t.a.ch[1]), ==, -1);

	/* ordered: the last one received is the last one sent */
	for (int i = 0; i < 200; i++) {
		char m[32];

		g_snprintf(m, sizeof(m), "seq-%03d", i);
		g_assert_cmpint(rtc_channel_send(t.a.ch[1], m, strlen(m), true), ==, 0);
	}
	WAIT_FOR(t.b.n_msgs == 50 + 200);
	g_assert_cmpmem(t.b.last->data, t.b.last->len, "seq-199", 7);

	/* large message (fragmented + reassembled), reliable channel, and an empty one */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	g_assert_cmpint(rtc_channel_send(cb, big, sizeof(big), true), ==, 0);
	WAIT_FOR(t.a.n_msgs == 50 + 1);
	g_assert_cmpmem(t.a.last->data, t.a.last->len, big, sizeof(big));
	g_assert_cmpint(rtc_channel_send(cb, "", 0, true), ==, 0);
	WAIT_FOR(t.a.n_msgs == 50 + 2);
	g_assert_cmpuint(t.a.last->len, ==, 0);
	g_assert_cmpint(rtc_channel_send(cb, big, RTC_MAX_MESSAGE_SIZE + 1, true), ==, -EMSGSIZE);

	/* the largest single-packet message, unreliable */
	g_assert_cmpuint(rtc_peer_max_packet_message(t.a.p), ==, (1200 - 37 - 28) & ~3);
	g_assert_cmpint(rtc_channel_send(ca, big, rtc_peer_max_packet_message(t.a.p), true), ==, 0);
	WAIT_FOR(t.b.n_msgs == 50 + 200 + 1);
	g_assert_cmpmem(t.b.last->data, t.b.last->len, big, rtc_peer_max_packet_message(t.a.p));

	/* RTC_SEND_MORE: a run of small messages shares packets; the last send (no flag) sends
	 * what is held. Reliable and ordered, so all 40 arrive, the last one last. */
	{
		struct rtc_stats st0, st1;

		WAIT_FOR(rtc_channel_buffered(t.a.ch[1]) == 0);
		rtc_peer_get_stats(t.a.p, &st0);
		for (int i = 0; i < 40; i++) {
			char m[100];

			memset(m, 'm', sizeof(m));
			g_snprintf(m, sizeof(m), "more-%02d", i);
			g_assert_cmpint(rtc_channel_send_flags(t.a.ch[1], m, sizeof(m), true,
							       i < 39 ? RTC_SEND_MORE : 0), ==, 0);
		}
		WAIT_FOR(t.b.n_msgs == 50 + 200 + 1 + 40);
		g_assert_cmpmem(t.b.last->data, 7, "more-39", 7);
		rtc_peer_get_stats(t.a.p, &st1);
		/* 40 × (100 + 16) bytes fill about four 1135-byte packets; one datagram per message
		 * without the flag. */
		g_assert_cmpuint(st1.tx_datagrams - st0.tx_datagrams, <=, 12);
	}

	/* SACKs: between riftgate peers one per 8 packets, toward other stacks (here: the
	 * riftgate attribute left out with the CRC32c offload) one per 2 (RFC 4960). 200
	 * one-packet messages from a; count what b sends back until all are acknowledged. */
	{
		struct rtc_stats b0, b1;
		size_t n = rtc_peer_max_packet_message(t.a.p);

		WAIT_FOR(rtc_channel_buffered(t.a.ch[1]) == 0);
		rtc_peer_get_stats(t.b.p, &b0);
		for (int i = 0; i < 200; i++) {
			big[0] = (uint8_t)i;
			while (rtc_channel_send(t.a.ch[1], big, n, true) == -EAGAIN)
				g_main_context_iteration(NULL, FALSE);
		}
		WAIT_FOR(t.b.n_msgs == 50 + 200 + 1 + 40 + 200 &&
			 rtc_channel_buffered(t.a.ch[1]) == 0);
		rtc_peer_get_stats(t.b.p, &b1);
		if (no_offload)
			g_assert_cmpuint(b1.tx_datagrams - b0.tx_datagrams, >=, 80);
		else
			g_assert_cmpuint(b1.tx_datagrams - b0.tx_datagrams, <=, 60);
	}

	rtc_peer_get_stats(t.a.p, &st);
	g_assert_cmpint(st.local_type, ==, RTC_CAND_HOST);
	g_assert_true(g_str_has_prefix(st.local_addr, "127.0.0.1:"));
	g_assert_cmpuint(st.tx_datagrams, >, 0);

	/* Receive batching (UDP GRO) is on toward a riftgate peer once SCTP is up. A train that
	 * ends in a STUN packet (what a NIC's GRO may merge) turns it off for good; the records
	 * before it still count as datagrams (this one fails authentication and is dropped) and
	 * the peer stays usable. */
	if (!no_offload) {
		uint8_t train[13 + 40 + 20] = { 23, 0xfe, 0xfd, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff,
						0xff, 0, 40 };
		static const uint8_t stun[8] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
		struct rtc_stats s0, s1;
		int before = t.b.n_msgs;

		memcpy(train + 13 + 40, stun, sizeof(stun));
		g_assert_true(t.b.p->ice.gro);
		rtc_peer_get_stats(t.b.p, &s0);
		rtc_ice_on_datagram(&t.b.p->ice, train, sizeof(train));
		rtc_peer_get_stats(t.b.p, &s1);
		g_assert_cmpuint(s1.rx_datagrams - s0.rx_datagrams, ==, 2);
		g_assert_false(t.b.p->ice.gro);
		g_assert_true(t.b.p->ice.no_gro);
		g_assert_cmpint(t.b.state, ==, RTC_STATE_CONNECTED);
		g_assert_cmpint(rtc_channel_send(ca, "after-gro", 9, true), ==, 0);
		WAIT_FOR(t.b.n_msgs == before + 1);
		g_assert_cmpmem(t.b.last->data, t.b.last->len, "after-gro", 9);
	} else {
		g_assert_false(t.b.p->ice.gro);
	}

	/* channel close from the answerer side reaches both */
	rtc_channel_close(cb);
	WAIT_FOR(t.a.n_closed == 1 && t.b.n_closed == 1);

	/* graceful close */
	rtc_peer_close(t.a.p);
	g_assert_cmpint(t.a.state, ==, RTC_STATE_CLOSED);
	WAIT_FOR(t.b.state == RTC_STATE_CLOSED);
	g_assert_cmpint(t.b.n_closed, ==, 2);
	pair_free(&t);
}

static void test_wrong_fingerprint(void)
{
	struct pair t;

	pair_new(&t, 0, false);
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "x", true, -1, NULL), ==, 0);
	negotiate(&t, "00:11:22");
	WAIT_FOR(t.a.state == RTC_STATE_FAILED);
	g_assert_cmpint(t.a.n_open, ==, 0);
	g_assert_cmpint(t.a.n_states[RTC_STATE_CONNECTED], ==, 0);
	pair_free(&t);
}

static void test_peer_vanishes(void)
{
	struct pair t;
	uint64_t t0;

	pair_new(&t, 2000, false);
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "x", false, 0, NULL), ==, 0);
	negotiate(&t, NULL);
	WAIT_FOR(t.a.n_open == 1 && t.b.n_open == 1);
	rtc_peer_free(t.b.p);	/* silent: nothing goes out */
	t.b.p = NULL;
	t0 = rg_mono_ns();
	WAIT_FOR(t.a.state == RTC_STATE_FAILED);
	g_assert_cmpuint(rg_mono_ns() - t0, <, 2000ull * 3 * RG_NSEC_PER_MSEC);
	g_assert_cmpint(t.a.n_closed, ==, 1);
	pair_free(&t);
}

/* rtc_config.max_streams at its limit: 4 streams each way give the DTLS server (the offerer
 * here) streams 1 and 3; both channels carry messages, a third is refused with -ENOSPC. */
static void test_max_streams(void)
{
	static const char *const lo[] = { "127.0.0.1" };
	struct rtc_config cfg = { .local_addrs = lo, .n_local_addrs = 1, .max_streams = 4 };
	struct rtc_config cb = cfg;
	struct rtc_channel *ch = NULL;
	struct pair t;

	pair_new_cfg(&t, &cfg, &cb, &ops);
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "one", false, 0, NULL), ==, 0);
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "two", false, 0, NULL), ==, 0);
	negotiate(&t, NULL);
	WAIT_FOR(t.a.n_open == 2 && t.b.n_open == 2);
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "three", false, 0, &ch), ==, -ENOSPC);
	g_assert_null(ch);
	for (int i = 0; i < 2; i++)
		g_assert_cmpint(rtc_channel_send(t.a.ch[i], "hello", 5, false), ==, 0);
	WAIT_FOR(t.b.n_msgs == 2);
	pair_free(&t);
}

static void test_bad_input_keeps_peer_usable(void)
{
	struct pair t;
	struct rg_err err = { 0 };
	char *offer = NULL, *answer = NULL;

	pair_new(&t, 0, false);
	g_assert_cmpint(rtc_peer_create_offer(t.a.p, &offer, &err), ==, 0);
	g_assert_cmpint(rtc_peer_set_remote_description(t.b.p, RTC_SDP_OFFER, "v=0\r\nm=audio 9 x\r\n",
							&err), ==, -EINVAL);
	g_assert_cmpuint(strlen(err.msg), >, 0);
	g_assert_cmpint(rtc_peer_add_remote_candidate(t.b.p, "candidate:1 1 udp", &err), ==, -EINVAL);
	g_assert_cmpint(rtc_peer_create_answer(t.b.p, &answer, &err), ==, -EBUSY);
	g_assert_cmpint(rtc_peer_set_remote_description(t.b.p, RTC_SDP_OFFER, offer, &err), ==, 0);
	g_assert_cmpint(rtc_peer_create_answer(t.b.p, &answer, &err), ==, 0);
	g_assert_cmpint(rtc_peer_set_remote_description(t.a.p, RTC_SDP_ANSWER, answer, &err), ==, 0);
	g_assert_cmpint(rtc_peer_create_channel(t.b.p, "late", true, -1, NULL), ==, 0);
	WAIT_FOR(t.a.n_open == 1 && t.b.n_open == 1);
	g_free(offer);
	g_free(answer);
	pair_free(&t);
}

/* b never hears a's candidates (a browser that offers none): a reaches b only through its
 * connectivity checks, so b's remote side of the selected pair is peer-reflexive. */
static void test_prflx(void)
{
	struct pair t;
	struct rtc_stats st;

	pair_new(&t, 0, false);
	t.a.drop_candidates = true;
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "wireguard", false, 0, NULL), ==, 0);
	negotiate(&t, NULL);
	rtc_peer_add_remote_candidate(t.b.p, NULL, NULL);	/* end-of-candidates, none given */
	WAIT_FOR(t.a.n_open == 1 && t.b.n_open == 1);
	rtc_peer_get_stats(t.b.p, &st);
	g_assert_cmpint(st.remote_type, ==, RTC_CAND_PRFLX);
	rtc_peer_get_stats(t.a.p, &st);
	g_assert_cmpint(st.remote_type, ==, RTC_CAND_HOST);
	g_assert_cmpint(rtc_channel_send(t.a.ch[0], "x", 1, true), ==, 0);
	WAIT_FOR(t.b.n_msgs == 1);
	pair_free(&t);
}

static char *ufrag_of(const char *sdp)
{
	const char *u = strstr(sdp, "a=ice-ufrag:");

	g_assert_nonnull(u);
	u += strlen("a=ice-ufrag:");
	return g_strndup(u, strcspn(u, "\r\n"));
}

/* ICE restart initiated by `from`: new ufrag/pwd both ways, DTLS/SCTP and channels survive. */
static void restart_from(struct side *from, struct side *to)
{
	struct rg_err err = { 0 };
	char *offer = NULL, *answer = NULL, *u1, *u2;
	int before = to->n_msgs;
	struct rtc_stats sf, stt;
	unsigned sel_from, sel_to;

	rtc_peer_get_stats(from->p, &sf);
	rtc_peer_get_stats(to->p, &stt);
	sel_from = sf.selections;
	sel_to = stt.selections;

	g_assert_cmpint(rtc_peer_restart_state(from->p), ==, RTC_RESTART_NONE);
	g_assert_cmpint(rtc_peer_restart_ice(from->p), ==, 0);
	g_assert_cmpint(rtc_peer_restart_state(from->p), ==, RTC_RESTART_LOCAL);
	g_assert_false(rtc_peer_restart_pending(from->p));	/* no offer out yet */
	g_assert_cmpint(rtc_peer_create_offer(from->p, &offer, &err), ==, 0);
	g_assert_true(rtc_peer_restart_pending(from->p));
	/* The restart gathers anew (a fresh stream): candidates trickle, none are stale. */
	g_assert_cmpint(rtc_peer_set_remote_description(to->p, RTC_SDP_OFFER, offer, &err), ==, 0);
	g_assert_cmpint(rtc_peer_restart_state(to->p), ==, RTC_RESTART_CHECKING);
	g_assert_false(rtc_peer_restart_pending(to->p));
	g_assert_cmpint(rtc_peer_create_answer(to->p, &answer, &err), ==, 0);
	g_assert_cmpint(rtc_peer_set_remote_description(from->p, RTC_SDP_ANSWER, answer, &err), ==,
			0);
	g_assert_false(rtc_peer_restart_pending(from->p));
	u1 = ufrag_of(offer);
	u2 = ufrag_of(answer);
	g_assert_cmpstr(u1, !=, u2);
	g_free(u1);
	g_free(u2);
	g_free(offer);
	g_free(answer);
	for (int i = 0; i < 20; i++)
		g_assert_cmpint(rtc_channel_send(from->ch[0], "after-restart", 13, true), ==, 0);
	WAIT_FOR(to->n_msgs >= before + 20);	/* plus any queued while the path was dead */
	/* ICE really ran again with the new credentials: both sides selected a pair anew. */
	for (uint64_t deadline = rg_mono_ns() + (uint64_t)WAIT_MS * RG_NSEC_PER_MSEC;;) {
		rtc_peer_get_stats(from->p, &sf);
		rtc_peer_get_stats(to->p, &stt);
		if (sf.selections > sel_from && stt.selections > sel_to &&
		    rtc_peer_restart_state(from->p) == RTC_RESTART_NONE &&
		    rtc_peer_restart_state(to->p) == RTC_RESTART_NONE)
			break;
		g_assert_cmpuint(rg_mono_ns(), <, deadline);
		g_main_context_iteration(NULL, TRUE);
	}
	g_assert_cmpint(from->state, ==, RTC_STATE_CONNECTED);
	g_assert_cmpint(to->state, ==, RTC_STATE_CONNECTED);
	g_assert_false(rtc_peer_path_lost(from->p) || rtc_peer_path_lost(to->p));
}

static void test_ice_restart(void)
{
	struct pair t;
	struct rg_err err = { 0 };
	char *offer = NULL, *answer = NULL, *u_before, *u_after;

	pair_new(&t, 0, false);
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "wireguard", true, -1, NULL), ==, 0);
	g_assert_cmpint(rtc_peer_create_offer(t.a.p, &offer, &err), ==, 0);
	u_before = ufrag_of(offer);
	g_assert_cmpint(rtc_peer_set_remote_description(t.b.p, RTC_SDP_OFFER, offer, &err), ==, 0);
	g_assert_cmpint(rtc_peer_create_answer(t.b.p, &answer, &err), ==, 0);
	g_assert_cmpint(rtc_peer_set_remote_description(t.a.p, RTC_SDP_ANSWER, answer, &err), ==, 0);
	WAIT_FOR(t.a.n_open == 1 && t.b.n_open == 1);
	g_free(offer);
	g_free(answer);
	restart_from(&t.a, &t.b);	/* the offerer restarts */
	restart_from(&t.b, &t.a);	/* then the answerer */
	g_assert_cmpint(rtc_peer_create_offer(t.a.p, &offer, &err), ==, 0);
	u_after = ufrag_of(offer);
	g_assert_cmpstr(u_before, !=, u_after);
	g_free(offer);
	g_free(u_before);
	g_free(u_after);
	g_assert_cmpint(t.a.n_states[RTC_STATE_FAILED] + t.b.n_states[RTC_STATE_FAILED], ==, 0);
	pair_free(&t);
}

/* ICE server and address settings: good ones are taken (nothing is contacted until gathering),
 * bad ones are refused with a reason that names the input. */
static void test_config(void)
{
	static const struct {
		const char *stun, *turn, *user, *cred, *local;
		bool ok;
	} cases[] = {
		/* 1 */ { "stun:127.0.0.1:3478", NULL, NULL, NULL, NULL, true },
		/* 2 */ { "stun:127.0.0.1", NULL, NULL, NULL, NULL, true },
		/* 3 */ { "stun:[::1]:3478", NULL, NULL, NULL, NULL, true },
		/* 4 */ { NULL, "turn:127.0.0.1:3478?transport=udp", "u", "p", NULL, true },
		/* 5 */ { NULL, "turn:127.0.0.1:3478?transport=tcp", "u", "p", NULL, true },
		/* 6 */ { NULL, "turns:127.0.0.1:5349", "u", "p", NULL, true },
		/* 7 */ { NULL, NULL, NULL, NULL, "127.0.0.1", true },
		/* 8 */ { "stun:127.0.0.1:0", NULL, NULL, NULL, NULL, false },
		/* 9 */ { "stun:127.0.0.1:99999", NULL, NULL, NULL, NULL, false },
		/* 10 */ { "turn:127.0.0.1:3478", NULL, NULL, NULL, NULL, false },	/* not stun: */
		/* 11 */ { NULL, "turn:127.0.0.1:3478", "u", NULL, NULL, false },
		/* 12 */ { NULL, "turn:127.0.0.1:3478?transport=sctp", "u", "p", NULL, false },
		/* 13 */ { NULL, "http://127.0.0.1", "u", "p", NULL, false },
		/* 14 */ { NULL, NULL, NULL, NULL, "not-an-ip", false },
		/* 15 */ { "stun:", NULL, NULL, NULL, NULL, false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rtc_turn_server turn = { cases[i].turn, cases[i].user, cases[i].cred };
		struct rtc_config cfg = { 0 };
		struct rtc_peer *p = NULL;
		struct rg_err err = { 0 };
		int r;

		if (cases[i].stun) {
			cfg.stun = &cases[i].stun;
			cfg.n_stun = 1;
		}
		if (cases[i].turn) {
			cfg.turn = &turn;
			cfg.n_turn = 1;
		}
		if (cases[i].local) {
			cfg.local_addrs = &cases[i].local;
			cfg.n_local_addrs = 1;
		}
		r = rtc_peer_new(&p, NULL, &cfg, &ops, NULL, &err);
		if (cases[i].ok != (r == 0))
			g_error("case %zu: got %d (%s)", i + 1, r, err.msg);
		if (!cases[i].ok) {
			g_assert_null(p);
			g_assert_cmpuint(strlen(err.msg), >, 0);
		}
		rtc_peer_free(p);
	}
}

/* The agent sizes its TUN from rtc_max_packet_message_at(path MTU) without building a peer;
 * a peer configured with that path MTU (or probing from the 1200-byte default) must report
 * the same message size, so the two cannot drift. Every residue mod 4 at the limits of
 * rtc_peer_new's 576-9000, then a stride through it. */
static void check_max_message_at(unsigned path_mtu, bool probe)
{
	struct rtc_config cfg = { .path_mtu = (uint16_t)(probe ? 0 : path_mtu),
				  .probe_path_mtu = probe };
	struct rtc_peer_ops none = { 0 };
	struct rtc_peer *p = NULL;
	struct rg_err err = { 0 };

	g_assert_cmpint(rtc_peer_new(&p, NULL, &cfg, &none, NULL, &err), ==, 0);
	g_assert_cmpuint(rtc_peer_max_packet_message(p), ==, rtc_max_packet_message_at(path_mtu));
	g_assert_cmpuint(rtc_peer_max_packet_message(p) % 4, ==, 0);
	rtc_peer_free(p);
}

static void test_max_message_at(void)
{
	static const unsigned edges[] = { 576, 577, 578, 579, 1200, 1201, 1202, 1203, 1280,
					  1452, 1472, 1500, 8997, 8998, 8999, 9000 };

	for (size_t i = 0; i < G_N_ELEMENTS(edges); i++)
		check_max_message_at(edges[i], false);
	for (unsigned mtu = 576; mtu <= 9000; mtu += 97)
		check_max_message_at(mtu, false);
	check_max_message_at(RTC_DEFAULT_PATH_MTU, true);	/* probing starts at the default */
	g_assert_cmpuint(rtc_max_packet_message_at(1200), ==, (1200 - 37 - 28) & ~3);
}

/* The DTLS server's final flight (ChangeCipherSpec + Finished) is lost: the client's
 * retransmission timer resends its flight, the server (already done) answers the repeated
 * epoch-1 Finished by resending its flight, and the connection comes up about a second later. */
static void test_lost_final_flight(void)
{
	struct pair t;

	pair_new(&t, 0, false);
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "x", true, -1, NULL), ==, 0);
	t.a.p->dtls.test_lose_final_flight = true;	/* a is the DTLS server */
	negotiate(&t, NULL);
	WAIT_FOR(t.a.n_open == 1 && t.b.n_open == 1);
	g_assert_false(t.a.p->dtls.test_lose_final_flight);	/* it did happen */
	g_assert_cmpint(rtc_channel_send(t.b.ch[0], "y", 1, true), ==, 0);
	WAIT_FOR(t.a.n_msgs == 1);
	pair_free(&t);
}

/* A connected pair with a `wireguard` channel (a offers), optionally with ops.ice_path. */
static void pair_connected(struct pair *t, unsigned silence_ms)
{
	pair_silence_ms = silence_ms;
	pair_new(t, 0, false);
	pair_silence_ms = 0;
	g_assert_cmpint(rtc_peer_create_channel(t->a.p, "wireguard", true, -1, NULL), ==, 0);
	negotiate(t, NULL);
	WAIT_FOR(t->a.n_open == 1 && t->b.n_open == 1);
}

static void send_burst(struct side *from, int n)
{
	for (int i = 0; i < n; i++)
		g_assert_cmpint(rtc_channel_send(from->ch[0], "x", 1, true), ==, 0);
}

/* Sends one message every 20 ms (a path is silent only while we send) until *count, an
 * ops.ice_path counter, reaches want; fails the test after 10 s. */
static void send_until(struct side *from, const int *count, int want)
{
	uint64_t deadline = rg_mono_ns() + 10ull * RG_NSEC_PER_SEC;

	while (*count < want) {
		g_assert_cmpuint(rg_mono_ns(), <, deadline);
		send_burst(from, 1);
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(20000);
	}
}

/* The path dies (both sides drop what arrives; libnice's own checks still pass, so only our
 * silence hint can tell): a, which sends, reports it within path_silence_ms and does not fail;
 * an ICE restart on the same peer connection brings the path back, both sides report it, and
 * the same channel carries data again. */
static void test_path_lost_restart(void)
{
	struct pair t;

	pair_connected(&t, 1000);
	t.a.p->ice.test_blackhole = t.b.p->ice.test_blackhole = true;
	send_until(&t.a, &t.a.n_lost, 1);
	g_assert_cmpint(t.a.n_lost, ==, 1);
	g_assert_true(rtc_peer_path_lost(t.a.p));
	g_assert_cmpint(rtc_peer_restart_state(t.a.p), ==, RTC_RESTART_NONE);	/* ours to start */
	g_assert_cmpint(t.a.state, ==, RTC_STATE_CONNECTED);	/* not failed: waits */
	g_assert_cmpint(t.a.n_closed + t.b.n_closed, ==, 0);
	/* the network is back (new addresses, in real life): a restarts ICE on the addresses it
	 * is given (a bad list changes nothing) */
	{
		static const char *const bad[] = { "not-an-ip" }, *const lo[] = { "127.0.0.1" };

		g_assert_cmpint(rtc_peer_set_local_addrs(t.a.p, bad, 1), ==, -EINVAL);
		g_assert_cmpint(rtc_peer_set_local_addrs(t.a.p, lo, 1), ==, 0);
	}
	t.a.p->ice.test_blackhole = t.b.p->ice.test_blackhole = false;
	restart_from(&t.a, &t.b);
	WAIT_FOR(t.a.n_back == 1 && t.b.n_back == 1);
	g_assert_cmpint(t.a.n_open, ==, 1);	/* same channel */
	g_assert_cmpint(t.a.n_states[RTC_STATE_FAILED] + t.b.n_states[RTC_STATE_FAILED], ==, 0);
	pair_free(&t);
}

/* The path stalls and is reported lost, but the caller does not restart (the agent cannot
 * signal one while the hub is away): when packets arrive again the path is reported back,
 * without a restart, and the same channel carries data; the silence hint works again after. */
static void test_path_stall_no_restart(void)
{
	struct pair t;
	int before;

	pair_connected(&t, 1000);
	t.a.p->ice.test_blackhole = t.b.p->ice.test_blackhole = true;
	send_until(&t.a, &t.a.n_lost, 1);
	t.a.p->ice.test_blackhole = t.b.p->ice.test_blackhole = false;
	send_until(&t.a, &t.a.n_back, 1);
	g_assert_cmpint(t.a.n_back, ==, 1);
	g_assert_cmpuint(t.a.p->ice.selections, ==, 1);	/* no restart happened */
	before = t.b.n_msgs;
	send_burst(&t.a, 10);
	WAIT_FOR(t.b.n_msgs >= before + 10);
	/* lost again: reported again (the flag was cleared) */
	t.a.p->ice.test_blackhole = t.b.p->ice.test_blackhole = true;
	send_until(&t.a, &t.a.n_lost, 2);
	g_assert_cmpint(t.a.n_states[RTC_STATE_FAILED] + t.b.n_states[RTC_STATE_FAILED], ==, 0);
	pair_free(&t);
}

/* Runs the default context for ms milliseconds. */
static void run_for(unsigned ms)
{
	uint64_t end = rg_mono_ns() + (uint64_t)ms * RG_NSEC_PER_MSEC;

	while (rg_mono_ns() < end) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(20000);
	}
}

/* An idle pair at the default consent timeout (30 s) sends nothing of its own: no path-MTU
 * confirmations, no SCTP heartbeats (they went every 7.5 s), since libnice's consent checks keep it alive; the
 * silence check learns of those from the socket's receive time. With the counters made to
 * look silent for longer than the consent timeout, the tick finds that recent STUN and
 * reports nothing. A side that hears nothing at all (tests: ignores everything received,
 * the socket's time included) reports the path lost within RTC_QUIET_SILENCE_MS, as an
 * unanswered heartbeat did, and does not fail. */
static void test_idle_pair_quiet(void)
{
	static const char *const lo[] = { "127.0.0.1" };
	struct rtc_config cfg = { .local_addrs = lo, .n_local_addrs = 1, .path_silence_ms = 3000,
				  .probe_path_mtu = true };
	struct rtc_config cb = cfg;
	struct pair t;
	uint64_t tx_a, rx_a, tx_b, rx_b, t0, back = 31ull * RG_NSEC_PER_SEC;

	pair_new_cfg(&t, &cfg, &cb, &path_ops);
	/* path-MTU confirmations would be due every 300 ms: none while idle */
	t.a.p->probe.m.confirm_ms = t.b.p->probe.m.confirm_ms = 300;
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "wireguard", true, -1, NULL), ==, 0);
	negotiate(&t, NULL);
	WAIT_FOR(t.a.n_open == 1 && t.b.n_open == 1);
	g_assert_cmpint(t.a.p->probe.m.phase, ==, RTC_PMTU_SETTLED);
	/* settled: confirmations ride on the liveness tick, no timer source per peer */
	g_assert_null(t.a.p->probe.timer);
	g_assert_null(t.b.p->probe.timer);
	run_for(1000);		/* the channel's SACKs, the confirmations of the open */
	tx_a = t.a.p->ice.tx_datagrams, rx_a = t.a.p->ice.rx_datagrams;
	tx_b = t.b.p->ice.tx_datagrams, rx_b = t.b.p->ice.rx_datagrams;
	run_for(10000);		/* more than a heartbeat interval plus its RTO jitter */
	g_assert_cmpuint(t.a.p->ice.tx_datagrams, ==, tx_a);
	g_assert_cmpuint(t.a.p->ice.rx_datagrams, ==, rx_a);
	g_assert_cmpuint(t.b.p->ice.tx_datagrams, ==, tx_b);
	g_assert_cmpuint(t.b.p->ice.rx_datagrams, ==, rx_b);
	g_assert_cmpint(t.a.n_lost + t.b.n_lost, ==, 0);
	/* nothing counted for 31 s: the socket heard consent traffic within the last consent
	 * interval, which the idle timer slack stretches (sctp.c), as of the tick that read it,
	 * at most the 1200 ms run plus a tick ago; a stamp not refreshed would be 31 s old */
	g_assert_cmpuint(rg_mono_ns(), >, back);
	t.a.p->ice.last_rx_ns = rg_mono_ns() - back;
	run_for(1200);
	g_assert_cmpint(t.a.n_lost, ==, 0);
	g_assert_cmpuint(rg_mono_ns() - t.a.p->ice.last_rx_ns, <,
			 (RTC_CONSENT_INTERVAL_MAX_MS + RTC_IDLE_TIMER_SLACK_MS + 1200ull + 500) *
				 RG_NSEC_PER_MSEC);
	/* nothing heard at all: lost after RTC_QUIET_SILENCE_MS (+ a tick and the idle timer
	 * slack), not failed */
	t.a.p->ice.test_blackhole = true;
	t0 = rg_mono_ns();
	WAIT_FOR(t.a.n_lost == 1);
	g_assert_cmpuint(rg_mono_ns() - t0, <=,
			 (RTC_QUIET_SILENCE_MS + 1000ull + RTC_IDLE_TIMER_SLACK_MS) * RG_NSEC_PER_MSEC);
	g_assert_cmpint(t.a.state, ==, RTC_STATE_CONNECTED);	/* waits for a restart */
	g_assert_cmpint(t.b.n_lost, ==, 0);
	pair_free(&t);
}

/* Without ops.ice_path a dead path still fails the peer (callers that do not restart). */
static void test_path_lost_fails_without_callback(void)
{
	struct pair t;

	pair_new(&t, 1500, false);
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "wireguard", false, 0, NULL), ==, 0);
	negotiate(&t, NULL);
	WAIT_FOR(t.a.n_open == 1 && t.b.n_open == 1);
	t.a.p->ice.test_blackhole = true;
	WAIT_FOR(t.a.state == RTC_STATE_FAILED);
	pair_free(&t);
}

/* Both restart at once (glare). b yields: taking a's offer rolls back b's own, b answers with
 * the credentials of its own restart (no second restart), and a never sees b's offer. A late
 * copy of b's answer is then stale; a restart while our offer is unanswered is refused. */
static void test_restart_glare_stale_busy(void)
{
	struct pair t;
	struct rg_err err = { 0 };
	char *oa = NULL, *ob = NULL, *ans = NULL, *u_ob, *u_ans;
	int before;

	pair_connected(&t, 0);
	g_assert_cmpint(rtc_peer_restart_ice(t.a.p), ==, 0);
	g_assert_cmpint(rtc_peer_create_offer(t.a.p, &oa, &err), ==, 0);
	g_assert_cmpint(rtc_peer_restart_ice(t.b.p), ==, 0);
	g_assert_cmpint(rtc_peer_create_offer(t.b.p, &ob, &err), ==, 0);
	/* restart during restart */
	g_assert_cmpint(rtc_peer_restart_ice(t.a.p), ==, -EBUSY);
	g_assert_true(rtc_peer_restart_pending(t.a.p) && rtc_peer_restart_pending(t.b.p));
	g_assert_cmpint(rtc_peer_offer_kind(t.b.p, oa), ==, RTC_OFFER_RESTART);
	g_assert_cmpint(rtc_peer_offer_kind(t.a.p, ob), ==, RTC_OFFER_RESTART);
	/* a (the designated offerer) ignores ob; b takes oa */
	g_assert_cmpint(rtc_peer_set_remote_description(t.b.p, RTC_SDP_OFFER, oa, &err), ==, 0);
	g_assert_cmpint(rtc_peer_create_answer(t.b.p, &ans, &err), ==, 0);
	u_ob = ufrag_of(ob);
	u_ans = ufrag_of(ans);
	g_assert_cmpstr(u_ob, ==, u_ans);	/* b's own restart credentials serve the answer */
	g_assert_false(rtc_peer_restart_pending(t.b.p));	/* b's offer is rolled back */
	g_assert_cmpint(rtc_peer_restart_state(t.b.p), ==, RTC_RESTART_CHECKING);
	g_assert_cmpint(rtc_peer_set_remote_description(t.a.p, RTC_SDP_ANSWER, ans, &err), ==, 0);
	/* stale: the same answer again, with no offer outstanding */
	g_assert_cmpint(rtc_peer_set_remote_description(t.a.p, RTC_SDP_ANSWER, ans, &err), ==,
			-EBUSY);
	/* the offer said again is a repeat now, and is answered without another restart */
	g_assert_cmpint(rtc_peer_offer_kind(t.b.p, oa), ==, RTC_OFFER_REPEAT);
	before = t.b.n_msgs;
	send_burst(&t.a, 10);
	WAIT_FOR(t.b.n_msgs == before + 10);
	g_assert_cmpint(t.a.n_states[RTC_STATE_FAILED] + t.b.n_states[RTC_STATE_FAILED], ==, 0);
	g_free(u_ob);
	g_free(u_ans);
	g_free(oa);
	g_free(ob);
	g_free(ans);
	pair_free(&t);
}

/* An offer from another peer connection (a restarted agent: new o= sess-id) is not a
 * renegotiation of this one: offer_kind says NEW and applying it is refused. */
static void test_reoffer_other_session(void)
{
	struct pair t, u;
	struct rg_err err = { 0 };
	char *o2 = NULL;

	pair_connected(&t, 0);
	pair_new(&u, 0, false);
	g_assert_cmpint(rtc_peer_create_offer(u.a.p, &o2, &err), ==, 0);
	g_assert_cmpint(rtc_peer_offer_kind(t.b.p, o2), ==, RTC_OFFER_NEW);
	g_assert_cmpint(rtc_peer_set_remote_description(t.b.p, RTC_SDP_OFFER, o2, &err), ==,
			-EINVAL);
	g_assert_nonnull(strstr(err.msg, "another peer connection"));
	g_assert_cmpint(rtc_peer_offer_kind(t.b.p, "garbage"), ==, RTC_OFFER_NEW);
	g_assert_cmpint(t.b.state, ==, RTC_STATE_CONNECTED);
	g_free(o2);
	pair_free(&u);
	pair_free(&t);
}

/* Path-MTU probing over loopback (route MTU 65536: the search tops out at RTC_PMTU_CEIL).
 * Only a asks for probing; b answers but keeps the default, so each direction is its own. */
static void test_path_mtu_probe(void)
{
	struct rtc_channel *ca = NULL;
	struct rtc_stats st;
	struct pair t;
	static uint8_t big[RTC_PMTU_CEIL];
	size_t m;

	pair_new_probing(&t, true, false);
	rtc_peer_get_stats(t.a.p, &st);
	g_assert_cmpuint(st.path_mtu, ==, RTC_DEFAULT_PATH_MTU);
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "wireguard", false, 0, &ca), ==, 0);
	negotiate(&t, NULL);
	WAIT_FOR(t.a.n_open == 1 && t.b.n_open == 1);

	rtc_peer_get_stats(t.a.p, &st);
	g_assert_cmpuint(st.path_mtu, ==, RTC_PMTU_CEIL);
	g_assert_cmpint(st.path_mtu_state, ==, RTC_PATH_MTU_PROBED);
	g_assert_cmpstr(rtc_path_mtu_state_name(st.path_mtu_state), ==, "probed");
	m = rtc_peer_max_packet_message(t.a.p);
	g_assert_cmpuint(m, ==, (RTC_PMTU_CEIL - 37 - 28) & ~3);
	rtc_peer_get_stats(t.b.p, &st);
	g_assert_cmpuint(st.path_mtu, ==, RTC_DEFAULT_PATH_MTU);
	g_assert_cmpint(st.path_mtu_state, ==, RTC_PATH_MTU_DEFAULT);

	/* The largest single-packet message at the probed size arrives whole, as one datagram. */
	for (size_t i = 0; i < m; i++)
		big[i] = (uint8_t)(i * 13);
	for (int k = 0; k < 20; k++) {
		uint64_t rx0 = t.b.p->ice.rx_datagrams;
		int n0 = t.b.n_msgs;

		g_assert_cmpint(rtc_channel_send(ca, big, m, true), ==, 0);
		WAIT_FOR(t.b.n_msgs == n0 + 1);
		g_assert_cmpmem(t.b.last->data, t.b.last->len, big, m);
		if (t.b.p->ice.rx_datagrams == rx0 + 1)
			break;	/* no SACK or heartbeat in between: exactly one datagram */
		g_assert_cmpint(k, <, 19);
	}
	g_assert_cmpint(t.a.n_states[RTC_STATE_FAILED] + t.b.n_states[RTC_STATE_FAILED], ==, 0);
	pair_free(&t);
}

/* Both sides probe; every message of the largest single-packet size arrives, both ways. Under
 * `unshare -n` with lo at MTU 1500 this is the LAN case (1472). */
static void test_path_mtu_both(void)
{
	struct rtc_channel *ca = NULL;
	struct pair t;
	static uint8_t big[RTC_PMTU_CEIL];
	size_t ma, mb;

	pair_new_probing(&t, true, true);
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "wireguard", false, 0, &ca), ==, 0);
	negotiate(&t, NULL);
	WAIT_FOR(t.a.n_open == 1 && t.b.n_open == 1);
	ma = rtc_peer_max_packet_message(t.a.p);
	mb = rtc_peer_max_packet_message(t.b.p);
	g_assert_cmpuint(ma, ==, mb);
	memset(big, 0x3c, sizeof(big));
	/* a sweep up to the largest: SACKs get bundled with some, and nothing may exceed the
	 * path (usrsctp would otherwise bundle past it; EMSGSIZE or a black hole) */
	for (int k = 0; k <= 40; k++) {
		size_t sz = ma - 40 + (size_t)k;

		g_assert_cmpint(rtc_channel_send(ca, big, sz, true), ==, 0);
		g_assert_cmpint(rtc_channel_send(t.b.ch[0], big, sz, true), ==, 0);
		WAIT_FOR(t.b.n_msgs == k + 1 && t.a.n_msgs == k + 1);
		g_assert_cmpuint(t.a.last->len, ==, sz);
		g_assert_cmpuint(t.b.last->len, ==, sz);
	}
	pair_free(&t);
}

static const uint8_t *big_wg(void)
{
	static uint8_t b[4000] = { 4 };

	return b;
}

/* A WireGuard data message of len bytes (type 4, reserved zero), its payload numbered. */
static void wg_msg(uint8_t *buf, size_t len, uint8_t seed)
{
	memset(buf, 0, len);
	buf[0] = 4;
	for (size_t i = 4; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + seed);
}

/* A connected loopback pair, a offering, each with direct_path as given and direct_ops. */
static void pair_direct(struct pair *t, bool a_direct, bool b_direct)
{
	static const char *const lo[] = { "127.0.0.1" };
	struct rtc_config ca = { .local_addrs = lo, .n_local_addrs = 1, .direct_path = a_direct };
	struct rtc_config cb = ca;

	cb.direct_path = b_direct;
	pair_new_cfg(t, &ca, &cb, &direct_ops);
	g_assert_cmpint(rtc_peer_create_channel(t->a.p, "wireguard", false, 0, NULL), ==, 0);
	negotiate(t, NULL);
	WAIT_FOR(t->a.n_open == 1 && t->b.n_open == 1);
}

/* Both riftgate sides: the direct path comes up once probes are answered, a WireGuard message
 * crosses it unchanged (framed on the wire, unframed for the caller), nothing counted as
 * dropped; a dead direct path (every datagram dropped at b) is given up within ~2 s and taken
 * again when datagrams arrive again; the data channel works all along. */
static bool idle_slack(void)
{
	return prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0) == (int)(RTC_IDLE_TIMER_SLACK_MS * 1000 * 1000);
}

/* Settled and idle, the loop thread's timers may fire RTC_IDLE_TIMER_SLACK_MS late (merged
 * wakeups, sctp.c); WireGuard on the direct path never touches SCTP, and must put the default
 * slack back as soon as it flows (probe and path timers run on it), then let it go again. */
static void test_idle_slack(void)
{
	uint8_t msg[200];
	struct pair t;

	pair_direct(&t, true, true);
	WAIT_FOR(rtc_peer_direct_up(t.a.p) && rtc_peer_direct_up(t.b.p));
	WAIT_FOR(idle_slack());
	wg_msg(msg, sizeof(msg), 1);
	g_assert_cmpint(rtc_peer_send_wg(t.a.p, msg, sizeof(msg)), ==, 0);
	WAIT_FOR(t.b.n_wg == 1);
	g_assert_false(idle_slack());
	g_assert_cmpint(prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0), <, 1000 * 1000);
	WAIT_FOR(idle_slack());	/* a quiet tick later */
	pair_free(&t);
}

static void test_direct_path(void)
{
	uint8_t msg[200], frame[200];
	struct rtc_stats st;
	struct pair t;

	pair_direct(&t, true, true);
	WAIT_FOR(rtc_peer_direct_up(t.a.p) && rtc_peer_direct_up(t.b.p));
	g_assert_cmpint(t.a.n_direct_up, ==, 1);
	rtc_peer_get_stats(t.a.p, &st);
	g_assert_cmpint(st.direct_state, ==, RTC_DIRECT_UP);
	g_assert_cmpstr(rtc_direct_state_name(st.direct_state), ==, "up");
	for (int k = 0; k < 3; k++) {
		wg_msg(msg, sizeof(msg), (uint8_t)k);
		g_assert_cmpint(rtc_peer_send_wg(t.a.p, msg, sizeof(msg)), ==, 0);
		WAIT_FOR(t.b.n_wg == k + 1);
		g_assert_cmpmem(t.b.last_wg->data, t.b.last_wg->len, msg, sizeof(msg));
		/* read by our own receive (ice.c rx_*), whose source, like libnice's (ice.c
		 * let_socket_source_recurse), stays in the poll set while it dispatches: no
		 * eventfd wakeup and extra iteration per datagram */
		g_assert_true(t.b.wg_src_recurses);
		g_assert_cmpuint(t.b.p->ice.rx_own, >=, (uint64_t)k + 1);
	}
	/* A probe due with data goes after it: the data is handled first, then the probe
	 * answered (same send, the last segment). */
	t.b.p->direct.ack_window_ns = rg_mono_ns();
	t.b.p->direct.acks = 0;
	t.a.p->direct.probe_last_ns = 0;
	wg_msg(msg, sizeof(msg), 3);
	g_assert_cmpint(rtc_peer_send_wg(t.a.p, msg, sizeof(msg)), ==, 0);
	WAIT_FOR(t.b.n_wg == 4 && t.b.p->direct.acks >= 1);
	g_assert_cmpuint(t.b.acks_at_wg, ==, 0);
	wg_msg(msg, sizeof(msg), 9);
	g_assert_cmpint(rtc_peer_send_wg(t.b.p, msg, sizeof(msg)), ==, 0);
	WAIT_FOR(t.a.n_wg == 1);
	/* not a WireGuard message, or over the path MTU: refused, nothing sent */
	msg[1] = 1;
	g_assert_cmpint(rtc_peer_send_wg(t.a.p, msg, sizeof(msg)), ==, -EINVAL);
	g_assert_cmpint(rtc_peer_send_wg(t.a.p, big_wg(), 4000), ==, -EMSGSIZE);
	rtc_peer_get_stats(t.b.p, &st);
	g_assert_cmpuint(st.direct_rx, ==, 4);
	g_assert_cmpuint(st.direct_tx, ==, 1);
	g_assert_cmpuint(st.direct_rx_dropped, ==, 0);

	/* Malformed frames (bad length field, unknown kind, stale probe answer): counted. */
	wg_msg(frame, sizeof(frame), 1);
	g_assert_true(rtc_wgframe_wrap(frame, sizeof(frame)));
	frame[3] ^= 1;
	rtc_ice_on_datagram(&t.b.p->ice, frame, sizeof(frame));
	frame[3] ^= 1;
	frame[1] = 9;
	rtc_ice_on_datagram(&t.b.p->ice, frame, sizeof(frame));
	rtc_wgframe_probe(frame, RTC_WGF_KIND_PROBE_ACK, (const uint8_t *)"12345678");
	rtc_ice_on_datagram(&t.b.p->ice, frame, RTC_WGF_PROBE_LEN);
	rtc_peer_get_stats(t.b.p, &st);
	g_assert_cmpuint(st.direct_rx_dropped, ==, 3);
	g_assert_cmpint(t.b.n_wg, ==, 4);

	/* Limits: probes answered at most RTC_DIRECT_ACKS_PER_S per second (a fresh window: the
	 * next ones are dropped and counted), frames over RTC_DIRECT_RX_MAX dropped. */
	t.b.p->direct.ack_window_ns = 0;
	rtc_wgframe_probe(frame, RTC_WGF_KIND_PROBE, (const uint8_t *)"abcdefgh");
	{
		uint64_t tx0 = t.b.p->ice.tx_datagrams;

		for (int k = 0; k < RTC_DIRECT_ACKS_PER_S + 5; k++) {
			rtc_ice_on_datagram(&t.b.p->ice, frame, RTC_WGF_PROBE_LEN);
			/* answered when the read ends, after its data */
			g_assert_true(t.b.p->direct.ack_pending == (k < RTC_DIRECT_ACKS_PER_S));
			rtc_direct_input_done(&t.b.p->direct);
		}
		g_assert_cmpuint(t.b.p->ice.tx_datagrams - tx0, ==, RTC_DIRECT_ACKS_PER_S);
	}
	rtc_peer_get_stats(t.b.p, &st);
	g_assert_cmpuint(st.direct_rx_dropped, ==, 3 + 5);
	{
		static uint8_t huge[RTC_DIRECT_RX_MAX + 1];

		wg_msg(huge, sizeof(huge), 2);
		g_assert_true(rtc_wgframe_wrap(huge, sizeof(huge)));
		rtc_ice_on_datagram(&t.b.p->ice, huge, sizeof(huge));
		wg_msg(huge, RTC_DIRECT_RX_MAX, 2);	/* at the limit: taken */
		g_assert_true(rtc_wgframe_wrap(huge, RTC_DIRECT_RX_MAX));
		rtc_ice_on_datagram(&t.b.p->ice, huge, RTC_DIRECT_RX_MAX);
	}
	rtc_peer_get_stats(t.b.p, &st);
	g_assert_cmpuint(st.direct_rx_dropped, ==, 3 + 5 + 1);
	g_assert_cmpint(t.b.n_wg, ==, 5);
	g_assert_cmpuint(t.b.last_wg->len, ==, RTC_DIRECT_RX_MAX);

	/* b drops everything that arrives: a, sending, gives the direct path up. */
	t.b.p->ice.test_blackhole = true;
	{
		uint64_t deadline = rg_mono_ns() + 5ull * RG_NSEC_PER_SEC;

		while (rtc_peer_direct_up(t.a.p)) {
			g_assert_cmpuint(rg_mono_ns(), <, deadline);
			wg_msg(msg, sizeof(msg), 3);
			rtc_peer_send_wg(t.a.p, msg, sizeof(msg));
			while (g_main_context_iteration(NULL, FALSE))
				;
			g_usleep(20000);
		}
	}
	g_assert_cmpint(t.a.n_direct_down, ==, 1);
	g_assert_cmpint(rtc_peer_send_wg(t.a.p, msg, sizeof(msg)), ==, -ENOTCONN);
	rtc_peer_get_stats(t.a.p, &st);
	g_assert_cmpint(st.direct_state, ==, RTC_DIRECT_PROBING);
	t.b.p->ice.test_blackhole = false;
	WAIT_FOR(rtc_peer_direct_up(t.a.p));
	g_assert_cmpint(t.a.n_direct_up, ==, 2);
	g_assert_cmpint(rtc_channel_send(t.a.ch[0], "x", 1, true), ==, 0);
	WAIT_FOR(t.b.n_msgs >= 1);
	g_assert_cmpint(t.a.n_states[RTC_STATE_FAILED] + t.b.n_states[RTC_STATE_FAILED], ==, 0);
	pair_free(&t);
}

/* Bytes waiting at the head of a UDP socket's queue (0: none, or an empty datagram). */
static int queued(int fd)
{
	int n = 0;

	g_assert_cmpint(ioctl(fd, FIONREAD, &n), ==, 0);
	return n;
}

/* Our own receive on the selected pair's socket (ice.c rx_*) takes only what is ours: non-STUN
 * datagrams from the pair's remote address. STUN-range datagrams and frames from another socket
 * stay for libnice (which reads them: the queue drains, the frames from elsewhere never reach
 * WireGuard, and the next frame arrives through ours again), and a backlog does not
 * starve libnice's sources: after RTC_RX_YIELD_EVERY busy iterations ours steps aside once and
 * libnice's source reads the rest. */
static void test_own_receive(void)
{
	enum { N_OTHER = 50, BACKGROUND = 20 };	/* probes, SACKs: a few a second */
	uint8_t frame[64], stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
	const unsigned backlog = RTC_RX_BATCH * (RTC_RX_YIELD_EVERY + 2);
	struct sockaddr_in any = { .sin_family = AF_INET };
	int other, bfd, afd, rcvbuf = 0;
	socklen_t tolen, sl = sizeof(rcvbuf);
	const struct sockaddr *to;
	struct rtc_ice *ib;
	uint64_t own0;
	int wg0;
	struct pair t;

	pair_direct(&t, true, true);
	WAIT_FOR(rtc_peer_direct_up(t.a.p) && rtc_peer_direct_up(t.b.p));
	ib = &t.b.p->ice;
	g_assert_nonnull(ib->rx_src);
	afd = g_socket_get_fd(t.a.p->ice.direct);
	bfd = g_socket_get_fd(ib->direct);
	to = (const struct sockaddr *)&t.a.p->ice.direct_to;	/* b's end of the pair */
	tolen = t.a.p->ice.direct_tolen;
	wg_msg(frame, sizeof(frame), 5);
	g_assert_true(rtc_wgframe_wrap(frame, sizeof(frame)));

	wg0 = t.b.n_wg;
	g_assert_cmpint(sendto(afd, frame, sizeof(frame), 0, to, tolen), ==, sizeof(frame));
	WAIT_FOR(t.b.n_wg == wg0 + 1);
	g_assert_true(t.b.wg_by_own);

	own0 = ib->rx_own;
	other = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(bind(other, (struct sockaddr *)&any, sizeof(any)), ==, 0);
	for (int i = 0; i < N_OTHER; i++) {
		g_assert_cmpint(sendto(afd, stun, sizeof(stun), 0, to, tolen), ==, sizeof(stun));
		g_assert_cmpint(sendto(other, frame, sizeof(frame), 0, to, tolen), ==,
				sizeof(frame));
	}
	g_assert_cmpint(sendto(afd, frame, sizeof(frame), 0, to, tolen), ==, sizeof(frame));
	WAIT_FOR(t.b.n_wg == wg0 + 2 && queued(bfd) == 0);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpint(t.b.n_wg, ==, wg0 + 2);
	g_assert_cmpuint(ib->rx_own - own0, <, 1 + BACKGROUND);
	/* (libnice read the last frame with the rest: it reads until the queue is empty) */
	g_assert_cmpint(sendto(afd, frame, sizeof(frame), 0, to, tolen), ==, sizeof(frame));
	WAIT_FOR(t.b.n_wg == wg0 + 3);
	g_assert_true(t.b.wg_by_own);
	close(other);

	/* the backlog must fit b's receive buffer (raised with SO_RCVBUFFORCE as root) */
	g_assert_cmpint(getsockopt(bfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &sl), ==, 0);
	if (rcvbuf < (int)(backlog * 2048)) {
		g_test_skip("receive buffer too small for the backlog (needs root)");
		pair_free(&t);
		return;
	}
	own0 = ib->rx_own;
	wg0 = t.b.n_wg;
	for (unsigned i = 0; i < backlog; i++)
		g_assert_cmpint(sendto(afd, frame, sizeof(frame), 0, to, tolen), ==, sizeof(frame));
	g_assert_cmpint(queued(bfd), >, 0);
	WAIT_FOR(t.b.n_wg == wg0 + (int)backlog);
	/* (the count of busy iterations may start at 1: a quiet child context is not checked) */
	g_assert_cmpuint(ib->rx_own - own0, >=, RTC_RX_BATCH * (RTC_RX_YIELD_EVERY - 1));
	g_assert_cmpuint(ib->rx_own - own0, <, backlog);
	pair_free(&t);
}

/* Only one side wants it (as with any other WebRTC stack, which never advertises it): never
 * up on either side, nothing sent framed, and a frame injected anyway is dropped and counted. */
static void test_direct_path_one_sided(void)
{
	uint8_t msg[100];
	struct rtc_stats st;
	struct pair t;
	char *offer = NULL;
	struct rg_err err = { 0 };

	pair_direct(&t, true, false);
	g_assert_cmpint(rtc_peer_create_offer(t.b.p, &offer, &err), ==, 0);
	g_assert_null(strstr(offer, "x-rg-wg-direct"));	/* b does not advertise */
	g_free(offer);
	for (int i = 0; i < 4; i++) {	/* two ticks */
		uint64_t end = rg_mono_ns() + 300ull * RG_NSEC_PER_MSEC;

		while (rg_mono_ns() < end)
			g_main_context_iteration(NULL, FALSE), g_usleep(10000);
	}
	g_assert_false(rtc_peer_direct_up(t.a.p));
	g_assert_false(rtc_peer_direct_up(t.b.p));
	rtc_peer_get_stats(t.a.p, &st);
	g_assert_cmpint(st.direct_state, ==, RTC_DIRECT_OFF);
	wg_msg(msg, sizeof(msg), 0);
	g_assert_cmpint(rtc_peer_send_wg(t.a.p, msg, sizeof(msg)), ==, -ENOTCONN);
	g_assert_true(rtc_wgframe_wrap(msg, sizeof(msg)));
	rtc_ice_on_datagram(&t.b.p->ice, msg, sizeof(msg));
	rtc_ice_on_datagram(&t.a.p->ice, msg, sizeof(msg));
	rtc_peer_get_stats(t.b.p, &st);
	g_assert_cmpuint(st.direct_rx_dropped, ==, 1);
	rtc_peer_get_stats(t.a.p, &st);
	g_assert_cmpuint(st.direct_rx_dropped, ==, 1);
	g_assert_cmpint(t.a.n_wg + t.b.n_wg, ==, 0);
	pair_free(&t);
}

static void set_lo(int mtu)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	g_assert_cmpint(fd, >=, 0);
	g_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
	g_assert_cmpint(ioctl(fd, SIOCGIFFLAGS, &ifr), ==, 0);
	ifr.ifr_flags |= IFF_UP;
	g_assert_cmpint(ioctl(fd, SIOCSIFFLAGS, &ifr), ==, 0);
	ifr.ifr_mtu = mtu;
	g_assert_cmpint(ioctl(fd, SIOCSIFMTU, &ifr), ==, 0);
	close(fd);
}

/* A path that shrinks under a running association (a black hole: big datagrams vanish): in a
 * private network namespace, lo at 1500 gives 1472; then lo drops to 1300 while small
 * messages flow. The confirmations (shortened to 300 ms) go unanswered, the search down finds 1266, usrsctp's association is
 * lowered, and messages of the new largest size arrive again, both ways. */
static void test_path_mtu_black_hole(void)
{
	struct rtc_channel *ca = NULL;
	struct rtc_stats st;
	struct pair t;
	static uint8_t big[1500];
	size_t m;

	if (getuid() != 0 || unshare(CLONE_NEWNET) != 0) {
		g_test_skip("needs root (a private network namespace)");
		return;
	}
	set_lo(1500);
	pair_new_probing(&t, true, true);
	t.a.p->probe.m.confirm_ms = t.b.p->probe.m.confirm_ms = 300;
	g_assert_cmpint(rtc_peer_create_channel(t.a.p, "wireguard", false, 0, &ca), ==, 0);
	negotiate(&t, NULL);
	WAIT_FOR(t.a.n_open == 1 && t.b.n_open == 1);
	rtc_peer_get_stats(t.a.p, &st);
	g_assert_cmpuint(st.path_mtu, ==, 1472);
	g_assert_cmpuint(rtc_peer_max_packet_message(t.b.p), ==, 1404);

	set_lo(1300);
	{	/* confirmations go out while the pair carries data: small messages both ways */
		uint64_t deadline = rg_mono_ns() + (uint64_t)WAIT_MS * RG_NSEC_PER_MSEC;

		while (!(rtc_peer_max_packet_message(t.a.p) < 1404 &&
			 rtc_peer_max_packet_message(t.b.p) < 1404 &&
			 t.a.p->probe.m.phase == RTC_PMTU_SETTLED &&
			 t.b.p->probe.m.phase == RTC_PMTU_SETTLED)) {
			g_assert_cmpuint(rg_mono_ns(), <, deadline);
			g_assert_cmpint(rtc_channel_send(ca, "x", 1, true), ==, 0);
			g_assert_cmpint(rtc_channel_send(t.b.ch[0], "x", 1, true), ==, 0);
			run_for(50);
		}
		run_for(300);	/* the last ones arrive before the counts below are taken */
	}
	rtc_peer_get_stats(t.a.p, &st);
	g_assert_cmpuint(st.path_mtu, ==, 1266);
	g_assert_cmpint(st.path_mtu_state, ==, RTC_PATH_MTU_PROBED);
	m = rtc_peer_max_packet_message(t.a.p);
	g_assert_cmpuint(m, ==, 1200);
	for (int k = 0; k <= 20; k++) {
		size_t sz = m - 20 + (size_t)k;
		int na = t.a.n_msgs, nb = t.b.n_msgs;

		g_assert_cmpint(rtc_channel_send(ca, big, sz, true), ==, 0);
		g_assert_cmpint(rtc_channel_send(t.b.ch[0], big, sz, true), ==, 0);
		WAIT_FOR(t.b.n_msgs == nb + 1 && t.a.n_msgs == na + 1);
		g_assert_cmpuint(t.a.last->len, ==, sz);
		g_assert_cmpuint(t.b.last->len, ==, sz);
	}
	g_assert_cmpint(t.a.n_states[RTC_STATE_FAILED] + t.b.n_states[RTC_STATE_FAILED], ==, 0);
	pair_free(&t);
	set_lo(65536);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (g_getenv("RG_TEST_DEBUG"))
		rg_log_set_level(RG_LOG_DEBUG);
	g_test_add_data_func("/rtc/peer/connect-channels", GINT_TO_POINTER(0),
			     test_connect_and_channels);
	g_test_add_data_func("/rtc/peer/connect-channels-crc32c", GINT_TO_POINTER(1),
			     test_connect_and_channels);
	g_test_add_func("/rtc/peer/wrong-fingerprint", test_wrong_fingerprint);
	g_test_add_func("/rtc/peer/vanished-peer-fails", test_peer_vanishes);
	g_test_add_func("/rtc/peer/bad-input-keeps-peer-usable", test_bad_input_keeps_peer_usable);
	g_test_add_func("/rtc/peer/peer-reflexive", test_prflx);
	g_test_add_func("/rtc/peer/ice-restart", test_ice_restart);
	g_test_add_func("/rtc/peer/path-lost-restart", test_path_lost_restart);
	g_test_add_func("/rtc/peer/path-stall-no-restart", test_path_stall_no_restart);
	g_test_add_func("/rtc/peer/idle-pair-quiet", test_idle_pair_quiet);
	g_test_add_func("/rtc/peer/path-lost-fails-without-callback",
			test_path_lost_fails_without_callback);
	g_test_add_func("/rtc/peer/restart-glare-stale-busy", test_restart_glare_stale_busy);
	g_test_add_func("/rtc/peer/reoffer-other-session", test_reoffer_other_session);
	g_test_add_func("/rtc/peer/config", test_config);
	g_test_add_func("/rtc/peer/max-message-at", test_max_message_at);
	g_test_add_func("/rtc/peer/max-streams", test_max_streams);
	g_test_add_func("/rtc/peer/dtls-lost-final-flight", test_lost_final_flight);
	g_test_add_func("/rtc/peer/path-mtu-probe", test_path_mtu_probe);
	g_test_add_func("/rtc/peer/direct-path", test_direct_path);
	g_test_add_func("/rtc/peer/idle-slack", test_idle_slack);
	g_test_add_func("/rtc/peer/own-receive", test_own_receive);
	g_test_add_func("/rtc/peer/direct-path-one-sided", test_direct_path_one_sided);
	g_test_add_func("/rtc/peer/path-mtu-both-ways", test_path_mtu_both);
	/* last: it moves the process into its own network namespace */
	g_test_add_func("/rtc/peer/path-mtu-black-hole", test_path_mtu_black_hole);
	return g_test_run();
}
