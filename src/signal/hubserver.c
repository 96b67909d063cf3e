/* riftgate-hub's server glue (see hubserver.h): libsoup 3 sockets in, hub core events out.
 *
 * One struct hub per network ("default" unless the client asks for /connect/NAME or
 * ?network=NAME, as the Worker does), created on first use and freed when its last socket goes.
 * The hub core must never be re-entered: libsoup may emit "closed" synchronously from a send or
 * close the hub asked for, so while a hub call runs (s->depth > 0) closes requested by the hub
 * and sockets that went away are queued, then flushed once the call returns.
 * Runs on the thread-default GMainContext of the creating thread.
 */
#include <errno.h>
#include <libsoup/soup.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"
#include "signal/hubserver.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/err.h"
#include "util/log.h"

enum { NETWORK_NAME_MAX = 64, SERVER_PING_S = 30, LISTEN_BACKLOG = 4096 };

struct network {
	struct sig_hubserver *s;	/* back-pointer, not owned */
	char *name;
	struct hub hub;
	unsigned n_conns;
};

struct wsconn {
	uint64_t id;
	struct network *net;		/* not owned */
	SoupWebsocketConnection *ws;	/* ref held */
	char *remote;
};

struct pending_close {
	uint64_t id;
	uint16_t code;
	char reason[64];
};

struct sig_hubserver {
	SoupServer *server;
	char *token;			/* NULL = open hub; wiped on free */
	GHashTable *conns;		/* uint64 id -> struct wsconn (owned) */
	GHashTable *networks;		/* name -> struct network (owned) */
	uint64_t next_id;
	unsigned depth;			/* > 0 while inside a hub call */
	GArray *pending_close;		/* struct pending_close */
	GArray *pending_gone;		/* uint64 ids */
	uint16_t port;
	bool shutting_down;
	struct hub_stats gone;		/* counters of networks already freed */
	uint64_t ws_total, auth_failures, http_requests;
};

static void flush(struct sig_hubserver *s);

/* ---- hub host callbacks ---- */

static void host_send(void *host, uint64_t conn, const char *frame, size_t len)
{
	struct network *n = host;
	struct wsconn *w = g_hash_table_lookup(n->s->conns, &conn);

	if (!w || soup_websocket_connection_get_state(w->ws) != SOUP_WEBSOCKET_STATE_OPEN)
		return;
	g_autoptr(GBytes) b = g_bytes_new(frame, len);

	soup_websocket_connection_send_message(w->ws, SOUP_WEBSOCKET_DATA_TEXT, b);
}

static void host_close(void *host, uint64_t conn, uint16_t code, const char *reason)
{
	struct network *n = host;
	struct pending_close pc = { .id = conn, .code = code };

	g_strlcpy(pc.reason, reason, sizeof(pc.reason));
	g_array_append_val(n->s->pending_close, pc);
}

static void host_joined(void *host, uint64_t conn, const char *peer_id, const char *public_key,
			const char *address)
{
	struct network *n = host;
	struct wsconn *w = g_hash_table_lookup(n->s->conns, &conn);

	rg_log(RG_LOG_INFO, "event=join network=%s conn=%" G_GUINT64_FORMAT " peer=%.64s key=%.8s "
	       "address=%s remote=%s", n->name, conn, peer_id, public_key, *address ? address : "-",
	       w ? w->remote : "?");
}

static void *host_grow(void *host, size_t bytes)
{
	(void)host;
	return aligned_alloc(16, (bytes + 15) & ~(size_t)15);
}

static void host_release(void *host, void *chunk, size_t bytes)
{
	(void)host;
	(void)bytes;
	free(chunk);
}

static const struct hub_ops host_ops = {
	.send = host_send, .close = host_close, .joined = host_joined,
	.grow = host_grow, .release = host_release,
};

/* ---- networks and sockets ---- */

static void add_stats(struct hub_stats *acc, const struct hub_stats *x)
{
	acc->opened += x->opened;
	acc->joins += x->joins;
	acc->relayed += x->relayed;
	acc->rejects += x->rejects;
	acc->replaced += x->replaced;
	acc->frames_in += x->frames_in;
	acc->frames_out += x->frames_out;
}

static void network_free(gpointer p)
{
	struct network *n = p;
	struct hub_stats st;

	hub_get_stats(&n->hub, &st);
	add_stats(&n->s->gone, &st);
	hub_clear(&n->hub);
	g_free(n->name);
	g_free(n);
}

