/* Loopback TLS bridge for turns: servers (see turntls.h). The agent creates one per turns: entry
 * at start; libnice connects to it over TCP for every relay it allocates, and each connection
 * gets its own TLS connection to the TURN server (GIO: glib-networking). Bytes are spliced both
 * ways unchanged, a GIO buffer at a time (bounded), and when either side ends both are closed.
 * The bridge parses nothing it relays. Who may connect: see turntls.h (sock_diag + /proc/self/fd).
 * Runs on the agent's GMainContext; every async GIO call is
 * started with that context pushed as thread default, so its callback comes back there. */
#include "agent/turntls.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "util/err.h"
#include "util/iceurl.h"
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
	GSource *idle_check;		/* owned, attached: closes idle connections */
	unsigned idle_ms;		/* AGENT_TURNTLS_IDLE_S, or a test's value */
	uint64_t ok, failed, refused, idled;
	char error[AGENT_TURNTLS_ERROR_MAX + 1];
};

static void accept_next(struct agent_turntls *t);
static void close_socket(GIOStream *s);

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

/* The connecting socket of an accepted connection, from the kernel's socket table: an exact
 * lookup (not a dump) by its 4-tuple, which is our connection's seen from the other end. */
static int peer_socket(GSocketConnection *conn, uid_t *uid, unsigned long *inode)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 req;
	} msg = { 0 };
	struct sockaddr_storage l, r;
	GSocketAddress *la = g_socket_connection_get_local_address(conn, NULL);
	GSocketAddress *ra = g_socket_connection_get_remote_address(conn, NULL);
	union {
		struct nlmsghdr nh;
		char buf[8192];
	} ans;
	ssize_t n;
	int fd = -1, ret = -EINVAL;

	if (!la || !ra || !g_socket_address_to_native(la, &l, sizeof(l), NULL) ||
	    !g_socket_address_to_native(ra, &r, sizeof(r), NULL) || l.ss_family != r.ss_family)
		goto out;
	msg.nh.nlmsg_len = sizeof(msg);
	msg.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nh.nlmsg_flags = NLM_F_REQUEST;
	msg.req.sdiag_family = (uint8_t)l.ss_family;
	msg.req.sdiag_protocol = IPPROTO_TCP;
	msg.req.idiag_states = ~0u;
	msg.req.id.idiag_cookie[0] = msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (l.ss_family == AF_INET) {
		const struct sockaddr_in *l4 = (const void *)&l, *r4 = (const void *)&r;

		msg.req.id.idiag_sport = r4->sin_port;
		msg.req.id.idiag_dport = l4->sin_port;
		memcpy(msg.req.id.idiag_src, &r4->sin_addr, 4);
		memcpy(msg.req.id.idiag_dst, &l4->sin_addr, 4);
	} else if (l.ss_family == AF_INET6) {
		const struct sockaddr_in6 *l6 = (const void *)&l, *r6 = (const void *)&r;

		msg.req.id.idiag_sport = r6->sin6_port;
		msg.req.id.idiag_dport = l6->sin6_port;
		memcpy(msg.req.id.idiag_src, &r6->sin6_addr, 16);
		memcpy(msg.req.id.idiag_dst, &l6->sin6_addr, 16);
	} else {
		goto out;
	}
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0 || send(fd, &msg, sizeof(msg), 0) < 0) {
		ret = -errno;
		goto out;
	}
	do
		n = recv(fd, &ans, sizeof(ans), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	ret = -ENOENT;
	for (struct nlmsghdr *h = &ans.nh; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error)
				ret = e->error;
			break;
		}
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);

			*uid = m->idiag_uid;
			*inode = m->idiag_inode;
			ret = 0;
			break;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	g_clear_object(&la);
	g_clear_object(&ra);
	return ret;
}

/* Whether a socket inode is one of this process's file descriptors. */
static bool ours(unsigned long inode)
{
	char want[32], link[64];
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (!found && (e = readdir(d))) {
		char path[300];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = '\0';
			found = strcmp(link, want) == 0;
		}
	}
	closedir(d);
	return found;
}

/* Accepts only the agent's own sockets (libnice's): the listener is on 127.0.0.1, so the other
 * end is on this host, and the kernel says whose socket it is. Another user's process, or
 * another process of ours, is refused; so is everything when the kernel cannot tell (no
 * sock_diag): the bridge fails closed. why says what was refused. */
