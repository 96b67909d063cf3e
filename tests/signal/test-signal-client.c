/* The signaling client against the real riftgate-hub on loopback: each case starts the hub
 * binary on a free port (--addr 127.0.0.1:0, port read from its "listening on" line), drives
 * clients on this thread's main context, and polls with deadlines (never fixed sleeps). */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "signal/client.h"
#include "signal/relay.h"
#include "util/err.h"

/* The hub takes only real keys (base64 of 32 bytes): a first symbol, then zero bits. */
#define TKEY_ZEROS "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define TKEY(c) c TKEY_ZEROS

/* ---- the hub process ---- */

struct hub_proc {
	GSubprocess *proc;
	char *log_path;
	guint16 port;
	char *token;
	const char *const *args;	/* more options, NULL-terminated; NULL = none */
};

static gboolean poll_until(gboolean (*cond)(gpointer), gpointer data, guint timeout_ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (!cond(data)) {
		if (g_get_monotonic_time() > end)
			return FALSE;
		/* run whatever is ready, then nap briefly */
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(2000);
	}
	return TRUE;
}

static gboolean hub_listening(gpointer data)
{
	struct hub_proc *h = data;
	g_autofree char *log = NULL;
	const char *p;

	if (!g_file_get_contents(h->log_path, &log, NULL, NULL))
		return FALSE;
	p = strstr(log, "listening on ");
	if (!p || !strchr(p, '\n'))
		return FALSE;
	p = strchr(p, '\n');
	while (p[-1] != ':')
		p--;
	h->port = (guint16)atoi(p);
	return h->port != 0;
}

/* The hub dies with the test, also when a failed assertion aborts it mid-case. */
static void hub_child_setup(gpointer data)
{
	(void)data;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* port 0: any free port; else that port (restart case). */
static void hub_start(struct hub_proc *h, guint16 port, const char *token)
{
	g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
	g_autofree char *exe = g_build_filename(g_getenv("RG_BUILD_ROOT"), "src", "cli",
						"riftgate-hub", NULL);
	g_autofree char *addr = g_strdup_printf("127.0.0.1:%u", port);
	g_autoptr(GError) err = NULL;

	if (!h->log_path) {
		int fd = g_file_open_tmp("rg-hub-XXXXXX.log", &h->log_path, NULL);

		g_assert_cmpint(fd, >=, 0);
		close(fd);
	}
	g_file_set_contents(h->log_path, "", 0, NULL);
	g_subprocess_launcher_set_stderr_file_path(l, h->log_path);
	g_subprocess_launcher_unsetenv(l, "RIFTGATE_HUB_TOKEN");
	g_subprocess_launcher_set_child_setup(l, hub_child_setup, NULL, NULL);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();

	g_ptr_array_add(argv, exe);
	g_ptr_array_add(argv, "--addr");
	g_ptr_array_add(argv, addr);
	if (token) {
		g_ptr_array_add(argv, "--token");
		g_ptr_array_add(argv, (char *)token);
	}
	for (size_t i = 0; h->args && h->args[i]; i++)
		g_ptr_array_add(argv, (char *)h->args[i]);
	g_ptr_array_add(argv, NULL);
	h->proc = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &err);
	g_assert_no_error(err);
	h->port = 0;
	if (!poll_until(hub_listening, h, 20000))
		g_error("riftgate-hub did not start listening");
	g_free(h->token);
	h->token = g_strdup(token);
}

static void hub_kill(struct hub_proc *h, int sig)
{
	if (!h->proc)
		return;
	g_subprocess_send_signal(h->proc, sig);
	g_subprocess_wait(h->proc, NULL, NULL);
	g_clear_object(&h->proc);
}

static void hub_stop(struct hub_proc *h)
{
	hub_kill(h, SIGTERM);
	if (h->log_path) {
		if (g_test_failed()) {
			g_autofree char *log = NULL;

			g_file_get_contents(h->log_path, &log, NULL, NULL);
			g_printerr("---- hub log ----\n%s", log ? log : "");
		}
		unlink(h->log_path);
	}
	g_free(h->log_path);
	g_free(h->token);
	memset(h, 0, sizeof(*h));
}

static char *hub_url(const struct hub_proc *h)
{
	return g_strdup_printf("ws://127.0.0.1:%u/connect", h->port);
}

/* Reads one counter from /metrics. */
static guint64 hub_metric(const struct hub_proc *h, const char *name)
{
	g_autoptr(SoupSession) s = soup_session_new();
	g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/metrics", h->port);
	g_autoptr(SoupMessage) m = soup_message_new("GET", url);
	g_autoptr(GBytes) body = soup_session_send_and_read(s, m, NULL, NULL);
	g_autofree char *needle = g_strdup_printf("\nriftgate_hub_%s ", name);
	g_autofree char *text = NULL;
	const char *p;

	g_assert_nonnull(body);
	text = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
	p = strstr(text, needle);
	g_assert_nonnull(p);
	return g_ascii_strtoull(p + strlen(needle), NULL, 10);
}

/* ---- recording clients ---- */

struct peer {
	struct sig_client *c;
	char *id;
	GPtrArray *msgs;	/* received frames re-serialized, for easy matching */
	unsigned connected, disconnected, fatal;
	char *last_fatal;
	char *last_reason;
	GByteArray *bin;	/* the last binary (relay) frame received */
	unsigned bins;
};

static void on_connected(struct sig_client *c, void *opaque)
{
	struct peer *p = opaque;

	(void)c;
	p->connected++;
}

static void on_disconnected(struct sig_client *c, const char *reason, void *opaque)
{
	struct peer *p = opaque;

	(void)c;
	p->disconnected++;
	g_free(p->last_reason);
	p->last_reason = g_strdup(reason);
}

static void on_message(struct sig_client *c, const struct sig_msg *m, void *opaque)
{
	struct peer *p = opaque;
	struct rg_err err;

	(void)c;
	g_ptr_array_add(p->msgs, sig_msg_to_json(m, NULL, &err));
}

static void on_fatal(struct sig_client *c, const struct rg_err *err, void *opaque)
{
	struct peer *p = opaque;

	(void)c;
	p->fatal++;
	g_free(p->last_fatal);
	p->last_fatal = g_strdup(err->msg);
}

static void on_binary(struct sig_client *c, const uint8_t *frame, size_t len, void *opaque)
{
	struct peer *p = opaque;

	(void)c;
	p->bins++;
	if (!p->bin)
		p->bin = g_byte_array_new();
	g_byte_array_set_size(p->bin, 0);
	g_byte_array_append(p->bin, frame, (guint)len);
}

static const struct sig_client_ops peer_ops = {
	.connected = on_connected, .disconnected = on_disconnected,
	.message = on_message, .fatal = on_fatal, .binary = on_binary,
};

