/* The node: TUN device, WireGuard core, UAPI and control sockets and the signaling client, all on
 * one GLib loop. Data path: TUN → (route, fits the peer's path MTU?) → wg_device_peer_send →
 * ops.send → the peer's `wireguard` data channel; channel message → wg_device_input → ops.tun_write → TUN. The core's timers run from
 * one GSource whose ready time is the core's next deadline. Peers live in peer.c. */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib-unix.h>

#include "agent/agent-int.h"
#include "agent/dns.h"
#include "agent/exit.h"
#include "agent/routes.h"
#include "agent/turntls.h"
#include "conf/config.h"
#include "conf/turn.h"
#include "net/icmp.h"
#include "rtc/pmtu.h"
#include "signal/client.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/encoding.h"
#include "util/log.h"
#include "wg/uapi.h"

unsigned agent_mtu_for_message(size_t max_msg)
{
	/* datagram = 16 (header) + IP packet padded to 16 + 16 (tag) must fit max_msg */
	if (max_msg < WG_DATA_OVERHEAD + AGENT_MTU_MIN)
		return AGENT_MTU_MIN;
	return (unsigned)((max_msg - WG_DATA_OVERHEAD) & ~(size_t)15);
}

bool agent_turn_credentials(const char *secret, const char *peer_id, int64_t expiry,
			    char *user, size_t user_cap, char *cred, size_t cred_cap)
{
	return conf_turn_rest_credentials(secret, peer_id, expiry, user, user_cap, cred,
					  cred_cap) == 0;
}

/* ---- WireGuard core callbacks ---- */

static struct agent_peer *peer_by_ep(struct agent *a, const struct wg_endpoint *ep)
{
	char id[AGENT_ID_MAX + 1];

	if (ep->len == 0 || ep->len > AGENT_ID_MAX)
		return NULL;
	memcpy(id, ep->data, ep->len);
	id[ep->len] = '\0';
	return agent_peer_get(a, id, false);
}

static int wg_send_cb(void *opaque, const struct wg_endpoint *ep, const uint8_t *buf, size_t len)
{
	struct agent_peer *p = peer_by_ep(opaque, ep);

	if (!p)
		return -ENOTCONN;
	if (agent_relay_use(p, NULL))
		return agent_relay_send(p, buf, len);
	if (!p->conn || !p->conn->ch)
		return -ENOTCONN;
	if (p->on_relay) {
		p->on_relay = false;
		rg_log(RG_LOG_INFO, "peer %s: path: %s (the relay is no longer needed)", p->id,
		       rtc_peer_direct_up(p->conn->pc) ? "direct" : "data channel");
	}
	/* Between riftgate peers: straight on the ICE 5-tuple while that path answers. */
	if (rtc_peer_direct_up(p->conn->pc) && rtc_peer_send_wg(p->conn->pc, buf, len) == 0) {
		struct agent *a = p->a;

		if (a->in_tun_read && !p->conn->flush_listed && a->n_flush < AGENT_FLUSH_MAX) {
			p->conn->flush_listed = true;
			a->flush[a->n_flush++] = p->conn;
		}
		return 0;
	}
	/* -EAGAIN (send buffer full) is a drop, as UDP would: WireGuard tolerates loss. */
	return rtc_channel_send(p->conn->ch, buf, len, true);
}

static gboolean train_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
	(void)cb;
	g_source_set_ready_time(s, -1);
	net_tun_writer_flush(&((struct agent *)data)->tunw);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs train_funcs = { .dispatch = train_dispatch };

static void wg_tun_write_cb(void *opaque, struct wg_peer *peer, uint8_t *pkt, size_t len)
{
	struct agent *a = opaque;

	(void)peer;
	/* A new GRO train is written at the end of this loop iteration. */
	if (net_tun_writer_put(&a->tunw, pkt, len))
		g_source_set_ready_time(a->train_src, 0);
}

static void wg_peer_event_cb(void *opaque, struct wg_peer *peer, enum wg_peer_event ev)
{
	struct agent_peer *p = wg_peer_get_user(peer);

	(void)opaque;
	if (p)
		agent_peer_on_wg_event(p, ev);
}

/* `wg show` prints the endpoint through getaddrinfo, so give it the ICE pair's remote address
 * (or nothing, and the line is omitted). */
static int wg_ep_format_cb(void *opaque, const struct wg_endpoint *ep, char *out, size_t cap)
{
	struct agent_peer *p = peer_by_ep(opaque, ep);
	struct rtc_stats st;

	if (!p || !p->conn || !p->conn->pc)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	rtc_peer_get_stats(p->conn->pc, &st);
	if (!st.remote_addr[0] || strlen(st.remote_addr) >= cap)
		return -EINVAL;
	memcpy(out, st.remote_addr, strlen(st.remote_addr) + 1);
	return 0;
}

/* Endpoints belong to the agent (they are peer ids): `wg set … endpoint=` is refused. */
static int wg_ep_parse_cb(void *opaque, const char *text, struct wg_endpoint *out)
{
	(void)opaque;
	(void)text;
	(void)out;
	return -EINVAL;
}

static const struct wg_device_ops wg_ops = {
	.send = wg_send_cb,
	.tun_write = wg_tun_write_cb,
	.peer_event = wg_peer_event_cb,
	.endpoint_format = wg_ep_format_cb,
	.endpoint_parse = wg_ep_parse_cb,
};

/* ---- timers ---- */

static gboolean timer_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
	(void)cb;
	g_source_set_ready_time(s, -1);
	wg_device_tick(data ? ((struct agent *)data)->dev : NULL);
	agent_timer_rearm(data);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = { .dispatch = timer_dispatch };

void agent_timer_rearm(struct agent *a)
{
	uint64_t d = wg_device_next_deadline(a->dev);
	gint64 us;

	/* GLib's monotonic clock is CLOCK_MONOTONIC in µs, like rg_mono_ns() in ns. */
	us = d == UINT64_MAX ? -1 : (gint64)(d / 1000);
	if (agent_timer_moves(g_source_get_ready_time(a->timer), us))
		g_source_set_ready_time(a->timer, us);
}

/* ---- TUN ---- */

