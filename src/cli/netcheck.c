/* `riftgate netcheck`: what this network allows, without an agent (docs/cli.md#netcheck). Reads
 * the config and checks, in order and within NETCHECK_BUDGET_MS in all:
 *   hub      a WebSocket upgrade with the token (no join: a running agent keeps its place)
 *   stun     each [stun] server's mapping from one UDP socket; a second destination (another
 *            server, or the first one's RFC 5780 OTHER-ADDRESS) tells whether the mapping
 *            depends on it (symmetric NAT); with OTHER-ADDRESS, CHANGE-REQUEST probes tell the
 *            filtering (full-cone / restricted / port-restricted)
 *   turn     each [[turn]] server over its transport (UDP, TCP, or TLS verified like the
 *            agent does, ca_file included): an allocation with the configured (or derived)
 *            credentials, then released
 *   ipv6     a global IPv6 address with a route
 * STUN and TURN messages are built and validated by libnice's STUN library (stun/): a reply
 * whose transaction id is not the request's, or that does not parse, is counted and ignored. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stun/stunagent.h>
#include <stun/usages/bind.h>
#include <stun/usages/turn.h>

#include "cli/cmds.h"
#include "cli/confpath.h"
#include "conf/config.h"
#include "conf/turn.h"
#include "signal/proxy.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/sockaddr.h"

enum netcheck_limits {
	NETCHECK_BUDGET_MS = 9500,	/* everything, promised: <= 10 s */
	NETCHECK_HUB_MS = 3000,
	NETCHECK_PROBE_MS = 900,	/* one STUN transaction: sends at 0, 200, 500 ms */
	NETCHECK_SERVERS_MAX = 8,
	NETCHECK_BUF = 1280,
};

struct nc_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct nc_stun {
	const char *url;
	char error[128];		/* resolve error, "" = resolved */
	struct nc_addr server;
	bool answered;
	struct nc_addr mapped;
	unsigned ignored;		/* replies that did not parse or answered another request */
};

struct netcheck {
	uint64_t deadline_ns;
	const struct conf *conf;
	/* hub */
	const char *hub_result;		/* ok, token, tls, unreachable, http, timeout */
	char hub_detail[256];
	/* STUN */
	struct nc_stun stun[NETCHECK_SERVERS_MAX];
	size_t n_stun;
	struct nc_addr local;		/* the probing socket's local address (as routed) */
	const char *mapping;		/* none (no NAT), endpoint-independent, endpoint-dependent,
					 * unknown */
	const char *filtering;		/* endpoint-independent, address-dependent,
					 * address-and-port-dependent, unknown */
	const char *nat;		/* none, full-cone, restricted, port-restricted, symmetric,
					 * unknown */
	const char *udp;		/* ok, blocked, unknown */
	char mapping_note[320];
	/* TURN */
	struct {
		const char *url;
		const char *transport;	/* udp, tcp, tls */
		const char *result;	/* ok, auth, unreachable, error, not-checked, bad-url */
		char detail[160];
		struct nc_addr relay;
	} turn[NETCHECK_SERVERS_MAX];
	size_t n_turn;
	/* IPv6 */
	bool ipv6;
	char ipv6_addr[INET6_ADDRSTRLEN];
	/* verdict */
	const char *verdict;		/* direct, partly-direct, relayed, none */
	char verdict_text[200];
	uint64_t elapsed_ms;
};

static uint64_t left_ms(const struct netcheck *n)
{
	uint64_t now = rg_mono_ns();

	return now >= n->deadline_ns ? 0 : (n->deadline_ns - now) / RG_NSEC_PER_MSEC;
}

static void addr_str(const struct nc_addr *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&a->ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(out, cap, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)&a->ss;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, ntohs(s4->sin_port));
	} else {
		snprintf(out, cap, "%s", "");
	}
}

static bool addr_eq(const struct nc_addr *a, const struct nc_addr *b, bool with_port)
{
	return rg_sockaddr_same(&a->ss, &b->ss, with_port);
}

/* "stun:HOST[:PORT]", "turn:HOST[:PORT][?transport=...]", "turns:..." -> host, port. IPv6
 * literals in brackets. */
static bool split_url(const char *url, char *host, size_t cap, unsigned *port, bool *tls,
		      const char **transport)
{
	const char *p = strchr(url, ':'), *end, *q;
	size_t hl;

	if (!p)
		return false;
	*tls = strncmp(url, "turns:", 6) == 0;
	*port = *tls ? 5349 : 3478;
	p++;
	q = strchr(p, '?');
	*transport = *tls ? "tls" : "udp";
	if (q && strstr(q, "transport=tcp"))
		*transport = *tls ? "tls" : "tcp";
	if (*p == '[') {
		end = strchr(p, ']');
		if (!end)
			return false;
		hl = (size_t)(end - p - 1);
		p++;
		end++;
	} else {
		end = p + strcspn(p, ":?");
		hl = (size_t)(end - p);
	}
	if (!hl || hl >= cap)
		return false;
	memcpy(host, p, hl);
	host[hl] = '\0';
	if (*end == ':') {
		char *e;
		unsigned long v = strtoul(end + 1, &e, 10);

		if (e == end + 1 || v == 0 || v > 65535 || (*e && *e != '?'))
			return false;
		*port = (unsigned)v;
	}
	return true;
}