static void peer_start_key(struct peer *p, const struct hub_proc *h, const char *id,
			   const char *key, const char *token, const char *address, uint32_t base_ms,
			   uint32_t cap_ms)
{
	g_autofree char *url = hub_url(h);
	struct sig_client_cfg cfg = {
		.url = url, .token = token, .peer_id = id, .public_key = key, .address = address,
		.backoff_base_ms = base_ms, .backoff_cap_ms = cap_ms,
	};
	struct rg_err err = { 0 };

	memset(p, 0, sizeof(*p));
	p->id = g_strdup(id);
	p->msgs = g_ptr_array_new_with_free_func(g_free);
	if (sig_client_new(&p->c, NULL, &cfg, &peer_ops, p, &err))
		g_error("sig_client_new: %s", err.msg);
	sig_client_start(p->c);
}

static void peer_start(struct peer *p, const struct hub_proc *h, const char *id, const char *token,
		       const char *address, uint32_t base_ms, uint32_t cap_ms)
{
	g_autofree char *key = g_strdup_printf("%.1s" TKEY_ZEROS, id);

	peer_start_key(p, h, id, key, token, address, base_ms, cap_ms);
}

static void peer_stop(struct peer *p)
{
	sig_client_free(p->c);
	g_ptr_array_unref(p->msgs);
	g_free(p->id);
	g_free(p->last_fatal);
	g_free(p->last_reason);
	if (p->bin)
		g_byte_array_unref(p->bin);
	memset(p, 0, sizeof(*p));
}

struct wait_msg {
	struct peer *p;
	const char *want;
	guint from;	/* search from this index */
};

static gboolean has_msg(gpointer data)
{
	struct wait_msg *w = data;

	for (guint i = w->from; i < w->p->msgs->len; i++)
		if (!strcmp(w->p->msgs->pdata[i], w->want))
			return TRUE;
	return FALSE;
}

static void expect_msg(struct peer *p, const char *want)
{
	struct wait_msg w = { p, want, 0 };

	if (!poll_until(has_msg, &w, 15000)) {
		for (guint i = 0; i < p->msgs->len; i++)
			g_printerr("  %s got: %s\n", p->id, (char *)p->msgs->pdata[i]);
		g_error("%s never received %s", p->id, want);
	}
}

static gboolean is_connected(gpointer data)
{
	return sig_client_is_connected(((struct peer *)data)->c);
}

static void wait_connected(struct peer *p)
{
	if (!poll_until(is_connected, p, 15000))
		g_error("%s did not connect", p->id);
}

/* Lets pending async completions (cancelled connects, close frames) finish before exit. */
static void drain(void)
{
	gint64 end = g_get_monotonic_time() + 200 * 1000;

	while (g_get_monotonic_time() < end) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(5000);
	}
}

/* ---- cases ---- */

static void test_three_peers(void)
{
	struct hub_proc h = { 0 };
	struct peer a, b, c;

	hub_start(&h, 0, "tok3n");
	peer_start(&a, &h, "a", "tok3n", "10.10.0.1/24", 0, 0);
	wait_connected(&a);
	expect_msg(&a, "{\"type\":\"peers\",\"peers\":[]}");
	peer_start(&b, &h, "b", "tok3n", NULL, 0, 0);
	expect_msg(&b, "{\"type\":\"peers\",\"peers\":[{\"peerId\":\"a\",\"publicKey\":\"" TKEY("a") "\",\"address\":\"10.10.0.1/24\"}]}");
	expect_msg(&a, "{\"type\":\"join\",\"peerId\":\"b\",\"publicKey\":\"" TKEY("b") "\"}");
	peer_start(&c, &h, "c", "tok3n", "10.10.0.3/24", 0, 0);
	expect_msg(&c, "{\"type\":\"peers\",\"peers\":[{\"peerId\":\"a\",\"publicKey\":\"" TKEY("a") "\",\"address\":\"10.10.0.1/24\"},{\"peerId\":\"b\",\"publicKey\":\"" TKEY("b") "\"}]}");
	expect_msg(&a, "{\"type\":\"join\",\"peerId\":\"c\",\"publicKey\":\"" TKEY("c") "\",\"address\":\"10.10.0.3/24\"}");
	expect_msg(&b, "{\"type\":\"join\",\"peerId\":\"c\",\"publicKey\":\"" TKEY("c") "\",\"address\":\"10.10.0.3/24\"}");

	/* relay; a spoofed from is overwritten with the sender's id */
	struct sig_msg m = { 0 };

	sig_msg_init_offer(&m, SIG_MSG_OFFER, "c", "b", "v=0\r\n", TKEY("a"), "10.10.0.1/24");
	g_assert_cmpint(sig_client_send(a.c, &m), ==, 0);
	expect_msg(&b, "{\"type\":\"offer\",\"from\":\"a\",\"to\":\"b\",\"sdp\":\"v=0\\r\\n\",\"publicKey\":\"" TKEY("a") "\",\"address\":\"10.10.0.1/24\"}");
	sig_msg_init_offer(&m, SIG_MSG_ANSWER, NULL, "a", "v=0 answer", NULL, NULL);
	g_assert_cmpint(sig_client_send(b.c, &m), ==, 0);
	expect_msg(&a, "{\"type\":\"answer\",\"from\":\"b\",\"to\":\"a\",\"sdp\":\"v=0 answer\"}");
	sig_msg_init_candidate(&m, "zzz", "a", "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host");
	g_assert_cmpint(sig_client_send(c.c, &m), ==, 0);
	expect_msg(&a, "{\"type\":\"ice-candidate\",\"from\":\"c\",\"to\":\"a\",\"candidate\":\"candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host\"}");
	/* unknown to: error frame back to the sender only */
	sig_msg_init_candidate(&m, NULL, "nobody", "candidate:x");
	g_assert_cmpint(sig_client_send(c.c, &m), ==, 0);
	expect_msg(&c, "{\"type\":\"error\",\"code\":\"unknown-peer\",\"message\":\"no such peer: nobody\"}");
	sig_msg_clear(&m);
	/* relayed exactly to "to": b never saw the answer or the candidate */
	for (guint i = 0; i < b.msgs->len; i++) {
		g_assert_null(strstr(b.msgs->pdata[i], "\"answer\""));
		g_assert_null(strstr(b.msgs->pdata[i], "ice-candidate"));
	}
	g_assert_cmpuint(hub_metric(&h, "messages_relayed_total"), ==, 3);
	g_assert_cmpuint(hub_metric(&h, "peers"), ==, 3);

	/* peer-left to all others */
	peer_stop(&b);
	expect_msg(&a, "{\"type\":\"peer-left\",\"peerId\":\"b\"}");
	expect_msg(&c, "{\"type\":\"peer-left\",\"peerId\":\"b\"}");
	peer_stop(&a);
	peer_stop(&c);
	drain();
	hub_stop(&h);
}