/* The largest IP packet that reaches p as one WireGuard datagram in one UDP datagram of its
 * verified path MTU: on the direct path the datagram itself, on the data channel inside one
 * SCTP packet and DTLS record (64 bytes less); 0 while there is no connection (the core stages
 * or drops the packet then). IPv6 never gets less than its 1280 minimum: SCTP carries those in
 * two packets (DESIGN §Data path, the one exception). A packet sized for the direct path that
 * meets the data channel after a fallback travels the same way. */
static unsigned peer_limit(const struct agent_peer *p, bool v6)
{
	const struct rtc_peer *pc;
	unsigned m;

	if (!p || !p->conn || !(pc = p->conn->pc))
		return 0;
	m = agent_mtu_for_message(rtc_peer_direct_up(pc) ? rtc_peer_max_direct_datagram(pc)
						       : rtc_peer_max_packet_message(pc));
	return v6 && m < AGENT_MTU_IPV6_MIN ? AGENT_MTU_IPV6_MIN : m;
}

/* Routes an IP packet read from the TUN (wire = its largest packet on the wire: len, or header
 * + MSS for a TSO super-segment) and checks that it fits its peer's path. One too big is
 * answered like a router answers, with ICMP "fragmentation needed" / ICMPv6 "packet too big"
 * carrying the peer's MTU, written back into the TUN: the kernel's per-destination PMTU cache
 * does the rest. NULL = drop. */
static struct wg_peer *tun_route(struct agent *a, const uint8_t *pkt, size_t len, size_t wire)
{
	bool v6 = len >= 40 && (pkt[0] >> 4) == 6;
	const uint8_t *dst = v6 ? pkt + 24 : pkt + 16;
	struct wg_peer *wp;
	struct agent_peer *p;
	unsigned limit;
	size_t n;

	if (!v6 && (len < 20 || (pkt[0] >> 4) != 4))
		return NULL;
	wp = wg_device_route(a->dev, v6 ? AF_INET6 : AF_INET, dst);
	if (!wp)
		return NULL;
	p = wg_peer_get_user(wp);
	limit = peer_limit(p, v6);
	if (!limit || wire <= limit) {
		/* The peer's MTU grew since we told the kernel less (a new connection on a better
		 * path): make the kernel forget the smaller one now, not in 10 minutes. */
		if (limit && p->icmp_mtu && limit > p->icmp_mtu) {
			if (net_route_flush_pmtu(a->tun.ifindex, v6 ? AF_INET6 : AF_INET, dst) < 0)
				rg_log(RG_LOG_DEBUG, "peer %s: cannot flush the learned PMTU", p->id);
			p->icmp_mtu = 0;
		}
		return wp;
	}
	n = net_icmp_too_big(a->icmp, pkt, len, limit);
	if (!n) {
		a->too_big_dropped++;	/* IPv4 without DF: splitting it is not our job */
		return NULL;
	}
	/* A sender that ignores ICMP (a UDP flood with DF) must not make us write one per
	 * packet: like a router, answer at a bounded rate and drop the rest. */
	uint64_t now = rg_mono_ns();

	if (now - p->icmp_window_ns >= RG_NSEC_PER_SEC) {
		p->icmp_window_ns = now;
		p->icmp_in_window = 0;
	}
	if (p->icmp_in_window++ >= AGENT_ICMP_PER_S) {
		a->too_big_dropped++;
		return NULL;
	}
	a->too_big_icmp++;
	if (!p->icmp_mtu || limit < p->icmp_mtu)
		p->icmp_mtu = limit;
	if (rg_log_on(RG_LOG_DEBUG))
		rg_log_(RG_LOG_DEBUG, "peer %s: %zu-byte packet over its MTU %u: ICMP sent", p->id,
			wire, limit);
	net_tun_writer_put_alone(&a->tunw, a->icmp, n);
	return NULL;
}

static void tun_packet(struct agent *a, uint8_t *pkt, size_t len)
{
	struct wg_peer *wp = tun_route(a, pkt, len, len);

	if (wp)
		wg_device_peer_send(a->dev, wp, pkt, len);
}

/* A TCP super-segment from a TUN with offload: split it the way the kernel would (each
 * segment fits the TUN MTU) and send every segment, if its segments fit the peer's path. */
static void tso_split(struct agent *a, const struct net_tso *t)
{
	uint8_t *out = a->seg + WG_DATA_HEADROOM;
	struct wg_peer *wp = tun_route(a, t->pkt, t->len, t->hdr_len + t->mss);

	if (!wp)
		return;
	for (unsigned k = 0; k < t->segs; k++)
		wg_device_peer_send(a->dev, wp, out, net_tso_segment(t, k, out));
}

static gboolean tun_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct agent *a = data;
	uint8_t *pkt = a->tx + WG_DATA_HEADROOM;
	/* With a virtio header it lands in the core's headroom, overwritten after we parsed it. */
	uint8_t *raw = a->tun.vnet_hdr ? pkt - NET_VNET_HDR_LEN : pkt;
	size_t hl = a->tun.vnet_hdr ? NET_VNET_HDR_LEN : 0;

	(void)cond;
	a->in_tun_read = true;
	/* Bounded work per wakeup so signaling and timers are never starved. */
	for (int i = 0; i < AGENT_TUN_BATCH; i++) {
		ssize_t n = net_tun_read(fd, raw, hl + AGENT_PKT_MAX);
		struct net_tso t;

		if (n <= (ssize_t)hl)
			break;
		if (!hl) {
			tun_packet(a, pkt, (size_t)n);
			continue;
		}
		switch (net_vnet_rx(raw, (size_t)n, AGENT_PKT_MAX, &t)) {
		case NET_VNET_RX_PACKET:
			tun_packet(a, pkt, (size_t)n - hl);
			break;
		case NET_VNET_RX_TSO:
			tso_split(a, &t);
			break;
		case NET_VNET_RX_DROP:
			break;
		}
	}
	/* What this read queued on direct paths leaves now (rtc would send it at the end of the
	 * loop iteration). */
	a->in_tun_read = false;
	for (unsigned k = 0; k < a->n_flush; k++) {
		a->flush[k]->flush_listed = false;
		if (a->flush[k]->pc)
			rtc_peer_flush(a->flush[k]->pc);
	}
	a->n_flush = 0;
	agent_timer_rearm(a);
	return G_SOURCE_CONTINUE;
}

/* ---- UAPI (wg show) ---- */