static int resolve(const char *host, unsigned port, struct nc_addr *out, char *err, size_t cap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	char ps[8];
	int r;

	snprintf(ps, sizeof(ps), "%u", port);
	r = getaddrinfo(host, ps, &hints, &res);
	if (r || !res) {
		snprintf(err, cap, "cannot resolve %s: %s", host, r ? gai_strerror(r) : "no address");
		return -ENOENT;
	}
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* ---- hub ---- */

struct hub_try {
	GMainLoop *loop;
	SoupMessage *msg;
	SoupWebsocketConnection *ws;
	GError *err;
};

static void hub_done_cb(GObject *src, GAsyncResult *res, gpointer data)
{
	struct hub_try *h = data;

	h->ws = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &h->err);
	g_main_loop_quit(h->loop);
}

static gboolean hub_timeout_cb(gpointer data)
{
	g_cancellable_cancel(data);
	return G_SOURCE_REMOVE;
}

static void check_hub(struct netcheck *n)
{
	const char *url = n->conf->server_url;
	GMainContext *ctx = g_main_context_new();
	struct hub_try h = { 0 };
	GCancellable *cancel = g_cancellable_new();
	char *http = g_strdup_printf("%s%s", strncmp(url, "wss:", 4) == 0 ? "https" : "http",
				     url + (strncmp(url, "wss:", 4) == 0 ? 3 : 2));
	char *auth = g_strdup_printf("Bearer %s", n->conf->auth_token);
	GProxyResolver *resolver;
	SoupSession *s;
	GSource *t;
	guint status;

	g_main_context_push_thread_default(ctx);
	h.loop = g_main_loop_new(ctx, FALSE);
	resolver = sig_proxy_resolver_from_env();	/* as the agent's hub connection */
	s = soup_session_new_with_options("proxy-resolver", resolver, NULL);
	if (resolver)
		g_object_unref(resolver);
	h.msg = soup_message_new("GET", http);
	if (!h.msg) {
		n->hub_result = "error";
		snprintf(n->hub_detail, sizeof(n->hub_detail), "server_url %s is not a URL", url);
		goto out;
	}
	soup_message_headers_replace(soup_message_get_request_headers(h.msg), "Authorization",
				     auth);
	t = g_timeout_source_new((guint)MIN(left_ms(n), (uint64_t)NETCHECK_HUB_MS));
	g_source_set_callback(t, hub_timeout_cb, cancel, NULL);
	g_source_attach(t, ctx);
	soup_session_websocket_connect_async(s, h.msg, NULL, NULL, G_PRIORITY_DEFAULT, cancel,
					     hub_done_cb, &h);
	g_main_loop_run(h.loop);
	g_source_destroy(t);
	g_source_unref(t);
	status = soup_message_get_status(h.msg);
	if (h.ws) {
		n->hub_result = "ok";
		snprintf(n->hub_detail, sizeof(n->hub_detail), "%s: token accepted", url);
		soup_websocket_connection_close(h.ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
		g_object_unref(h.ws);
	} else if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) {
		n->hub_result = "token";
		snprintf(n->hub_detail, sizeof(n->hub_detail),
			 "%s: hub rejected token (HTTP %u): check [network] auth_token", url, status);
	} else if (h.err && h.err->domain == G_TLS_ERROR) {
		n->hub_result = "tls";
		snprintf(n->hub_detail, sizeof(n->hub_detail), "%s: TLS: %s", url, h.err->message);
	} else if (status >= 100) {
		n->hub_result = "http";
		snprintf(n->hub_detail, sizeof(n->hub_detail), "%s: HTTP %u, not a riftgate hub?",
			 url, status);
	} else if (g_cancellable_is_cancelled(cancel)) {
		n->hub_result = "unreachable";
		snprintf(n->hub_detail, sizeof(n->hub_detail), "%s: no answer in %u ms", url,
			 NETCHECK_HUB_MS);
	} else {
		n->hub_result = "unreachable";
		snprintf(n->hub_detail, sizeof(n->hub_detail), "%s: %s", url,
			 h.err ? h.err->message : "connection failed");
	}
	/* Let the close frame and the socket teardown run before the context goes. */
	for (int i = 0; i < 10 && g_main_context_iteration(ctx, FALSE); i++)
		;
out:
	if (h.err)
		g_error_free(h.err);
	if (h.msg)
		g_object_unref(h.msg);
	g_object_unref(s);
	g_main_loop_unref(h.loop);
	g_main_context_pop_thread_default(ctx);
	g_main_context_unref(ctx);
	g_object_unref(cancel);
	memset(auth, 0, strlen(auth));
	g_free(auth);
	g_free(http);
}

/* ---- STUN ---- */

static const uint16_t known_attrs[] = {
	STUN_ATTRIBUTE_MAPPED_ADDRESS, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, STUN_ATTRIBUTE_ERROR_CODE,
	STUN_ATTRIBUTE_USERNAME, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_REALM,
	STUN_ATTRIBUTE_NONCE, STUN_ATTRIBUTE_XOR_RELAYED_ADDRESS, STUN_ATTRIBUTE_LIFETIME,
	STUN_ATTRIBUTE_CHANGE_REQUEST, STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES, 0
};