struct count_ctx {
	struct peer *p;
	unsigned n;
};

static gboolean has_n_candidates(gpointer data)
{
	struct count_ctx *x = data;
	unsigned n = 0;

	for (guint i = 0; i < x->p->msgs->len; i++)
		n += strstr(x->p->msgs->pdata[i], "ice-candidate") != NULL;
	return n >= x->n;
}

/* Issue 15 item 4: a burst well over the hub's bucket (200 frames, then 50/s, then a 1008 close)
 * is paced: every frame arrives and the sender is never kicked. Without pacing the hub drops
 * what exceeds its burst and closes the connection. */
static void test_pacing(void)
{
	enum { N = 2 * 200 + 50 };
	struct hub_proc h = { 0 };
	struct peer a, b;
	struct sig_msg m = { 0 };
	struct count_ctx want;

	hub_start(&h, 0, "tok3n");
	peer_start(&a, &h, "a", "tok3n", NULL, 0, 0);
	wait_connected(&a);
	expect_msg(&a, "{\"type\":\"peers\",\"peers\":[]}");
	peer_start(&b, &h, "b", "tok3n", NULL, 0, 0);
	wait_connected(&b);
	expect_msg(&a, "{\"type\":\"join\",\"peerId\":\"b\",\"publicKey\":\"" TKEY("b") "\"}");
	for (int i = 0; i < N; i++) {
		g_autofree char *cand = g_strdup_printf("candidate:%d 1 udp 1 127.0.0.1 %d typ host",
							i, 1000 + i);

		sig_msg_init_candidate(&m, NULL, "b", cand);
		g_assert_cmpint(sig_client_send(a.c, &m), ==, 0);
	}
	sig_msg_clear(&m);
	g_assert_cmpuint(sig_client_queued(a.c), >, 0);
	want = (struct count_ctx){ &b, N };
	if (!poll_until(has_n_candidates, &want, 30000))
		g_error("b did not receive all %d candidates", N);
	g_assert_cmpuint(a.disconnected, ==, 0);
	g_assert_cmpuint(sig_client_queued(a.c), ==, 0);
	for (guint i = 0; i < a.msgs->len; i++)
		g_assert_null(strstr(a.msgs->pdata[i], "rate"));
	peer_stop(&a);
	peer_stop(&b);
	drain();
	hub_stop(&h);
}

/* The queue behind the pace is capped: beyond SIG_CLIENT_QUEUE_MAX frames, -ENOBUFS, counted. */
static void test_pacing_queue_cap(void)
{
	struct hub_proc h = { 0 };
	struct peer a;
	struct sig_msg m = { 0 };

	hub_start(&h, 0, "tok3n");
	peer_start(&a, &h, "a", "tok3n", NULL, 0, 0);
	wait_connected(&a);
	sig_msg_init_candidate(&m, NULL, "nobody", "candidate:x");
	/* the burst goes out at once, the rest queues (the loop does not run meanwhile) */
	for (int i = 0; sig_client_queued(a.c) < SIG_CLIENT_QUEUE_MAX; i++) {
		g_assert_cmpint(i, <, SIG_CLIENT_SEND_BURST + SIG_CLIENT_QUEUE_MAX + 100);
		g_assert_cmpint(sig_client_send(a.c, &m), ==, 0);
	}
	g_assert_cmpint(sig_client_send(a.c, &m), ==, -ENOBUFS);
	g_assert_cmpint(sig_client_send(a.c, &m), ==, -ENOBUFS);
	g_assert_cmpuint(sig_client_send_dropped(a.c), ==, 2);
	sig_msg_clear(&m);
	peer_stop(&a);
	drain();
	hub_stop(&h);
}

static gboolean connected_n(gpointer data)
{
	struct count_ctx *cc = data;

	return cc->p->connected >= cc->n;
}

static gboolean fatal_seen(gpointer data)
{
	return ((struct peer *)data)->fatal > 0;
}

static void test_auth(void)
{
	struct hub_proc h = { 0 };
	struct peer a;

	hub_start(&h, 0, "right");
	/* a tiny backoff (5 ms) would loop hard if 401 were treated like a network error */
	peer_start(&a, &h, "a", "wrong", NULL, 5, 20);
	if (!poll_until(fatal_seen, &a, 15000))
		g_error("no fatal error for a rejected token");
	g_assert_true(g_str_has_prefix(a.last_fatal, "hub rejected token (HTTP 401"));
	g_assert_false(sig_client_is_connected(a.c));
	/* 2 s later: still exactly one attempt (the next one waits >= 20 s) */
	gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < end) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(5000);
	}
	g_assert_cmpuint(hub_metric(&h, "auth_failures_total"), ==, 1);
	g_assert_cmpuint(a.fatal, ==, 1);
	g_assert_cmpuint(a.connected, ==, 0);
	peer_stop(&a);

	/* no token at all: also 401; the right one gets in */
	peer_start(&a, &h, "a", NULL, NULL, 5, 20);
	if (!poll_until(fatal_seen, &a, 15000))
		g_error("no fatal error without a token");
	peer_stop(&a);
	peer_start(&a, &h, "a", "right", NULL, 5, 20);
	wait_connected(&a);
	g_assert_cmpuint(hub_metric(&h, "auth_failures_total"), ==, 2);
	peer_stop(&a);
	drain();
	hub_stop(&h);
}

struct rejoin {
	struct peer *a, *b;
};

static gboolean both_reconnected(gpointer data)
{
	struct rejoin *r = data;

	return r->a->connected >= 2 && r->b->connected >= 2 && sig_client_is_connected(r->a->c) &&
	       sig_client_is_connected(r->b->c);
}

static bool mentions(const struct peer *p, const char *needle)
{
	for (guint i = 0; i < p->msgs->len; i++)
		if (strstr(p->msgs->pdata[i], needle))
			return true;
	return false;
}

static gboolean know_each_other(gpointer data)
{
	struct rejoin *r = data;

	return mentions(r->a, "\"peerId\":\"b\"") && mentions(r->b, "\"peerId\":\"a\"");
}

static gboolean hub_has_two(gpointer data)
{
	return hub_metric(data, "peers") == 2;
}

