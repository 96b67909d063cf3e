/* See metrics.h. Names follow Prometheus conventions: a riftgate_ prefix, base units
 * (_seconds, _bytes), counters end in _total, one label set per peer (interface, peer). */
#include "agent/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "agent/status.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

struct agent_metrics_client {
	struct agent_metrics *m;	/* back-pointer, not owned */
	int fd;
	guint src, timer;		/* owned GSource ids */
	size_t len;
	char buf[AGENT_METRICS_REQ_MAX + 1];
};

/* Label values: backslash, double quote and newline escaped (exposition format). */
static void put_label(GString *t, const char *name, const char *v)
{
	g_string_append_printf(t, "%s=\"", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			g_string_append_c(t, '\\');
		if (*v == '\n')
			g_string_append(t, "\\n");
		else
			g_string_append_c(t, *v);
	}
	g_string_append_c(t, '"');
}

static void family(GString *t, const char *name, const char *type, const char *help)
{
	g_string_append_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per value of a label: NAME{interface="IFNAME",LABEL="keys[i]"} vals[i]. */
static void by_label(GString *t, const char *name, const char *ifname, const char *label,
		     const char *const *keys, const uint64_t *vals, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		g_string_append_printf(t, "%s{", name);
		put_label(t, "interface", ifname);
		g_string_append_c(t, ',');
		put_label(t, label, keys[i]);
		g_string_append_printf(t, "} %" G_GUINT64_FORMAT "\n", vals[i]);
	}
}

static void peer_labels(GString *t, const struct agent_status *s, const struct agent_status_peer *p)
{
	g_string_append_c(t, '{');
	put_label(t, "interface", s->ifname);
	g_string_append_c(t, ',');
	put_label(t, "peer", p->id);
	g_string_append_c(t, '}');
}

enum peer_value {
	PV_UP, PV_RELAYED, PV_HUB_RELAY, PV_RX, PV_TX, PV_HS_TIME, PV_HS_AGE, PV_RTT, PV_RESTARTS, PV_ATTEMPTS,
	PV_PATH_MTU, PV_DIRECT_TX, PV_DIRECT_RX, PV_DIRECT_DROPPED, PV_DIRECT_REJECTED,
};

/* false: no sample for this peer (unknown value). */
static bool peer_value(const struct agent_status_peer *p, enum peer_value v, int64_t now,
		       double *out)
{
	switch (v) {
	case PV_UP: *out = strcmp(p->state, "up") == 0; return true;
	case PV_RELAYED: *out = strcmp(p->candidate, "relay") == 0; return true;
	case PV_HUB_RELAY: *out = strcmp(p->path, "relay") == 0; return true;
	case PV_RX: *out = (double)p->rx_bytes; return true;
	case PV_TX: *out = (double)p->tx_bytes; return true;
	case PV_HS_TIME: *out = (double)p->last_handshake; return true;
	case PV_HS_AGE:
		*out = (double)MAX(now - p->last_handshake, 0);
		return p->last_handshake > 0;
	case PV_RTT: *out = (double)p->rtt_ms / 1000.0; return p->rtt_ms >= 0;
	case PV_RESTARTS: *out = p->ice_restarts; return true;
	case PV_ATTEMPTS: *out = p->attempts; return true;
	case PV_PATH_MTU: *out = p->path_mtu; return p->path_mtu > 0;
	case PV_DIRECT_TX: *out = (double)p->direct_tx; return true;
	case PV_DIRECT_RX: *out = (double)p->direct_rx; return true;
	case PV_DIRECT_DROPPED: *out = (double)p->direct_dropped; return true;
	case PV_DIRECT_REJECTED: *out = (double)p->direct_rejected; return true;
	}
	return false;
}