enum { ATTR_RESPONSE_ORIGIN = 0x802b, ATTR_OTHER_ADDRESS = 0x802c };
enum { CHANGE_IP = 0x4, CHANGE_PORT = 0x2 };

/* Sends req (len bytes) to dst until a validated response to it arrives (copied into
 * resp/resp_buf) or timeout_ms passes. Replies that do not validate, or that answer another
 * transaction, are counted in *ignored. Returns 0 or -ETIMEDOUT. */
static int transact(int fd, StunAgent *agent, const uint8_t *req, size_t len,
		    const StunMessage *reqmsg, const struct nc_addr *dst, unsigned timeout_ms,
		    StunMessage *resp, uint8_t *resp_buf, unsigned *ignored)
{
	static const unsigned resend_ms[] = { 0, 200, 500 };
	uint64_t start = rg_mono_ns();
	StunTransactionId want, got;
	size_t sent = 0;

	stun_message_id(reqmsg, want);
	for (;;) {
		uint64_t el = (rg_mono_ns() - start) / RG_NSEC_PER_MSEC;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		unsigned wait;
		ssize_t r;

		if (el >= timeout_ms)
			return -ETIMEDOUT;
		if (sent < G_N_ELEMENTS(resend_ms) && el >= resend_ms[sent]) {
			sendto(fd, req, len, 0, (const struct sockaddr *)&dst->ss, dst->len);
			sent++;
		}
		wait = timeout_ms - (unsigned)el;
		if (sent < G_N_ELEMENTS(resend_ms) && resend_ms[sent] - el < wait)
			wait = resend_ms[sent] - (unsigned)el;
		if (poll(&p, 1, (int)wait) <= 0)
			continue;
		r = recv(fd, resp_buf, NETCHECK_BUF, 0);
		if (r <= 0)
			continue;
		if (stun_agent_validate(agent, resp, resp_buf, (size_t)r, NULL, NULL) !=
		    STUN_VALIDATION_SUCCESS) {
			(*ignored)++;
			continue;
		}
		stun_message_id(resp, got);
		if (memcmp(want, got, sizeof(want)) != 0 ||
		    stun_message_get_class(resp) == STUN_REQUEST ||
		    stun_message_get_class(resp) == STUN_INDICATION) {
			(*ignored)++;
			continue;
		}
		return 0;
	}
}

/* One Binding request (with CHANGE-REQUEST flags when change != 0). On success: *mapped, and
 * *other when the server named an RFC 5780 OTHER-ADDRESS (other->len = 0 if not). */
static int bind_probe(struct netcheck *n, int fd, const struct nc_addr *dst, uint32_t change,
		      struct nc_addr *mapped, struct nc_addr *other, unsigned *ignored)
{
	uint8_t req[NETCHECK_BUF], buf[NETCHECK_BUF];
	StunAgent agent;
	StunMessage msg, resp;
	struct sockaddr_storage alt;
	socklen_t altlen = sizeof(alt);
	StunTransactionId id;
	size_t len;
	unsigned t = (unsigned)MIN(left_ms(n), (uint64_t)NETCHECK_PROBE_MS);
	int r;

	if (!t)
		return -ETIMEDOUT;
	stun_agent_init(&agent, known_attrs, STUN_COMPATIBILITY_RFC5389, 0);
	if (!stun_agent_init_request(&agent, &msg, req, sizeof(req), STUN_BINDING))
		return -EINVAL;
	if (change && stun_message_append32(&msg, STUN_ATTRIBUTE_CHANGE_REQUEST, change) !=
		      STUN_MESSAGE_RETURN_SUCCESS)
		return -EINVAL;
	len = stun_agent_finish_message(&agent, &msg, NULL, 0);
	if (!len)
		return -EINVAL;
	r = transact(fd, &agent, req, len, &msg, dst, t, &resp, buf, ignored);
	stun_message_id(&msg, id);
	stun_agent_forget_transaction(&agent, id);
	if (r < 0)
		return r;
	memset(&mapped->ss, 0, sizeof(mapped->ss));	/* compared whole (scope id) later */
	mapped->len = sizeof(mapped->ss);
	if (stun_usage_bind_process(&resp, (struct sockaddr *)&mapped->ss, &mapped->len,
				    (struct sockaddr *)&alt, &altlen) !=
	    STUN_USAGE_BIND_RETURN_SUCCESS) {
		(*ignored)++;
		return -EPROTO;
	}
	if (other) {
		other->len = sizeof(other->ss);
		if (stun_message_find_addr(&resp, (StunAttribute)ATTR_OTHER_ADDRESS, &other->ss,
					   &other->len) != STUN_MESSAGE_RETURN_SUCCESS)
			other->len = 0;
	}
	return 0;
}

