/* Loopback TLS bridge for turns: servers (see turntls.h). The agent creates one per turns: entry
 * at start; libnice connects to it over TCP for every relay it allocates, and each connection
 * gets its own TLS connection to the TURN server (GIO: glib-networking). Bytes are spliced both
 * ways unchanged, a GIO buffer at a time (bounded), and when either side ends both are closed.
 * The bridge parses nothing it relays. Runs on the agent's GMainContext; every async GIO call is
 * started with that context pushed as thread default, so its callback comes back there. */
#include "agent/turntls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "util/err.h"
#include "util/log.h"

struct bridge_conn {
	struct agent_turntls *t;	/* back-pointer, not owned; NULL once the bridge is freed */
	GSocketConnection *local;	/* owned: libnice's side */
	GIOStream *remote;		/* owned: TLS to the server; NULL until connected */
	GCancellable *cancel;		/* owned */
	GSource *timeout;		/* owned, attached; NULL once connected or failed */
	bool timed_out;			/* the connect timer cancelled it */
	GTlsCertificateFlags cert_errors;	/* what verification found, 0 = nothing */
	char peer_subject[128];		/* subject of a refused certificate, "" = none */
};

struct agent_turntls {
	GMainContext *ctx;		/* ref held */
	char *url;			/* the configured turns: URL */
	char *local_url;		/* turn:127.0.0.1:PORT?transport=tcp */
	GSocketConnectable *server;	/* owned: HOST:PORT, also the TLS server identity */
	GTlsDatabase *db;		/* owned; NULL = system store */
	GSocketListener *listener;	/* owned */
	GCancellable *accept_cancel;	/* owned */
	bool accepting;			/* an accept is pending */
	GSource *retry;			/* owned, attached: accept again after an error; or NULL */
	GPtrArray *conns;		/* struct bridge_conn *, owned */
	uint64_t ok, failed;
	char error[AGENT_TURNTLS_ERROR_MAX + 1];
};

static void accept_next(struct agent_turntls *t);

static void conn_free(struct bridge_conn *c)
{
	if (c->timeout) {
		g_source_destroy(c->timeout);
		g_source_unref(c->timeout);
	}
	if (c->t)
		g_ptr_array_remove_fast(c->t->conns, c);
	g_clear_object(&c->remote);
	g_clear_object(&c->local);
	g_clear_object(&c->cancel);
	g_free(c);
}