static void test_hub_restart(void)
{
	struct hub_proc h = { 0 };
	struct peer a, b;
	struct rejoin r = { &a, &b };
	guint16 port;

	hub_start(&h, 0, NULL);
	port = h.port;
	/* backoff 100 ms .. 800 ms so the test stays short; the bound below follows from it */
	peer_start(&a, &h, "a", NULL, NULL, 100, 800);
	peer_start(&b, &h, "b", NULL, NULL, 100, 800);
	wait_connected(&a);
	wait_connected(&b);
	g_assert_true(poll_until(hub_has_two, &h, 15000));

	hub_kill(&h, SIGKILL);	/* a crash: no close frames */
	gint64 t0 = g_get_monotonic_time();

	g_ptr_array_set_size(a.msgs, 0);
	g_ptr_array_set_size(b.msgs, 0);
	hub_start(&h, port, NULL);
	if (!poll_until(both_reconnected, &r, 15000))
		g_error("clients did not reconnect (a %u, b %u)", a.connected, b.connected);
	gint64 took_ms = (g_get_monotonic_time() - t0) / 1000;

	g_test_message("reconnected %" G_GINT64_FORMAT " ms after the restart", took_ms);
	/* the delays are at most 100+200+400+800+800... ms; allow generous slack for load */
	g_assert_cmpint(took_ms, <, 10000);
	g_assert_cmpuint(a.disconnected, >=, 1);
	/* each re-joined and learnt of the other again (peers list or join, by order) */
	if (!poll_until(know_each_other, &r, 15000))
		g_error("peers did not learn of each other after the reconnect");
	g_assert_true(poll_until(hub_has_two, &h, 15000));
	peer_stop(&a);
	peer_stop(&b);
	drain();
	hub_stop(&h);
}

static gboolean reconnected_once(gpointer data)
{
	struct peer *p = data;

	return p->connected >= 2 && sig_client_is_connected(p->c);
}

/* sig_client_reconnect (the host's addresses changed): the working connection is dropped and a
 * new one joins; while not connected it does nothing. */
static void test_reconnect(void)
{
	struct hub_proc h = { 0 };
	struct peer a;

	hub_start(&h, 0, NULL);
	peer_start(&a, &h, "a", NULL, NULL, 100, 800);
	wait_connected(&a);
	g_assert_cmpuint(a.connected, ==, 1);
	sig_client_reconnect(a.c, "test");
	g_assert_false(sig_client_is_connected(a.c));
	g_assert_cmpuint(a.disconnected, ==, 1);
	sig_client_reconnect(a.c, "test");	/* not connected: nothing */
	g_assert_cmpuint(a.disconnected, ==, 1);
	g_assert_true(poll_until(reconnected_once, &a, 15000));
	peer_stop(&a);
	drain();
	hub_stop(&h);
}

/* A raw WebSocket, to send what sig_client never would. */
struct raw {
	SoupSession *session;
	SoupWebsocketConnection *ws;
	GPtrArray *msgs;
	gboolean closed;
	GError *err;
};

static void raw_message(SoupWebsocketConnection *ws, gint type, GBytes *b, gpointer data)
{
	struct raw *r = data;

	(void)ws;
	(void)type;
	g_ptr_array_add(r->msgs, g_strndup(g_bytes_get_data(b, NULL), g_bytes_get_size(b)));
}

static void raw_closed(SoupWebsocketConnection *ws, gpointer data)
{
	(void)ws;
	((struct raw *)data)->closed = TRUE;
}

static void raw_connected(GObject *src, GAsyncResult *res, gpointer data)
{
	struct raw *r = data;

	r->ws = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &r->err);
	if (r->ws) {
		g_signal_connect(r->ws, "message", G_CALLBACK(raw_message), r);
		g_signal_connect(r->ws, "closed", G_CALLBACK(raw_closed), r);
	}
}

static gboolean raw_ready(gpointer data)
{
	struct raw *r = data;

	return r->ws || r->err;
}

static gboolean raw_is_closed(gpointer data)
{
	return ((struct raw *)data)->closed;
}

static void raw_open(struct raw *r, const struct hub_proc *h)
{
	g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/anything", h->port);
	g_autoptr(SoupMessage) m = soup_message_new("GET", url);

	memset(r, 0, sizeof(*r));
	r->session = soup_session_new();
	r->msgs = g_ptr_array_new_with_free_func(g_free);
	soup_session_websocket_connect_async(r->session, m, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
					     raw_connected, r);
	g_assert_true(poll_until(raw_ready, r, 15000));
	g_assert_no_error(r->err);
	soup_websocket_connection_set_max_incoming_payload_size(r->ws, 1 << 20);
}

static gboolean raw_has(gpointer data)
{
	struct raw *r = ((gpointer *)data)[0];
	const char *want = ((gpointer *)data)[1];

	for (guint i = 0; i < r->msgs->len; i++)
		if (strstr(r->msgs->pdata[i], want))
			return TRUE;
	return FALSE;
}

static void raw_expect(struct raw *r, const char *want)
{
	gpointer args[2] = { r, (gpointer)want };

	if (!poll_until(raw_has, args, 15000))
		g_error("raw socket never received %s", want);
}