static void check_stun(struct netcheck *n)
{
	const struct conf *c = n->conf;
	struct nc_addr other = { 0 }, m2;
	int fd = -1;
	unsigned ign = 0;
	struct nc_stun *first = NULL;
	char a[64], b[64];

	n->mapping = "unknown";
	n->filtering = "unknown";
	n->nat = "unknown";
	n->udp = "unknown";
	for (size_t i = 0; i < c->n_stun && n->n_stun < NETCHECK_SERVERS_MAX; i++) {
		struct nc_stun *s = &n->stun[n->n_stun++];
		char host[256];
		unsigned port;
		bool tls;
		const char *tr;

		s->url = c->stun_servers[i];
		if (!split_url(s->url, host, sizeof(host), &port, &tls, &tr)) {
			snprintf(s->error, sizeof(s->error), "not stun:HOST[:PORT]");
			continue;
		}
		if (resolve(host, port, &s->server, s->error, sizeof(s->error)) < 0)
			continue;
		if (fd < 0) {
			fd = socket(s->server.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (fd < 0) {
				snprintf(s->error, sizeof(s->error), "socket: %s", strerror(errno));
				continue;
			}
			n->local.ss.ss_family = s->server.ss.ss_family;
		} else if (s->server.ss.ss_family != n->local.ss.ss_family) {
			/* one socket, one family: the first server's */
			snprintf(s->error, sizeof(s->error), "skipped: another address family than "
				 "the first server");
			continue;
		}
		if (bind_probe(n, fd, &s->server, 0, &s->mapped, first ? NULL : &other,
			       &s->ignored) == 0) {
			s->answered = true;
			if (!first)
				first = s;
		} else {
			snprintf(s->error, sizeof(s->error), "no valid answer%s",
				 s->ignored ? " (invalid or spoofed replies ignored)" : "");
		}
	}
	if (fd >= 0) {
		n->local.len = sizeof(n->local.ss);
		getsockname(fd, (struct sockaddr *)&n->local.ss, &n->local.len);
	}
	if (!n->n_stun) {
		snprintf(n->mapping_note, sizeof(n->mapping_note), "no STUN server configured");
		goto out;
	}
	if (!first) {
		bool any_sent = false;
		unsigned bad = 0;

		for (size_t i = 0; i < n->n_stun; i++) {
			any_sent |= n->stun[i].server.len && !n->stun[i].answered;
			bad += n->stun[i].ignored;
		}
		if (bad) {
			/* Datagrams came back, so UDP passes; none was a valid answer. */
			n->udp = "ok";
			snprintf(n->mapping_note, sizeof(n->mapping_note), "no valid STUN answer: %u "
				 "invalid or spoofed replies ignored", bad);
		} else {
			n->udp = any_sent ? "blocked" : "unknown";
			snprintf(n->mapping_note, sizeof(n->mapping_note), "%s", any_sent ?
				 "no STUN server answered: UDP is blocked (or every server is down)" :
				 "no STUN server could be asked");
		}
		goto out;
	}
	n->udp = "ok";
	/* A mapped address equal to a local one: no NAT. getsockname() on an unconnected socket
	 * says 0.0.0.0, so ask the kernel which source it routes to the server from. */
	{
		int t = socket(first->server.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct nc_addr src = { .len = sizeof(src.ss) };

		if (t >= 0 && connect(t, (struct sockaddr *)&first->server.ss, first->server.len) == 0 &&
		    getsockname(t, (struct sockaddr *)&src.ss, &src.len) == 0 &&
		    addr_eq(&src, &first->mapped, false)) {
			n->mapping = "none";
			n->filtering = "none";
			n->nat = "none";
			snprintf(n->mapping_note, sizeof(n->mapping_note),
				 "the mapped address is this host's own: no NAT");
		}
		if (t >= 0)
			close(t);
		if (strcmp(n->nat, "none") == 0)
			goto out;
	}
	/* Filtering (RFC 5780 4.4), first: an address-restricted NAT remembers every address the
	 * host contacted (not per socket), so the other address must not have been asked yet.
	 * A fresh socket asks the primary address, then for answers from another address and
	 * port, then from another port. */
	if (other.len && other.ss.ss_family == first->server.ss.ss_family) {
		int f2 = socket(first->server.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (f2 >= 0 && bind_probe(n, f2, &first->server, 0, &m2, NULL, &ign) == 0) {
			if (bind_probe(n, f2, &first->server, CHANGE_IP | CHANGE_PORT, &m2, NULL,
				       &ign) == 0)
				n->filtering = "endpoint-independent";
			else if (bind_probe(n, f2, &first->server, CHANGE_PORT, &m2, NULL, &ign) == 0)
				n->filtering = "address-dependent";
			else if (left_ms(n))
				n->filtering = "address-and-port-dependent";
		}
		if (f2 >= 0)
			close(f2);
	}
	/* Mapping: the same socket towards a second destination address. */
	m2.len = 0;
	for (size_t i = 0; i < n->n_stun; i++) {
		struct nc_stun *s = &n->stun[i];

		if (s != first && s->answered && !addr_eq(&s->server, &first->server, false)) {
			m2 = s->mapped;
			addr_str(&s->server, b, sizeof(b));
			break;
		}
	}
	if (!m2.len && other.len && other.ss.ss_family == first->server.ss.ss_family &&
	    !addr_eq(&other, &first->server, false) &&
	    bind_probe(n, fd, &other, 0, &m2, NULL, &ign) == 0)
		addr_str(&other, b, sizeof(b));
	addr_str(&first->mapped, a, sizeof(a));
	if (!m2.len) {
		snprintf(n->mapping_note, sizeof(n->mapping_note), "one destination only (%s): "
			 "list a second STUN server on another address to tell symmetric NATs", a);
	} else if (!addr_eq(&m2, &first->mapped, true)) {
		char c2[64];

		addr_str(&m2, c2, sizeof(c2));
		n->mapping = "endpoint-dependent";
		n->nat = "symmetric";
		snprintf(n->mapping_note, sizeof(n->mapping_note), "the mapping changes with the "
			 "destination (%s, then %s towards %s)", a, c2, b);
		goto out;
	} else {
		n->mapping = "endpoint-independent";
		snprintf(n->mapping_note, sizeof(n->mapping_note), "the same mapping %s towards %s",
			 a, b);
	}
	if (!strcmp(n->mapping, "endpoint-independent")) {
		if (!strcmp(n->filtering, "endpoint-independent"))
			n->nat = "full-cone";
		else if (!strcmp(n->filtering, "address-dependent"))
			n->nat = "restricted";
		else if (!strcmp(n->filtering, "address-and-port-dependent"))
			n->nat = "port-restricted";
		else
			n->nat = "cone";
	}
out:
	if (fd >= 0)
		close(fd);
}

/* ---- TURN ---- */

/* A TURN server's transport: a UDP socket, or a TCP/TLS stream (GIO; STUN messages framed by
 * their own length, RFC 5766 2.1). */
struct nc_chan {
	int fd;				/* UDP, -1 for a stream */
	struct nc_addr srv;
	GSocketClient *client;		/* stream: owned */
	GSocketConnection *conn;	/* stream: owned */
	GTlsDatabase *db;		/* turns: with ca_file, owned */
};

static void tls_event_cb(GSocketClient *client, GSocketClientEvent ev, GSocketConnectable *to,
			 GIOStream *conn, gpointer data)
{
	(void)client;
	(void)to;
	if (ev == G_SOCKET_CLIENT_TLS_HANDSHAKING && data)
		g_tls_connection_set_database(G_TLS_CONNECTION(conn), data);
}

/* Opens the channel; -errno and a message in detail (result: unreachable or tls). */
static int chan_open(struct nc_chan *ch, const char *transport, const char *host, unsigned port,
		     const char *ca_file, unsigned timeout_ms, char *detail, size_t cap,
		     const char **result)
{
	GError *gerr = NULL;

	memset(ch, 0, sizeof(*ch));
	ch->fd = -1;
	if (!strcmp(transport, "udp")) {
		*result = "unreachable";
		if (resolve(host, port, &ch->srv, detail, cap) < 0)
			return -ENOENT;
		ch->fd = socket(ch->srv.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (ch->fd < 0) {
			snprintf(detail, cap, "socket: %s", strerror(errno));
			return -errno;
		}
		return 0;
	}
	ch->client = g_socket_client_new();
	g_socket_client_set_timeout(ch->client, MAX(1u, timeout_ms / 1000));
	if (!strcmp(transport, "tls")) {
		g_socket_client_set_tls(ch->client, TRUE);
		if (ca_file) {
			ch->db = g_tls_file_database_new(ca_file, &gerr);
			if (!ch->db) {
				*result = "tls";
				snprintf(detail, cap, "ca_file: %s", gerr->message);
				g_error_free(gerr);
				return -EINVAL;
			}
		}
		g_signal_connect(ch->client, "event", G_CALLBACK(tls_event_cb), ch->db);
	}
	ch->conn = g_socket_client_connect_to_host(ch->client, host, (guint16)port, NULL, &gerr);
	if (!ch->conn) {
		*result = gerr->domain == G_TLS_ERROR ? "tls" : "unreachable";
		snprintf(detail, cap, "%s%s", gerr->domain == G_TLS_ERROR ? "TLS: " : "",
			 gerr->message);
		g_error_free(gerr);
		return -EIO;
	}
	return 0;
}

static void chan_close(struct nc_chan *ch)
{
	if (ch->fd >= 0)
		close(ch->fd);
	if (ch->conn) {
		g_io_stream_close(G_IO_STREAM(ch->conn), NULL, NULL);
		g_object_unref(ch->conn);
	}
	if (ch->client)
		g_object_unref(ch->client);
	if (ch->db)
		g_object_unref(ch->db);
	memset(ch, 0, sizeof(*ch));
	ch->fd = -1;
}

static void chan_send(struct nc_chan *ch, const uint8_t *req, size_t len)
{
	if (ch->fd >= 0)
		sendto(ch->fd, req, len, 0, (struct sockaddr *)&ch->srv.ss, ch->srv.len);
	else
		g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(ch->conn)),
					  req, len, NULL, NULL, NULL);
}

/* transact() over a stream: one request out, messages read until the answer to it. A message
 * longer than the buffer, or a closed stream, ends it. */
static int chan_transact(struct nc_chan *ch, StunAgent *agent, const uint8_t *req, size_t len,
			 const StunMessage *reqmsg, unsigned timeout_ms, StunMessage *resp,
			 uint8_t *buf, unsigned *ignored)
{
	uint64_t deadline = rg_mono_ns() + (uint64_t)timeout_ms * RG_NSEC_PER_MSEC;
	GInputStream *in;
	StunTransactionId want, got;

	if (ch->fd >= 0)
		return transact(ch->fd, agent, req, len, reqmsg, &ch->srv, timeout_ms, resp, buf,
				ignored);
	in = g_io_stream_get_input_stream(G_IO_STREAM(ch->conn));
	if (!g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(ch->conn)), req,
				       len, NULL, NULL, NULL))
		return -EIO;
	stun_message_id(reqmsg, want);
	while (rg_mono_ns() < deadline) {
		gsize got_n = 0;
		size_t body;

		if (!g_input_stream_read_all(in, buf, 20, &got_n, NULL, NULL) || got_n != 20)
			return -EIO;
		body = (size_t)buf[2] << 8 | buf[3];
		if (20 + body > NETCHECK_BUF) {
			(*ignored)++;
			return -EPROTO;
		}
		if (body && (!g_input_stream_read_all(in, buf + 20, body, &got_n, NULL, NULL) ||
			     got_n != body))
			return -EIO;
		if (stun_agent_validate(agent, resp, buf, 20 + body, NULL, NULL) !=
		    STUN_VALIDATION_SUCCESS) {
			(*ignored)++;
			continue;
		}
		stun_message_id(resp, got);
		if (memcmp(want, got, sizeof(want)) != 0) {
			(*ignored)++;
			continue;
		}
		return 0;
	}
	return -ETIMEDOUT;
}