static struct network *network_get(struct sig_hubserver *s, const char *name)
{
	struct network *n = g_hash_table_lookup(s->networks, name);

	if (n)
		return n;
	n = g_new0(struct network, 1);
	n->s = s;
	n->name = g_strdup(name);
	hub_init(&n->hub, &host_ops, n);
	g_hash_table_insert(s->networks, n->name, n);
	return n;
}

static void wsconn_free(gpointer p)
{
	struct wsconn *w = p;

	g_signal_handlers_disconnect_by_data(w->ws, w);
	g_object_unref(w->ws);
	g_free(w->remote);
	g_free(w);
}

/* The socket is gone: tell the hub, drop our state. Only at depth 0. */
static void conn_gone(struct sig_hubserver *s, uint64_t id)
{
	struct wsconn *w = g_hash_table_lookup(s->conns, &id);
	struct network *n;

	if (!w)
		return;
	n = w->net;
	s->depth++;
	hub_close(&n->hub, id);
	s->depth--;
	rg_log(RG_LOG_INFO, "event=close network=%s conn=%" G_GUINT64_FORMAT " remote=%s code=%u",
	       n->name, id, w->remote, soup_websocket_connection_get_close_code(w->ws));
	g_hash_table_remove(s->conns, &id);
	if (--n->n_conns == 0)
		g_hash_table_remove(s->networks, n->name);
}

static void flush(struct sig_hubserver *s)
{
	if (s->depth)
		return;
	s->depth++;	/* closes below may emit "closed" synchronously: queue those too */
	while (s->pending_close->len || s->pending_gone->len) {
		while (s->pending_close->len) {
			struct pending_close pc = g_array_index(s->pending_close, struct pending_close, 0);
			struct wsconn *w;

			g_array_remove_index(s->pending_close, 0);
			w = g_hash_table_lookup(s->conns, &pc.id);
			if (w && soup_websocket_connection_get_state(w->ws) == SOUP_WEBSOCKET_STATE_OPEN)
				soup_websocket_connection_close(w->ws, pc.code, pc.reason);
		}
		if (s->pending_gone->len) {
			uint64_t id = g_array_index(s->pending_gone, uint64_t, 0);

			g_array_remove_index(s->pending_gone, 0);
			s->depth--;
			conn_gone(s, id);
			s->depth++;
		}
	}
	s->depth--;
}

static void on_ws_message(SoupWebsocketConnection *ws, gint type, GBytes *bytes, gpointer data)
{
	struct wsconn *w = data;
	struct sig_hubserver *s = w->net->s;
	gsize len;
	const char *p = g_bytes_get_data(bytes, &len);

	(void)ws;
	if (type != SOUP_WEBSOCKET_DATA_TEXT) {
		/* the protocol is text frames only; treat binary as malformed JSON */
		p = "";
		len = 0;
	}
	s->depth++;
	hub_text(&w->net->hub, w->id, p ? p : "", len, rg_mono_ns() / RG_NSEC_PER_MSEC);
	s->depth--;
	flush(s);
}

static void on_ws_closed(SoupWebsocketConnection *ws, gpointer data)
{
	struct wsconn *w = data;
	struct sig_hubserver *s = w->net->s;

	(void)ws;
	g_array_append_val(s->pending_gone, w->id);
	flush(s);
}

static bool valid_network(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NETWORK_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isalnum(name[i]) && !strchr("._-", name[i]))
			return false;
	return true;
}

/* "/connect/NAME" or ?network=NAME, else "default" (any other path: the Go original's one
 * network). Returns NULL for a bad name. */
static char *network_of(SoupServerMessage *msg, const char *path)
{
	GUri *uri = soup_server_message_get_uri(msg);
	const char *q = g_uri_get_query(uri);
	char *name = NULL;

	if (g_str_has_prefix(path, "/connect/") && path[9]) {
		name = g_uri_unescape_string(path + 9, NULL);
		if (name && g_str_has_suffix(name, "/"))
			name[strlen(name) - 1] = '\0';
	} else if (q) {
		g_autoptr(GHashTable) params = g_uri_parse_params(q, -1, "&", G_URI_PARAMS_NONE, NULL);
		const char *v = params ? g_hash_table_lookup(params, "network") : NULL;

		if (v)
			name = g_strdup(v);
	}
	if (!name)
		return g_strdup("default");
	if (!valid_network(name)) {
		g_free(name);
		return NULL;
	}
	return name;
}