static char *uapi_handler(void *opaque, const char *req, size_t len, size_t *reply_len)
{
	struct agent *a = opaque;
	char *r = wg_uapi_handle(a->dev, NULL, req, len, reply_len);

	agent_timer_rearm(a);
	return r;
}

static gboolean uapi_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct agent *a = data;

	(void)fd;
	(void)cond;
	net_uapisock_dispatch(&a->uapi);
	return G_SOURCE_CONTINUE;
}

/* ---- control socket ---- */

/* The peer's path MTU, where it comes from, and the largest packet it gets. */
static void mtu_status(const struct agent_peer *p, struct agent_status_peer *sp)
{
	struct rtc_stats st;

	if (!p->conn || !p->conn->pc)
		return;
	rtc_peer_get_stats(p->conn->pc, &st);
	sp->path_mtu = st.path_mtu;
	g_strlcpy(sp->path_mtu_state, rtc_path_mtu_state_name(st.path_mtu_state),
		  sizeof(sp->path_mtu_state));
	sp->peer_mtu = peer_limit(p, false);
}

/* Which path carries the peer's datagrams now, and why the relay when it does. */
static void relay_status(struct agent_peer *p, struct agent_status_peer *sp)
{
	const char *why = NULL;

	if (p->conn && p->conn->pc) {
		struct rtc_stats st;

		rtc_peer_get_stats(p->conn->pc, &st);
		g_strlcpy(sp->direct, rtc_direct_state_name(st.direct_state), sizeof(sp->direct));
		sp->direct_tx = st.direct_tx;
		sp->direct_rx = st.direct_rx;
		sp->direct_dropped = st.direct_rx_dropped;
	}
	sp->direct_rejected = p->direct_rejected;
	if (agent_relay_status(p, &why)) {
		g_strlcpy(sp->path, "relay", sizeof(sp->path));
		g_strlcpy(sp->path_reason, why ? why : "", sizeof(sp->path_reason));
	} else if (p->conn && p->conn->ch) {
		g_strlcpy(sp->path, rtc_peer_direct_up(p->conn->pc) ? "direct" : "data channel",
			  sizeof(sp->path));
	}
}

/* The snapshot status and metrics show; s is zeroed, agent_status_clear() it after. */
static void status_fill(void *opaque, struct agent_status *out)
{
	struct agent *a = opaque;
	struct agent_status s = { 0 };
	GHashTableIter it;
	gpointer v;
	GList *ids, *l;

	g_strlcpy(s.ifname, a->ifname, sizeof(s.ifname));
	g_strlcpy(s.peer_id, a->peer_id, sizeof(s.peer_id));
	g_strlcpy(s.public_key, a->key_b64, sizeof(s.public_key));
	g_strlcpy(s.address, a->address, sizeof(s.address));
	g_strlcpy(s.hub_url, a->hub_url, sizeof(s.hub_url));
	s.hub_connected = a->hub_connected;
	g_strlcpy(s.version, a->version, sizeof(s.version));
	if (!a->hub_connected) {
		g_strlcpy(s.hub_error, a->hub_reason, sizeof(s.hub_error));
		if (a->sig)
			g_strlcpy(s.hub_error_kind,
				  sig_client_failure_name(sig_client_last_failure(a->sig)),
				  sizeof(s.hub_error_kind));
	}
	s.mtu = a->mtu;
	s.mtu_pinned = a->mtu_pinned;
	s.too_big_icmp = a->too_big_icmp;
	s.too_big_dropped = a->too_big_dropped;
	s.relay_tx = a->relay_tx;
	s.relay_rx = a->relay_rx;
	s.relay_tx_dropped = a->relay_tx_dropped;
	s.pid = getpid();
	s.started = a->started;
	agent_routes_status(a->routes, &s);
	agent_exit_status(a->exit, &s);
	agent_dns_status(a->dns, &s);
	s.max_peers = a->max_peers;
	s.refused_over_max = a->refused_over_max;
	s.refused_bad_id = a->refused_bad_id;
	ids = g_list_sort(g_hash_table_get_keys(a->peers), (GCompareFunc)strcmp);
	for (l = ids; l; l = l->next) {
		struct agent_status_peer *sp = agent_status_add_peer(&s);

		v = g_hash_table_lookup(a->peers, l->data);
		if (!sp)
			break;
		agent_peer_fill_status(v, sp);
		mtu_status(v, sp);
		agent_routes_status_peer(a->routes, l->data, sp);
		relay_status(v, sp);
	}
	(void)it;
	g_list_free(ids);
	for (size_t i = 0; i < a->n_turntls && s.n_turn < AGENT_STATUS_TURN_MAX; i++) {
		const struct agent_turntls *t = a->turntls[i];
		struct agent_status_turn *st = &s.turn[s.n_turn];

		if (!t)
			continue;
		s.n_turn++;
		g_strlcpy(st->url, agent_turntls_url(t), sizeof(st->url));
		g_strlcpy(st->last_error, agent_turntls_error(t), sizeof(st->last_error));
		st->tls_ok = agent_turntls_ok_count(t);
		st->tls_failed = agent_turntls_fail_count(t);
		st->open = agent_turntls_open(t);
	}
	*out = s;
}

static char *status_json(struct agent *a)
{
	struct agent_status s = { 0 };
	char *out;

	status_fill(a, &s);
	out = agent_status_to_json(&s);
	agent_status_clear(&s);
	return out;
}

static gboolean stop_cb(gpointer data)
{
	struct agent *a = data;

	a->stop_src = 0;
	if (!a->stop_called && a->stop) {
		a->stop_called = true;
		a->stop(a->stop_opaque, a->hub_err.code ? &a->hub_err : NULL);
	}
	return G_SOURCE_REMOVE;
}

static void request_stop(struct agent *a)
{
	GSource *s;

	if (a->stop_src || a->stop_called)
		return;
	s = g_idle_source_new();
	g_source_set_callback(s, stop_cb, a, NULL);
	a->stop_src = g_source_attach(s, a->ctx);
	g_source_unref(s);
}