static void check_turn(struct netcheck *n)
{
	const struct conf *c = n->conf;

	for (size_t i = 0; i < c->n_turn && n->n_turn < NETCHECK_SERVERS_MAX; i++) {
		const struct conf_turn *t = &c->turn[i];
		__typeof__(n->turn[0]) *r = &n->turn[n->n_turn++];
		char host[256], user[160] = "", pass[160] = "";
		uint8_t req[NETCHECK_BUF], buf[NETCHECK_BUF], buf1[NETCHECK_BUF];
		StunAgent agent;
		StunMessage msg, resp, first;
		StunTransactionId id;
		struct nc_chan ch;
		unsigned port, ign = 0, stream_ms;
		bool tls, have_first = false;
		size_t len;
		int code = 0;

		r->url = t->url;
		r->transport = "";
		if (!split_url(t->url, host, sizeof(host), &port, &tls, &r->transport)) {
			r->result = "bad-url";
			continue;
		}
		if (t->username) {
			g_strlcpy(user, t->username, sizeof(user));
			g_strlcpy(pass, t->credential ? t->credential : "", sizeof(pass));
		} else if (!c->turn_secret ||
			   conf_turn_rest_credentials(c->turn_secret, c->device_name,
						      (int64_t)(rg_wall_ns() / RG_NSEC_PER_SEC) +
						      CONF_TURN_DEFAULT_TTL, user, sizeof(user), pass,
						      sizeof(pass)) < 0) {
			r->result = "auth";
			snprintf(r->detail, sizeof(r->detail), "no credentials (no username and no "
				 "network.turn_secret)");
			continue;
		}
		/* A stream's connect and each read may take the whole socket timeout (whole
		 * seconds): start one only when both fit in what is left of the budget. */
		stream_ms = left_ms(n) >= 4500 ? 2000 : left_ms(n) >= 2500 ? 1000 : 0;
		if (!left_ms(n) || (strcmp(r->transport, "udp") != 0 && !stream_ms)) {
			r->result = "not-checked";
			snprintf(r->detail, sizeof(r->detail), "not checked (time budget)");
			continue;
		}
		if (chan_open(&ch, r->transport, host, port, t->ca_file, stream_ms, r->detail,
			      sizeof(r->detail), &r->result) < 0) {
			chan_close(&ch);
			continue;
		}
		stun_agent_init(&agent, known_attrs, STUN_COMPATIBILITY_RFC5389,
				STUN_AGENT_USAGE_LONG_TERM_CREDENTIALS |
				STUN_AGENT_USAGE_USE_FINGERPRINT);
		/* Allocate; a 401 (or 438 stale nonce) carries the realm and nonce for the retry. */
		for (int step = 0; step < 3; step++) {
			unsigned tmo = (unsigned)MIN(left_ms(n), (uint64_t)NETCHECK_PROBE_MS);
			StunUsageTurnReturn ret;

			len = stun_usage_turn_create(&agent, &msg, req, sizeof(req),
						     have_first ? &first : NULL,
						     STUN_USAGE_TURN_REQUEST_PORT_NORMAL, -1, -1,
						     (uint8_t *)user, strlen(user),
						     have_first ? (uint8_t *)pass : NULL,
						     have_first ? strlen(pass) : 0,
						     STUN_USAGE_TURN_COMPATIBILITY_RFC5766);
			if (!len || !tmo ||
			    chan_transact(&ch, &agent, req, len, &msg, tmo, &resp, buf, &ign) < 0) {
				r->result = "unreachable";
				snprintf(r->detail, sizeof(r->detail), "%s", !tmo ?
					 "not checked (time budget)" : ign ?
					 "no valid answer (invalid or spoofed replies ignored)" :
					 ch.fd >= 0 ? "no answer over UDP" : "no answer (stream)");
				break;
			}
			stun_message_id(&msg, id);
			stun_agent_forget_transaction(&agent, id);
			r->relay.len = sizeof(r->relay.ss);
			{
				struct sockaddr_storage mapped, alt;
				socklen_t ml = sizeof(mapped), al = sizeof(alt);
				uint32_t bw, life;

				ret = stun_usage_turn_process(&resp, &r->relay.ss, &r->relay.len,
							      &mapped, &ml, &alt, &al, &bw, &life,
							      STUN_USAGE_TURN_COMPATIBILITY_RFC5766);
			}
			if (ret == STUN_USAGE_TURN_RETURN_RELAY_SUCCESS ||
			    ret == STUN_USAGE_TURN_RETURN_MAPPED_SUCCESS) {
				char ra[64];

				r->result = "ok";
				addr_str(&r->relay, ra, sizeof(ra));
				snprintf(r->detail, sizeof(r->detail), "credentials accepted, relay "
					 "address %s (released)", ra);
				/* Release the allocation: a Refresh with lifetime 0. */
				len = stun_usage_turn_create_refresh(&agent, &msg, req, sizeof(req),
					&resp, 0, (uint8_t *)user, strlen(user), (uint8_t *)pass,
					strlen(pass), STUN_USAGE_TURN_COMPATIBILITY_RFC5766);
				if (len)
					chan_send(&ch, req, len);
				break;
			}
			r->relay.len = 0;
			if (stun_message_find_error(&resp, &code) != STUN_MESSAGE_RETURN_SUCCESS)
				code = 0;
			if ((code == 401 || code == 438) && step < 2 &&
			    !(code == 401 && have_first)) {
				memcpy(buf1, buf, sizeof(buf1));
				first = resp;
				first.buffer = buf1;
				have_first = true;
				continue;
			}
			r->result = code == 401 || code == 403 || code == 431 ? "auth" : "error";
			snprintf(r->detail, sizeof(r->detail), "%s (STUN error %d)",
				 code == 401 ? "credentials refused" : "allocation refused", code);
			break;
		}
		memset(pass, 0, sizeof(pass));
		chan_close(&ch);
	}
}