static void raw_free(struct raw *r)
{
	if (r->ws) {
		g_signal_handlers_disconnect_by_data(r->ws, r);
		if (soup_websocket_connection_get_state(r->ws) == SOUP_WEBSOCKET_STATE_OPEN)
			soup_websocket_connection_close(r->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
		g_object_unref(r->ws);
	}
	g_clear_error(&r->err);
	g_object_unref(r->session);
	g_ptr_array_unref(r->msgs);
}

static void test_bad_frames(void)
{
	struct hub_proc h = { 0 };
	struct raw r;
	struct peer a;

	hub_start(&h, 0, NULL);
	peer_start(&a, &h, "a", NULL, NULL, 0, 0);
	wait_connected(&a);
	raw_open(&r, &h);	/* on a path other than /connect, like the Go original */
	soup_websocket_connection_send_text(r.ws, "{\"type\":\"offer\",\"to\":\"a\",\"sdp\":\"x\"}");
	raw_expect(&r, "\"code\":\"not-joined\"");
	soup_websocket_connection_send_text(r.ws, "{\"type\":\"join\",\"peerId\":\"raw\",\"publicKey\":\"" TKEY("K") "\"}");
	raw_expect(&r, "\"type\":\"peers\"");
	soup_websocket_connection_send_text(r.ws, "{not json");
	raw_expect(&r, "\"code\":\"bad-json\"");
	soup_websocket_connection_send_text(r.ws, "{\"type\":\"offer\",\"to\":\"a\",\"sdp\":\"\\ud800\"}");
	raw_expect(&r, "frame is not a valid JSON object");
	/* still connected and usable after malformed frames */
	g_assert_false(r.closed);
	soup_websocket_connection_send_text(r.ws, "{\"type\":\"offer\",\"to\":\"a\",\"sdp\":\"ok\"}");
	expect_msg(&a, "{\"type\":\"offer\",\"from\":\"raw\",\"to\":\"a\",\"sdp\":\"ok\"}");

	/* oversized: 70 KB frame -> error frame, close, peer-left; hub keeps running */
	GString *big = g_string_new("{\"type\":\"offer\",\"to\":\"a\",\"sdp\":\"");

	while (big->len < 70 * 1024)
		g_string_append(big, "xxxxxxxxxxxxxxxx");
	g_string_append(big, "\"}");
	soup_websocket_connection_send_text(r.ws, big->str);
	g_string_free(big, TRUE);
	raw_expect(&r, "\"code\":\"too-large\"");
	g_assert_true(poll_until(raw_is_closed, &r, 15000));
	g_assert_cmpuint(soup_websocket_connection_get_close_code(r.ws), ==, 1009);
	expect_msg(&a, "{\"type\":\"peer-left\",\"peerId\":\"raw\"}");
	raw_free(&r);

	/* far too large (1 MiB): libsoup drops it unbuffered and closes; hub unharmed */
	raw_open(&r, &h);
	g_autofree char *huge = g_strnfill(1 << 20, 'x');

	soup_websocket_connection_send_text(r.ws, huge);
	g_assert_true(poll_until(raw_is_closed, &r, 15000));
	raw_free(&r);

	/* binary frames are relay frames (docs/signaling.md §Relay): an unjoined socket's are
	 * dropped without a reply, and the socket stays open */
	raw_open(&r, &h);
	soup_websocket_connection_send_binary(r.ws, "\x01\x02", 2);
	soup_websocket_connection_send_text(r.ws, "{not json");
	raw_expect(&r, "\"code\":\"bad-json\"");
	g_assert_false(r.closed);
	g_assert_cmpuint(r.msgs->len, ==, 1);
	g_assert_cmpuint(hub_metric(&h, "relay_frames_in_total"), ==, 1);
	raw_free(&r);
	g_assert_true(sig_client_is_connected(a.c));
	g_assert_cmpuint(hub_metric(&h, "peers"), ==, 1);
	peer_stop(&a);
	drain();
	hub_stop(&h);
}

static gboolean relay_ready(gpointer data)
{
	return sig_client_relay_available(((struct peer *)data)->c);
}

static gboolean got_bins(gpointer data)
{
	return ((struct peer *)data)->bins > 0;
}

/* Relay frames between two clients through riftgate-hub: announced in peers, the golden frame
 * arrives with the sender's id, and a burst past the client's pacing is refused (-ENOBUFS)
 * instead of queued. */
static void test_relay(void)
{
	static uint8_t big[SIG_RELAY_FRAME_MAX], payload[SIG_RELAY_PAYLOAD_MAX];
	struct hub_proc h = { 0 };
	struct peer a, b;
	int enobufs = 0;
	size_t n;

	hub_start(&h, 0, NULL);
	peer_start(&a, &h, "alpha", NULL, NULL, 0, 0);
	peer_start(&b, &h, "beta", NULL, NULL, 0, 0);
	g_assert_true(poll_until(relay_ready, &a, 15000));
	g_assert_true(poll_until(relay_ready, &b, 15000));
	g_assert_cmpint(sig_client_send_binary(a.c, (const uint8_t *)"\x01\x04" "beta" "\x01\x02\x03\x04",
					       10), ==, 0);
	g_assert_true(poll_until(got_bins, &b, 15000));
	g_assert_cmpmem(b.bin->data, b.bin->len, "\x01\x05" "alpha" "\x01\x02\x03\x04", 11);
	g_assert_cmpint(sig_client_send_binary(a.c, big, 0), ==, -EMSGSIZE);
	n = sig_relay_encode(big, sizeof(big), "beta", payload, SIG_RELAY_PAYLOAD_MAX);
	/* the burst is 512 KiB (~55 of these), refilled at 8 MiB/s: what goes out is bounded by
	 * the time the loop took, however loaded the machine */
	gint64 t0 = g_get_monotonic_time();

	for (int i = 0; i < 200; i++)
		if (sig_client_send_binary(a.c, big, n) == -ENOBUFS)
			enobufs++;
	double secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
	double sent = (double)(200 - enobufs) * (double)(n + SIG_RELAY_FRAME_COST);

	g_test_message("relay pacing: %d of 200 refused in %.3f s", enobufs, secs);
	g_assert_cmpint(enobufs, >, 0);
	g_assert_cmpfloat(sent, <=, SIG_RELAY_BURST + SIG_RELAY_RATE * secs + n + SIG_RELAY_FRAME_COST);
	peer_stop(&a);
	peer_stop(&b);
	drain();
	hub_stop(&h);
}

/* The client paces relay frames to the budget the hub announces in `peers` (here 64 KiB/s with a
 * 4 KiB burst, far under the 8 MiB/s default): a burst is cut at the announced size, and what
 * goes out over a second follows the announced rate. */
static void test_relay_pace(void)
{
	static const char *const args[] = { "--relay-rate", "65536", "--relay-burst", "4096", NULL };
	static uint8_t big[SIG_RELAY_FRAME_MAX], payload[1000];
	struct hub_proc h = { .args = args };
	struct peer a, b;
	uint32_t rate, burst;
	int sent = 0;
	size_t n;

	hub_start(&h, 0, NULL);
	peer_start(&a, &h, "alpha", NULL, NULL, 0, 0);
	peer_start(&b, &h, "beta", NULL, NULL, 0, 0);
	g_assert_true(poll_until(relay_ready, &a, 15000));
	sig_client_relay_pace(a.c, &rate, &burst);
	g_assert_cmpuint(rate, ==, 65536);
	/* a burst under one largest frame is raised to one */
	g_assert_cmpuint(burst, ==, SIG_RELAY_BURST_MIN);
	n = sig_relay_encode(big, sizeof(big), "beta", payload, sizeof(payload));
	gint64 t0 = g_get_monotonic_time();

	/* the burst: SIG_RELAY_BURST_MIN / (n + 64) frames, plus what the rate refilled */
	while (g_get_monotonic_time() - t0 < G_USEC_PER_SEC) {
		if (sig_client_send_binary(a.c, big, n) == 0)
			sent++;
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(1000);
	}
	double secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
	double bytes = (double)sent * (double)(n + SIG_RELAY_FRAME_COST);
	double allowed = SIG_RELAY_BURST_MIN + 65536 * secs;

	g_test_message("relay pace 64 KiB/s: %d frames (%.0f charged bytes) in %.2f s, allowed %.0f",
		       sent, bytes, secs, allowed);
	g_assert_cmpfloat(bytes, <=, allowed + (double)(n + SIG_RELAY_FRAME_COST));
	/* and it did not stop far short of it either (the default would allow ~8 MiB) */
	g_assert_cmpfloat(bytes, >=, 0.8 * allowed - (double)(n + SIG_RELAY_FRAME_COST));
	peer_stop(&a);
	peer_stop(&b);
	drain();
	hub_stop(&h);
}

static gboolean replaced_seen(gpointer data)
{
	struct peer *p = data;

	return p->fatal > 0;
}

static void test_duplicate(void)
{
	struct hub_proc h = { 0 };
	struct peer a1, a2, b;

	hub_start(&h, 0, NULL);
	peer_start(&b, &h, "b", NULL, NULL, 0, 0);
	wait_connected(&b);
	peer_start(&a1, &h, "a", NULL, NULL, 0, 0);
	expect_msg(&b, "{\"type\":\"join\",\"peerId\":\"a\",\"publicKey\":\"" TKEY("a") "\"}");
	g_ptr_array_set_size(b.msgs, 0);
	peer_start(&a2, &h, "a", NULL, "10.0.0.2/24", 0, 0);
	wait_connected(&a2);
	/* the old socket is closed (4000) and reported; b sees peer-left, then the new join */
	if (!poll_until(replaced_seen, &a1, 15000))
		g_error("old connection not told it was replaced");
	g_assert_true(strstr(a1.last_fatal, "another connection joined"));
	g_assert_true(strstr(a1.last_reason, "4000"));
	expect_msg(&b, "{\"type\":\"join\",\"peerId\":\"a\",\"publicKey\":\"" TKEY("a") "\",\"address\":\"10.0.0.2/24\"}");
	g_assert_cmpuint(b.msgs->len, >=, 2);
	g_assert_cmpstr(b.msgs->pdata[0], ==, "{\"type\":\"peer-left\",\"peerId\":\"a\"}");
	g_assert_cmpstr(b.msgs->pdata[1], ==, "{\"type\":\"join\",\"peerId\":\"a\",\"publicKey\":\"" TKEY("a") "\",\"address\":\"10.0.0.2/24\"}");
	/* no ghost: one "a" only, and relays reach the new socket */
	g_assert_cmpuint(hub_metric(&h, "peers"), ==, 2);
	g_assert_cmpuint(hub_metric(&h, "replaced_total"), ==, 1);
	struct sig_msg m = { 0 };

	sig_msg_init_offer(&m, SIG_MSG_OFFER, NULL, "a", "to-new", NULL, NULL);
	g_assert_cmpint(sig_client_send(b.c, &m), ==, 0);
	sig_msg_clear(&m);
	expect_msg(&a2, "{\"type\":\"offer\",\"from\":\"b\",\"to\":\"a\",\"sdp\":\"to-new\"}");
	/* the replaced client backs off slowly instead of taking the id back at once */
	g_assert_false(sig_client_is_connected(a1.c));
	peer_stop(&a1);
	peer_stop(&a2);
	peer_stop(&b);
	drain();
	hub_stop(&h);
}


static gboolean never(gpointer data)
{
	(void)data;
	return FALSE;
}

static gboolean reason_seen(gpointer data)
{
	return ((struct peer *)data)->last_reason != NULL;
}

/* A second device claiming a live peerId with another key is refused (4001, id-in-use): it must
 * retry as slowly as a refused token, not hammer the hub every backoff step. */
static void test_id_in_use(void)
{
	struct hub_proc h = { 0 };
	struct peer a, intruder;
	guint64 before;

	hub_start(&h, 0, NULL);
	peer_start(&a, &h, "a", NULL, NULL, 0, 0);
	wait_connected(&a);
	/* fast backoff (50 ms base, 100 ms cap): without the slow schedule it would retry ~20x/s */
	peer_start_key(&intruder, &h, "a", "b" TKEY_ZEROS, NULL, NULL, 50, 100);
	if (!poll_until(reason_seen, &intruder, 15000))
		g_error("intruder was not refused");
	g_assert_nonnull(strstr(intruder.last_reason, "4001"));
	before = hub_metric(&h, "connections_total");
	g_assert_false(poll_until(never, NULL, 1500));	/* 1.5 s of the loop: retries would run */
	g_assert_cmpuint(hub_metric(&h, "connections_total"), ==, before);
	g_assert_true(sig_client_is_connected(a.c));
	peer_stop(&intruder);
	peer_stop(&a);
	drain();
	hub_stop(&h);
}

/* ---- raw TCP: the hub server's own HTTP/WebSocket code, byte by byte ---- */

static int tcp_connect(guint16 port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 10 };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(fd, >=, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	return fd;
}

static void tcp_write(int fd, const void *p, size_t n)
{
	g_assert_cmpint(write(fd, p, n), ==, (ssize_t)n);
}

/* Reads until the peer closes (or 10 s pass); returns everything read. */
static GString *tcp_read_all(int fd)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		g_string_append_len(s, buf, r);
	return s;
}