char *agent_metrics_format(const struct agent_status *s, int64_t now)
{
	static const struct {
		enum peer_value v;
		const char *name, *type, *help;
	} peer_families[] = {
		{ PV_UP, "riftgate_peer_up", "gauge", "1 when the WireGuard session over the channel "
		  "is up" },
		{ PV_RELAYED, "riftgate_peer_relayed", "gauge", "1 when the selected ICE pair goes "
		  "through a TURN relay" },
		{ PV_HUB_RELAY, "riftgate_peer_hub_relay", "gauge", "1 when WireGuard goes through "
		  "the signaling hub's relay instead of the ICE pair" },
		{ PV_RX, "riftgate_peer_receive_bytes_total", "counter", "WireGuard bytes received "
		  "from the peer (as wg show transfer)" },
		{ PV_TX, "riftgate_peer_transmit_bytes_total", "counter", "WireGuard bytes sent to "
		  "the peer (as wg show transfer)" },
		{ PV_HS_TIME, "riftgate_peer_last_handshake_timestamp_seconds", "gauge", "Unix time "
		  "of the latest WireGuard handshake, 0 = never" },
		{ PV_HS_AGE, "riftgate_peer_handshake_age_seconds", "gauge", "seconds since the "
		  "latest WireGuard handshake (absent: never)" },
		{ PV_RTT, "riftgate_peer_rtt_seconds", "gauge", "smoothed round trip time of the "
		  "path (absent: unknown)" },
		{ PV_RESTARTS, "riftgate_peer_ice_restarts_total", "counter", "ICE restarts completed "
		  "in place since the agent started" },
		{ PV_ATTEMPTS, "riftgate_peer_connection_attempts", "gauge", "connection attempts "
		  "since the peer was last up" },
		{ PV_PATH_MTU, "riftgate_peer_path_mtu_bytes", "gauge", "UDP payload bytes per "
		  "datagram on the path" },
		{ PV_DIRECT_TX, "riftgate_peer_direct_sent_datagrams_total", "counter", "WireGuard "
		  "datagrams sent on the direct path (the ICE 5-tuple)" },
		{ PV_DIRECT_RX, "riftgate_peer_direct_received_datagrams_total", "counter",
		  "WireGuard datagrams received on the direct path" },
		{ PV_DIRECT_DROPPED, "riftgate_peer_direct_dropped_frames_total", "counter",
		  "direct-path frames dropped before WireGuard (not negotiated, malformed, stale "
		  "probe answers)" },
		{ PV_DIRECT_REJECTED, "riftgate_peer_direct_rejected_datagrams_total", "counter",
		  "direct-path datagrams WireGuard refused (authentication, replay)" },
	};
	GString *t = g_string_new(NULL);

	family(t, "riftgate_build_info", "gauge", "always 1: the agent's version and git describe");
	g_string_append(t, "riftgate_build_info{");
	put_label(t, "interface", s->ifname);
	g_string_append_c(t, ',');
	put_label(t, "version", s->version);
	g_string_append(t, "} 1\n");
	family(t, "riftgate_hub_connected", "gauge", "1 when the agent is connected to the hub");
	g_string_append(t, "riftgate_hub_connected{");
	put_label(t, "interface", s->ifname);
	g_string_append_printf(t, "} %d\n", s->hub_connected ? 1 : 0);
	family(t, "riftgate_start_time_seconds", "gauge", "Unix time the agent started");
	g_string_append(t, "riftgate_start_time_seconds{");
	put_label(t, "interface", s->ifname);
	g_string_append_printf(t, "} %" G_GINT64_FORMAT "\n", s->started);
	family(t, "riftgate_tun_mtu_bytes", "gauge", "MTU of the TUN interface");
	g_string_append(t, "riftgate_tun_mtu_bytes{");
	put_label(t, "interface", s->ifname);
	g_string_append_printf(t, "} %u\n", s->mtu);
	family(t, "riftgate_hub_relay_datagrams_total", "counter", "WireGuard datagrams through "
	       "the hub relay (direction: sent, received, dropped = not sent)");
	{
		static const char *const dirs[] = { "sent", "received", "dropped" };
		const uint64_t vals[] = { s->relay_tx, s->relay_rx, s->relay_tx_dropped };

		by_label(t, "riftgate_hub_relay_datagrams_total", s->ifname, "direction", dirs, vals,
			 G_N_ELEMENTS(dirs));
	}
	if (s->dns_zone[0]) {
		static const char *const results[] = { "answered", "forwarded", "failed", "refused",
							"malformed" };
		const uint64_t vals[] = { s->dns_answered, s->dns_forwarded, s->dns_failed,
					  s->dns_refused, s->dns_malformed };

		family(t, "riftgate_dns_queries_total", "counter", "queries to the name responder "
		       "(result: answered = from the mesh zone, forwarded = to a dns server, failed "
		       "= SERVFAIL or no answer upstream, refused, malformed)");
		by_label(t, "riftgate_dns_queries_total", s->ifname, "result", results, vals,
			 G_N_ELEMENTS(results));
		family(t, "riftgate_dns_resolved_registered", "gauge", "1 when systemd-resolved has "
		       "the link's DNS settings");
		g_string_append(t, "riftgate_dns_resolved_registered{");
		put_label(t, "interface", s->ifname);
		g_string_append_printf(t, "} %d\n", !strcmp(s->dns_resolved, "registered"));
	}
	family(t, "riftgate_peers", "gauge", "peers the agent knows");
	g_string_append(t, "riftgate_peers{");
	put_label(t, "interface", s->ifname);
	g_string_append_printf(t, "} %zu\n", s->n_peers);
	family(t, "riftgate_peer_info", "gauge", "one per peer: its state, the selected ICE "
	       "pair's type (path: the less direct side; none = no pair) and what carries "
	       "WireGuard (via: direct = on the ICE 5-tuple, data channel, relay = the hub, none)");
	for (size_t i = 0; i < s->n_peers; i++) {
		const struct agent_status_peer *p = &s->peers[i];

		g_string_append(t, "riftgate_peer_info{");
		put_label(t, "interface", s->ifname);
		g_string_append_c(t, ',');
		put_label(t, "peer", p->id);
		g_string_append_c(t, ',');
		put_label(t, "state", p->state);
		g_string_append_c(t, ',');
		put_label(t, "path", p->candidate[0] ? p->candidate : "none");
		g_string_append_c(t, ',');
		put_label(t, "local_path", p->local_type[0] ? p->local_type : "none");
		g_string_append_c(t, ',');
		put_label(t, "remote_path", p->remote_type[0] ? p->remote_type : "none");
		g_string_append_c(t, ',');
		put_label(t, "via", p->path[0] ? p->path : "none");
		g_string_append(t, "} 1\n");
	}
	for (size_t f = 0; f < G_N_ELEMENTS(peer_families); f++) {
		family(t, peer_families[f].name, peer_families[f].type, peer_families[f].help);
		for (size_t i = 0; i < s->n_peers; i++) {
			double v;

			if (!peer_value(&s->peers[i], peer_families[f].v, now, &v))
				continue;
			g_string_append(t, peer_families[f].name);
			peer_labels(t, s, &s->peers[i]);
			/* integers exactly (byte counters beyond 2^53 are not a concern here) */
			if (v == (double)(int64_t)v)
				g_string_append_printf(t, " %" G_GINT64_FORMAT "\n", (int64_t)v);
			else
				g_string_append_printf(t, " %.6f\n", v);
		}
	}
	return g_string_free(t, FALSE);
}