/* ---- IPv6 ---- */

static void check_ipv6(struct netcheck *n)
{
	struct sockaddr_in6 dst = { .sin6_family = AF_INET6, .sin6_port = htons(3478) };
	struct ifaddrs *ifa, *i;
	int fd;

	/* A route towards the global unicast space (no packet is sent by connect()). */
	inet_pton(AF_INET6, "2001:4860:4860::8888", &dst.sin6_addr);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		close(fd);
		return;
	}
	close(fd);
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		const struct in6_addr *a;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6)
			continue;
		a = &((const struct sockaddr_in6 *)(const void *)i->ifa_addr)->sin6_addr;
		/* global unicast: 2000::/3 */
		if ((a->s6_addr[0] & 0xe0) == 0x20) {
			n->ipv6 = true;
			inet_ntop(AF_INET6, a, n->ipv6_addr, sizeof(n->ipv6_addr));
			break;
		}
	}
	freeifaddrs(ifa);
}

/* ---- verdict and output ---- */

static void verdict(struct netcheck *n)
{
	bool turn_ok = false, turn_udp = false;

	for (size_t i = 0; i < n->n_turn; i++) {
		turn_ok |= !strcmp(n->turn[i].result, "ok");
		turn_udp |= !strcmp(n->turn[i].transport, "udp") &&
			    (!strcmp(n->turn[i].result, "ok") || !strcmp(n->turn[i].result, "auth"));
	}
	/* A UDP TURN server answered: UDP passes, the STUN servers are the ones silent. */
	if (!strcmp(n->udp, "blocked") && turn_udp) {
		n->udp = "ok";
		snprintf(n->mapping_note, sizeof(n->mapping_note), "no STUN server answered, but a "
			 "TURN server did over UDP: the STUN servers are down or filtered");
	}
	if (!strcmp(n->udp, "blocked")) {
		n->verdict = turn_ok ? "relayed" : "none";
		snprintf(n->verdict_text, sizeof(n->verdict_text), "%s", turn_ok ?
			 "only relayed: UDP is blocked, TURN over TCP/TLS works" :
			 "no connections likely: UDP is blocked and no TURN server works");
	} else if (!strcmp(n->nat, "none") || !strcmp(n->nat, "full-cone") ||
		   !strcmp(n->nat, "restricted")) {
		n->verdict = "direct";
		snprintf(n->verdict_text, sizeof(n->verdict_text), "direct connections likely");
	} else if (!strcmp(n->nat, "port-restricted") || !strcmp(n->nat, "cone")) {
		n->verdict = "direct";
		snprintf(n->verdict_text, sizeof(n->verdict_text), "direct connections likely, "
			 "except to peers behind symmetric NATs (%s)",
			 turn_ok ? "relayed" : "no TURN server works: add one");
	} else if (!strcmp(n->nat, "symmetric")) {
		n->verdict = turn_ok ? "relayed" : "partly-direct";
		snprintf(n->verdict_text, sizeof(n->verdict_text), "only relayed, except to peers "
			 "without NAT or behind full-cone NATs (symmetric NAT)%s",
			 turn_ok ? "" : "; no TURN server works: add one");
	} else {
		n->verdict = turn_ok ? "relayed" : "unknown";
		snprintf(n->verdict_text, sizeof(n->verdict_text), "%s", turn_ok ?
			 "relayed connections work; the NAT type is unknown (no valid STUN answer)" :
			 "unknown: no valid STUN answer and no TURN server works");
	}
}

