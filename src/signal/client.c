/* Signaling client (see client.h): a libsoup 3 WebSocket kept up with backoff.
 *
 * Everything runs on c->ctx: the session is created with ctx as thread-default, every async call
 * is started with ctx pushed, and timers are attached to ctx. States: idle -> connecting ->
 * connected -> (closed) -> waiting (retry timer) -> connecting ... A generation counter guards
 * callbacks from a previous socket; c->freed guards user callbacks that free the client.
 */
#include <errno.h>
#include <libsoup/soup.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "signal/backoff.h"
#include "signal/client.h"
#include "signal/proxy.h"
#include "signal/relay.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/err.h"
#include "util/log.h"

enum client_state { ST_IDLE, ST_CONNECTING, ST_CONNECTED, ST_WAITING };

/* One upgrade in flight. Owned by the async call: connect_done frees it. sig_client_free sets
 * c to NULL (and cancels), so a late completion finds no client instead of freed memory. */
struct attempt {
	struct sig_client *c;
	SoupMessage *msg;
	GCancellable *cancel;
};

struct sig_client {
	GMainContext *ctx;		/* ref held */
	SoupSession *session;		/* owned */
	SoupWebsocketConnection *ws;	/* owned; NULL unless connected */
	struct attempt *attempt;	/* the upgrade in flight, or NULL */
	GSource *timer;			/* owned: retry or connect timeout */
	GSource *watchdog;		/* owned while connected: silence check */
	uint64_t last_rx_ms;		/* last frame or pong from the hub */
	uint32_t ping_s;
	char *url;			/* http(s):// form of the configured ws(s):// URL */
	char *shown_url;		/* the ws[s]:// URL as configured, for messages */
	char *token;			/* wiped on free */
	char *peer_id, *public_key, *address;
	char *cert;		/* NULL = none */
	char *rotation;		/* NULL = none: our newest key rotation (sig_client_set_key) */
	char *cert_serial;	/* NULL = none: X-Riftgate-Serial */
	char **routes;		/* the routes extension of join; NULL = absent */
	struct sig_client_ops ops;
	void *opaque;
	struct sig_backoff backoff;
	enum client_state state;
	unsigned connects;
	bool auth_reported;		/* fatal already raised for the current 401/403 streak */
	bool *freed;			/* set by sig_client_free while a callback runs */
	char *ws_error;			/* last "error" of the current socket, for the reason */
	/* relay (signal/relay.h): announced by the hub on this connection; pacing bucket in
	 * charged bytes; the socket's fd to see how much is still unsent (-1 = unknown) */
	bool relay_ok;
	uint32_t relay_rate, relay_burst;	/* the pace: what the hub announced, clamped */
	int64_t relay_tokens;
	uint64_t relay_last_ms;
	int relay_fd;
	enum sig_client_failure fail;	/* sig_client_last_failure() */
	/* Pacing (client.h): tokens in thousandths of a frame, refilled by elapsed time. */
	uint64_t tokens_milli;
	uint64_t refill_ms;
	GQueue queue;			/* owned char *: JSON frames waiting for a token */
	GSource *pace;			/* owned while the queue is not empty */
	uint64_t send_dropped;
};

static void connect_now(struct sig_client *c);

static uint64_t now_ms(void)
{
	return rg_mono_ns() / RG_NSEC_PER_MSEC;
}

static void stop_timer(struct sig_client *c)
{
	if (c->timer) {
		g_source_destroy(c->timer);
		g_source_unref(c->timer);
		c->timer = NULL;
	}
}

static void start_timer(struct sig_client *c, guint ms, GSourceFunc fn)
{
	stop_timer(c);
	c->timer = g_timeout_source_new(ms);
	g_source_set_callback(c->timer, fn, c, NULL);
	g_source_attach(c->timer, c->ctx);
}