static void on_ws(SoupServer *server, SoupServerMessage *msg, const char *path,
		  SoupWebsocketConnection *ws, gpointer data)
{
	struct sig_hubserver *s = data;
	g_autofree char *name = network_of(msg, path);
	struct wsconn *w;
	GSocketAddress *ra = soup_server_message_get_remote_address(msg);

	(void)server;
	if (!name || s->shutting_down) {	/* checked in http_cb; defensive */
		soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, NULL);
		return;
	}
	w = g_new0(struct wsconn, 1);
	w->id = ++s->next_id;
	w->ws = g_object_ref(ws);
	w->net = network_get(s, name);
	w->remote = ra ? g_inet_address_to_string(
				 g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(ra)))
		       : g_strdup("?");
	if (hub_open(&w->net->hub, w->id)) {
		rg_log(RG_LOG_ERROR, "event=reject reason=out-of-memory remote=%s", w->remote);
		soup_websocket_connection_close(ws, 1013 /* try again later */, "overloaded");
		if (w->net->n_conns == 0)
			g_hash_table_remove(s->networks, w->net->name);
		wsconn_free(w);
		return;
	}
	/* small frames that must go out now: no Nagle delay behind an unacknowledged one */
	GSocket *sock = soup_server_message_get_socket(msg);

	if (sock)
		g_socket_set_option(sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
	w->net->n_conns++;
	s->ws_total++;
	g_hash_table_insert(s->conns, &w->id, w);
	/* above the hub's limit, so the hub (not libsoup) answers moderately oversized frames with
	 * its error frame; libsoup drops anything beyond twice that without buffering it */
	soup_websocket_connection_set_max_incoming_payload_size(ws, 2 * HUB_FRAME_MAX);
	soup_websocket_connection_set_keepalive_interval(ws, SERVER_PING_S);
	g_signal_connect(ws, "message", G_CALLBACK(on_ws_message), w);
	g_signal_connect(ws, "closed", G_CALLBACK(on_ws_closed), w);
	rg_log(RG_LOG_DEBUG, "event=open network=%s conn=%" G_GUINT64_FORMAT " remote=%s path=%s",
	       name, w->id, w->remote, path);
}

/* ---- HTTP ---- */

static bool token_ok(const struct sig_hubserver *s, SoupServerMessage *msg)
{
	const char *h = soup_message_headers_get_one(soup_server_message_get_request_headers(msg),
						     "Authorization");
	const char *got = "";
	guint8 a[32], b[32];
	gsize la = sizeof(a), lb = sizeof(b);
	bool ok;

	if (!s->token)
		return true;
	if (h && !g_ascii_strncasecmp(h, "Bearer ", 7))
		got = h + 7;
	/* hash both to 32 bytes, so neither the compare nor a length check depends on the secret */
	GChecksum *ca = g_checksum_new(G_CHECKSUM_SHA256), *cb = g_checksum_new(G_CHECKSUM_SHA256);

	g_checksum_update(ca, (const guchar *)got, (gssize)strlen(got));
	g_checksum_update(cb, (const guchar *)s->token, (gssize)strlen(s->token));
	g_checksum_get_digest(ca, a, &la);
	g_checksum_get_digest(cb, b, &lb);
	ok = rg_ct_eq(a, b, sizeof(a)) && *got;
	g_checksum_free(ca);
	g_checksum_free(cb);
	rg_memzero(a, sizeof(a));
	rg_memzero(b, sizeof(b));
	return ok;
}

static void metrics(struct sig_hubserver *s, GString *o)
{
	struct hub_stats t = s->gone, st;
	uint64_t peers = 0;
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, s->networks);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		hub_get_stats(&((struct network *)v)->hub, &st);
		add_stats(&t, &st);
		peers += st.peers;
	}