static char *ctl_handler(void *opaque, const char *cmd)
{
	struct agent *a = opaque;

	if (strcmp(cmd, "status") == 0)
		return status_json(a);
	if (strcmp(cmd, "down") == 0) {
		rg_log(RG_LOG_INFO, "ctl: down requested");
		request_stop(a);
		return g_strdup("{\"ok\":true}\n");
	}
	if (g_str_has_prefix(cmd, "exit-node ")) {
		struct rg_err err = { 0 };

		if (agent_exit_select(a->exit, cmd + 10, &err) < 0) {
			g_autofree char *q = g_strescape(err.msg, NULL);

			return g_strdup_printf("{\"ok\":false,\"error\":\"%s\"}\n", q);
		}
		return g_strdup("{\"ok\":true}\n");
	}
	if (strcmp(cmd, "reload") == 0) {
		char msg[512] = "";
		g_autofree char *q = NULL;
		int r = a->reload ? a->reload(a->reload_opaque, msg, sizeof(msg)) : -1;

		if (!a->reload)
			g_strlcpy(msg, "this agent cannot reload its config", sizeof(msg));
		q = g_strescape(msg, NULL);
		return g_strdup_printf("{\"ok\":%s,\"%s\":\"%s\"}\n", r == 0 ? "true" : "false",
				       r == 0 ? "message" : "error", q);
	}
	if (strcmp(cmd, "rotate") == 0) {
		struct rg_err err = { 0 };

		if (agent_trust_rotate(a, &err) < 0) {
			g_autofree char *q = g_strescape(err.msg, NULL);

			rg_log(RG_LOG_WARN, "ctl: key rotation refused: %s", err.msg);
			return g_strdup_printf("{\"ok\":false,\"error\":\"%s\"}\n", q);
		}
		return g_strdup("{\"ok\":true}\n");
	}
	if (!strcmp(cmd, "settings")) {
		struct rg_err err = { 0 };

		if (agent_trust_settings_reload(a, &err) < 0) {
			g_autofree char *q = g_strescape(err.msg, NULL);

			return g_strdup_printf("{\"ok\":false,\"error\":\"%s\"}\n", q);
		}
		return g_strdup("{\"ok\":true}\n");
	}
	if (g_str_has_prefix(cmd, "revoke ")) {
		struct rg_err err = { 0 };

		if (agent_trust_revoke_text(a, cmd + 7, &err) < 0) {
			g_autofree char *q = g_strescape(err.msg, NULL);

			return g_strdup_printf("{\"ok\":false,\"error\":\"%s\"}\n", q);
		}
		return g_strdup("{\"ok\":true}\n");
	}
	return g_strdup("{\"ok\":false,\"error\":\"unknown command\"}\n");
}

/* ---- signaling ---- */

int agent_send_signal(struct agent *a, const struct sig_msg *m)
{
	if (!a->sig)
		return -ENOTCONN;
	return sig_client_send(a->sig, m);
}

static void sig_connected_cb(struct sig_client *c, void *opaque)
{
	struct agent *a = opaque;

	a->hub_connected = true;
	a->hub_ever = true;
	a->hub_down_logged = false;
	a->hub_err.code = 0;
	a->hub_err.msg[0] = '\0';
	a->hub_reason[0] = '\0';
	rg_log(RG_LOG_INFO, "hub: connected to %s (connection %u)", a->hub_url,
	       sig_client_connect_count(c));
	agent_peer_on_hub_connected(a);
}

static void sig_disconnected_cb(struct sig_client *c, const char *reason, void *opaque)
{
	struct agent *a = opaque;

	(void)c;
	/* One warning per outage; the retries after it are debug. */
	if (a->hub_connected)
		rg_log(RG_LOG_WARN, "hub: disconnected (%s); tunnels stay up, reconnecting",
		       reason ? reason : "?");
	else if (!a->hub_down_logged)
		rg_log(RG_LOG_WARN, "hub: cannot connect to %s (%s); retrying", a->hub_url,
		       reason ? reason : "?");
	else
		rg_log(RG_LOG_DEBUG, "hub: connect failed (%s)", reason ? reason : "?");
	a->hub_down_logged = true;
	if (!a->hub_ever && !a->hub_err.code)
		rg_err_set(&a->hub_err, 0, "hub %s unreachable: %s", a->hub_url,
			   reason ? reason : "unknown error");
	g_strlcpy(a->hub_reason, reason ? reason : "unknown error", sizeof(a->hub_reason));
	a->hub_connected = false;
}

static void sig_message_cb(struct sig_client *c, const struct sig_msg *m, void *opaque)
{
	(void)c;
	agent_peer_on_signal(opaque, m);
}

static void sig_fatal_cb(struct sig_client *c, const struct rg_err *err, void *opaque)
{
	struct agent *a = opaque;

	(void)c;
	rg_log(RG_LOG_ERROR, "hub: %s", err->msg);
	g_strlcpy(a->hub_reason, err->msg, sizeof(a->hub_reason));
	a->hub_err = *err;
	if (!a->hub_err.code)
		a->hub_err.code = -EACCES;
}

static void sig_binary_cb(struct sig_client *c, const uint8_t *frame, size_t len, void *opaque)
{
	(void)c;
	agent_relay_on_frame(opaque, frame, len);
}

static const struct sig_client_ops sig_ops = {
	.connected = sig_connected_cb,
	.disconnected = sig_disconnected_cb,
	.message = sig_message_cb,
	.fatal = sig_fatal_cb,
	.binary = sig_binary_cb,
};

bool agent_hub_ever_connected(const struct agent *a)
{
	return a->hub_ever;
}

void agent_peer_counts(const struct agent *a, unsigned *up, unsigned *total, bool *hub_now)
{
	GHashTableIter it;
	gpointer v;

	*up = 0;
	*total = 0;
	g_hash_table_iter_init(&it, a->peers);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct agent_peer *p = v;

		(*total)++;
		if (p->state == AGENT_PEER_UP)
			(*up)++;
	}
	*hub_now = a->hub_connected;
}

const struct rg_err *agent_hub_error(const struct agent *a)
{
	return a->hub_err.msg[0] ? &a->hub_err : NULL;
}

unsigned agent_mtu(const struct agent *a)
{
	return a->mtu;
}

void agent_start(struct agent *a)
{
	if (a->sig)
		sig_client_start(a->sig);
}

/* ---- lifetime ---- */