static char *http_get(guint16 port, const char *req)
{
	int fd = tcp_connect(port);
	GString *s;

	tcp_write(fd, req, strlen(req));
	s = tcp_read_all(fd);
	close(fd);
	return g_string_free(s, FALSE);
}

/* Masked client frame. */
static void ws_frame(int fd, uint8_t b0, const char *p, size_t n)
{
	uint8_t h[8] = { b0, 0x80 | (uint8_t)n, 1, 2, 3, 4 };
	g_autofree uint8_t *m = g_malloc(n + 6);

	g_assert_cmpuint(n, <, 126);
	memcpy(m, h, 6);
	for (size_t i = 0; i < n; i++)
		m[6 + i] = (uint8_t)p[i] ^ h[2 + (i & 3)];
	tcp_write(fd, m, n + 6);
}

/* Reads one server frame (unmasked); returns its payload, opcode in *op. */
static char *ws_read(int fd, uint8_t *op)
{
	uint8_t h[4];
	size_t n;
	char *p;

	g_assert_cmpint(recv(fd, h, 2, MSG_WAITALL), ==, 2);
	*op = h[0] & 0x0f;
	n = h[1] & 0x7f;
	if (n == 126) {
		g_assert_cmpint(recv(fd, h + 2, 2, MSG_WAITALL), ==, 2);
		n = (size_t)h[2] << 8 | h[3];
	}
	p = g_malloc0(n + 1);
	if (n)
		g_assert_cmpint(recv(fd, p, n, MSG_WAITALL), ==, (ssize_t)n);
	return p;
}