static gboolean retry_cb(gpointer data)
{
	struct sig_client *c = data;

	g_source_unref(c->timer);
	c->timer = NULL;
	connect_now(c);
	return G_SOURCE_REMOVE;
}

/* Runs a user callback; returns false if the client was freed inside it. */
#define CALL_USER(c, call)                       \
	({                                       \
		bool freed_ = false;             \
		(c)->freed = &freed_;            \
		call;                            \
		if (!freed_)                     \
			(c)->freed = NULL;       \
		!freed_;                         \
	})

static void schedule_retry(struct sig_client *c, bool auth)
{
	uint32_t delay = sig_backoff_next(&c->backoff, now_ms());

	/* a rejected token must never turn into a tight loop (and a Cloudflare bill) */
	if (auth)
		delay += SIG_BACKOFF_AUTH_MIN_MS;
	c->state = ST_WAITING;
	rg_log(RG_LOG_INFO, "signal: reconnecting to %s in %u ms", c->shown_url, delay);
	start_timer(c, delay, retry_cb);
}

static void pace_clear(struct sig_client *c)
{
	char *f;

	if (c->pace) {
		g_source_destroy(c->pace);
		g_source_unref(c->pace);
		c->pace = NULL;
	}
	while ((f = g_queue_pop_head(&c->queue)))
		g_free(f);
}

/* Takes one token if there is one (refilled for the time since the last call). */
static bool take_token(struct sig_client *c)
{
	uint64_t now = now_ms();
	uint64_t cap = (uint64_t)SIG_CLIENT_SEND_BURST * 1000;

	c->tokens_milli += (now - c->refill_ms) * SIG_CLIENT_SEND_PER_S;
	if (c->tokens_milli > cap)
		c->tokens_milli = cap;
	c->refill_ms = now;
	if (c->tokens_milli < 1000)
		return false;
	c->tokens_milli -= 1000;
	return true;
}