static void free_ice_servers(char **stun, struct rtc_turn_server *turn, char *turn_secret)
{
	for (size_t i = 0; stun && stun[i]; i++)
		g_free(stun[i]);
	g_free(stun);
	for (size_t i = 0; turn && turn[i].url; i++) {
		g_free((char *)turn[i].url);
		g_free((char *)turn[i].username);
		if (turn[i].credential)
			rg_memzero((char *)turn[i].credential, strlen(turn[i].credential));
		g_free((char *)turn[i].credential);
	}
	g_free(turn);
	if (turn_secret)
		rg_memzero(turn_secret, strlen(turn_secret));
	g_free(turn_secret);
}

/* [webrtc] exclude_interfaces, read at every connection and ICE restart (local_addrs). */
static char **copy_exclude(const struct agent_cfg *cfg)
{
	char **v = g_new0(char *, cfg->n_exclude_ifaces + 1);

	for (size_t i = 0; i < cfg->n_exclude_ifaces; i++)
		v[i] = g_strdup(cfg->exclude_ifaces[i]);
	return v;
}

/* libnice has no TLS client for TURN (RFC 5245 mode): each turns: server gets a loopback TLS
 * bridge (turntls.c) and libnice gets the bridge's turn:127.0.0.1:PORT?transport=tcp. */
static int copy_rtc_cfg(struct agent *a, const struct agent_cfg *cfg, struct rg_err *err)
{
	a->stun = g_new0(char *, cfg->n_stun + 1);
	for (size_t i = 0; i < cfg->n_stun; i++)
		a->stun[i] = g_strdup(cfg->stun[i]);
	a->turn = g_new0(struct rtc_turn_server, cfg->n_turn + 1);
	a->turntls = g_new0(struct agent_turntls *, cfg->n_turn + 1);
	a->n_turntls = cfg->n_turn;
	for (size_t i = 0; i < cfg->n_turn; i++) {
		const char *url = cfg->turn[i].url;
		int r;

		if (url && g_str_has_prefix(url, "turns:")) {
			r = agent_turntls_new(&a->turntls[i], a->ctx, url, cfg->turn[i].ca_file, err);
			if (r < 0)
				return r;
			url = agent_turntls_local_url(a->turntls[i]);
		}
		a->turn[i].url = g_strdup(url);
		a->turn[i].username = g_strdup(cfg->turn[i].username);
		a->turn[i].credential = g_strdup(cfg->turn[i].credential);
	}
	a->rtc.stun = (const char *const *)a->stun;
	a->rtc.n_stun = MIN(cfg->n_stun, (size_t)RTC_MAX_ICE_SERVERS);
	a->turn_secret = g_strdup(cfg->turn_secret && cfg->turn_secret[0] ? cfg->turn_secret : NULL);
	a->rtc.turn = a->turn;
	a->rtc.n_turn = MIN(cfg->n_turn, (size_t)RTC_MAX_ICE_SERVERS);
	/* path_mtu pinned, or 0: start at the default and probe riftgate peers for more. */
	a->rtc.path_mtu = (uint16_t)cfg->path_mtu;
	a->rtc.probe_path_mtu = cfg->path_mtu == 0;
	a->rtc.direct_path = !cfg->no_direct_path;
	a->ordered = cfg->ordered;
	a->max_retransmits = cfg->max_retransmits;
	return 0;
}

/* Reload, routes: the new advertising goes out in a join on the hub connection we have (the
 * hub refreshes a joined connection in place and forwards the join), so every peer re-judges
 * our routes; an empty list withdraws them. Later offers and answers carry it anyway. */
static void routes_cfg(const struct agent *a, const struct agent_cfg *cfg,
		       struct agent_routes_cfg *rc, const char **servers);

static int reconfigure_routes(struct agent *a, const struct agent_cfg *cfg, struct rg_err *err)
{
	g_autofree const char **servers = g_new0(const char *, cfg->n_stun + cfg->n_turn + 1);
	struct agent_routes_cfg rc;
	bool changed = false;
	int r;

	routes_cfg(a, cfg, &rc, servers);
	r = agent_routes_reconfigure(a->routes, &rc, &changed, err);
	if (changed) {
		char **adv = agent_routes_advertised(a->routes);

		if (!adv)
			adv = g_new0(char *, 1);
		sig_client_set_routes(a->sig, (const char *const *)adv);
		g_strfreev(adv);
	}
	return r;
}

/* SIGHUP (up.c): new STUN/TURN servers for every connection made from now on. rtc copies the
 * servers into each connection when it is made, so tunnels that are up keep theirs; the old
 * turns: bridges may carry such a tunnel and stay open until agent_free(). On failure the
 * running servers stay. Agent loop only. */
int agent_reconfigure(struct agent *a, const struct agent_cfg *cfg, struct rg_err *err)
{
	char **stun = a->stun, *secret = a->turn_secret;
	struct rtc_turn_server *turn = a->turn;
	struct agent_turntls **tls = a->turntls;
	struct rtc_config rtc = a->rtc;
	size_t n_tls = a->n_turntls;
	bool ordered = a->ordered;
	int max_retransmits = a->max_retransmits, r;

	if ((r = agent_dns_check(a->dns, cfg, err)) < 0)
		return r;
	r = copy_rtc_cfg(a, cfg, err);
	if (r < 0) {
		free_ice_servers(a->stun, a->turn, a->turn_secret);
		for (size_t i = 0; i < a->n_turntls; i++)
			agent_turntls_free(a->turntls[i]);
		g_free(a->turntls);
		a->stun = stun;
		a->turn = turn;
		a->turn_secret = secret;
		a->turntls = tls;
		a->n_turntls = n_tls;
		a->rtc = rtc;
		return r;
	}
	/* copy_rtc_cfg also took these; a reload does not change them */
	a->rtc.path_mtu = rtc.path_mtu;
	a->rtc.probe_path_mtu = rtc.probe_path_mtu;
	a->rtc.direct_path = rtc.direct_path;
	a->ordered = ordered;
	a->max_retransmits = max_retransmits;
	free_ice_servers(stun, turn, secret);
	g_strfreev(a->exclude_ifaces);
	a->exclude_ifaces = copy_exclude(cfg);
	if (!a->turntls_retired)
		a->turntls_retired = g_ptr_array_new_with_free_func(
			(GDestroyNotify)(void (*)(void))agent_turntls_free);
	for (size_t i = 0; i < n_tls; i++)
		if (tls[i])
			g_ptr_array_add(a->turntls_retired, tls[i]);
	g_free(tls);
	rg_log(RG_LOG_INFO, "reload: %zu STUN and %zu TURN server%s for new connections",
	       a->rtc.n_stun, a->rtc.n_turn, a->rtc.n_turn == 1 ? "" : "s");
	agent_dns_reconfigure(a->dns, cfg);
	return reconfigure_routes(a, cfg, err);
}