#define M(name, type, help, val)                                                         \
	g_string_append_printf(o, "# HELP riftgate_hub_" name " " help "\n# TYPE riftgate_hub_" \
			       name " " type "\nriftgate_hub_" name " %" G_GUINT64_FORMAT "\n", \
			       (guint64)(val))
	M("peers", "gauge", "Joined peers.", peers);
	M("connections", "gauge", "Open WebSocket connections.", g_hash_table_size(s->conns));
	M("networks", "gauge", "Networks with at least one connection.",
	  g_hash_table_size(s->networks));
	M("connections_total", "counter", "WebSocket connections accepted.", s->ws_total);
	M("joins_total", "counter", "Successful joins.", t.joins);
	M("messages_relayed_total", "counter", "Offer/answer/ice-candidate frames relayed.",
	  t.relayed);
	M("rejects_total", "counter", "Frames answered with an error frame or a close.", t.rejects);
	M("replaced_total", "counter", "Connections replaced by a newer one with the same peerId.",
	  t.replaced);
	M("frames_in_total", "counter", "Text frames received.", t.frames_in);
	M("frames_out_total", "counter", "Frames sent.", t.frames_out);
	M("auth_failures_total", "counter", "Upgrades refused for a missing or wrong token.",
	  s->auth_failures);
	M("http_requests_total", "counter", "HTTP requests (upgrades included).", s->http_requests);
#undef M
}

static void reply(SoupServerMessage *msg, guint status, const char *type, char *body, gsize len)
{
	soup_server_message_set_status(msg, status, NULL);
	soup_server_message_set_response(msg, type, SOUP_MEMORY_TAKE, body, len);
}

static void http_cb(SoupServer *server, SoupServerMessage *msg, const char *path,
		    GHashTable *query, gpointer data)
{
	struct sig_hubserver *s = data;
	SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
	const char *method = soup_server_message_get_method(msg);
	GSocketAddress *ra = soup_server_message_get_remote_address(msg);
	g_autofree char *remote = ra ? g_inet_address_to_string(g_inet_socket_address_get_address(
					       G_INET_SOCKET_ADDRESS(ra))) : g_strdup("?");

	(void)server;
	(void)query;
	s->http_requests++;
	if (soup_message_headers_header_contains(h, "Upgrade", "websocket")) {
		g_autofree char *name = network_of(msg, path);

		if (s->shutting_down) {
			reply(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "text/plain",
			      g_strdup("shutting down\n"), 14);
		} else if (!token_ok(s, msg)) {
			s->auth_failures++;
			rg_log(RG_LOG_WARN, "event=auth-failed remote=%s path=%s", remote, path);
			soup_message_headers_replace(soup_server_message_get_response_headers(msg),
						     "WWW-Authenticate", "Bearer");
			reply(msg, SOUP_STATUS_UNAUTHORIZED, "text/plain", g_strdup("unauthorized\n"),
			      13);
		} else if (!name) {
			reply(msg, SOUP_STATUS_BAD_REQUEST, "text/plain",
			      g_strdup("bad network name (1-64 of A-Z a-z 0-9 . _ -)\n"), 46);
		}
		/* else: no status set, so libsoup's WebSocket handler does the handshake */
		return;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		reply(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "text/plain", g_strdup("GET only\n"), 9);
		return;
	}
	if (!strcmp(path, "/healthz")) {
		reply(msg, SOUP_STATUS_OK, "text/plain", g_strdup("ok\n"), 3);
	} else if (!strcmp(path, "/metrics")) {
		GString *o = g_string_new(NULL);
		gsize len;

		metrics(s, o);
		len = o->len;
		reply(msg, SOUP_STATUS_OK, "text/plain; version=0.0.4", g_string_free(o, FALSE), len);
	} else {
		reply(msg, SOUP_STATUS_NOT_FOUND, "text/plain",
		      g_strdup("riftgate-hub: WebSocket upgrade on /connect\n"), 44);
	}
}

/* ---- lifecycle ---- */

/* "HOST:PORT", ":PORT", "[V6]:PORT", "PORT". host NULL = all interfaces. */
static int parse_addr(const char *addr, char **host, guint16 *port, struct rg_err *err)
{
	const char *colon = strrchr(addr, ':');
	const char *ps = colon ? colon + 1 : addr;
	char *end;
	unsigned long p;

	*host = NULL;
	errno = 0;
	p = strtoul(ps, &end, 10);
	if (!*ps || *end || errno || p > 65535)
		return rg_err_set(err, -EINVAL, "address '%s': port must be 0-65535", addr);
	*port = (guint16)p;
	if (colon && colon > addr) {
		if (addr[0] == '[' && colon[-1] == ']')
			*host = g_strndup(addr + 1, (gsize)(colon - addr - 2));
		else
			*host = g_strndup(addr, (gsize)(colon - addr));
	}
	return 0;
}

/* Our own listening socket: libsoup's would get GLib's default backlog of 10, and a burst of
 * thousands of peers reconnecting after a hub restart would then stall in SYN retries. */