/* ---- the listener ---- */

static void client_free(struct agent_metrics_client *cl)
{
	if (cl->src)
		g_source_remove(cl->src);
	if (cl->timer)
		g_source_remove(cl->timer);
	if (cl->fd >= 0)
		close(cl->fd);
	cl->m->clients = g_list_remove(cl->m->clients, cl);
	g_free(cl);
}

/* The reply is a few KiB; the scraper waits for it: written with a send timeout, as the
 * control socket does, instead of per-client output state. */
static void send_all(int fd, const char *p, size_t len)
{
	struct timeval tv = { .tv_sec = 2 };
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		len -= (size_t)w;
	}
}

static void respond(struct agent_metrics_client *cl)
{
	struct agent_metrics *m = cl->m;
	char head[256];
	char *body;
	int n;

	if (strncmp(cl->buf, "GET /metrics ", 13) != 0 && strncmp(cl->buf, "GET / ", 6) != 0) {
		static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
					 "Content-Length: 20\r\nConnection: close\r\n\r\n"
					 "try GET /metrics\r\n\r\n";

		send_all(cl->fd, nf, sizeof(nf) - 1);
		return;
	}
	{
		struct agent_status s = { 0 };

		m->fill(m->opaque, &s);
		body = agent_metrics_format(&s, (int64_t)(rg_wall_ns() / RG_NSEC_PER_SEC));
		agent_status_clear(&s);
	}
	n = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\n"
		     "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n", strlen(body));
	send_all(cl->fd, head, (size_t)n);
	send_all(cl->fd, body, strlen(body));
	g_free(body);
}

