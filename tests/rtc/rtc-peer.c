/* rtc-peer: our side of the data-channel interop contract (tests/interop/PROTOCOL.md).
 * Signaling is JSON lines on stdin/stdout; human logs go to stderr. The offerer creates the
 * channel; both sides exchange --count messages of --size bytes, or the offerer streams for
 * --bench seconds while the answerer counts. Exactly one result line, exit 0 only if ok. */
#include <errno.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "rtc/rtc.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

enum { GRACE_MS = 1500, BENCH_BURST = 512, MAX_COUNT = 10000000 };

static struct {
	/* flags */
	bool offer;
	const char *ice_addr, *stun, *label;
	bool ordered;
	int max_rtx;
	long count, size;
	double bench;
	bool no_more;		/* --no-more: bench sends without RTC_SEND_MORE */
	bool probe_mtu;		/* --probe-path-mtu: as the agent does (rtc_config.probe_path_mtu) */
	double timeout;

	GMainLoop *loop;
	struct rtc_peer *peer;
	struct rtc_channel *ch;
	uint64_t t0_ns, open_ns;
	bool have_remote;
	bool done;
	int exit_code;

	long sent, received;
	uint8_t *seen;
	uint8_t *msg;

	/* bench */
	bool bench_sending;
	uint64_t bench_end_ns;
	uint64_t first_rx_ns, last_rx_ns;
	uint64_t bytes;
	guint bench_src, idle_src;
	GIOChannel *in;
} g;

static const char *role(void)
{
	return g.offer ? "offer" : "answer";
}

static void emit(JsonBuilder *b)
{
	JsonGenerator *gen = json_generator_new();
	JsonNode *root = json_builder_get_root(b);
	gchar *s;

	json_generator_set_root(gen, root);
	s = json_generator_to_data(gen, NULL);
	fprintf(stdout, "%s\n", s);
	fflush(stdout);
	g_free(s);
	json_node_unref(root);
	g_object_unref(gen);
	g_object_unref(b);
}

static void emit_sdp(const char *type, const char *sdp)
{
	JsonBuilder *b = json_builder_new();

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "type");
	json_builder_add_string_value(b, type);
	json_builder_set_member_name(b, "sdp");
	json_builder_add_string_value(b, sdp);
	json_builder_end_object(b);
	emit(b);
}

static gboolean quit_cb(gpointer data)
{
	(void)data;
	g_main_loop_quit(g.loop);
	return G_SOURCE_REMOVE;
}