static void json_str(JsonBuilder *b, const char *name, const char *v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, v ? v : "");
}

static char *to_json(const struct netcheck *n)
{
	JsonBuilder *b = json_builder_new();
	JsonGenerator *g = json_generator_new();
	JsonNode *root;
	char a[64], *out;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "hub");
	json_builder_begin_object(b);
	json_str(b, "url", n->conf->server_url);
	json_str(b, "result", n->hub_result);
	json_str(b, "detail", n->hub_detail);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "stun");
	json_builder_begin_array(b);
	for (size_t i = 0; i < n->n_stun; i++) {
		const struct nc_stun *s = &n->stun[i];

		json_builder_begin_object(b);
		json_str(b, "url", s->url);
		addr_str(&s->server, a, sizeof(a));
		json_str(b, "server", a);
		json_builder_set_member_name(b, "answered");
		json_builder_add_boolean_value(b, s->answered);
		addr_str(&s->mapped, a, sizeof(a));
		json_str(b, "mapped", s->answered ? a : "");
		json_builder_set_member_name(b, "ignoredReplies");
		json_builder_add_int_value(b, s->ignored);
		json_str(b, "error", s->error);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_str(b, "udp", n->udp);
	json_builder_set_member_name(b, "nat");
	json_builder_begin_object(b);
	json_str(b, "type", n->nat);
	json_str(b, "mapping", n->mapping);
	json_str(b, "filtering", n->filtering);
	json_str(b, "note", n->mapping_note);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "turn");
	json_builder_begin_array(b);
	for (size_t i = 0; i < n->n_turn; i++) {
		json_builder_begin_object(b);
		json_str(b, "url", n->turn[i].url);
		json_str(b, "transport", n->turn[i].transport);
		json_str(b, "result", n->turn[i].result);
		json_str(b, "detail", n->turn[i].detail);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "ipv6");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "available");
	json_builder_add_boolean_value(b, n->ipv6);
	json_str(b, "address", n->ipv6_addr);
	json_builder_end_object(b);
	json_str(b, "verdict", n->verdict);
	json_str(b, "verdictText", n->verdict_text);
	json_builder_set_member_name(b, "elapsedMs");
	json_builder_add_int_value(b, (gint64)n->elapsed_ms);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(g, root);
	json_generator_set_pretty(g, TRUE);
	out = json_generator_to_data(g, NULL);
	json_node_unref(root);
	g_object_unref(g);
	g_object_unref(b);
	return out;
}