static gboolean client_read_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct agent_metrics_client *cl = data;
	ssize_t n;

	(void)cond;
	n = recv(fd, cl->buf + cl->len, AGENT_METRICS_REQ_MAX - cl->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n > 0) {
		cl->len += (size_t)n;
		cl->buf[cl->len] = '\0';
		/* The request line is all we need, but a client expects its headers read. */
		if (!strstr(cl->buf, "\r\n\r\n") && !strstr(cl->buf, "\n\n") &&
		    cl->len < AGENT_METRICS_REQ_MAX)
			return G_SOURCE_CONTINUE;
		respond(cl);
	}
	cl->src = 0;
	client_free(cl);
	return G_SOURCE_REMOVE;
}

static gboolean client_timeout_cb(gpointer data)
{
	struct agent_metrics_client *cl = data;

	cl->timer = 0;
	client_free(cl);
	return G_SOURCE_REMOVE;
}

static gboolean listen_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct agent_metrics *m = data;

	(void)cond;
	/* Bounded per wakeup, so a flood cannot starve the data path. */
	for (int i = 0; i < 4; i++) {
		struct agent_metrics_client *cl;
		GSource *s;
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0)
			break;
		if (g_list_length(m->clients) >= AGENT_METRICS_CLIENTS_MAX) {
			close(cfd);
			continue;
		}
		cl = g_new0(struct agent_metrics_client, 1);
		cl->m = m;
		cl->fd = cfd;
		s = g_unix_fd_source_new(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR);
		g_source_set_callback(s, (GSourceFunc)(void (*)(void))client_read_cb, cl, NULL);
		cl->src = g_source_attach(s, m->ctx);
		g_source_unref(s);
		s = g_timeout_source_new(AGENT_METRICS_TIMEOUT_MS);
		g_source_set_callback(s, client_timeout_cb, cl, NULL);
		cl->timer = g_source_attach(s, m->ctx);
		g_source_unref(s);
		m->clients = g_list_prepend(m->clients, cl);
	}
	return G_SOURCE_CONTINUE;
}

static int parse_listen(const char *where, struct sockaddr_storage *ss, socklen_t *len)
{
	const char *colon = strrchr(where, ':');
	char host[64];
	size_t hl;
	long port;

	if (!colon || (size_t)(colon - where) >= sizeof(host))
		return -EINVAL;
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - where);
	memset(ss, 0, sizeof(*ss));
	if (where[0] == '[' && hl >= 2 && where[hl - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		memcpy(host, where + 1, hl - 2);
		host[hl - 2] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 ? 0 : -EINVAL;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		memcpy(host, where, hl);
		host[hl] = '\0';
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -EINVAL;
	}
}

int agent_metrics_open(struct agent_metrics *m, GMainContext *ctx, const char *where,
		       agent_metrics_fill_fn fill, void *opaque, struct rg_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	GSource *s;
	int one = 1;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->ctx = ctx;
	m->fill = fill;
	m->opaque = opaque;
	if (parse_listen(where, &ss, &len) < 0)
		return rg_err_set(err, -EINVAL, "metrics.listen '%.80s' is not IP:PORT", where);
	m->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->fd < 0)
		return rg_err_set(err, -errno, "metrics listener: %s", strerror(errno));
	setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->fd, (struct sockaddr *)&ss, len) < 0 || listen(m->fd, 16) < 0) {
		int e = errno;

		close(m->fd);
		m->fd = -1;
		return rg_err_set(err, -e, "metrics listener on %s: %s", where, strerror(e));
	}
	g_strlcpy(m->addr, where, sizeof(m->addr));
	s = g_unix_fd_source_new(m->fd, G_IO_IN);
	g_source_set_callback(s, (GSourceFunc)(void (*)(void))listen_cb, m, NULL);
	m->src = g_source_attach(s, ctx);
	g_source_unref(s);
	rg_log(RG_LOG_INFO, "metrics: Prometheus text on http://%s/metrics", where);
	return 0;
}

void agent_metrics_close(struct agent_metrics *m)
{
	while (m->clients)
		client_free(m->clients->data);
	if (m->src)
		g_source_remove(m->src);
	m->src = 0;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
}