static void finish(bool ok, const char *error)
{
	JsonBuilder *b;

	if (g.done)
		return;
	g.done = true;
	g.exit_code = ok ? 0 : 1;
	b = json_builder_new();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "type");
	json_builder_add_string_value(b, "result");
	json_builder_set_member_name(b, "ok");
	json_builder_add_boolean_value(b, ok);
	json_builder_set_member_name(b, "role");
	json_builder_add_string_value(b, role());
	if (!ok) {
		json_builder_set_member_name(b, "error");
		json_builder_add_string_value(b, error);
	}
	json_builder_set_member_name(b, "sent");
	json_builder_add_int_value(b, g.sent);
	json_builder_set_member_name(b, "received");
	json_builder_add_int_value(b, g.received);
	if (g.open_ns) {
		json_builder_set_member_name(b, "ms_to_open");
		json_builder_add_int_value(b, (gint64)((g.open_ns - g.t0_ns) / RG_NSEC_PER_MSEC));
	}
	if (g.ch) {
		json_builder_set_member_name(b, "label");
		json_builder_add_string_value(b, rtc_channel_label(g.ch));
		json_builder_set_member_name(b, "ordered");
		json_builder_add_boolean_value(b, rtc_channel_ordered(g.ch));
		json_builder_set_member_name(b, "max_retransmits");
		json_builder_add_int_value(b, rtc_channel_max_retransmits(g.ch));
	}
	if (g.peer) {
		struct rtc_stats st;

		rtc_peer_get_stats(g.peer, &st);
		json_builder_set_member_name(b, "pair");
		json_builder_add_string_value(b, rtc_cand_type_name(st.remote_type));
		json_builder_set_member_name(b, "max_packet_message");
		json_builder_add_int_value(b, (gint64)st.max_packet_message);
		json_builder_set_member_name(b, "path_mtu");
		json_builder_add_int_value(b, (gint64)st.path_mtu);
	}
	if (g.bench > 0) {
		double secs;

		if (g.offer)
			secs = g.bench;
		else
			secs = g.last_rx_ns > g.first_rx_ns
				       ? (double)(g.last_rx_ns - g.first_rx_ns) / RG_NSEC_PER_SEC
				       : 0;
		json_builder_set_member_name(b, "bench");
		json_builder_begin_object(b);
		json_builder_set_member_name(b, "messages");
		json_builder_add_int_value(b, g.offer ? g.sent : g.received);
		json_builder_set_member_name(b, "bytes");
		json_builder_add_int_value(b, (gint64)(g.offer ? (uint64_t)g.sent * (uint64_t)g.size
							       : g.bytes));
		json_builder_set_member_name(b, "seconds");
		json_builder_add_double_value(b, secs);
		{
			struct rusage ru;

			/* CPU this process used: on a loaded machine, messages per CPU-second is
			 * the figure that still means something. */
			getrusage(RUSAGE_SELF, &ru);
			json_builder_set_member_name(b, "cpu_seconds");
			json_builder_add_double_value(b, (double)ru.ru_utime.tv_sec +
							 ru.ru_utime.tv_usec / 1e6 +
							 (double)ru.ru_stime.tv_sec +
							 ru.ru_stime.tv_usec / 1e6);
		}
		json_builder_end_object(b);
	}
	json_builder_end_object(b);
	emit(b);
	if (!ok)
		rg_log(RG_LOG_ERROR, "rtc-peer %s: %s", role(), error);
	g_timeout_add(ok ? GRACE_MS : 200, quit_cb, NULL);
}

static size_t make_msg(long i)
{
	int n = snprintf((char *)g.msg, (size_t)g.size + 32, "%s-%ld", role(), i);
	size_t len = (size_t)n > (size_t)g.size ? (size_t)n : (size_t)g.size;

	memset(g.msg + n, '.', len - (size_t)n);
	return len;
}

static int flush_polls;

/* Our own messages may still sit in usrsctp's queue (large reliable ones on a loaded
 * machine): report only once they are acknowledged, or after 10 s. */