const char *agent_public_key(const struct agent *a)
{
	return a->key_b64;
}

int agent_select_exit(struct agent *a, const char *name, struct rg_err *err)
{
	return agent_exit_select(a->exit, name, err);
}

/* The largest MTU of this host's links that are up and have an address (loopback aside): the
 * largest path MTU a probe can find. 1500 when nothing says otherwise. */
static unsigned local_link_mtu(void)
{
	struct ifaddrs *ifs = NULL;
	unsigned best = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
			struct ifreq ifr = { 0 };

			if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) ||
			    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
				continue;
			g_strlcpy(ifr.ifr_name, i->ifa_name, sizeof(ifr.ifr_name));
			if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0 &&
			    (unsigned)ifr.ifr_mtu > best)
				best = (unsigned)ifr.ifr_mtu;
		}
		freeifaddrs(ifs);
	}
	if (fd >= 0)
		close(fd);
	return best ? best : 1500;
}

/* The TUN MTU at a path MTU: the largest packet a peer can get. With the direct path on, that
 * is one WireGuard datagram per UDP datagram of the path MTU (1440 on a 1500-byte LAN); peers
 * on the data channel get less per packet (peer_limit: an ICMP "fragmentation needed" tells
 * the sender). Without it, the largest single-packet SCTP message at that path MTU, which is
 * what rtc_peer_max_packet_message() gives a peer configured with it (/rtc/peer/max-message-at
 * keeps the two equal). */
static void derive_mtu(struct agent *a, unsigned path_mtu)
{
	size_t m = rtc_max_packet_message_at(path_mtu);

	if (a->rtc.direct_path) {
		a->mtu = agent_mtu_for_message(path_mtu);
		rg_log(RG_LOG_INFO, "mtu %u (%s path MTU %u - %d WireGuard overhead, rounded down "
		       "to 16: the direct path's; data-channel peers get %u)", a->mtu,
		       a->rtc.path_mtu ? "configured" : "largest probed", path_mtu,
		       WG_DATA_OVERHEAD, agent_mtu_for_message(m));
		return;
	}
	a->mtu = agent_mtu_for_message(m);
	rg_log(RG_LOG_INFO, "mtu %u (%s path MTU %u: SCTP single-packet message %zu bytes - %d "
	       "WireGuard overhead, rounded down to 16)", a->mtu,
	       a->rtc.path_mtu ? "configured" : "largest probed", path_mtu, m, WG_DATA_OVERHEAD);
}

enum { ADDR_SETTLE_MS = 300 };	/* a DHCP renumbering is a delete and an add */

static gboolean addr_settle_cb(gpointer data)
{
	struct agent *a = data;

	a->addr_settle_src = 0;
	agent_peer_on_addrs_changed(a);
	return G_SOURCE_REMOVE;
}

static gboolean addrwatch_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct agent *a = data;
	int n = net_addrwatch_read(&a->addrwatch, a->tun.ifindex);

	(void)fd;
	(void)cond;
	if (n < 0) {
		rg_log(RG_LOG_WARN, "%s: address notifications failed: %s; no longer watching",
		       a->ifname, g_strerror(-n));
		a->addrwatch_src = 0;
		return G_SOURCE_REMOVE;
	}
	if (n > 0) {
		GSource *s;

		if (a->addr_settle_src)
			g_source_remove(a->addr_settle_src);
		s = g_timeout_source_new(ADDR_SETTLE_MS);
		g_source_set_callback(s, addr_settle_cb, a, NULL);
		a->addr_settle_src = g_source_attach(s, a->ctx);
		g_source_unref(s);
	}
	return G_SOURCE_CONTINUE;
}

/* Subnet routes: what we advertise (forwarding, masquerade) and what we accept from peers.
 * The servers a route may never capture are the configured URLs, before any TLS bridge. */
static void routes_cfg(const struct agent *a, const struct agent_cfg *cfg,
		       struct agent_routes_cfg *rc, const char **servers)
{
	*rc = (struct agent_routes_cfg){
		.routes = cfg->routes, .n_routes = cfg->n_routes, .masquerade = cfg->masquerade,
		.exit_offer = cfg->exit_offer,
		.accept_all = cfg->accept_routes_all, .accept_from = cfg->accept_routes_from,
		.n_accept_from = cfg->n_accept_routes_from, .hub_url = a->hub_url,
		.servers = servers,
	};
	for (size_t i = 0; i < cfg->n_stun; i++)
		servers[rc->n_servers++] = cfg->stun[i];
	for (size_t i = 0; i < cfg->n_turn; i++)
		if (cfg->turn[i].url)
			servers[rc->n_servers++] = cfg->turn[i].url;
}

static int routes_new(struct agent *a, const struct agent_cfg *cfg, struct rg_err *err)
{
	g_autofree const char **servers = g_new0(const char *, cfg->n_stun + cfg->n_turn + 1);
	struct agent_routes_cfg rc;
	int r;

	routes_cfg(a, cfg, &rc, servers);
	agent_routes_new(&a->routes, a, &rc);
	if ((r = agent_routes_start(a->routes, err)) < 0)
		return r;
	if ((r = agent_exit_new(&a->exit, a, cfg->exit_node, cfg->kill_switch)) < 0)
		return r;
	return agent_dns_new(&a->dns, a, cfg);
}