static int ws_open(guint16 port, const char *path)
{
	g_autofree char *req = g_strdup_printf(
		"GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path);
	int fd = tcp_connect(port);
	char buf[512];
	size_t got = 0;

	tcp_write(fd, req, strlen(req));
	while (!g_strstr_len(buf, (gssize)got, "\r\n\r\n")) {
		ssize_t r = read(fd, buf + got, 1);	/* byte by byte: leave frames unread */

		g_assert_cmpint(r, ==, 1);
		got++;
		g_assert_cmpuint(got, <, sizeof(buf));
	}
	g_assert_true(g_str_has_prefix(buf, "HTTP/1.1 101"));
	/* RFC 6455's own example key and accept value */
	g_assert_nonnull(g_strstr_len(buf, (gssize)got, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
	return fd;
}

static void test_server_raw(void)
{
	struct hub_proc h = { 0 };
	g_autofree char *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL, *r5 = NULL;
	char *p;
	uint8_t op;
	int a, b;

	hub_start(&h, 0, NULL);
	r1 = http_get(h.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	g_assert_true(g_str_has_prefix(r1, "HTTP/1.1 200 OK\r\n"));
	g_assert_true(g_str_has_suffix(r1, "\r\n\r\nok\n"));
	r2 = http_get(h.port, "GET /metrics HTTP/1.1\r\n\r\n");
	g_assert_nonnull(strstr(r2, "\nriftgate_hub_peers 0\n"));
	g_assert_nonnull(strstr(r2, "# TYPE riftgate_hub_build_info gauge\n"
				    "riftgate_hub_build_info{version=\"" RG_TEST_VERSION "\",revision=\""));
	g_assert_nonnull(strstr(r2, "# TYPE riftgate_hub_messages_relayed_total counter"));
	r3 = http_get(h.port, "GET /nothing HTTP/1.1\r\n\r\n");
	g_assert_true(g_str_has_prefix(r3, "HTTP/1.1 404"));
	r4 = http_get(h.port, "POST /connect HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	g_assert_true(g_str_has_prefix(r4, "HTTP/1.1 405"));
	r5 = http_get(h.port, "GET /connect/bad%20name HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
	g_assert_true(g_str_has_prefix(r5, "HTTP/1.1 400"));
	g_free(r5);
	r5 = http_get(h.port, "GET /connect/%zz HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
	g_assert_true(g_str_has_prefix(r5, "HTTP/1.1 400"));
	g_free(r5);
	r5 = http_get(h.port, "GET /connect HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			      "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n");
	g_assert_true(g_str_has_prefix(r5, "HTTP/1.1 400"));

	/* networks are separate: a in "blue" never sees b in "default" */
	a = ws_open(h.port, "/connect/blue");
	b = ws_open(h.port, "/");
	/* a join split over three fragments, with a ping in between */
	ws_frame(a, 0x01, "{\"type\":\"jo", strlen("{\"type\":\"jo"));
	ws_frame(a, 0x89, "hi", strlen("hi"));
	ws_frame(a, 0x00, "in\",\"peerId\":\"a\",", strlen("in\",\"peerId\":\"a\","));
	ws_frame(a, 0x80, "\"publicKey\":\"" TKEY("K") "\"}", strlen("\"publicKey\":\"" TKEY("K") "\"}"));
	p = ws_read(a, &op);
	g_assert_cmpuint(op, ==, 0xa);
	g_assert_cmpstr(p, ==, "hi");
	g_free(p);
	p = ws_read(a, &op);
	g_assert_cmpuint(op, ==, 0x1);
	g_assert_cmpstr(p, ==, "{\"type\":\"peers\",\"peers\":[],\"relay\":true,\"relayRate\":8388608,"
			 "\"relayBurst\":524288}");
	g_free(p);
	ws_frame(b, 0x81, "{\"type\":\"join\",\"peerId\":\"b\",\"publicKey\":\"" TKEY("K") "\"}", strlen("{\"type\":\"join\",\"peerId\":\"b\",\"publicKey\":\"" TKEY("K") "\"}"));
	p = ws_read(b, &op);
	g_assert_cmpstr(p, ==, "{\"type\":\"peers\",\"peers\":[],\"relay\":true,\"relayRate\":8388608,"
			 "\"relayBurst\":524288}");
	g_free(p);
	ws_frame(b, 0x81, "{\"type\":\"offer\",\"to\":\"a\",\"sdp\":\"x\"}", strlen("{\"type\":\"offer\",\"to\":\"a\",\"sdp\":\"x\"}"));
	p = ws_read(b, &op);
	g_assert_nonnull(strstr(p, "unknown-peer"));
	g_free(p);
	/* an unmasked client frame is a protocol error: close 1002 */
	tcp_write(b, "\x81\x02{}", 4);
	p = ws_read(b, &op);
	g_assert_cmpuint(op, ==, 0x8);
	g_assert_cmpuint((uint8_t)p[0] << 8 | (uint8_t)p[1], ==, 1002);
	g_free(p);
	close(b);
	/* a clean close: the hub echoes the close frame and hangs up */
	ws_frame(a, 0x88, "\x03\xe8", 2);
	p = ws_read(a, &op);
	g_assert_cmpuint(op, ==, 0x8);
	g_assert_cmpuint((uint8_t)p[0] << 8 | (uint8_t)p[1], ==, 1000);
	g_free(p);
	GString *rest = tcp_read_all(a);

	g_assert_cmpuint(rest->len, ==, 0);
	g_string_free(rest, TRUE);
	close(a);
	hub_stop(&h);
}

/* A stand-in hub (libsoup server) that answers the join with one oversized frame: the client
 * must cut the connection (64 KiB cap), report it, and not crash. */
static void big_ws_cb(SoupServer *server, SoupServerMessage *msg, const char *path,
		      SoupWebsocketConnection *ws, gpointer data)
{
	g_autofree char *big = g_strnfill(70 * 1024, 'x');

	(void)server; (void)msg; (void)path; (void)data;
	soup_websocket_connection_set_max_incoming_payload_size(ws, 1 << 20);
	soup_websocket_connection_send_text(ws, big);
	g_object_set_data_full(G_OBJECT(server), "ws", g_object_ref(ws), g_object_unref);
}

static gboolean disconnected_once(gpointer data)
{
	return ((struct peer *)data)->disconnected > 0;
}

static void test_incoming_cap(void)
{
	SoupServer *srv = soup_server_new(NULL, NULL);
	g_autoptr(GError) err = NULL;
	struct hub_proc fake = { 0 };
	GSList *uris;
	struct peer a;

	soup_server_add_websocket_handler(srv, NULL, NULL, NULL, big_ws_cb, NULL, NULL);
	g_assert_true(soup_server_listen_local(srv, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &err));
	uris = soup_server_get_uris(srv);
	fake.port = (guint16)g_uri_get_port(uris->data);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	peer_start(&a, &fake, "a", NULL, NULL, 5000, 5000);
	if (!poll_until(disconnected_once, &a, 15000))
		g_error("oversized frame did not end the connection");
	g_assert_cmpuint(a.connected, ==, 1);
	g_assert_cmpuint(a.msgs->len, ==, 0);	/* nothing delivered */
	g_assert_nonnull(strstr(a.last_reason, "max-incoming-payload-size"));
	peer_stop(&a);
	drain();
	g_object_unref(srv);
	drain();
}

static void test_graceful_shutdown(void)
{
	struct hub_proc h = { 0 };
	struct peer a;

	hub_start(&h, 0, NULL);
	peer_start(&a, &h, "a", NULL, NULL, 5000, 5000);
	wait_connected(&a);
	g_subprocess_send_signal(h.proc, SIGTERM);
	if (!poll_until(disconnected_once, &a, 15000))
		g_error("client not told about the shutdown");
	g_assert_nonnull(strstr(a.last_reason, "1001"));
	g_assert_nonnull(strstr(a.last_reason, "hub shutting down"));
	g_assert_true(g_subprocess_wait(h.proc, NULL, NULL));
	g_assert_true(g_subprocess_get_if_exited(h.proc));
	g_assert_cmpint(g_subprocess_get_exit_status(h.proc), ==, 0);
	g_clear_object(&h.proc);
	peer_stop(&a);
	drain();
	hub_stop(&h);
}

/* A hub that completes the handshake and then says nothing, not even pongs (a half-open TCP
 * path): the client must give up after SIG_CLIENT_DEAD_PINGS ping intervals and reconnect. */
struct silent_hub {
	int lfd, cfd;
	guint16 port;
	unsigned accepted;
};

static gpointer silent_hub_thread(gpointer data)
{
	struct silent_hub *h = data;

	for (;;) {
		char buf[2048] = { 0 };
		size_t got = 0;
		int fd = accept(h->lfd, NULL, NULL);

		if (fd < 0)
			return NULL;
		while (got < sizeof(buf) - 1 && !strstr(buf, "\r\n\r\n")) {
			ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);

			if (r <= 0)
				break;
			got += (size_t)r;
		}
		const char *k = strstr(buf, "Sec-WebSocket-Key: ");
		char key[64] = { 0 };

		if (k)
			sscanf(k + 19, "%63s", key);
		GChecksum *sha = g_checksum_new(G_CHECKSUM_SHA1);
		guint8 dg[20];
		gsize dl = sizeof(dg);

		g_checksum_update(sha, (const guchar *)key, (gssize)strlen(key));
		g_checksum_update(sha, (const guchar *)"258EAFA5-E914-47DA-95CA-C5AB0DC85B11", 36);
		g_checksum_get_digest(sha, dg, &dl);
		g_checksum_free(sha);
		g_autofree char *acc = g_base64_encode(dg, dl);
		g_autofree char *resp = g_strdup_printf("HTTP/1.1 101 Switching Protocols\r\n"
			"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);

		if (write(fd, resp, strlen(resp)) < 0)
			return NULL;
		if (h->cfd >= 0)
			close(h->cfd);
		h->cfd = fd;	/* kept open, never read again */
		g_atomic_int_inc(&h->accepted);
	}
}

static void test_silent_hub(void)
{
	struct silent_hub sh = { .cfd = -1 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct hub_proc fake = { 0 };
	GThread *t;
	struct peer a;
	gint64 t0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sh.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(bind(sh.lfd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_assert_cmpint(listen(sh.lfd, 8), ==, 0);
	getsockname(sh.lfd, (struct sockaddr *)&sa, &sl);
	fake.port = ntohs(sa.sin_port);
	t = g_thread_new("silent-hub", silent_hub_thread, &sh);

	struct sig_client_cfg cfg = { 0 };
	g_autofree char *url = hub_url(&fake);
	struct rg_err err;

	memset(&a, 0, sizeof(a));
	a.id = g_strdup("a");
	a.msgs = g_ptr_array_new_with_free_func(g_free);
	cfg.url = url;
	cfg.peer_id = "a";
	cfg.public_key = TKEY("a");
	cfg.ping_s = 1;
	cfg.backoff_base_ms = 50;
	cfg.backoff_cap_ms = 100;
	g_assert_cmpint(sig_client_new(&a.c, NULL, &cfg, &peer_ops, &a, &err), ==, 0);
	sig_client_start(a.c);
	wait_connected(&a);
	t0 = g_get_monotonic_time();
	if (!poll_until(disconnected_once, &a, 15000))
		g_error("a silent hub was never given up");
	gint64 ms = (g_get_monotonic_time() - t0) / 1000;

	g_test_message("gave up after %" G_GINT64_FORMAT " ms: %s", ms, a.last_reason);
	g_assert_nonnull(strstr(a.last_reason, "no pong"));
	g_assert_cmpint(ms, >=, 2000);		/* not before 3 intervals (timer granularity 1 s) */
	/* and it reconnects */
	struct count_ctx cc = { &a, 2 };

	g_assert_true(poll_until(connected_n, &cc, 15000));
	peer_stop(&a);
	drain();
	shutdown(sh.lfd, SHUT_RDWR);
	close(sh.lfd);
	g_thread_join(t);
	if (sh.cfd >= 0)
		close(sh.cfd);
}

static void test_bad_config(void)
{
	struct sig_client *c = NULL;
	struct rg_err err = { 0 };
	struct sig_client_cfg cfg = { .url = "ftp://x/", .peer_id = "a", .public_key = TKEY("K") };

	g_assert_cmpint(sig_client_new(&c, NULL, &cfg, NULL, NULL, &err), ==, -EINVAL);
	g_assert_null(c);
	g_assert_true(strstr(err.msg, "ftp://x/"));
	cfg.url = "ws://127.0.0.1:1/connect";
	cfg.peer_id = "";
	g_assert_cmpint(sig_client_new(&c, NULL, &cfg, NULL, NULL, &err), ==, -EINVAL);
	cfg.peer_id = "a";
	g_assert_cmpint(sig_client_new(&c, NULL, &cfg, NULL, NULL, &err), ==, 0);
	/* not connected yet: sends are refused, not queued */
	struct sig_msg m = { 0 };

	sig_msg_init_candidate(&m, NULL, "b", "x");
	g_assert_cmpint(sig_client_send(c, &m), ==, -ENOTCONN);
	sig_msg_clear(&m);
	sig_client_start(c);	/* port 1: refused; freeing mid-connect is safe */
	sig_client_free(c);
	drain();
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/signal/client/three-peers", test_three_peers);
	g_test_add_func("/signal/client/auth", test_auth);
	g_test_add_func("/signal/client/pacing", test_pacing);
	g_test_add_func("/signal/client/pacing-queue-cap", test_pacing_queue_cap);
	g_test_add_func("/signal/client/hub-restart", test_hub_restart);
	g_test_add_func("/signal/client/reconnect", test_reconnect);
	g_test_add_func("/signal/client/bad-frames", test_bad_frames);
	g_test_add_func("/signal/client/duplicate", test_duplicate);
	g_test_add_func("/signal/client/id-in-use", test_id_in_use);
	g_test_add_func("/signal/client/bad-config", test_bad_config);
	g_test_add_func("/signal/client/server-raw", test_server_raw);
	g_test_add_func("/signal/client/incoming-cap", test_incoming_cap);
	g_test_add_func("/signal/client/graceful-shutdown", test_graceful_shutdown);
	g_test_add_func("/signal/client/silent-hub", test_silent_hub);
	g_test_add_func("/signal/client/relay", test_relay);
	g_test_add_func("/signal/client/relay-pace", test_relay_pace);
	return g_test_run();
}