static bool from_our_socket(GSocketConnection *conn, char *why, size_t cap)
{
	unsigned long inode = 0;
	uid_t uid = 0;
	int r = peer_socket(conn, &uid, &inode);

	if (r < 0)
		snprintf(why, cap, "cannot tell whose socket connected (sock_diag: %s)",
			 g_strerror(-r));
	else if (uid != geteuid())
		snprintf(why, cap, "a socket of uid %u, not ours", (unsigned)uid);
	else if (!ours(inode))
		snprintf(why, cap, "a socket of another process");
	else
		return true;
	return false;
}

/* Closes connections that carried nothing either way for idle_ms. The kernel keeps the times
 * (TCP_INFO on libnice's leg, which sees both directions), so the splice needs no hooks. */
static gboolean on_idle_check(gpointer data)
{
	struct agent_turntls *t = data;

	for (guint i = t->conns->len; i-- > 0;) {
		struct bridge_conn *c = g_ptr_array_index(t->conns, i);
		struct tcp_info ti;
		socklen_t len = sizeof(ti);
		int fd;

		if (!c->remote || g_cancellable_is_cancelled(c->cancel))
			continue;	/* still connecting: AGENT_TURNTLS_CONNECT_S bounds it */
		fd = g_socket_get_fd(g_socket_connection_get_socket(c->local));
		memset(&ti, 0, sizeof(ti));
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
		    MIN(ti.tcpi_last_data_recv, ti.tcpi_last_data_sent) < t->idle_ms)
			continue;
		t->idled++;
		rg_log(RG_LOG_INFO, "TURN %s: bridged connection idle for %u s; closed", t->url,
		       t->idle_ms / 1000);
		/* the splice ends with CANCELLED and frees c (on_spliced) */
		g_cancellable_cancel(c->cancel);
		close_socket(c->remote);
		close_socket(G_IO_STREAM(c->local));
	}
	return G_SOURCE_CONTINUE;
}

static void idle_check_start(struct agent_turntls *t)
{
	if (t->idle_check) {
		g_source_destroy(t->idle_check);
		g_source_unref(t->idle_check);
	}
	t->idle_check = g_timeout_source_new(MAX(MIN(t->idle_ms / 4,
						     (unsigned)AGENT_TURNTLS_IDLE_CHECK_MAX_MS),
						 10u));
	g_source_set_callback(t->idle_check, on_idle_check, t, NULL);
	g_source_attach(t->idle_check, t->ctx);
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
	char why[96];

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
	if (t->conns->len >= AGENT_TURNTLS_CONNS_MAX)
		g_strlcpy(why, "too many open", sizeof(why));
	else if (from_our_socket(conn, why, sizeof(why)))
		why[0] = '\0';
	else
		t->refused++;
	if (why[0]) {
		/* said once at WARN (someone may be probing), then at DEBUG */
		rg_log(t->refused > 1 ? RG_LOG_DEBUG : RG_LOG_WARN,
		       "TURN %s: bridge refused a connection (%s)", t->url, why);
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

/* "turns:HOST[:PORT][?transport=tcp]" (util/iceurl.h) -> HOST:PORT; TLS runs over TCP only. */
static int server_of(const char *url, GSocketConnectable **out, struct rg_err *err)
{
	struct rg_ice_url u;
	int ret = rg_ice_url_parse(&u, url);

	if (ret == -EPROTONOSUPPORT)
		return rg_err_set(err, -EINVAL, "TURN %.100s: turns: is TLS over TCP; only "
				  "?transport=tcp fits (DTLS to a TURN server is not supported)", url);
	if (ret < 0 || u.scheme != RG_ICE_URL_TURNS)
		return rg_err_set(err, -EINVAL, "TURN '%.100s': not a turns: URL (turns:HOST[:PORT])",
				  url ? url : "");
	*out = g_network_address_new(u.host, u.port);
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
	t->idle_ms = AGENT_TURNTLS_IDLE_S * 1000u;
	idle_check_start(t);
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
	if (t->idle_check) {
		g_source_destroy(t->idle_check);
		g_source_unref(t->idle_check);
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

uint64_t agent_turntls_refused_count(const struct agent_turntls *t)
{
	return t->refused;
}

uint64_t agent_turntls_idle_count(const struct agent_turntls *t)
{
	return t->idled;
}

void agent_turntls_set_idle_ms(struct agent_turntls *t, unsigned ms)
{
	t->idle_ms = ms ? ms : AGENT_TURNTLS_IDLE_S * 1000u;
	idle_check_start(t);
}