int agent_new(struct agent **out, GMainContext *ctx, const struct agent_cfg *cfg,
	      agent_stop_fn stop, void *opaque, struct rg_err *err)
{
	struct agent *a = g_new0(struct agent, 1);
	struct sig_client_cfg sc = { 0 };
	char serial[17];
	char **advertised;
	struct rg_prefix np;
	uint8_t pub[WG_KEY_LEN];
	int r;

	*out = NULL;
	if (!ctx)
		ctx = g_main_context_get_thread_default();
	a->ctx = g_main_context_ref(ctx ? ctx : g_main_context_default());
	a->tun.fd = -1;
	a->ctl.fd = -1;
	a->metrics.fd = -1;
	a->stop = stop;
	a->stop_opaque = opaque;
	a->started = (int64_t)(rg_wall_ns() / RG_NSEC_PER_SEC);
	a->peers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					 (GDestroyNotify)agent_peer_free);
	a->graveyard = g_ptr_array_new();
	a->max_peers = cfg->max_peers ? cfg->max_peers : AGENT_MAX_PEERS;
	if (!cfg->ifname || !net_ifname_valid(cfg->ifname)) {
		r = rg_err_set(err, -EINVAL, "bad interface name '%s'",
			       cfg->ifname ? cfg->ifname : "");
		goto fail;
	}
	if (!cfg->peer_id || !cfg->peer_id[0] || strlen(cfg->peer_id) > AGENT_ID_MAX) {
		r = rg_err_set(err, -EINVAL, "bad peer id");
		goto fail;
	}
	g_strlcpy(a->ifname, cfg->ifname, sizeof(a->ifname));
	g_strlcpy(a->peer_id, cfg->peer_id, sizeof(a->peer_id));
	if (cfg->address && cfg->address[0]) {
		if (!rg_prefix_parse_addr(&np, cfg->address) ||
		    strlen(cfg->address) >= sizeof(a->address)) {
			r = rg_err_set(err, -EINVAL, "bad address '%s'", cfg->address);
			goto fail;
		}
		g_strlcpy(a->address, cfg->address, sizeof(a->address));
	}
	a->hub_url = g_strdup(cfg->hub_url ? cfg->hub_url : "");
	a->version = g_strdup(cfg->version ? cfg->version : "");
	a->reload = cfg->reload;
	a->reload_opaque = cfg->reload_opaque;
	a->token = g_strdup(cfg->token);
	a->exclude_ifaces = copy_exclude(cfg);
	a->relay = cfg->relay;
	if ((r = copy_rtc_cfg(a, cfg, err)) < 0)
		goto fail;

	/* WireGuard device */
	r = wg_device_new(&a->dev, &wg_ops, a);
	if (r < 0) {
		r = rg_err_set(err, r, "cannot create the WireGuard device: %s", g_strerror(-r));
		goto fail;
	}
	if (rg_ct_is_zero(cfg->private_key, WG_KEY_LEN)) {
		r = rg_err_set(err, -EINVAL, "the private key is all zero");
		goto fail;
	}
	wg_device_set_private_key(a->dev, cfg->private_key);
	if (!wg_device_get_public_key(a->dev, pub)) {
		r = rg_err_set(err, -EINVAL, "the private key is not usable");
		goto fail;
	}
	rg_key_to_base64(a->key_b64, pub);
	g_strlcpy(a->network, cfg->network ? cfg->network : "", sizeof(a->network));
	if ((r = agent_trust_init(a, cfg->trust_config, err)) < 0)
		goto fail;
	a->timer = g_source_new(&timer_funcs, sizeof(GSource));
	g_source_set_callback(a->timer, NULL, a, NULL);
	g_source_set_ready_time(a->timer, -1);
	g_source_attach(a->timer, a->ctx);

	/* MTU */
	if (cfg->mtu) {
		if (cfg->mtu < AGENT_MTU_MIN || cfg->mtu > AGENT_MTU_MAX) {
			r = rg_err_set(err, -EINVAL, "mtu %u out of range %d-%d", cfg->mtu,
				       AGENT_MTU_MIN, AGENT_MTU_MAX);
			goto fail;
		}
		a->mtu = cfg->mtu;
		a->mtu_pinned = true;
	} else {
		derive_mtu(a, a->rtc.path_mtu ? a->rtc.path_mtu
				: MAX(rtc_pmtu_link_max(local_link_mtu(), false),
				      (unsigned)RTC_DEFAULT_PATH_MTU));
		if (a->address[0] && np.family == AF_INET6 && a->mtu < AGENT_MTU_IPV6_MIN) {
			/* The kernel refuses IPv6 on a link below 1280. Larger datagrams still
			 * work: SCTP splits them over two packets (a loss of either loses the
			 * datagram). */
			rg_log(RG_LOG_WARN, "mtu %u is below IPv6's minimum: using %d (WireGuard "
			       "datagrams up to %d bytes span two SCTP packets)", a->mtu,
			       AGENT_MTU_IPV6_MIN, AGENT_MTU_IPV6_MIN + WG_DATA_OVERHEAD);
			a->mtu = AGENT_MTU_IPV6_MIN;
		}
	}
	if (a->address[0] && np.family == AF_INET6 && a->mtu < AGENT_MTU_IPV6_MIN) {
		r = rg_err_set(err, -EINVAL, "mtu %u is too small for the IPv6 address %s (IPv6 needs "
			       "at least %d)", a->mtu, a->address, AGENT_MTU_IPV6_MIN);
		goto fail;
	}

	/* control socket first: it refuses a second agent on the same interface */
	r = agent_ctl_open(&a->ctl, a->ctx, a->ifname, ctl_handler, a, err);
	if (r == 0 && cfg->metrics_listen)
		r = agent_metrics_open(&a->metrics, a->ctx, cfg->metrics_listen, status_fill, a, err);
	if (r < 0)
		goto fail;

	/* TUN: address, MTU, up */
	/* Checksum + TCP segmentation offload (RG_AGENT_NO_OFFLOAD=1 turns it off, for
	 * comparisons): reads may be 64 KiB TCP super-segments, writes carry merged trains. */
	r = -EOPNOTSUPP;
	if (!getenv("RG_AGENT_NO_OFFLOAD"))
		r = net_tun_open_offload(&a->tun, a->ifname, false, NULL);
	if (r < 0)
		r = net_tun_open(&a->tun, a->ifname, false, err);
	if (r < 0)
		goto fail;
	net_tun_writer_init(&a->tunw, &a->tun);
	/* From here on every socket carries the mark an exit node's routing lets through. */
	agent_sockmark_set(agent_exit_mark(a->tun.ifindex));
	a->train_src = g_source_new(&train_funcs, sizeof(GSource));
	g_source_set_callback(a->train_src, NULL, a, NULL);
	g_source_attach(a->train_src, a->ctx);
	if ((r = net_link_set_mtu(a->tun.ifindex, a->mtu)) < 0 ||
	    (a->address[0] && (r = net_addr_add(a->tun.ifindex, &np)) < 0) ||
	    (r = net_link_set_up(a->tun.ifindex, true)) < 0) {
		r = rg_err_set(err, r, "cannot configure %s: %s", a->ifname, g_strerror(-r));
		goto fail;
	}
	{
		GSource *s = g_unix_fd_source_new(a->tun.fd, G_IO_IN);

		g_source_set_callback(s, (GSourceFunc)(void (*)(void))tun_cb, a, NULL);
		/* GLib blocks a source that cannot recurse while it dispatches, which takes its fd
		 * out of the poll set and puts it back: two eventfd wakeups and one more loop
		 * iteration per TUN read. The loop never runs nested, so recursion cannot happen. */
		g_source_set_can_recurse(s, TRUE);
		a->tun_src = g_source_attach(s, a->ctx);
		g_source_unref(s);
	}

	if ((r = routes_new(a, cfg, err)) < 0)
		goto fail;

	/* Address changes (a new Wi-Fi, a DHCP renumbering): restart ICE at once rather than wait
	 * for the old path to time out. Optional: without it the path checks still notice. */
	if (net_addrwatch_open(&a->addrwatch) == 0) {
		GSource *s = g_unix_fd_source_new(net_addrwatch_fd(&a->addrwatch), G_IO_IN);

		agent_peer_note_addrs(a);
		g_source_set_callback(s, (GSourceFunc)(void (*)(void))addrwatch_cb, a, NULL);
		a->addrwatch_src = g_source_attach(s, a->ctx);
		g_source_unref(s);
	} else {
		rg_log(RG_LOG_DEBUG, "%s: no address notifications (netlink)", a->ifname);
	}

	/* UAPI: wg show IFNAME */
	r = net_uapisock_open(&a->uapi, cfg->uapi_dir, a->ifname, uapi_handler, a, err);
	if (r < 0)
		goto fail;
	a->uapi_open = true;
	{
		GSource *s = g_unix_fd_source_new(net_uapisock_fd(&a->uapi), G_IO_IN);

		g_source_set_callback(s, (GSourceFunc)(void (*)(void))uapi_cb, a, NULL);
		a->uapi_src = g_source_attach(s, a->ctx);
		g_source_unref(s);
	}

	/* signaling (started by agent_start) */
	sc.url = a->hub_url;
	sc.token = a->token;
	sc.peer_id = a->peer_id;
	sc.public_key = a->key_b64;
	sc.address = a->address[0] ? a->address : NULL;
	sc.cert = a->cert_b64;
	sc.rotation = a->rotation_b64;
	if (a->trust) {
		g_snprintf(serial, sizeof(serial), "%016" G_GINT64_MODIFIER "x",
			   agent_trust_serial(a));
		sc.cert_serial = serial;
	}
	advertised = agent_routes_advertised(a->routes);
	sc.routes = (const char *const *)advertised;
	r = sig_client_new(&a->sig, a->ctx, &sc, &sig_ops, a, err);
	g_strfreev(advertised);
	if (r < 0)
		goto fail;
	rg_log(RG_LOG_INFO, "%s: up as '%s' (%.8s...), address %s, mtu %u", a->ifname, a->peer_id,
	       a->key_b64, a->address[0] ? a->address : "none", a->mtu);
	*out = a;
	return 0;