static gboolean wait_flushed_cb(gpointer data)
{
	(void)data;
	if (g.done)
		return G_SOURCE_REMOVE;
	if (!g.ch || rtc_channel_buffered(g.ch) == 0 || ++flush_polls > 500) {
		finish(true, NULL);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void check_done(void)
{
	static bool waiting;

	if (g.bench > 0 || g.sent != g.count || g.received != g.count || waiting)
		return;
	waiting = true;
	if (wait_flushed_cb(NULL) == G_SOURCE_CONTINUE)
		g_timeout_add(20, wait_flushed_cb, NULL);
}

static void send_some(void)
{
	while (!g.done && g.sent < g.count) {
		size_t len = make_msg(g.sent);
		int r = rtc_channel_send(g.ch, g.msg, len, true);

		if (r == -EAGAIN)
			return;	/* channel_writable resumes */
		if (r < 0) {
			char e[96];

			g_snprintf(e, sizeof(e), "send failed: %s", g_strerror(-r));
			finish(false, e);
			return;
		}
		g.sent++;
	}
	check_done();
}

static gboolean bench_stop_cb(gpointer data);

static gboolean bench_send_cb(gpointer data)
{
	(void)data;
	if (g.done || !g.bench_sending) {
		g.idle_src = 0;
		return G_SOURCE_REMOVE;
	}
	if (rg_mono_ns() >= g.bench_end_ns) {
		g.bench_sending = false;
		g.idle_src = 0;
		bench_stop_cb(NULL);
		return G_SOURCE_REMOVE;
	}
	for (int i = 0; i < BENCH_BURST; i++) {
		int r = rtc_channel_send_flags(g.ch, g.msg, (size_t)g.size, true,
					       i + 1 < BENCH_BURST && !g.no_more ? RTC_SEND_MORE : 0);

		if (r == -EAGAIN) {
			g.idle_src = 0;	/* resume from channel_writable */
			return G_SOURCE_REMOVE;
		}
		if (r < 0) {
			g.idle_src = 0;
			finish(false, "bench send failed");
			return G_SOURCE_REMOVE;
		}
		g.sent++;
	}
	return G_SOURCE_CONTINUE;
}

static void bench_kick(void)
{
	if (!g.idle_src && g.bench_sending && !g.done)
		g.idle_src = g_idle_add(bench_send_cb, NULL);
}

static int drain_polls;

static gboolean bench_drain_cb(gpointer data)
{
	(void)data;
	if (g.done)
		return G_SOURCE_REMOVE;
	if (rtc_channel_buffered(g.ch) == 0 || ++drain_polls > 100) {
		rtc_channel_close(g.ch);
		finish(true, NULL);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static gboolean bench_stop_cb(gpointer data)
{
	(void)data;
	g_timeout_add(50, bench_drain_cb, NULL);	/* bounded: 100 × 50 ms */
	return G_SOURCE_REMOVE;
}

static gboolean bench_rx_check(gpointer data)
{
	uint64_t now = rg_mono_ns();

	(void)data;
	if (g.done)
		return G_SOURCE_REMOVE;
	if (g.first_rx_ns &&
	    (now - g.last_rx_ns > RG_NSEC_PER_SEC ||
	     now - g.first_rx_ns > (uint64_t)((g.bench + 5) * RG_NSEC_PER_SEC))) {
		finish(true, NULL);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void on_candidate(void *o, const char *c)
{
	JsonBuilder *b = json_builder_new();

	(void)o;
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "type");
	if (!c) {
		json_builder_add_string_value(b, "end-of-candidates");
	} else {
		json_builder_add_string_value(b, "candidate");
		json_builder_set_member_name(b, "candidate");
		json_builder_add_string_value(b, c);
		json_builder_set_member_name(b, "sdpMid");
		json_builder_add_string_value(b, "0");
		json_builder_set_member_name(b, "sdpMLineIndex");
		json_builder_add_int_value(b, 0);
	}
	json_builder_end_object(b);
	emit(b);
}

static void on_state(void *o, enum rtc_state s)
{
	(void)o;
	if (s == RTC_STATE_FAILED)
		finish(false, "connection failed");
	else if (s == RTC_STATE_CLOSED && !(g.bench > 0 && !g.offer && g.first_rx_ns))
		finish(false, "connection closed by the remote side");
	else if (s == RTC_STATE_CLOSED)
		finish(true, NULL);
}

static void on_open(void *o, struct rtc_channel *ch)
{
	(void)o;
	if (g.ch && g.ch != ch)
		return;	/* only the first channel is ours to test */
	g.ch = ch;
	g.open_ns = rg_mono_ns();
	rg_log(RG_LOG_INFO, "rtc-peer %s: channel '%s' open after %" G_GUINT64_FORMAT " ms", role(),
	       rtc_channel_label(ch), (g.open_ns - g.t0_ns) / RG_NSEC_PER_MSEC);
	if (g.bench > 0) {
		if (g.offer) {
			make_msg(0);
			g.bench_sending = true;
			g.bench_end_ns = rg_mono_ns() + (uint64_t)(g.bench * RG_NSEC_PER_SEC);
			bench_kick();
		} else {
			g.bench_src = g_timeout_add(100, bench_rx_check, NULL);
		}
		return;
	}
	send_some();
}

static void on_message(void *o, struct rtc_channel *ch, const uint8_t *d, size_t n, bool binary)
{
	const char *other = g.offer ? "answer-" : "offer-";
	size_t pl = strlen(other), want, i = pl;
	long idx = 0;

	(void)o;
	(void)binary;
	if (ch != g.ch || g.done)
		return;
	if (g.bench > 0) {
		uint64_t now = rg_mono_ns();

		if (!g.first_rx_ns)
			g.first_rx_ns = now;
		g.last_rx_ns = now;
		g.received++;
		g.bytes += n;
		return;
	}
	if (n < pl + 1 || memcmp(d, other, pl) != 0) {
		finish(false, "message without the other role's prefix");
		return;
	}
	while (i < n && d[i] >= '0' && d[i] <= '9' && i < pl + 9)
		idx = idx * 10 + (d[i++] - '0');
	if (i == pl || idx >= g.count) {
		finish(false, "message index out of range");
		return;
	}
	want = i > (size_t)g.size ? i : (size_t)g.size;
	if (n != want) {
		finish(false, "message of the wrong length");
		return;
	}
	for (; i < n; i++)
		if (d[i] != '.') {
			finish(false, "message padding is not '.'");
			return;
		}
	if (g.seen[idx]) {
		finish(false, "duplicate message");
		return;
	}
	g.seen[idx] = 1;
	g.received++;
	check_done();
}

static void on_writable(void *o, struct rtc_channel *ch)
{
	(void)o;
	if (ch != g.ch)
		return;
	if (g.bench > 0)
		bench_kick();
	else
		send_some();
}

static void on_closed(void *o, struct rtc_channel *ch)
{
	(void)o;
	if (ch != g.ch)
		return;
	if (g.bench > 0 && !g.offer) {
		finish(true, NULL);
	} else if (!g.done) {
		finish(false, "channel closed early");
	}
	g.ch = NULL;
}

static const struct rtc_peer_ops ops = {
	.local_candidate = on_candidate, .state_changed = on_state, .channel_open = on_open,
	.channel_message = on_message, .channel_writable = on_writable,
	.channel_closed = on_closed,
};

static void handle_line(const char *line)
{
	JsonParser *p = json_parser_new();
	JsonObject *o;
	const char *type;
	struct rg_err err = { 0 };

	if (!json_parser_load_from_data(p, line, -1, NULL) || !json_parser_get_root(p) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
		rg_log(RG_LOG_WARN, "rtc-peer: ignoring a line that is not a JSON object");
		goto out;
	}
	o = json_node_get_object(json_parser_get_root(p));
	type = json_object_get_string_member_with_default(o, "type", "");
	if (!strcmp(type, "offer") || !strcmp(type, "answer")) {
		const char *sdp = json_object_get_string_member_with_default(o, "sdp", NULL);
		bool is_offer = !strcmp(type, "offer");

		if (is_offer == g.offer || g.have_remote) {
			rg_log(RG_LOG_WARN, "rtc-peer: unexpected %s ignored", type);
			goto out;
		}
		if (rtc_peer_set_remote_description(g.peer, is_offer ? RTC_SDP_OFFER : RTC_SDP_ANSWER,
						    sdp, &err) < 0) {
			finish(false, err.msg);
			goto out;
		}
		g.have_remote = true;
		if (is_offer) {
			char *answer = NULL;

			if (rtc_peer_create_answer(g.peer, &answer, &err) < 0) {
				finish(false, err.msg);
				goto out;
			}
			emit_sdp("answer", answer);
			g_free(answer);
		}
	} else if (!strcmp(type, "candidate")) {
		const char *c = json_object_get_string_member_with_default(o, "candidate", "");

		if (!*c)	/* the browser's empty candidate also means end-of-candidates */
			rtc_peer_add_remote_candidate(g.peer, NULL, NULL);
		else if (rtc_peer_add_remote_candidate(g.peer, c, &err) < 0)
			rg_log(RG_LOG_WARN, "rtc-peer: candidate ignored: %s", err.msg);
	} else if (!strcmp(type, "end-of-candidates")) {
		rtc_peer_add_remote_candidate(g.peer, NULL, NULL);
	}
out:
	g_object_unref(p);
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer data)
{
	(void)data;
	for (;;) {
		gchar *line = NULL;
		gsize len = 0;
		GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, NULL);

		if (st == G_IO_STATUS_NORMAL) {
			if (line && !g.done)
				handle_line(line);
			g_free(line);
			continue;
		}
		g_free(line);
		if (st == G_IO_STATUS_AGAIN)
			return G_SOURCE_CONTINUE;
		break;	/* EOF or error: keep running until done or timeout */
	}
	(void)cond;
	return G_SOURCE_REMOVE;
}

static gboolean on_timeout(gpointer data)
{
	(void)data;
	finish(false, "timeout");
	return G_SOURCE_REMOVE;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rtc-peer --role offer|answer [--ice-addr 127.0.0.1] [--stun URL]\n"
		"       [--label wireguard] [--ordered 0|1] [--max-retransmits N] [--count N]\n"
		"       [--size BYTES] [--bench SECONDS] [--no-more 0|1] [--probe-path-mtu 0|1]\n"
		"       [--timeout SECONDS] [--verbose]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *role_s = NULL;
	struct rg_err err = { 0 };
	struct rtc_config cfg = { 0 };
	const char *addrs[1], *stuns[1];
	int verbose = 0;

	g.t0_ns = rg_mono_ns();
	g.ice_addr = "127.0.0.1";
	g.label = "wireguard";
	g.count = 10;
	g.size = 64;
	g.timeout = 20;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--verbose")) {
			verbose++;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--role"))
			role_s = v;
		else if (!strcmp(a, "--ice-addr"))
			g.ice_addr = v;
		else if (!strcmp(a, "--stun"))
			g.stun = v;
		else if (!strcmp(a, "--label"))
			g.label = v;
		else if (!strcmp(a, "--ordered"))
			g.ordered = atoi(v) != 0;
		else if (!strcmp(a, "--max-retransmits"))
			g.max_rtx = atoi(v);
		else if (!strcmp(a, "--count"))
			g.count = atol(v);
		else if (!strcmp(a, "--size"))
			g.size = atol(v);
		else if (!strcmp(a, "--bench"))
			g.bench = g_ascii_strtod(v, NULL);
		else if (!strcmp(a, "--timeout"))
			g.timeout = g_ascii_strtod(v, NULL);
		else if (!strcmp(a, "--no-more"))
			g.no_more = atoi(v) != 0;
		else if (!strcmp(a, "--probe-path-mtu"))
			g.probe_mtu = atoi(v) != 0;
		else
			usage();
	}
	if (!role_s || (strcmp(role_s, "offer") && strcmp(role_s, "answer")) || g.count < 0 ||
	    g.count > MAX_COUNT || g.size < 0 || g.size > RTC_MAX_MESSAGE_SIZE || g.timeout <= 0)
		usage();
	g.offer = !strcmp(role_s, "offer");
	rg_log_set_level(verbose > 1 ? RG_LOG_DEBUG : verbose ? RG_LOG_INFO : RG_LOG_WARN);
	g.seen = g_malloc0((size_t)g.count + 1);
	g.msg = g_malloc((size_t)g.size + 32);

	addrs[0] = g.ice_addr;
	cfg.local_addrs = addrs;
	cfg.n_local_addrs = 1;
	if (g.stun) {
		stuns[0] = g.stun;
		cfg.stun = stuns;
		cfg.n_stun = 1;
	}
	cfg.log_id = g.offer ? "offer" : "answer";
	cfg.probe_path_mtu = g.probe_mtu;
	g.loop = g_main_loop_new(NULL, FALSE);
	if (rtc_peer_new(&g.peer, NULL, &cfg, &ops, NULL, &err) < 0) {
		finish(false, err.msg);
	} else if (g.offer) {
		char *offer = NULL;

		if (rtc_peer_create_channel(g.peer, g.label, g.ordered, g.max_rtx, NULL) < 0 ||
		    rtc_peer_create_offer(g.peer, &offer, &err) < 0)
			finish(false, err.msg[0] ? err.msg : "cannot create the channel");
		else
			emit_sdp("offer", offer);
		g_free(offer);
	}
	g.in = g_io_channel_unix_new(STDIN_FILENO);
	g_io_channel_set_flags(g.in, G_IO_FLAG_NONBLOCK, NULL);
	g_io_add_watch(g.in, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, NULL);
	g_timeout_add((guint)(g.timeout * 1000), on_timeout, NULL);
	g_main_loop_run(g.loop);

	rtc_peer_free(g.peer);
	g_io_channel_unref(g.in);
	g_main_loop_unref(g.loop);
	g_free(g.seen);
	g_free(g.msg);
	return g.exit_code;
}