static gboolean listen_on(struct sig_hubserver *s, GInetAddress *ia, guint16 port, GError **gerr)
{
	g_autoptr(GSocket) sock = g_socket_new(g_inet_address_get_family(ia), G_SOCKET_TYPE_STREAM,
					       G_SOCKET_PROTOCOL_TCP, gerr);
	g_autoptr(GSocketAddress) sa = NULL;

	if (!sock)
		return FALSE;
	sa = g_inet_socket_address_new(ia, port);
	g_socket_set_listen_backlog(sock, LISTEN_BACKLOG);
	return g_socket_bind(sock, sa, TRUE, gerr) && g_socket_listen(sock, gerr) &&
	       soup_server_listen_socket(s->server, sock, 0, gerr);
}

int sig_hubserver_new(struct sig_hubserver **out, const struct sig_hubserver_cfg *cfg,
		      struct rg_err *err)
{
	struct sig_hubserver *s;
	g_autofree char *host = NULL;
	g_autoptr(GError) gerr = NULL;
	guint16 port = 0;
	int r;
	gboolean ok;

	*out = NULL;
	if ((r = parse_addr(cfg->addr ? cfg->addr : ":8080", &host, &port, err)))
		return r;
	s = g_new0(struct sig_hubserver, 1);
	s->token = cfg->token && *cfg->token ? g_strdup(cfg->token) : NULL;
	s->conns = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, wsconn_free);
	s->networks = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, network_free);
	s->pending_close = g_array_new(FALSE, FALSE, sizeof(struct pending_close));
	s->pending_gone = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	s->server = soup_server_new("server-header", "riftgate-hub", NULL);
	soup_server_add_handler(s->server, NULL, http_cb, s, NULL);
	soup_server_add_websocket_handler(s->server, NULL, NULL, NULL, on_ws, s, NULL);
	g_autoptr(GInetAddress) ia = NULL;

	if (!host || !*host)
		ia = g_inet_address_new_any(G_SOCKET_FAMILY_IPV6);	/* dual stack */
	else if (!strcmp(host, "localhost"))
		ia = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	else
		ia = g_inet_address_new_from_string(host);
	if (!ia) {
		r = rg_err_set(err, -EINVAL, "address '%s': '%s' is not an IP address", cfg->addr,
			       host);
		goto fail;
	}
	ok = listen_on(s, ia, port, &gerr);
	if (!ok && (!host || !*host)) {
		/* no IPv6 on this machine: all IPv4 interfaces then */
		g_clear_error(&gerr);
		g_clear_object(&ia);
		ia = g_inet_address_new_any(G_SOCKET_FAMILY_IPV4);
		ok = listen_on(s, ia, port, &gerr);
	}
	if (!ok) {
		r = rg_err_set(err, -EADDRNOTAVAIL, "cannot listen on %s: %s", cfg->addr,
			       gerr->message);
		goto fail;
	}
	GSList *uris = soup_server_get_uris(s->server);

	if (uris)
		s->port = (uint16_t)g_uri_get_port(uris->data);
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	*out = s;
	return 0;
fail:
	sig_hubserver_free(s);
	return r;
}

uint16_t sig_hubserver_port(const struct sig_hubserver *s)
{
	return s->port;
}

int sig_hubserver_open_count(const struct sig_hubserver *s)
{
	return (int)g_hash_table_size(s->conns);
}

void sig_hubserver_shutdown(struct sig_hubserver *s)
{
	GHashTableIter it;
	gpointer v;

	if (s->shutting_down)
		return;
	s->shutting_down = true;
	soup_server_disconnect(s->server);
	s->depth++;
	g_hash_table_iter_init(&it, s->conns);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct wsconn *w = v;

		if (soup_websocket_connection_get_state(w->ws) == SOUP_WEBSOCKET_STATE_OPEN)
			soup_websocket_connection_close(w->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
							"hub shutting down");
	}
	s->depth--;
	flush(s);
}

void sig_hubserver_free(struct sig_hubserver *s)
{
	if (!s)
		return;
	if (s->server) {
		soup_server_disconnect(s->server);
		g_object_unref(s->server);
	}
	/* sockets first (they point into networks), then the networks */
	g_hash_table_destroy(s->conns);
	g_hash_table_destroy(s->networks);
	g_array_free(s->pending_close, TRUE);
	g_array_free(s->pending_gone, TRUE);
	if (s->token) {
		rg_memzero(s->token, strlen(s->token));
		g_free(s->token);
	}
	g_free(s);
}