fail:
	agent_free(a);
	return r;
}

void agent_free(struct agent *a)
{
	uint64_t deadline;

	if (!a)
		return;
	/* Say goodbye properly: SCTP SHUTDOWN / DTLS close_notify, then a short drain. */
	if (a->peers && g_hash_table_size(a->peers)) {
		agent_peer_close_all(a);
		deadline = rg_mono_ns() + 200 * (uint64_t)RG_NSEC_PER_MSEC;
		while (rg_mono_ns() < deadline && g_main_context_iteration(a->ctx, FALSE))
			;
	}
	sig_client_free(a->sig);
	a->sig = NULL;
	/* Masquerade table and forwarding first; the kernel routes leave with the TUN. */
	agent_dns_free(a->dns);
	a->dns = NULL;
	agent_exit_free(a->exit);
	a->exit = NULL;
	agent_routes_free(a->routes);
	a->routes = NULL;
	if (a->peers)
		g_hash_table_destroy(a->peers);
	a->peers = NULL;
	agent_trust_free(a);
	if (a->reap_src)
		g_source_remove(a->reap_src);
	a->reap_src = 0;
	if (a->graveyard) {
		agent_peer_reap(a);
		g_ptr_array_free(a->graveyard, TRUE);
	}
	if (a->stop_src)
		g_source_remove(a->stop_src);
	if (a->uapi_src)
		g_source_remove(a->uapi_src);
	if (a->uapi_open)
		net_uapisock_close(&a->uapi);
	agent_ctl_close(&a->ctl);
	agent_metrics_close(&a->metrics);
	if (a->addr_settle_src)
		g_source_remove(a->addr_settle_src);
	if (a->addrwatch_src)
		g_source_remove(a->addrwatch_src);
	net_addrwatch_close(&a->addrwatch);
	g_free(a->addr_set);
	if (a->tun_src)
		g_source_remove(a->tun_src);
	if (a->train_src) {
		g_source_destroy(a->train_src);
		g_source_unref(a->train_src);
	}
	if (a->tun.fd >= 0)
		net_tun_close(&a->tun);
	if (a->timer) {
		g_source_destroy(a->timer);
		g_source_unref(a->timer);
	}
	wg_device_free(a->dev);	/* wipes every key */
	if (a->token)
		rg_memzero(a->token, strlen(a->token));
	g_free(a->token);
	g_free(a->hub_url);
	g_free(a->version);
	free_ice_servers(a->stun, a->turn, a->turn_secret);
	g_strfreev(a->exclude_ifaces);
	for (size_t i = 0; i < a->n_turntls; i++)
		agent_turntls_free(a->turntls[i]);
	g_free(a->turntls);
	if (a->turntls_retired)
		g_ptr_array_free(a->turntls_retired, TRUE);
	g_main_context_unref(a->ctx);
	g_free(a);
}