static void print_text(const struct netcheck *n)
{
	char a[64];

	printf("hub: %s (%s)\n", n->hub_detail, n->hub_result);
	if (!n->n_stun)
		printf("stun: none configured ([stun] servers)\n");
	for (size_t i = 0; i < n->n_stun; i++) {
		const struct nc_stun *s = &n->stun[i];

		addr_str(&s->mapped, a, sizeof(a));
		if (s->answered)
			printf("stun %s: mapped address %s\n", s->url, a);
		else
			printf("stun %s: %s\n", s->url, s->error);
	}
	printf("udp: %s\n", n->udp);
	printf("nat: %s (mapping %s, filtering %s): %s\n", n->nat, n->mapping, n->filtering,
	       n->mapping_note);
	if (!n->n_turn)
		printf("turn: none configured ([[turn]])\n");
	for (size_t i = 0; i < n->n_turn; i++)
		printf("turn %s: %s%s%s\n", n->turn[i].url, n->turn[i].result,
		       n->turn[i].detail[0] ? ": " : "", n->turn[i].detail);
	printf("ipv6: %s%s%s\n", n->ipv6 ? "yes (" : "no (no global address with a route)",
	       n->ipv6 ? n->ipv6_addr : "", n->ipv6 ? ")" : "");
	printf("verdict: %s (%.1f s)\n", n->verdict_text, (double)n->elapsed_ms / 1000);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s netcheck [--config PATH] [--json]\n"
		   "Checks what this network allows, without a running agent: the hub and its token,\n"
		   "each STUN server's mapped address and the NAT type (mapping, filtering), UDP, each\n"
		   "UDP TURN server with its credentials, IPv6; ends with a verdict. At most 10 s.\n",
		rg_prog);
}

int cmd_netcheck(int argc, char **argv)
{
	const char *path = NULL;
	char defpath[CLI_PATH_MAX];
	bool announce = false;
	struct rg_err err = { 0 };
	struct netcheck n = { 0 };
	struct conf c = { 0 };
	bool json = false;
	uint64_t start = rg_mono_ns();

	for (int i = 1; i < argc; i++) {
		if (cmd_is_help(argv[i])) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else {
			usage(stderr);
			return 1;
		}
	}
	if (!path) {
		if (cli_config_path_find(defpath, sizeof(defpath), &announce, &err) < 0) {
			fprintf(stderr, "%s: %s\n", rg_prog, err.msg);
			return 1;
		}
		path = defpath;
	}
	if (conf_load(&c, path, &err) < 0) {
		fprintf(stderr, "%s: %s\n", rg_prog, err.msg);
		return 1;
	}
	n.conf = &c;
	n.deadline_ns = start + (uint64_t)NETCHECK_BUDGET_MS * RG_NSEC_PER_MSEC;
	check_hub(&n);
	check_stun(&n);
	check_turn(&n);
	check_ipv6(&n);
	verdict(&n);
	n.elapsed_ms = (rg_mono_ns() - start) / RG_NSEC_PER_MSEC;
	if (json) {
		char *out = to_json(&n);

		puts(out);
		g_free(out);
	} else {
		print_text(&n);
	}
	conf_clear(&c);
	return 0;
}