static gboolean pace_cb(gpointer data)
{
	struct sig_client *c = data;
	char *f;

	while (!g_queue_is_empty(&c->queue) && take_token(c)) {
		f = g_queue_pop_head(&c->queue);
		if (c->ws && soup_websocket_connection_get_state(c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
			soup_websocket_connection_send_text(c->ws, f);
		g_free(f);
	}
	if (!g_queue_is_empty(&c->queue))
		return G_SOURCE_CONTINUE;
	g_source_unref(c->pace);
	c->pace = NULL;
	return G_SOURCE_REMOVE;
}

static void drop_ws(struct sig_client *c)
{
	pace_clear(c);	/* frames for this connection go with it */
	if (c->watchdog) {
		g_source_destroy(c->watchdog);
		g_source_unref(c->watchdog);
		c->watchdog = NULL;
	}
	if (!c->ws)
		return;
	g_signal_handlers_disconnect_by_data(c->ws, c);
	g_clear_pointer(&c->ws_error, g_free);
	c->relay_ok = false;
	c->relay_fd = -1;
	if (soup_websocket_connection_get_state(c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
		soup_websocket_connection_close(c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
	g_clear_object(&c->ws);
}

static void lost(struct sig_client *c, const char *reason, bool replaced, bool refused)
{
	drop_ws(c);
	c->fail = replaced ? SIG_FAIL_REPLACED : SIG_FAIL_LOST;
	c->state = ST_WAITING;
	/* The user's disconnected/fatal callbacks report it at their level: log it once. */
	rg_log(c->ops.disconnected ? RG_LOG_DEBUG : RG_LOG_WARN, "signal: disconnected from %s: %s",
	       c->shown_url, reason);
	if (c->ops.disconnected && !CALL_USER(c, c->ops.disconnected(c, reason, c->opaque)))
		return;
	if (replaced) {
		/* another process joined with our peerId: fighting over it would flap both */
		struct rg_err err;

		rg_err_set(&err, -EADDRINUSE, "another connection joined the hub as peer '%s'",
			   c->peer_id);
		rg_log(c->ops.fatal ? RG_LOG_DEBUG : RG_LOG_ERROR, "signal: %s", err.msg);
		if (c->ops.fatal && !CALL_USER(c, c->ops.fatal(c, &err, c->opaque)))
			return;
	}
	if (refused)
		rg_log(RG_LOG_WARN, "signal: the hub refused this device (%s); retrying slowly",
		       reason);
	/* A refused or displaced client must not hammer the hub: at most a few tries a minute. */
	schedule_retry(c, replaced || refused);
}

static uint32_t clamp_u32(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* A `peers` reply: whether the hub relays, and the budget to pace relay frames to. */
static void relay_announced(struct sig_client *c, const struct sig_msg *m)
{
	uint32_t rate = m->relay_rate ? clamp_u32(m->relay_rate, SIG_RELAY_RATE_MIN,
						  SIG_RELAY_RATE_MAX) : SIG_RELAY_RATE;
	uint32_t burst = m->relay_burst ? clamp_u32(m->relay_burst, SIG_RELAY_BURST_MIN,
						    SIG_RELAY_BURST_MAX) : SIG_RELAY_BURST;

	if (c->relay_ok != m->relay)
		rg_log(RG_LOG_INFO, "signal: the hub %s datagrams", m->relay ? "relays" : "does not relay");
	c->relay_ok = m->relay;
	if (!m->relay || (rate == c->relay_rate && burst == c->relay_burst))
		return;
	rg_log(RG_LOG_INFO, "signal: relay pace %u bytes/s, burst %u (%s)", rate, burst,
	       m->relay_rate ? "announced by the hub" : "the hub's default");
	c->relay_rate = rate;
	c->relay_burst = burst;
	if (c->relay_tokens > burst)
		c->relay_tokens = burst;
}

static void on_message(SoupWebsocketConnection *ws, gint type, GBytes *bytes, gpointer data)
{
	struct sig_client *c = data;
	struct sig_msg m;
	struct rg_err err = { 0 };
	gsize len;
	const char *p = g_bytes_get_data(bytes, &len);

	(void)ws;
	c->last_rx_ms = now_ms();
	if (type != SOUP_WEBSOCKET_DATA_TEXT) {
		if (len > SIG_RELAY_FRAME_MAX || !p) {
			rg_log(RG_LOG_DEBUG, "signal: dropping a binary frame of %zu bytes", len);
			return;
		}
		if (c->ops.binary)
			CALL_USER(c, c->ops.binary(c, (const uint8_t *)p, len, c->opaque));
		return;
	}
	if (sig_msg_parse(&m, p ? p : "", len, &err)) {
		rg_log(RG_LOG_DEBUG, "signal: dropping a frame from the hub: %s", err.msg);
		return;
	}
	if (m.type == SIG_MSG_ERROR)
		rg_log(RG_LOG_WARN, "signal: hub error %s: %s", m.code, m.message);
	if (m.type == SIG_MSG_PEERS)
		relay_announced(c, &m);
	if (c->ops.message && !CALL_USER(c, c->ops.message(c, &m, c->opaque))) {
		sig_msg_clear(&m);
		return;
	}
	sig_msg_clear(&m);
}

static void on_closed(SoupWebsocketConnection *ws, gpointer data)
{
	struct sig_client *c = data;
	g_autofree char *reason = NULL;
	gushort code = soup_websocket_connection_get_close_code(ws);
	const char *data_s = soup_websocket_connection_get_close_data(ws);

	if (c->ws_error)	/* our side closed it: say why (e.g. a frame over SIG_MSG_MAX) */
		reason = g_strdup(c->ws_error);
	else if (code)
		reason = g_strdup_printf("closed by hub (%u%s%s)", code, data_s && *data_s ? ": " : "",
					 data_s ? data_s : "");
	else
		reason = g_strdup("connection lost");
	g_clear_pointer(&c->ws_error, g_free);
	/* HUB_CLOSE_REPLACED; HUB_CLOSE_ID_IN_USE (another key holds our peerId);
	 * HUB_CLOSE_NOT_ADMITTED / HUB_CLOSE_ID_TAKEN (signed networks) */
	lost(c, reason, code == 4000, code == 4001 || code == 4003 || code == 4004);
}

static void on_error(SoupWebsocketConnection *ws, GError *error, gpointer data)
{
	struct sig_client *c = data;

	(void)ws;
	/* "closed" follows; it does the reconnect */
	rg_log(RG_LOG_DEBUG, "signal: websocket error: %s", error->message);
	g_free(c->ws_error);
	c->ws_error = g_strdup(error->message);
}

static void on_pong(SoupWebsocketConnection *ws, GBytes *bytes, gpointer data)
{
	(void)ws;
	(void)bytes;
	((struct sig_client *)data)->last_rx_ms = now_ms();
}

/* Pings go out every ping_s (libsoup); a hub that answered nothing for SIG_CLIENT_DEAD_PINGS
 * intervals is gone even if TCP has not noticed. */
static gboolean watchdog_cb(gpointer data)
{
	struct sig_client *c = data;
	g_autofree char *reason = NULL;

	if (now_ms() - c->last_rx_ms < (uint64_t)c->ping_s * 1000 * SIG_CLIENT_DEAD_PINGS)
		return G_SOURCE_CONTINUE;
	reason = g_strdup_printf("hub silent for %u s (no pong)", c->ping_s * SIG_CLIENT_DEAD_PINGS);
	g_source_unref(c->watchdog);	/* lost() -> drop_ws() must not destroy it twice */
	c->watchdog = NULL;
	lost(c, reason, false, false);
	return G_SOURCE_REMOVE;
}

/* The TCP socket under the WebSocket (through TLS and libsoup's wrapper), or -1. */
static int ws_fd(SoupWebsocketConnection *ws)
{
	GIOStream *io = soup_websocket_connection_get_io_stream(ws);

	for (int depth = 0; io && depth < 4; depth++) {
		GParamSpec *ps;
		GIOStream *base = NULL;

		if (G_IS_SOCKET_CONNECTION(io))
			return g_socket_get_fd(g_socket_connection_get_socket(G_SOCKET_CONNECTION(io)));
		ps = g_object_class_find_property(G_OBJECT_GET_CLASS(io), "base-io-stream");
		if (!ps)
			ps = g_object_class_find_property(G_OBJECT_GET_CLASS(io), "base-iostream");
		if (!ps || !g_type_is_a(ps->value_type, G_TYPE_IO_STREAM))
			return -1;
		g_object_get(io, ps->name, &base, NULL);
		if (base)
			g_object_unref(base);	/* still owned by io */
		io = base;
	}
	return -1;
}

static void send_join(struct sig_client *c)
{
	struct sig_msg m = { 0 };

	sig_msg_init_join(&m, c->peer_id, c->public_key, c->address);
	m.cert = g_strdup(c->cert);
	m.rotation = g_strdup(c->rotation);
	m.routes = g_strdupv(c->routes);
	sig_client_send(c, &m);
	sig_msg_clear(&m);
}

/* A failed upgrade: TLS (any GTlsError, e.g. an unacceptable certificate), an HTTP answer
 * other than 101, else the hub was not reached (refused, unreachable, DNS, our timeout). */
static enum sig_client_failure classify(const GError *gerr, guint status)
{
	if (gerr && gerr->domain == G_TLS_ERROR)
		return SIG_FAIL_TLS;
	if (status >= 100)
		return SIG_FAIL_HTTP;
	return SIG_FAIL_UNREACHABLE;
}

static void connect_done(GObject *src, GAsyncResult *res, gpointer data)
{
	struct attempt *a = data;
	struct sig_client *c = a->c;
	g_autoptr(GError) gerr = NULL;
	g_autofree char *refused = NULL;
	SoupWebsocketConnection *ws;
	guint status;

	ws = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &gerr);
	status = soup_message_get_status(a->msg);
	refused = g_strdup(soup_message_headers_get_one(soup_message_get_response_headers(a->msg),
							"X-Riftgate-Refused"));
	g_object_unref(a->msg);
	g_object_unref(a->cancel);
	g_free(a);
	if (!c) {	/* the client was freed meanwhile */
		if (ws) {
			soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
			g_object_unref(ws);
		}
		return;
	}
	c->attempt = NULL;
	stop_timer(c);
	if (!ws) {
		if (status == SOUP_STATUS_FORBIDDEN && refused) {
			/* Signed membership: the hub knows this device is revoked and said so before
			 * the upgrade; the token is fine. Slow retries, as after a refused join. */
			g_autofree char *reason = g_strdup_printf("the hub refused this device at the "
								  "upgrade (%.40s)", refused);

			c->fail = SIG_FAIL_HTTP;
			rg_log(RG_LOG_WARN, "signal: %s; retrying slowly", reason);
			if (c->ops.disconnected &&
			    !CALL_USER(c, c->ops.disconnected(c, reason, c->opaque)))
				return;
			schedule_retry(c, true);
			return;
		}
		if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) {
			struct rg_err err;

			c->fail = SIG_FAIL_TOKEN;
			rg_err_set(&err, -EACCES, "hub rejected token (HTTP %u from %s)", status,
				   c->shown_url);
			rg_log(c->ops.fatal ? RG_LOG_DEBUG : RG_LOG_ERROR, "signal: %s", err.msg);
			if (!c->auth_reported && c->ops.fatal) {
				c->auth_reported = true;
				if (!CALL_USER(c, c->ops.fatal(c, &err, c->opaque)))
					return;
			}
			schedule_retry(c, true);
			return;
		}
		g_autofree char *reason = status ? g_strdup_printf("HTTP %u: %s", status, gerr->message) :
					  g_strdup(gerr->message);

		c->fail = classify(gerr, status);

		rg_log(c->ops.disconnected ? RG_LOG_DEBUG : RG_LOG_WARN,
		       "signal: cannot connect to %s: %s", c->shown_url, reason);
		if (c->ops.disconnected && !CALL_USER(c, c->ops.disconnected(c, reason, c->opaque)))
			return;
		schedule_retry(c, false);
		return;
	}
	c->ws = ws;
	c->fail = SIG_FAIL_NONE;
	c->state = ST_CONNECTED;
	c->tokens_milli = (uint64_t)SIG_CLIENT_SEND_BURST * 1000;	/* the hub's bucket is new too */
	c->refill_ms = now_ms();
	c->connects++;
	c->auth_reported = false;
	sig_backoff_connected(&c->backoff, now_ms());
	soup_websocket_connection_set_max_incoming_payload_size(ws, SIG_MSG_MAX);
	c->relay_ok = false;
	c->relay_fd = ws_fd(ws);
	c->relay_rate = SIG_RELAY_RATE;	/* until `peers` says otherwise */
	c->relay_burst = SIG_RELAY_BURST;
	c->relay_tokens = SIG_RELAY_BURST;
	c->relay_last_ms = now_ms();
	soup_websocket_connection_set_keepalive_interval(ws, c->ping_s);
	c->last_rx_ms = now_ms();
	c->watchdog = g_timeout_source_new_seconds(c->ping_s);
	g_source_set_callback(c->watchdog, watchdog_cb, c, NULL);
	g_source_attach(c->watchdog, c->ctx);
	g_signal_connect(ws, "pong", G_CALLBACK(on_pong), c);
	g_signal_connect(ws, "message", G_CALLBACK(on_message), c);
	g_signal_connect(ws, "closed", G_CALLBACK(on_closed), c);
	g_signal_connect(ws, "error", G_CALLBACK(on_error), c);
	rg_log(c->ops.connected ? RG_LOG_DEBUG : RG_LOG_INFO, "signal: connected to %s as %s",
	       c->shown_url, c->peer_id);
	send_join(c);
	if (c->ops.connected)
		CALL_USER(c, c->ops.connected(c, c->opaque));
}

static gboolean connect_timeout_cb(gpointer data)
{
	struct sig_client *c = data;

	g_source_unref(c->timer);
	c->timer = NULL;
	if (c->attempt)
		g_cancellable_cancel(c->attempt->cancel);	/* connect_done reports and retries */
	return G_SOURCE_REMOVE;
}

static void connect_now(struct sig_client *c)
{
	g_autofree char *auth = NULL;
	SoupMessage *msg;
	struct attempt *a;

	c->state = ST_CONNECTING;
	msg = soup_message_new("GET", c->url);
	if (!msg) {
		/* validated in sig_client_new; keep the loop slow if it still happens */
		schedule_retry(c, true);
		return;
	}
	if (c->token && *c->token) {
		auth = g_strdup_printf("Bearer %s", c->token);
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "Authorization", auth);
		rg_memzero(auth, strlen(auth));
	}
	if (c->cert_serial)
		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "X-Riftgate-Serial", c->cert_serial);
	a = g_new0(struct attempt, 1);
	a->c = c;
	a->msg = msg;
	a->cancel = g_cancellable_new();
	c->attempt = a;
	g_main_context_push_thread_default(c->ctx);
	soup_session_websocket_connect_async(c->session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
					     a->cancel, connect_done, a);
	g_main_context_pop_thread_default(c->ctx);
	/* connect_done turns the cancellation into a retry (state is still CONNECTING) */
	start_timer(c, SIG_CLIENT_CONNECT_TIMEOUT_S * 1000, connect_timeout_cb);
}

/* ws://host/x -> http://host/x (what SoupMessage wants); NULL if not a ws/wss/http/https URL. */
static char *to_http_url(const char *url)
{
	g_autoptr(GUri) u = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	const char *scheme;

	if (!u || !g_uri_get_host(u) || !*g_uri_get_host(u))
		return NULL;
	scheme = g_uri_get_scheme(u);
	if (!g_ascii_strcasecmp(scheme, "ws") || !g_ascii_strcasecmp(scheme, "http"))
		return g_strconcat("http", url + strlen(scheme), NULL);
	if (!g_ascii_strcasecmp(scheme, "wss") || !g_ascii_strcasecmp(scheme, "https"))
		return g_strconcat("https", url + strlen(scheme), NULL);
	return NULL;
}

int sig_client_new(struct sig_client **out, GMainContext *ctx, const struct sig_client_cfg *cfg,
		   const struct sig_client_ops *ops, void *opaque, struct rg_err *err)
{
	struct sig_client *c;
	GProxyResolver *resolver;
	char *url;

	*out = NULL;
	if (!cfg->url || !(url = to_http_url(cfg->url)))
		return rg_err_set(err, -EINVAL, "hub URL '%s' is not ws://HOST[:PORT]/PATH or wss://...",
				  cfg->url ? cfg->url : "");
	if (!cfg->peer_id || !*cfg->peer_id || !cfg->public_key) {
		g_free(url);
		return rg_err_set(err, -EINVAL, "signaling needs a peer id and a public key");
	}
	c = g_new0(struct sig_client, 1);
	g_queue_init(&c->queue);
	c->ctx = ctx ? g_main_context_ref(ctx) : g_main_context_ref_thread_default();
	c->url = url;
	c->shown_url = g_strdup(cfg->url);
	c->token = g_strdup(cfg->token);
	c->peer_id = g_strdup(cfg->peer_id);
	c->public_key = g_strdup(cfg->public_key);
	c->address = g_strdup(cfg->address);
	c->cert = g_strdup(cfg->cert);
	c->rotation = g_strdup(cfg->rotation);
	c->cert_serial = g_strdup(cfg->cert_serial);
	c->routes = g_strdupv((char **)cfg->routes);
	if (ops)
		c->ops = *ops;
	c->opaque = opaque;
	sig_backoff_init(&c->backoff, cfg->rng, cfg->rng_opaque);
	if (cfg->backoff_base_ms)
		c->backoff.base_ms = cfg->backoff_base_ms;
	if (cfg->backoff_cap_ms)
		c->backoff.cap_ms = cfg->backoff_cap_ms;
	c->ping_s = cfg->ping_s ? cfg->ping_s : SIG_CLIENT_PING_S;
	c->relay_fd = -1;
	g_main_context_push_thread_default(c->ctx);
	resolver = sig_proxy_resolver_from_env();
	c->session = soup_session_new_with_options("user-agent", "riftgate/0.1",
						   "proxy-resolver", resolver, NULL);
	if (resolver)
		g_object_unref(resolver);
	g_main_context_pop_thread_default(c->ctx);
	*out = c;
	return 0;
}

void sig_client_start(struct sig_client *c)
{
	if (c->state == ST_IDLE)
		connect_now(c);
}

int sig_client_send(struct sig_client *c, const struct sig_msg *m)
{
	g_autofree char *json = NULL;
	size_t len;
	struct rg_err err;

	if (!c->ws || soup_websocket_connection_get_state(c->ws) != SOUP_WEBSOCKET_STATE_OPEN)
		return -ENOTCONN;
	json = sig_msg_to_json(m, &len, &err);
	if (!json) {
		rg_log(RG_LOG_WARN, "signal: not sending: %s", err.msg);
		return -EINVAL;
	}
	if (len > SIG_MSG_MAX)
		return -EMSGSIZE;
	if (g_queue_is_empty(&c->queue) && take_token(c)) {
		soup_websocket_connection_send_text(c->ws, json);
		return 0;
	}
	if (g_queue_get_length(&c->queue) >= SIG_CLIENT_QUEUE_MAX) {
		if (c->send_dropped++ == 0 || (c->send_dropped & (c->send_dropped - 1)) == 0)
			rg_log(RG_LOG_WARN, "signal: %u frames already wait for the pace (%d/s); "
			       "refusing more (%" G_GUINT64_FORMAT " so far)", SIG_CLIENT_QUEUE_MAX,
			       SIG_CLIENT_SEND_PER_S, c->send_dropped);
		return -ENOBUFS;
	}
	g_queue_push_tail(&c->queue, g_steal_pointer(&json));
	if (!c->pace) {
		c->pace = g_timeout_source_new(1000 / SIG_CLIENT_SEND_PER_S);
		g_source_set_callback(c->pace, pace_cb, c, NULL);
		g_source_attach(c->pace, c->ctx);
	}
	return 0;
}

/* The kernel still holds more than half the socket's send buffer: libsoup is (or is about to
 * be) queueing in user space, where nothing bounds it. */
static bool socket_backed_up(int fd)
{
	int unsent = 0, sndbuf = 0;
	socklen_t sl = sizeof(sndbuf);

	if (fd < 0 || ioctl(fd, SIOCOUTQ, &unsent) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) < 0)
		return false;
	return sndbuf > 0 && unsent > sndbuf / 2;
}

int sig_client_send_binary(struct sig_client *c, const uint8_t *frame, size_t len)
{
	int64_t cost = (int64_t)len + SIG_RELAY_FRAME_COST;
	uint64_t now;

	if (!c->ws || soup_websocket_connection_get_state(c->ws) != SOUP_WEBSOCKET_STATE_OPEN)
		return -ENOTCONN;
	if (len == 0 || len > SIG_RELAY_FRAME_MAX)
		return -EMSGSIZE;
	now = now_ms();
	if (now > c->relay_last_ms) {
		c->relay_tokens += (int64_t)((now - c->relay_last_ms) * c->relay_rate / 1000);
		if (c->relay_tokens > c->relay_burst)
			c->relay_tokens = c->relay_burst;
		c->relay_last_ms = now;
	}
	if (c->relay_tokens < cost || socket_backed_up(c->relay_fd))
		return -ENOBUFS;
	c->relay_tokens -= cost;
	soup_websocket_connection_send_binary(c->ws, frame, len);
	return 0;
}

bool sig_client_relay_available(const struct sig_client *c)
{
	return c->state == ST_CONNECTED && c->relay_ok;
}

void sig_client_relay_pace(const struct sig_client *c, uint32_t *rate, uint32_t *burst)
{
	*rate = c->relay_rate;
	*burst = c->relay_burst;
}

unsigned sig_client_queued(const struct sig_client *c)
{
	return g_queue_get_length((GQueue *)&c->queue);
}

uint64_t sig_client_send_dropped(const struct sig_client *c)
{
	return c->send_dropped;
}

void sig_client_set_address(struct sig_client *c, const char *address)
{
	g_free(c->address);
	c->address = g_strdup(address);
}

void sig_client_set_key(struct sig_client *c, const char *public_key, const char *rotation)
{
	g_free(c->public_key);
	c->public_key = g_strdup(public_key);
	g_free(c->rotation);
	c->rotation = g_strdup(rotation);
	if (c->state == ST_CONNECTED)
		send_join(c);
}

void sig_client_set_routes(struct sig_client *c, const char *const *routes)
{
	g_strfreev(c->routes);
	c->routes = g_strdupv((char **)routes);
	if (c->state == ST_CONNECTED)
		send_join(c);
}

bool sig_client_is_connected(const struct sig_client *c)
{
	return c->state == ST_CONNECTED;
}

void sig_client_reconnect(struct sig_client *c, const char *why)
{
	if (c->state != ST_CONNECTED)
		return;
	lost(c, why, false, false);
}

unsigned sig_client_connect_count(const struct sig_client *c)
{
	return c->connects;
}

void sig_client_free(struct sig_client *c)
{
	if (!c)
		return;
	if (c->freed)
		*c->freed = true;
	stop_timer(c);
	c->state = ST_IDLE;
	if (c->attempt) {
		/* connect_done still runs later (CANCELLED) and frees the attempt */
		c->attempt->c = NULL;
		g_cancellable_cancel(c->attempt->cancel);
		c->attempt = NULL;
	}
	drop_ws(c);
	pace_clear(c);
	g_clear_object(&c->session);
	if (c->token) {
		rg_memzero(c->token, strlen(c->token));
		g_free(c->token);
	}
	g_free(c->ws_error);
	g_free(c->url);
	g_free(c->shown_url);
	g_free(c->peer_id);
	g_free(c->public_key);
	g_strfreev(c->routes);
	g_free(c->address);
	g_free(c->cert);
	g_free(c->rotation);
	g_free(c->cert_serial);
	g_main_context_unref(c->ctx);
	g_free(c);
}

enum sig_client_failure sig_client_last_failure(const struct sig_client *c)
{
	return c->fail;
}

const char *sig_client_failure_name(enum sig_client_failure f)
{
	static const char *const names[] = {
		[SIG_FAIL_NONE] = "", [SIG_FAIL_UNREACHABLE] = "unreachable",
		[SIG_FAIL_TLS] = "tls", [SIG_FAIL_TOKEN] = "token", [SIG_FAIL_HTTP] = "http",
		[SIG_FAIL_LOST] = "lost", [SIG_FAIL_REPLACED] = "replaced",
	};

	return (unsigned)f < G_N_ELEMENTS(names) ? names[f] : "";
}