/* GTlsCertificateFlags as words, for the log and `riftgate status`. */
static void describe_cert_errors(GTlsCertificateFlags f, char *out, size_t cap)
{
	static const struct { GTlsCertificateFlags flag; const char *text; } names[] = {
		{ G_TLS_CERTIFICATE_UNKNOWN_CA, "issuer not trusted" },
		{ G_TLS_CERTIFICATE_BAD_IDENTITY, "name does not match the server" },
		{ G_TLS_CERTIFICATE_NOT_ACTIVATED, "not yet valid" },
		{ G_TLS_CERTIFICATE_EXPIRED, "expired" },
		{ G_TLS_CERTIFICATE_REVOKED, "revoked" },
		{ G_TLS_CERTIFICATE_INSECURE, "insecure algorithm" },
		{ G_TLS_CERTIFICATE_GENERIC_ERROR, "unusable" },
	};
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < G_N_ELEMENTS(names) && off < cap; i++) {
		int w;

		if (!(f & names[i].flag))
			continue;
		w = snprintf(out + off, cap - off, "%s%s", off ? ", " : "", names[i].text);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

static void conn_fail(struct bridge_conn *c, const GError *gerr)
{
	struct agent_turntls *t = c->t;
	char why[160];

	if (!t)
		return;
	t->failed++;
	describe_cert_errors(c->cert_errors, why, sizeof(why));
	if (c->cert_errors)
		snprintf(t->error, sizeof(t->error), "TLS: certificate refused (%s)%s%s", why,
			 c->peer_subject[0] ? ": " : "", c->peer_subject);
	else
		snprintf(t->error, sizeof(t->error), "TLS: %s",
			 gerr ? gerr->message : "connection failed");
	/* the subject (and some messages) come from the server: one line, printable */
	for (char *ch = t->error; *ch; ch++)
		if ((unsigned char)*ch < 0x20 || *ch == 0x7f)
			*ch = '?';
	rg_log(RG_LOG_ERROR, "TURN %s: %s", t->url, t->error);
}

/* Verification failed (the default check ran first): note why, and refuse. */
static gboolean on_accept_certificate(GTlsConnection *conn, GTlsCertificate *cert,
				      GTlsCertificateFlags errors, gpointer data)
{
	struct bridge_conn *c = data;
	gchar *subject = NULL;

	(void)conn;
	c->cert_errors = errors;
	g_object_get(cert, "subject-name", &subject, NULL);
	if (subject)
		snprintf(c->peer_subject, sizeof(c->peer_subject), "%s", subject);
	g_free(subject);
	return FALSE;
}

static void on_client_event(GSocketClient *client, GSocketClientEvent event,
			    GSocketConnectable *connectable, GIOStream *stream, gpointer data)
{
	struct bridge_conn *c = data;

	(void)client;
	(void)connectable;
	if (event != G_SOCKET_CLIENT_TLS_HANDSHAKING || !G_IS_TLS_CONNECTION(stream) || !c->t)
		return;
	if (c->t->db)
		g_tls_connection_set_database(G_TLS_CONNECTION(stream), c->t->db);
	g_signal_connect(stream, "accept-certificate", G_CALLBACK(on_accept_certificate), c);
}

static void on_spliced(GObject *src, GAsyncResult *res, gpointer data)
{
	struct bridge_conn *c = data;
	GError *gerr = NULL;

	(void)src;
	if (!g_io_stream_splice_finish(res, &gerr) && c->t &&
	    !g_error_matches(gerr, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		rg_log(RG_LOG_DEBUG, "TURN %s: bridged connection ended: %s", c->t->url,
		       gerr->message);
	g_clear_error(&gerr);
	conn_free(c);
}

/* TURN frames are small and each one matters now (a WireGuard packet inside): no Nagle delay on
 * either leg, as libnice does for its own TCP sockets. */
static void set_nodelay(GIOStream *s)
{
	if (G_IS_TCP_WRAPPER_CONNECTION(s))
		s = g_tcp_wrapper_connection_get_base_io_stream(G_TCP_WRAPPER_CONNECTION(s));
	if (G_IS_TLS_CONNECTION(s)) {
		GIOStream *base = NULL;

		g_object_get(s, "base-io-stream", &base, NULL);
		if (base) {
			set_nodelay(base);
			g_object_unref(base);
		}
		return;
	}
	if (G_IS_SOCKET_CONNECTION(s))
		g_socket_set_option(g_socket_connection_get_socket(G_SOCKET_CONNECTION(s)),
				    IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

static void on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
	struct bridge_conn *c = data;
	GSocketConnection *tls;
	GError *gerr = NULL;

	tls = g_socket_client_connect_finish(G_SOCKET_CLIENT(src), res, &gerr);
	g_signal_handlers_disconnect_by_data(src, c);
	g_object_unref(src);
	if (c->timeout) {
		g_source_destroy(c->timeout);
		g_clear_pointer(&c->timeout, g_source_unref);
	}
	if (!tls) {
		if (c->timed_out) {
			GError *to = g_error_new(G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
						 "no TLS connection to the server within %d s",
						 AGENT_TURNTLS_CONNECT_S);

			conn_fail(c, to);
			g_error_free(to);
		} else if (!g_error_matches(gerr, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
			conn_fail(c, gerr);
		}
		g_clear_error(&gerr);
		conn_free(c);
		return;
	}
	if (!c->t) {			/* the bridge went away meanwhile */
		g_object_unref(tls);
		conn_free(c);
		return;
	}
	c->remote = G_IO_STREAM(tls);
	set_nodelay(c->remote);
	set_nodelay(G_IO_STREAM(c->local));
	c->t->ok++;
	c->t->error[0] = '\0';
	rg_log(RG_LOG_DEBUG, "TURN %s: TLS connection up, certificate verified; bridging",
	       c->t->url);
	g_main_context_push_thread_default(c->t->ctx);
	g_io_stream_splice_async(G_IO_STREAM(c->local), c->remote,
				 G_IO_STREAM_SPLICE_CLOSE_STREAM1 | G_IO_STREAM_SPLICE_CLOSE_STREAM2,
				 G_PRIORITY_DEFAULT, c->cancel, on_spliced, c);
	g_main_context_pop_thread_default(c->t->ctx);
}

static gboolean on_connect_timeout(gpointer data)
{
	struct bridge_conn *c = data;

	g_clear_pointer(&c->timeout, g_source_unref);
	c->timed_out = true;
	g_cancellable_cancel(c->cancel);
	return G_SOURCE_REMOVE;
}

/* Accepts only what comes from this host: the listener is on 127.0.0.1, and libnice's socket is
 * bound to one of this host's addresses (a host candidate's), which bind() proves. */
static bool from_this_host(GSocketConnection *conn)
{
	GSocketAddress *ra = g_socket_connection_get_remote_address(conn, NULL);
	struct sockaddr_storage ss;
	bool local = false;
	int fd;

	if (!ra)
		return false;
	if (G_IS_INET_SOCKET_ADDRESS(ra) &&
	    g_inet_address_get_is_loopback(
		    g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(ra)))) {
		local = true;
	} else if (g_socket_address_to_native(ra, &ss, sizeof(ss), NULL)) {
		fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = 0;
		else if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port = 0;
		local = fd >= 0 && bind(fd, (struct sockaddr *)&ss,
					(socklen_t)g_socket_address_get_native_size(ra)) == 0;
		if (fd >= 0)
			close(fd);
	}
	g_object_unref(ra);
	return local;
}

static gboolean on_retry(gpointer data)
{
	struct agent_turntls *t = data;

	g_clear_pointer(&t->retry, g_source_unref);
	accept_next(t);
	return G_SOURCE_REMOVE;
}

static void on_accepted(GObject *src, GAsyncResult *res, gpointer data)
{
	struct agent_turntls *t = data;
	struct bridge_conn *c;
	GSocketConnection *conn;
	GSocketClient *client;
	GError *gerr = NULL;

	conn = g_socket_listener_accept_finish(G_SOCKET_LISTENER(src), res, NULL, &gerr);
	if (!conn && g_error_matches(gerr, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		g_error_free(gerr);	/* only agent_turntls_free() cancels: t is gone */
		return;
	}
	t->accepting = false;
	if (!conn) {
		/* EMFILE and friends: wait a moment rather than spin */
		rg_log(RG_LOG_WARN, "TURN %s: bridge accept: %s", t->url, gerr->message);
		g_error_free(gerr);
		if (!t->retry) {
			t->retry = g_timeout_source_new(AGENT_TURNTLS_RETRY_MS);
			g_source_set_callback(t->retry, on_retry, t, NULL);
			g_source_attach(t->retry, t->ctx);
		}
		return;
	}
	accept_next(t);
	if (!from_this_host(conn) || t->conns->len >= AGENT_TURNTLS_CONNS_MAX) {
		rg_log(RG_LOG_WARN, "TURN %s: bridge refused a connection (%s)", t->url,
		       t->conns->len >= AGENT_TURNTLS_CONNS_MAX ? "too many open" :
		       "not from this host");
		g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
		g_object_unref(conn);
		return;
	}
	c = g_new0(struct bridge_conn, 1);
	c->t = t;
	c->local = conn;
	c->cancel = g_cancellable_new();
	g_ptr_array_add(t->conns, c);
	c->timeout = g_timeout_source_new_seconds(AGENT_TURNTLS_CONNECT_S);
	g_source_set_callback(c->timeout, on_connect_timeout, c, NULL);
	g_source_attach(c->timeout, t->ctx);

	client = g_socket_client_new();
	g_socket_client_set_tls(client, TRUE);
	/* direct to the server: no system proxy lookup (a daemon has no desktop proxy settings) */
	g_socket_client_set_enable_proxy(client, FALSE);
	g_signal_connect(client, "event", G_CALLBACK(on_client_event), c);
	g_main_context_push_thread_default(t->ctx);
	g_socket_client_connect_async(client, t->server, c->cancel, on_connected, c);
	g_main_context_pop_thread_default(t->ctx);
}

static void accept_next(struct agent_turntls *t)
{
	if (t->accepting || g_cancellable_is_cancelled(t->accept_cancel))
		return;
	t->accepting = true;
	g_main_context_push_thread_default(t->ctx);
	g_socket_listener_accept_async(t->listener, t->accept_cancel, on_accepted, t);
	g_main_context_pop_thread_default(t->ctx);
}

/* "turns:HOST[:PORT][?transport=tcp]" -> HOST[:PORT]; TLS runs over TCP only. */
static int server_of(const char *url, GSocketConnectable **out, struct rg_err *err)
{
	const char *h, *q;
	GError *gerr = NULL;
	char *hostport;

	if (!url || strncmp(url, "turns:", 6) != 0)
		return rg_err_set(err, -EINVAL, "TURN '%.100s': not a turns: URL", url ? url : "");
	h = url + 6;
	q = strchr(h, '?');
	if (q && strcmp(q, "?transport=tcp") != 0)
		return rg_err_set(err, -EINVAL, "TURN %.100s: turns: is TLS over TCP; only "
				  "?transport=tcp fits (DTLS to a TURN server is not supported)", url);
	hostport = g_strndup(h, q ? (size_t)(q - h) : strlen(h));
	*out = g_network_address_parse(hostport, 5349, &gerr);
	g_free(hostport);
	if (!*out) {
		rg_err_set(err, -EINVAL, "TURN %.100s: %s", url, gerr->message);
		g_error_free(gerr);
		return -EINVAL;
	}
	return 0;
}

int agent_turntls_new(struct agent_turntls **out, GMainContext *ctx, const char *url,
		      const char *ca_file, struct rg_err *err)
{
	struct agent_turntls *t = g_new0(struct agent_turntls, 1);
	GSocketAddress *any = NULL, *bound = NULL;
	GInetAddress *lo;
	GError *gerr = NULL;
	int ret;

	*out = NULL;
	t->ctx = g_main_context_ref(ctx ? ctx : g_main_context_default());
	t->url = g_strdup(url);
	t->conns = g_ptr_array_new();
	t->accept_cancel = g_cancellable_new();
	if ((ret = server_of(url, &t->server, err)) < 0)
		goto fail;
	if (!g_tls_backend_supports_tls(g_tls_backend_get_default())) {
		ret = rg_err_set(err, -ENOTSUP, "TURN %s: GIO has no TLS backend (install "
				 "glib-networking)", url);
		goto fail;
	}
	if (ca_file) {
		t->db = g_tls_file_database_new(ca_file, &gerr);
		if (!t->db) {
			ret = rg_err_set(err, -EINVAL, "TURN %s: ca_file %s: %s", url, ca_file,
					 gerr->message);
			goto fail;
		}
	}
	/* 127.0.0.1 only, never a wildcard: nothing off this host can reach the bridge. */
	t->listener = g_socket_listener_new();
	lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	any = g_inet_socket_address_new(lo, 0);
	g_object_unref(lo);
	if (!g_socket_listener_add_address(t->listener, any, G_SOCKET_TYPE_STREAM,
					   G_SOCKET_PROTOCOL_TCP, NULL, &bound, &gerr)) {
		ret = rg_err_set(err, -EADDRNOTAVAIL, "TURN %s: cannot listen on 127.0.0.1: %s",
				 url, gerr->message);
		goto fail;
	}
	t->local_url = g_strdup_printf("turn:127.0.0.1:%u?transport=tcp",
				       g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)));
	g_object_unref(bound);
	g_object_unref(any);
	accept_next(t);
	rg_log(RG_LOG_INFO, "TURN %s: TLS bridge on %s (certificate checked against %s)", url,
	       t->local_url + 5, ca_file ? ca_file : "the system CA store");
	*out = t;
	return 0;
fail:
	if (gerr)
		g_error_free(gerr);
	g_clear_object(&any);
	agent_turntls_free(t);
	return ret;
}

/* Sockets close now; each cancelled operation still calls back on the loop later and frees its
 * connection there (c->t is NULL by then, and a cancelled accept does not touch the bridge). */
static void close_socket(GIOStream *s)
{
	if (G_IS_TCP_WRAPPER_CONNECTION(s))
		s = G_IO_STREAM(g_tcp_wrapper_connection_get_base_io_stream(
			G_TCP_WRAPPER_CONNECTION(s)));
	if (G_IS_TLS_CONNECTION(s))
		g_object_get(s, "base-io-stream", &s, NULL);
	else
		g_object_ref(s);
	if (G_IS_SOCKET_CONNECTION(s))
		g_socket_close(g_socket_connection_get_socket(G_SOCKET_CONNECTION(s)), NULL);
	g_object_unref(s);
}

void agent_turntls_free(struct agent_turntls *t)
{
	if (!t)
		return;
	g_cancellable_cancel(t->accept_cancel);
	if (t->retry) {
		g_source_destroy(t->retry);
		g_source_unref(t->retry);
	}
	for (guint i = 0; i < t->conns->len; i++) {
		struct bridge_conn *c = g_ptr_array_index(t->conns, i);

		c->t = NULL;
		g_cancellable_cancel(c->cancel);
		if (c->remote)
			close_socket(c->remote);
		close_socket(G_IO_STREAM(c->local));
	}
	if (t->listener) {
		g_socket_listener_close(t->listener);
		g_object_unref(t->listener);
	}
	g_ptr_array_free(t->conns, TRUE);
	g_clear_object(&t->accept_cancel);
	g_clear_object(&t->db);
	g_clear_object(&t->server);
	g_main_context_unref(t->ctx);
	g_free(t->local_url);
	g_free(t->url);
	g_free(t);
}

const char *agent_turntls_local_url(const struct agent_turntls *t)
{
	return t->local_url;
}

const char *agent_turntls_url(const struct agent_turntls *t)
{
	return t->url;
}

const char *agent_turntls_error(const struct agent_turntls *t)
{
	return t->error;
}

uint64_t agent_turntls_ok_count(const struct agent_turntls *t)
{
	return t->ok;
}

uint64_t agent_turntls_fail_count(const struct agent_turntls *t)
{
	return t->failed;
}

unsigned agent_turntls_open(const struct agent_turntls *t)
{
	return t->conns->len;
}
