/* One remote peer: its WireGuard peer (key, allowed IP from its announced tunnel address) and the
 * WebRTC connection whose `wireguard` channel carries its datagrams. Driven by signaling messages
 * (agent.c hands them over), rtc callbacks and WireGuard peer events, all on the agent loop.
 *
 *   discovered → signaling → ice → sctp → handshake → up
 *        any failure → backoff → (offerer: retry after capped exponential backoff with jitter;
 *                                 answerer: wait for the offerer's next offer)
 *
 * A connection whose ICE path dies (consent lost, ICE failed, or sending without hearing back)
 * restarts ICE in place: whichever side notices first sends an offer with fresh ice-ufrag/pwd on
 * the same peer connection; DTLS, SCTP, the channel and the WireGuard session stay. If both
 * restart at once the designated offerer's offer wins (glare rule below). A restart that finds
 * no new path within AGENT_RESTART_TIMEOUT_MS falls back to a full reconnect (offerer). rtc
 * holds the restart's state (rtc_peer_restart_state); the peer keeps its own state meanwhile
 * and shows `restarting` while one runs. This file decides when to restart and for how long.
 *
 * The lexicographically smaller peerId offers. Glare (an offer from the peer we are offering to)
 * is resolved by that rule: the designated offerer ignores the other's offer. A peer that leaves
 * the hub keeps a working tunnel (the hub may be the one in trouble); a peer that rejoins while
 * we believe the tunnel is up is probed with a WireGuard handshake, and reconnected if it does
 * not answer (it restarted and its side of the connection is gone).
 *
 * The hub is not trusted with identity (DESIGN §Trust model). Without signed membership the agent
 * still keeps what it trusts now: what a live peer owns (its key, its tunnel address) is never
 * given to another id, and a working tunnel never changes key, address or connection because of a
 * join or an offer unless a probe finds it dead. peer_learn() holds every such check, after the
 * certificate check of a signed network (agent_trust_vouch). */
#include <errno.h>
#include <stdarg.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent-int.h"
#include "agent/routes.h"
#include "conf/config.h"
#include "net/hostaddr.h"
#include "signal/client.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/encoding.h"
#include "util/log.h"

static const char *const state_names[] = {
	[AGENT_PEER_DISCOVERED] = "discovered", [AGENT_PEER_SIGNALING] = "signaling",
	[AGENT_PEER_ICE] = "ice",		[AGENT_PEER_SCTP] = "sctp",
	[AGENT_PEER_HANDSHAKE] = "handshake",	[AGENT_PEER_UP] = "up",
	[AGENT_PEER_BACKOFF] = "backoff",
	[AGENT_PEER_LEFT] = "left",
};

const char *agent_peer_state_name(enum agent_peer_state s)
{
	return (unsigned)s < G_N_ELEMENTS(state_names) ? state_names[s] : "?";
}

static void peer_connect(struct agent_peer *p);
static void send_sdp(struct agent_peer *p, enum sig_msg_type type, const char *sdp);
static void peer_restart_ice(struct agent_peer *p, const char *why);
static void restart_done(struct agent_peer *p, const char *how);
/* What peer_learn() did with an announcement. */
enum learn {
	LEARN_OK = 0,		/* taken (or nothing new) */
	LEARN_REFUSED,		/* conflicts with what a live peer owns, malformed, or not vouched */
	LEARN_HELD,		/* a change for a working tunnel: held while the tunnel is probed */
};

static enum learn peer_learn(struct agent_peer *p, const char *key_b64, const char *address,
			     const char *cert, const char *rotation);
static void accept_offer(struct agent_peer *p, const char *sdp);
static void peer_fail(struct agent_peer *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void peer_fail_kind(struct agent_peer *p, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An ICE restart of the peer's connection runs (rtc's state; the tunnel is kept meanwhile). */
static bool peer_restarting(const struct agent_peer *p)
{
	return p->conn && rtc_peer_restart_state(p->conn->pc) != RTC_RESTART_NONE;
}

static int64_t wall_s(void)
{
	return (int64_t)(rg_wall_ns() / RG_NSEC_PER_SEC);
}

static void set_state(struct agent_peer *p, enum agent_peer_state s)
{
	enum rtc_cand_type t = RTC_CAND_NONE;

	if (p->state == s)
		return;
	if (s == AGENT_PEER_UP && p->conn && p->conn->pc) {
		struct rtc_stats rs;

		memset(&rs, 0, sizeof(rs));
		rtc_peer_get_stats(p->conn->pc, &rs);
		t = MAX(rs.local_type, rs.remote_type);
	}
	/* "via TYPE" is what the journal's PATH_TYPE= field is read from (cli/journal.c) */
	rg_log(s == AGENT_PEER_UP ? RG_LOG_INFO : RG_LOG_DEBUG, "peer %s: %s -> %s%s%s", p->id,
	       agent_peer_state_name(p->state), agent_peer_state_name(s),
	       t != RTC_CAND_NONE ? " via " : "", t != RTC_CAND_NONE ? rtc_cand_type_name(t) : "");
	p->state = s;
	p->since = wall_s();
}

/* An announcement for p refused: counted, shown by `riftgate status`, logged once per reason. */
static void peer_reject(struct agent_peer *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void peer_reject(struct agent_peer *p, const char *fmt, ...)
{
	char why[sizeof(p->rejected)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	p->rejections++;
	if (strcmp(why, p->rejected) == 0)
		return;
	g_strlcpy(p->rejected, why, sizeof(p->rejected));
	rg_log(RG_LOG_WARN, "peer %s: rejected: %s", p->id, why);
}

/* A working tunnel: its WireGuard session runs over a live connection (an ICE restart of it
 * included). */
static bool tunnel_up(const struct agent_peer *p)
{
	return p->conn && p->state == AGENT_PEER_UP;
}

/* What a live peer owns (key, tunnel address) is not given to another id: it is on the hub now,
 * or its tunnel works. A peer that is neither (gone, maybe renamed or readdressed) may lose it. */
static bool peer_live(const struct agent_peer *p)
{
	return p->present || tunnel_up(p);
}

static void clear_src(guint *src)
{
	if (*src)
		g_source_remove(*src);
	*src = 0;
}

static guint add_timeout(struct agent *a, unsigned ms, GSourceFunc fn, void *data)
{
	GSource *s = g_timeout_source_new(ms);
	guint id;

	g_source_set_callback(s, fn, data, NULL);
	id = g_source_attach(s, a->ctx);
	g_source_unref(s);
	return id;
}

/* ---- connection objects ---- */

static void conn_free(struct agent_conn *c)
{
	rtc_peer_free(c->pc);
	if (c->pending)
		g_ptr_array_free(c->pending, TRUE);
	g_free(c);
}

void agent_peer_reap(struct agent *a)
{
	while (a->graveyard->len)
		conn_free(g_ptr_array_steal_index_fast(a->graveyard, a->graveyard->len - 1));
}

static gboolean reap_cb(gpointer data)
{
	struct agent *a = data;

	a->reap_src = 0;
	agent_peer_reap(a);
	return G_SOURCE_REMOVE;
}

/* Detaches the peer's connection; it is freed from the loop (never inside an rtc callback). */
static void peer_drop_conn(struct agent_peer *p)
{
	struct agent *a = p->a;
	struct agent_conn *c = p->conn;

	clear_src(&p->timeout_src);
	clear_src(&p->probe_src);
	clear_src(&p->restart_src);
	p->restart_ns = 0;
	/* a held change or offer waits for the probe of this connection, gone now */
	p->pending_key[0] = p->pending_addr[0] = '\0';
	g_clear_pointer(&p->pending_cert, g_free);
	g_clear_pointer(&p->pending_rotation, g_free);
	g_clear_pointer(&p->held_offer, g_free);
	/* TUN packets to it: -EDESTADDRREQ, unless the hub relay carries them meanwhile */
	if (p->wg && !agent_relay_can_carry(p))
		wg_peer_set_endpoint(p->wg, NULL);
	if (!c)
		return;
	p->conn = NULL;
	c->p = NULL;
	c->ch = NULL;
	g_ptr_array_add(a->graveyard, c);
	if (!a->reap_src) {
		GSource *s = g_idle_source_new();

		g_source_set_callback(s, reap_cb, a, NULL);
		a->reap_src = g_source_attach(s, a->ctx);
		g_source_unref(s);
	}
}

static void send_candidate(struct agent_peer *p, const char *cand)
{
	struct sig_msg m = { 0 };

	sig_msg_init_candidate(&m, p->a->peer_id, p->id, cand);
	agent_send_signal(p->a, &m);
	sig_msg_clear(&m);
}

/* The candidate types named in text (one candidate line, or an SDP with a=candidate lines):
 * a bit per enum rtc_cand_type. *n counts the candidates. */
static unsigned cand_types(const char *text, unsigned *n)
{
	static const struct { const char *typ; enum rtc_cand_type t; } types[] = {
		{ " typ host", RTC_CAND_HOST }, { " typ srflx", RTC_CAND_SRFLX },
		{ " typ prflx", RTC_CAND_PRFLX }, { " typ relay", RTC_CAND_RELAY },
	};
	unsigned mask = 0;

	for (const char *q = text ? strstr(text, " typ ") : NULL; q; q = strstr(q + 1, " typ ")) {
		for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
			size_t len = strlen(types[i].typ);

			if (strncmp(q, types[i].typ, len) == 0 && (q[len] == ' ' || q[len] == '\0' ||
								 q[len] == '\r' || q[len] == '\n')) {
				mask |= 1u << types[i].t;
				(*n)++;
			}
		}
	}
	return mask;
}

/* "host, srflx" for a mask of cand_types(), "none" when empty. */
static const char *types_str(unsigned mask, char *out, size_t cap)
{
	out[0] = '\0';
	for (enum rtc_cand_type t = RTC_CAND_HOST; t <= RTC_CAND_RELAY; t++) {
		if (!(mask & (1u << t)))
			continue;
		if (out[0])
			g_strlcat(out, ", ", cap);
		g_strlcat(out, rtc_cand_type_name(t), cap);
	}
	if (!out[0])
		g_strlcpy(out, "none", cap);
	return out;
}

static void note_remote(struct agent_conn *c, const char *text)
{
	c->remote_types |= cand_types(text, &c->n_remote);
}

/* ICE ended without a working pair: say what was missing, from what each side had. */
static void peer_fail_no_path(struct agent_peer *p)
{
	struct agent_conn *c = p->conn;
	const struct rtc_config *rc = &p->a->rtc;
	char ours[48], theirs[48];
	unsigned srflx = 1u << RTC_CAND_SRFLX, relay = 1u << RTC_CAND_RELAY;

	types_str(c->local_types, ours, sizeof(ours));
	types_str(c->remote_types, theirs, sizeof(theirs));
	if (!c->n_remote)
		peer_fail_kind(p, "peer-silent", "no path: the peer sent no ICE candidates (it did not "
			       "answer, or its hub connection dropped)");
	else if (rc->n_turn && !(c->local_types & relay))
		peer_fail_kind(p, "turn-failed", "no path: the peer's candidates (%s) are unreachable "
			       "and no TURN server gave us a relay (unreachable or credentials "
			       "refused; run 'riftgate netcheck')", theirs);
	else if (rc->n_turn)
		peer_fail_kind(p, "peer-unreachable", "no path: no candidate pair worked, not even "
			       "through TURN (ours: %s; the peer's: %s)", ours, theirs);
	else if (!rc->n_stun)
		peer_fail_kind(p, "no-stun", "no path: the peer's candidates (%s) are unreachable from "
			       "here, and neither STUN ([stun] servers) nor TURN ([[turn]]) is "
			       "configured to find another way", theirs);
	else if (!(c->local_types & srflx))
		peer_fail_kind(p, "no-srflx", "no path: the peer's candidates (%s) are unreachable; "
			       "no STUN server answered (no srflx candidate) and no TURN server is "
			       "configured ([[turn]])", theirs);
	else
		peer_fail_kind(p, "no-turn", "no path: ours (%s) and the peer's candidates (%s) "
			       "found no direct pair (NATs or a firewall block it): add a TURN "
			       "server ([[turn]])", ours, theirs);
}

static void rtc_local_candidate_cb(void *opaque, const char *cand)
{
	struct agent_conn *c = opaque;
	unsigned n = 0;

	if (!c->p || !cand)	/* end-of-candidates: the original protocol has no message for it */
		return;
	c->local_types |= cand_types(cand, &n);
	if (!c->sdp_sent) {
		if (c->pending->len < AGENT_PENDING_CANDS_MAX)
			g_ptr_array_add(c->pending, g_strdup(cand));
		return;
	}
	send_candidate(c->p, cand);
}

static void conn_sdp_sent(struct agent_conn *c)
{
	c->sdp_sent = true;
	for (guint i = 0; i < c->pending->len; i++)
		send_candidate(c->p, c->pending->pdata[i]);
	g_ptr_array_set_size(c->pending, 0);
}

/* ICE ended without ever selecting a pair (as opposed to DTLS failing or consent lost later). */
static bool no_pair_selected(struct agent_conn *c)
{
	struct rtc_stats rs;

	memset(&rs, 0, sizeof(rs));
	rtc_peer_get_stats(c->pc, &rs);
	return rs.local_type == RTC_CAND_NONE && rs.remote_type == RTC_CAND_NONE;
}

static void rtc_state_cb(void *opaque, enum rtc_state st)
{
	struct agent_conn *c = opaque;
	struct agent_peer *p = c->p;

	if (!p)
		return;
	rg_log(RG_LOG_DEBUG, "peer %s: connection %s", p->id, rtc_state_name(st));
	switch (st) {
	case RTC_STATE_CHECKING:
		if (p->state < AGENT_PEER_ICE)
			set_state(p, AGENT_PEER_ICE);
		break;
	case RTC_STATE_CONNECTED:
		if (p->state < AGENT_PEER_SCTP)
			set_state(p, AGENT_PEER_SCTP);
		break;
	case RTC_STATE_FAILED:
		if (p->state < AGENT_PEER_SCTP && no_pair_selected(c))
			peer_fail_no_path(p);
		else
			peer_fail_kind(p, "connection-failed", "connection failed (ICE, DTLS or consent)");
		break;
	case RTC_STATE_CLOSED:
		peer_fail_kind(p, "closed", "connection closed by the remote side");
		break;
	default:
		break;
	}
}

static gboolean handshake_timeout_cb(gpointer data)
{
	struct agent_peer *p = data;

	p->timeout_src = 0;
	peer_fail_kind(p, "wg-handshake", "no WireGuard session %u s after the channel opened",
		  AGENT_HANDSHAKE_TIMEOUT_MS / 1000);
	return G_SOURCE_REMOVE;
}

static void rtc_channel_open_cb(void *opaque, struct rtc_channel *ch)
{
	struct agent_conn *c = opaque;
	struct agent_peer *p = c->p;

	if (!p)
		return;
	if (strcmp(rtc_channel_label(ch), "wireguard") != 0) {
		rg_log(RG_LOG_DEBUG, "peer %s: ignoring channel '%s'", p->id, rtc_channel_label(ch));
		rtc_channel_close(ch);
		return;
	}
	c->ch = ch;
	if (!p->wg) {
		peer_fail(p, "channel open but no WireGuard key for it");
		return;
	}
	if (agent_relay_session_fresh(p)) {
		/* the session made over the relay carries on over the channel: no new handshake */
		wg_peer_set_endpoint(p->wg, &p->ep);
		clear_src(&p->timeout_src);
		set_state(p, AGENT_PEER_UP);
		p->failures = 0;
		p->attempts = 0;
		p->last_error[0] = '\0';
		agent_timer_rearm(p->a);
		return;
	}
	set_state(p, AGENT_PEER_HANDSHAKE);
	wg_peer_set_endpoint(p->wg, &p->ep);
	clear_src(&p->timeout_src);
	p->timeout_src = add_timeout(p->a, AGENT_HANDSHAKE_TIMEOUT_MS, handshake_timeout_cb, p);
	/* Only the offerer initiates: two simultaneous initiations each overwrite the other side's
	 * handshake state and both responses are then refused, costing a REKEY_TIMEOUT (5 s). */
	if (p->offerer) {
		int r = wg_peer_handshake_now(p->wg);

		if (r < 0 && r != -EAGAIN)
			rg_log(RG_LOG_DEBUG, "peer %s: handshake: %s", p->id, g_strerror(-r));
	}
	agent_timer_rearm(p->a);
}

static void rtc_channel_message_cb(void *opaque, struct rtc_channel *ch, const uint8_t *data,
				   size_t len, bool binary)
{
	struct agent_conn *c = opaque;
	struct agent *a = c->a;

	if (!c->p || !binary || len > sizeof(a->rx))
		return;
	if (!c->ch && strcmp(rtc_channel_label(ch), "wireguard") == 0)
		rtc_channel_open_cb(c, ch);	/* data before the open callback: adopt it */
	if (!c->p || c->ch != ch)
		return;
	/* wg_device_input() decrypts in place; rtc's buffer is read-only. */
	memcpy(a->rx, data, len);
	wg_device_input(a->dev, &c->p->ep, a->rx, len);
	agent_timer_rearm(a);
}

/* A WireGuard datagram from the direct path: the same session as the data channel's (its
 * endpoint is the peer id either way). rtc's buffer is ours to decrypt in place. */
static void rtc_wg_datagram_cb(void *opaque, uint8_t *buf, size_t len)
{
	struct agent_conn *c = opaque;
	struct agent_peer *p = c->p;

	if (!p || !p->wg)
		return;
	if (wg_device_input(c->a->dev, &p->ep, buf, len) < 0)
		p->direct_rejected++;	/* bad MAC, replayed, unknown index, ...: dropped */
	agent_timer_rearm(c->a);
}

/* The direct-path datagrams of one socket read are in: write what they decrypted now instead
 * of at the end of the loop iteration (GRO trains still merge within the read). */
static void rtc_wg_batch_end_cb(void *opaque)
{
	struct agent_conn *c = opaque;

	net_tun_writer_flush(&c->a->tunw);
}

static void rtc_direct_changed_cb(void *opaque, bool up)
{
	struct agent_conn *c = opaque;
	struct agent_peer *p = c->p;

	if (!p)
		return;
	rg_log(RG_LOG_INFO, "peer %s: path: %s", p->id,
	       up ? "direct (WireGuard on the ICE 5-tuple)" : "data channel");
	/* The data channel's silence is counted anew from here (relay.c), with only
	 * AGENT_QUIET_AFTER_DIRECT_MS left: a live channel SACKs within 200 ms, and when the whole
	 * path died the direct path's probes already waited a second. */
	memset(&p->quiet, 0, sizeof(p->quiet));
	if (!up) {
		uint64_t now = rg_mono_ns();
		struct rtc_stats st;

		rtc_peer_get_stats(c->pc, &st);
		p->quiet.rx = st.rx_datagrams;
		p->quiet.check_ns = now;
		p->quiet.last_tx_ns = now;
		p->quiet.since_ns = now - (uint64_t)(AGENT_QUIET_MS - AGENT_QUIET_AFTER_DIRECT_MS) *
						RG_NSEC_PER_MSEC;
	}
}

static void rtc_channel_closed_cb(void *opaque, struct rtc_channel *ch)
{
	struct agent_conn *c = opaque;

	if (!c->p || c->ch != ch)
		return;
	c->ch = NULL;
	peer_fail(c->p, "data channel closed");
}

static void rtc_ice_path_cb(void *opaque, bool up, const char *why)
{
	struct agent_conn *c = opaque;
	struct agent_peer *p = c->p;

	if (!p)
		return;
	char what[128];

	if (up) {
		/* why: packets arrive again on the old path, without a restart (rtc) */
		if (why && !p->restart_ns)
			rg_log(RG_LOG_INFO, "peer %s: the path works again (%s); no ICE restart "
			       "needed", p->id, why);
		restart_done(p, why ? why : "new ICE pair selected");
		return;
	}
	g_snprintf(what, sizeof(what), "ICE path lost (%s)", why);
	if (!agent_hub_reachable(p->a) && !peer_restarting(p)) {
		/* A restart replaces the ICE agent at once and needs the hub to finish: with the
		 * hub away it would cut a path that may only have stalled. Keep it; the hub's
		 * return restarts it if it is still lost (agent_peer_on_hub_connected). rtc
		 * reports a loss once, so this says it once. */
		rg_log(RG_LOG_WARN, "peer %s: %s while the hub is unreachable; keeping the "
		       "path, ICE restart when the hub is back", p->id, what);
		return;
	}
	peer_restart_ice(p, what);
}

static const struct rtc_peer_ops conn_ops = {
	.local_candidate = rtc_local_candidate_cb,
	.state_changed = rtc_state_cb,
	.channel_open = rtc_channel_open_cb,
	.channel_message = rtc_channel_message_cb,
	.channel_closed = rtc_channel_closed_cb,
	.ice_path = rtc_ice_path_cb,
	.wg_datagram = rtc_wg_datagram_cb,
	.direct_changed = rtc_direct_changed_cb,
	.wg_batch_end = rtc_wg_batch_end_cb,
};

static gboolean connect_timeout_cb(gpointer data)
{
	struct agent_peer *p = data;

	p->timeout_src = 0;
	if (p->offerer && p->state == AGENT_PEER_SIGNALING)
		peer_fail_kind(p, "no-answer", "the peer did not answer our offer in %u s (is it "
			       "running, on the same hub?)", AGENT_CONNECT_TIMEOUT_MS / 1000);
	else if (p->state < AGENT_PEER_SCTP && p->conn && no_pair_selected(p->conn))
		peer_fail_no_path(p);
	else
		peer_fail_kind(p, "timeout", "not connected %u s after the %s",
			       AGENT_CONNECT_TIMEOUT_MS / 1000, p->offerer ? "offer" : "answer");
	return G_SOURCE_REMOVE;
}

/* Host candidates come from every interface except loopback, IPv6 link-local, our own TUN, other
 * tunnels and [webrtc] exclude_interfaces (net/hostaddr.h): ICE must never reach a peer through
 * the tunnel it is building, nor through another VPN. Read at each attempt, so address changes
 * are picked up. Returns how many were written to addrs, never 0: with no usable address, ICE
 * gets loopback alone (libnice takes "none" as "every interface", tunnels included). */
static size_t local_addrs(struct agent *a, char bufs[][INET6_ADDRSTRLEN], const char **addrs)
{
	const struct net_hostaddr_filter f = {
		.own_ifname = a->ifname,
		.exclude = (const char *const *)a->exclude_ifaces,
		.n_exclude = a->exclude_ifaces ? g_strv_length(a->exclude_ifaces) : 0,
	};
	size_t n = net_hostaddrs(&f, bufs, RTC_MAX_LOCAL_ADDRS);

	if (n == 0)
		g_strlcpy(bufs[n++], "127.0.0.1", INET6_ADDRSTRLEN);
	for (size_t i = 0; i < n; i++)
		addrs[i] = bufs[i];
	return n;
}

/* A fresh connection object for p (replacing any old one). */
static int peer_new_conn(struct agent_peer *p)
{
	struct agent *a = p->a;
	struct agent_conn *c = g_new0(struct agent_conn, 1);
	struct rtc_config cfg = a->rtc;
	struct rg_err err = { 0 };
	char bufs[RTC_MAX_LOCAL_ADDRS][INET6_ADDRSTRLEN];
	const char *addrs[RTC_MAX_LOCAL_ADDRS];
	struct rtc_turn_server turn[RTC_MAX_ICE_SERVERS];
	char user[AGENT_ID_MAX + 32], cred[64];
	int r;

	peer_drop_conn(p);
	c->a = a;
	c->p = p;
	c->pending = g_ptr_array_new_with_free_func(g_free);
	cfg.log_id = p->id;
	cfg.path_silence_ms = AGENT_PATH_SILENCE_MS;
	cfg.max_streams = AGENT_SCTP_STREAMS;	/* ~100 KiB less per peer than 1024 (issue 20) */
	cfg.n_local_addrs = local_addrs(a, bufs, addrs);
	cfg.local_addrs = cfg.n_local_addrs ? addrs : NULL;
	/* TURN servers without a username get fresh time-limited credentials per attempt. */
	if (a->turn_secret && cfg.n_turn) {
		int64_t expiry = (int64_t)(rg_wall_ns() / RG_NSEC_PER_SEC) + AGENT_TURN_TTL_S;
		bool derived = agent_turn_credentials(a->turn_secret, a->peer_id, expiry, user,
						      sizeof(user), cred, sizeof(cred));

		for (size_t i = 0; i < cfg.n_turn && i < G_N_ELEMENTS(turn); i++) {
			turn[i] = a->rtc.turn[i];
			if (!turn[i].username && derived) {
				turn[i].username = user;
				turn[i].credential = cred;
			}
		}
		cfg.turn = turn;
	}
	r = rtc_peer_new(&c->pc, a->ctx, &cfg, &conn_ops, c, &err);
	rg_memzero(cred, sizeof(cred));
	if (r < 0) {
		rg_log(RG_LOG_ERROR, "peer %s: cannot create a peer connection: %s", p->id, err.msg);
		conn_free(c);
		return r;
	}
	p->conn = c;
	p->attempts++;
	clear_src(&p->timeout_src);
	p->timeout_src = add_timeout(a, AGENT_CONNECT_TIMEOUT_MS, connect_timeout_cb, p);
	return 0;
}

/* ---- retries ---- */

static gboolean retry_cb(gpointer data)
{
	struct agent_peer *p = data;

	p->retry_src = 0;
	if (p->present && p->offerer && !p->conn)
		peer_connect(p);
	return G_SOURCE_REMOVE;
}

static void schedule_retry(struct agent_peer *p, unsigned ms)
{
	clear_src(&p->retry_src);
	p->retry_src = add_timeout(p->a, ms, retry_cb, p);
}

/* Full jitter over a capped exponential: 1 s, 2 s, 4 s … 30 s. */
static unsigned backoff_ms(uint32_t failures)
{
	uint64_t ceil = AGENT_RETRY_BASE_MS;

	for (uint32_t i = 1; i < failures && ceil < AGENT_RETRY_CAP_MS; i++)
		ceil *= 2;
	if (ceil > AGENT_RETRY_CAP_MS)
		ceil = AGENT_RETRY_CAP_MS;
	return (unsigned)(ceil / 2 + g_random_int_range(0, (gint32)(ceil / 2) + 1));
}

static __attribute__((format(printf, 3, 0))) void
peer_fail_va(struct agent_peer *p, const char *kind, const char *fmt, va_list ap)
{
	vsnprintf(p->last_error, sizeof(p->last_error), fmt, ap);
	p->last_error_kind = kind;
	rg_log(RG_LOG_WARN, "peer %s: %s", p->id, p->last_error);
	peer_drop_conn(p);
	p->failures++;
	if (!p->present) {
		set_state(p, AGENT_PEER_LEFT);
		return;
	}
	set_state(p, AGENT_PEER_BACKOFF);
	if (p->offerer) {
		unsigned ms = backoff_ms(p->failures);

		rg_log(RG_LOG_INFO, "peer %s: retrying in %u ms", p->id, ms);
		schedule_retry(p, ms);
	}
}

/* kind: the reason's stable machine name (status --json lastErrorKind, docs/troubleshooting.md). */
static void peer_fail_kind(struct agent_peer *p, const char *kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	peer_fail_va(p, kind, fmt, ap);
	va_end(ap);
}

static void peer_fail(struct agent_peer *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	peer_fail_va(p, "", fmt, ap);
	va_end(ap);
}

/* ---- negotiation ---- */

static void send_sdp(struct agent_peer *p, enum sig_msg_type type, const char *sdp)
{
	struct agent *a = p->a;
	struct sig_msg m = { 0 };

	sig_msg_init_offer(&m, type, a->peer_id, p->id, sdp, a->key_b64,
			   a->address[0] ? a->address : NULL);
	m.cert = g_strdup(a->cert_b64);
	m.rotation = g_strdup(a->rotation_b64);
	m.routes = agent_routes_advertised(a->routes);
	if (agent_send_signal(a, &m) < 0)
		rg_log(RG_LOG_WARN, "peer %s: hub unavailable, %s not sent", p->id,
		       sig_msg_type_name(type));
	sig_msg_clear(&m);
}

/* ---- ICE restart in place ---- */

/* A restart gathers on the addresses the host has now (they may be why we restart). */
static void refresh_local_addrs(struct agent_peer *p)
{
	char bufs[RTC_MAX_LOCAL_ADDRS][INET6_ADDRSTRLEN];
	const char *addrs[RTC_MAX_LOCAL_ADDRS];
	size_t n = local_addrs(p->a, bufs, addrs);

	if (rtc_peer_set_local_addrs(p->conn->pc, addrs, n) < 0)
		rg_log(RG_LOG_DEBUG, "peer %s: local addresses not taken", p->id);
}

static gboolean restart_timeout_cb(gpointer data)
{
	struct agent_peer *p = data;

	p->restart_src = 0;
	if (!peer_restarting(p))
		return G_SOURCE_REMOVE;
	if (p->offerer) {
		peer_fail_kind(p, "restart-failed", "ICE restart found no path in %u s; "
			       "reconnecting from scratch", AGENT_RESTART_TIMEOUT_MS / 1000);
		return G_SOURCE_REMOVE;
	}
	/* The answerer cannot start a new connection; it keeps this one, so that the offerer's
	 * own restart can still be answered, until rtc gives up on it (consent timeout). */
	rg_log(RG_LOG_WARN, "peer %s: ICE restart found no path in %u s; waiting for the offerer",
	       p->id, AGENT_RESTART_TIMEOUT_MS / 1000);
	return G_SOURCE_REMOVE;
}

/* Times a restart (once per restart, until restart_done) and bounds it. */
static void restart_begin(struct agent_peer *p)
{
	if (p->restart_ns)
		return;
	p->restart_ns = rg_mono_ns();
	clear_src(&p->restart_src);
	p->restart_src = add_timeout(p->a, AGENT_RESTART_TIMEOUT_MS, restart_timeout_cb, p);
}

/* The path works again: back to where we were, same DTLS/SCTP/WireGuard session. */
static void restart_done(struct agent_peer *p, const char *how)
{
	if (!p->restart_ns)
		return;
	clear_src(&p->restart_src);
	p->ice_restarts++;
	rg_log(RG_LOG_INFO, "peer %s: ICE restart complete in %.2f s (%s); tunnel kept", p->id,
	       (double)(rg_mono_ns() - p->restart_ns) / RG_NSEC_PER_SEC, how);
	p->restart_ns = 0;
}

/* Our side noticed the path is gone: fresh ICE credentials and a re-offer on the same peer
 * connection (either role may send it; JSEP lets both sides renegotiate). */
static void peer_restart_ice(struct agent_peer *p, const char *why)
{
	struct agent_conn *c = p->conn;
	struct rg_err err = { 0 };
	char *sdp = NULL;
	int r;

	if (!c || p->state < AGENT_PEER_SCTP || p->state > AGENT_PEER_UP)
		return;
	if (rtc_peer_restart_pending(c->pc)) {
		/* Restart during restart: the first one is unanswered and still bounded by its
		 * timer; a second offer would only make the answer to the first one stale. */
		rg_log(RG_LOG_DEBUG, "peer %s: %s; an ICE restart is already under way", p->id, why);
		return;
	}
	rg_log(RG_LOG_INFO, "peer %s: %s; restarting ICE", p->id, why);
	refresh_local_addrs(p);
	if ((r = rtc_peer_restart_ice(c->pc)) == -EBUSY) {
		/* an offer of ours is out: its answer restarts the checks */
		rg_log(RG_LOG_DEBUG, "peer %s: offer outstanding, not restarting", p->id);
		return;
	}
	restart_begin(p);
	if (r < 0 || (r = rtc_peer_create_offer(c->pc, &sdp, &err)) < 0) {
		peer_fail(p, "ICE restart failed: %s", err.msg[0] ? err.msg : g_strerror(-r));
		return;
	}
	rg_log(RG_LOG_INFO, "peer %s: ICE restart: offering new ICE credentials", p->id);
	send_sdp(p, SIG_MSG_OFFER, sdp);
	g_free(sdp);
}

/* Our restart offer may have died with a hub connection (ours or the peer's): say it again. */
static void restart_resend(struct agent_peer *p, const char *why)
{
	struct agent_conn *c = p->conn;
	struct rg_err err = { 0 };
	char *sdp = NULL;

	if (!c || !rtc_peer_restart_pending(c->pc))
		return;
	/* The same offer (same credentials), now listing every candidate gathered so far: the
	 * ones we trickled may have been lost with it. */
	if (rtc_peer_create_offer(c->pc, &sdp, &err) < 0) {
		rg_log(RG_LOG_WARN, "peer %s: %s; cannot say our ICE restart offer again: %s", p->id,
		       why, err.msg);
		return;
	}
	rg_log(RG_LOG_INFO, "peer %s: %s; sending our ICE restart offer again", p->id, why);
	send_sdp(p, SIG_MSG_OFFER, sdp);
	g_free(sdp);
}

/* A re-offer on the connection we have (rtc_peer_offer_kind): the peer restarts ICE, or says
 * its offer again (its hub connection came back) and gets our answer again. */
static void on_reoffer(struct agent_peer *p, const struct sig_msg *m, bool restart)
{
	struct agent_conn *c = p->conn;
	struct rg_err err = { 0 };
	char *sdp = NULL;

	if (rtc_peer_restart_pending(c->pc) && p->offerer) {
		/* Glare: both restarted. The smaller id (us) wins; the peer answers ours. */
		rg_log(RG_LOG_INFO, "peer %s: glare on ICE restart, keeping our own offer", p->id);
		return;
	}
	/* Glare the other way: taking the peer's offer rolls ours back (rtc). */
	if (rtc_peer_restart_pending(c->pc))
		rg_log(RG_LOG_INFO, "peer %s: glare on ICE restart, answering the peer's offer",
		       p->id);
	if (restart && p->state >= AGENT_PEER_SCTP && p->state <= AGENT_PEER_UP)
		restart_begin(p);
	if (restart)
		refresh_local_addrs(p);
	if (rtc_peer_set_remote_description(c->pc, RTC_SDP_OFFER, m->sdp, &err) < 0 ||
	    rtc_peer_create_answer(c->pc, &sdp, &err) < 0) {
		peer_fail(p, "bad ICE restart offer: %s", err.msg);
		return;
	}
	rg_log(RG_LOG_INFO, "peer %s: answering %s", p->id,
	       restart ? "an ICE restart" : "a repeated offer");
	send_sdp(p, SIG_MSG_ANSWER, sdp);
	g_free(sdp);
}

/* Offerer: new connection, the `wireguard` channel, offer. */
static void peer_connect(struct agent_peer *p)
{
	struct agent *a = p->a;
	struct rg_err err = { 0 };
	struct rtc_channel *ch;
	char *sdp = NULL;

	clear_src(&p->retry_src);
	/* A signed network may offer before it knows the key: peers entries carry no certificate
	 * (the hub does not copy them), the answer does, and nothing is installed before it. */
	if (!p->wg && !(a->trust && p->present)) {
		set_state(p, AGENT_PEER_DISCOVERED);
		return;
	}
	if (peer_new_conn(p) < 0)
		goto fail;
	if (rtc_peer_create_channel(p->conn->pc, "wireguard", a->ordered, a->max_retransmits,
				    &ch) < 0 ||
	    rtc_peer_create_offer(p->conn->pc, &sdp, &err) < 0) {
		snprintf(err.msg + strlen(err.msg), sizeof(err.msg) - strlen(err.msg), "%s",
			 err.msg[0] ? "" : "cannot create the channel/offer");
		goto fail;
	}
	set_state(p, AGENT_PEER_SIGNALING);
	rg_log(RG_LOG_INFO, "peer %s: offering (attempt %u)", p->id, p->attempts);
	send_sdp(p, SIG_MSG_OFFER, sdp);
	conn_sdp_sent(p->conn);
	g_free(sdp);
	return;
fail:
	g_free(sdp);
	peer_fail(p, "offer failed: %s", err.msg[0] ? err.msg : "peer connection");
}

/* The agent peer behind a WireGuard peer, or NULL (none, or a peer set through UAPI). */
static struct agent_peer *wg_owner(struct wg_peer *wp)
{
	return wp ? wg_peer_get_user(wp) : NULL;
}

static void peer_probe(struct agent_peer *p);

/* Learns (or changes) the peer's WireGuard key and allowed IP (its own address, /32 or /128)
 * from an announcement (peers, join, offer, answer). NULL or "" leaves a field as it is.
 *
 * Every check runs before anything is installed, here and only here:
 *   - a signed network's certificate (agent_trust_vouch, the one gate there: the key and
 *     address installed are then the certificate's);
 *   - the key and the address must parse, the key must not be ours (wg refuses it);
 *   - a key another id uses is refused when that id is live (a copied config, or a takeover by
 *     announcement; in a signed network always);
 *   - an address a live other peer owns, or our own, is refused;
 *   - a change of key or address for a working tunnel is held and the tunnel probed with a
 *     handshake: a tunnel that answers is the real device, and the change is refused; one that
 *     does not answer is dropped and the change taken (probe_cb);
 *   - except a verified key rotation of the certificate installed (signed by its device key):
 *     the key is replaced in place, the sessions carry on and we start a handshake under the
 *     new key at once; the old key can no longer handshake (wg_device_peer_rekey).
 * What a peer that is not live owns moves to p (a renamed or readdressed device). */
static enum learn peer_learn(struct agent_peer *p, const char *key_b64, const char *address,
			     const char *cert, const char *rotation)
{
	struct agent *a = p->a;
	struct agent_peer *key_other = NULL, *addr_other = NULL;
	struct wg_peer *addr_wp = NULL, *wp;
	struct wg_allowed_ip ip = { 0 };
	struct rg_prefix np, own;
	char ipstr[INET6_ADDRSTRLEN] = "";
	uint8_t key[WG_KEY_LEN];
	bool new_key, new_addr;
	int r;

	if (!agent_trust_vouch(p, &key_b64, &address, cert, rotation))
		return LEARN_REFUSED;
	if (key_b64 && !key_b64[0])
		key_b64 = NULL;
	if (address && !address[0])
		address = NULL;
	new_key = key_b64 && strcmp(key_b64, p->key_b64) != 0;
	if (new_key && !rg_key_from_base64(key, key_b64)) {
		snprintf(p->last_error, sizeof(p->last_error), "bad public key from hub");
		p->last_error_kind = "bad-key";
		peer_reject(p, "malformed public key");
		return LEARN_REFUSED;
	}
	if (address && !rg_prefix_parse_addr(&np, address)) {
		peer_reject(p, "malformed address '%.64s'", address);
		address = NULL;		/* the key alone is still usable */
	}
	new_addr = address && strcmp(address, p->address) != 0;
	if (!new_key && !new_addr)
		goto out;
	if (address) {
		inet_ntop(np.family, np.addr, ipstr, sizeof(ipstr));
		ip.family = (uint16_t)np.family;
		ip.cidr = np.family == AF_INET ? 32 : 128;	/* its own address only */
		memcpy(ip.addr, np.addr, sizeof(ip.addr));
	}

	if (new_key) {
		key_other = wg_owner(wg_device_lookup_peer(a->dev, key));
		if (key_other && key_other != p && a->trust) {
			/* Signed: a certificate may name any public key, but a key in use stays
			 * with the peer that has it. */
			char note[AGENT_ID_MAX + 16];

			snprintf(note, sizeof(note), "(key held by %s)", key_other->id);
			agent_trust_reject(p, note);
			return LEARN_REFUSED;
		}
		if (key_other && key_other != p && peer_live(key_other)) {
			peer_reject(p, "public key %.8s... in use by %s", key_b64, key_other->id);
			return LEARN_REFUSED;
		}
	}
	if (new_addr) {
		if (a->address[0] && rg_prefix_parse_addr(&own, a->address) &&
		    own.family == np.family && memcmp(own.addr, np.addr, sizeof(np.addr)) == 0) {
			peer_reject(p, "address %s is ours", ipstr);
			return LEARN_REFUSED;
		}
		addr_wp = wg_device_route(a->dev, np.family, np.addr);
		addr_other = wg_owner(addr_wp);
		if (addr_wp && addr_wp != p->wg && (!addr_other || peer_live(addr_other))) {
			peer_reject(p, "address %s owned by %s", ipstr,
				    addr_other ? addr_other->id : "another WireGuard peer");
			return LEARN_REFUSED;
		}
	}
	if (new_key && p->wg && p->vouched_rekey) {
		char old[sizeof(p->key_b64)];

		r = wg_device_peer_rekey(a->dev, p->wg, key);
		if (r < 0) {
			agent_trust_reject(p, r == -EEXIST ? "(rotated key in use)" :
					      "(rotated key)");
			return LEARN_REFUSED;
		}
		g_strlcpy(old, p->key_b64, sizeof(old));
		g_strlcpy(p->key_b64, key_b64, sizeof(p->key_b64));
		p->pending_key[0] = '\0';
		p->rotated_now = true;
		rg_log(RG_LOG_INFO, "peer %s: key rotation %u verified: %.8s... -> %.8s... "
		       "(the old key is refused from now on)", p->id, (unsigned)p->vouched_rot_seq,
		       old, key_b64);
		if (wg_peer_handshake_now(p->wg) == 0)
			agent_timer_rearm(a);
		new_key = false;
		if (!new_addr)
			goto out;
	}
	if (tunnel_up(p)) {
		g_strlcpy(p->pending_key, new_key ? key_b64 : "", sizeof(p->pending_key));
		g_strlcpy(p->pending_addr, new_addr ? address : "", sizeof(p->pending_addr));
		g_free(p->pending_cert);
		p->pending_cert = g_strdup(cert);
		g_free(p->pending_rotation);
		p->pending_rotation = g_strdup(rotation);
		peer_reject(p, "%s%s%.64s announced while its tunnel works (kept; probing it)",
			    new_key ? "another key " : "", new_key && new_addr ? "and " : "",
			    new_addr ? address : "");
		peer_probe(p);
		return LEARN_HELD;
	}

	/* Checks passed: install. */
	if (new_key) {
		if (p->wg) {
			rg_log(RG_LOG_INFO, "peer %s: public key changed (%.8s... -> %.8s...)", p->id,
			       p->key_b64, key_b64);
			wg_device_remove_peer(a->dev, p->wg);
			p->session_ns = 0;
			p->wg = NULL;
			p->key_b64[0] = '\0';
			peer_drop_conn(p);
		}
		if (key_other && key_other != p) {
			rg_log(RG_LOG_WARN, "peer %s: takes the public key of peer %s, which is gone",
			       p->id, key_other->id);
			if (addr_other == key_other)
				addr_other = NULL;	/* its allowed IPs go with its WireGuard peer */
			wg_device_remove_peer(a->dev, key_other->wg);
			peer_drop_conn(key_other);
			key_other->wg = NULL;
			key_other->key_b64[0] = key_other->address[0] = '\0';
		}
		r = wg_device_add_peer(a->dev, key, &wp);
		if (r < 0) {
			p->last_error_kind = "bad-key";
			snprintf(p->last_error, sizeof(p->last_error), "unusable public key (%s)",
				 r == -EINVAL ? "it is our own" : g_strerror(-r));
			peer_reject(p, "%s", p->last_error);
			return LEARN_REFUSED;
		}
		p->wg = wp;
		wg_peer_set_user(wp, p);
		g_strlcpy(p->key_b64, key_b64, sizeof(p->key_b64));
		p->address[0] = '\0';	/* the new peer routes nothing yet */
		new_addr = address != NULL;
	}
	if (new_addr && p->wg) {
		if (addr_other && addr_other != p) {
			rg_log(RG_LOG_INFO, "peer %s: takes address %s from peer %s, which is gone",
			       p->id, ipstr, addr_other->id);
			if (addr_other->wg)
				wg_peer_allowed_ip_remove(addr_other->wg, &ip);
			addr_other->address[0] = '\0';
		}
		wg_peer_allowed_ips_clear(p->wg);
		if (wg_peer_allowed_ip_add(p->wg, &ip) < 0) {
			rg_log(RG_LOG_WARN, "peer %s: cannot route %s", p->id, address);
			goto out;
		}
		g_strlcpy(p->address, address, sizeof(p->address));
		rg_log(RG_LOG_INFO, "peer %s: tunnel address %s", p->id, address);
		agent_routes_peer_changed(a->routes, p);	/* its allowed IPs were reset */
	}
out:
	if (cert && cert[0] && p->wg)
		agent_trust_installed(p);
	return LEARN_OK;
}

/* ---- probing a peer that rejoined ---- */

static uint64_t peer_rx(struct agent_peer *p)
{
	struct wg_peer_stats st;

	if (!p->wg)
		return 0;
	wg_peer_get_stats(p->wg, &st);
	return st.rx_bytes;
}

static gboolean probe_cb(gpointer data)
{
	struct agent_peer *p = data;

	p->probe_src = 0;
	if (peer_rx(p) == p->probe_rx && p->probe_resend) {
		/* The first initiation was rate limited (one had gone out < REKEY_TIMEOUT ago, and
		 * its answer predates the probe): ask again now before judging. */
		p->probe_resend = false;
		if (wg_peer_handshake_now(p->wg) == 0) {
			agent_timer_rearm(p->a);
			p->probe_src = add_timeout(p->a, AGENT_PROBE_MS, probe_cb, p);
			return G_SOURCE_REMOVE;
		}
	}
	if (peer_rx(p) == p->probe_rx) {
		char key[sizeof(p->pending_key)], addr[sizeof(p->pending_addr)];
		g_autofree char *cert = g_steal_pointer(&p->pending_cert);
		g_autofree char *rotation = g_steal_pointer(&p->pending_rotation);
		g_autofree char *offer = g_steal_pointer(&p->held_offer);

		memcpy(key, p->pending_key, sizeof(key));
		memcpy(addr, p->pending_addr, sizeof(addr));
		p->pending_key[0] = p->pending_addr[0] = '\0';
		peer_fail(p, "rejoined the hub and did not answer over the old connection");
		if ((key[0] || addr[0]) && peer_learn(p, key, addr, cert, rotation) != LEARN_OK)
			return G_SOURCE_REMOVE;
		if (key[0] || addr[0] || offer) {
			p->rejected[0] = '\0';	/* what was held came from the real device */
			rg_log(RG_LOG_INFO, "peer %s: the old tunnel is dead; taking %s", p->id,
			       key[0] ? "its new key" : addr[0] ? "its new address" :
			       "its new connection");
		}
		if (offer && p->present) {
			clear_src(&p->retry_src);
			accept_offer(p, offer);
		} else if (key[0] && p->offerer && p->present) {
			p->failures = 0;
			peer_connect(p);
		}
	} else if (p->pending_key[0] || p->pending_addr[0] || p->held_offer) {
		rg_log(RG_LOG_WARN, "peer %s: its tunnel answers; refusing what another device "
		       "announced for this id%s", p->id,
		       p->held_offer ? " (and its offer of a new connection)" : "");
		p->pending_key[0] = p->pending_addr[0] = '\0';
		g_clear_pointer(&p->pending_cert, g_free);
		g_clear_pointer(&p->pending_rotation, g_free);
		g_clear_pointer(&p->held_offer, g_free);
	} else {
		rg_log(RG_LOG_INFO, "peer %s: rejoined; tunnel still alive", p->id);
	}
	return G_SOURCE_REMOVE;
}

static void peer_probe(struct agent_peer *p)
{
	if (p->probe_src || !p->wg)
		return;
	p->probe_rx = peer_rx(p);
	p->probe_resend = wg_peer_handshake_now(p->wg) == -EAGAIN;
	agent_timer_rearm(p->a);
	p->probe_src = add_timeout(p->a, AGENT_PROBE_MS, probe_cb, p);
}

/* ---- peer table ---- */

/* Removes p from the table and the WireGuard device (agent loop, never inside p's own rtc
 * callbacks: its connection is only detached, see peer_drop_conn). */
static void peer_remove(struct agent_peer *p)
{
	struct agent *a = p->a;

	if (p->wg) {
		wg_device_remove_peer(a->dev, p->wg);
		p->wg = NULL;
	}
	g_hash_table_remove(a->peers, p->id);	/* frees p */
}

static gboolean confirm_cb(gpointer data)
{
	struct agent_peer *p = data;

	p->confirm_src = 0;
	if (p->confirmed || tunnel_up(p))
		return G_SOURCE_REMOVE;
	rg_log(RG_LOG_WARN, "peer %s: never announced by the hub in %u s; removed", p->id,
	       AGENT_CONFIRM_MS / 1000);
	peer_remove(p);
	return G_SOURCE_REMOVE;
}

/* The table is full: frees the entry of a peer that left and has no connection, if any. */
static bool evict_one(struct agent *a)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, a->peers);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct agent_peer *p = v;

		if (!p->present && !p->conn && !p->confirm_src) {
			rg_log(RG_LOG_INFO, "peer %s: forgotten (left; the peer table is full)", p->id);
			peer_remove(p);
			return true;
		}
	}
	return false;
}

struct agent_peer *agent_peer_get(struct agent *a, const char *id, bool create)
{
	struct agent_peer *p = g_hash_table_lookup(a->peers, id);
	size_t n = strlen(id);

	if (p || !create || strcmp(id, a->peer_id) == 0)
		return p;
	if (!conf_valid_name(id)) {
		/* The config's peer-id alphabet: what reaches logs, status and UAPI stays plain. */
		if (a->refused_bad_id++ == 0 || (a->refused_bad_id & (a->refused_bad_id - 1)) == 0)
			rg_log(RG_LOG_WARN, "hub: refused a peer id outside A-Z a-z 0-9 . _ - (1-%d): "
			       "'%.80s' (%" G_GUINT64_FORMAT " so far)", CONF_NAME_MAX, id,
			       a->refused_bad_id);
		return NULL;
	}
	if (g_hash_table_size(a->peers) >= a->max_peers && !evict_one(a)) {
		if (a->refused_over_max++ == 0 ||
		    (a->refused_over_max & (a->refused_over_max - 1)) == 0)
			rg_log(RG_LOG_WARN, "hub: peer %s refused: %u peers already (max_peers) "
			       "(%" G_GUINT64_FORMAT " refused so far)", id, a->max_peers,
			       a->refused_over_max);
		return NULL;
	}
	p = g_new0(struct agent_peer, 1);
	p->a = a;
	memcpy(p->id, id, n + 1);
	p->ep.len = (uint32_t)n;
	memcpy(p->ep.data, id, n);
	p->offerer = strcmp(a->peer_id, id) < 0;
	p->since = wall_s();
	p->confirm_src = add_timeout(a, AGENT_CONFIRM_MS, confirm_cb, p);
	g_hash_table_insert(a->peers, p->id, p);
	rg_log(RG_LOG_INFO, "peer %s: discovered (we %s)", id, p->offerer ? "offer" : "answer");
	return p;
}

void agent_peer_free(struct agent_peer *p)
{
	if (!p)
		return;
	clear_src(&p->retry_src);
	clear_src(&p->confirm_src);
	peer_drop_conn(p);
	agent_routes_forget(p->a->routes, p->id);
	if (p->wg)
		wg_peer_set_user(p->wg, NULL);
	g_free(p->pending_cert);
	g_free(p->pending_rotation);
	g_free(p->held_offer);
	g_free(p);
}

/* A peer announced by the hub (peers list or join). */
static void on_announce(struct agent *a, const char *id, const char *key, const char *address,
			const char *cert, const char *rotation, bool rejoin)
{
	struct agent_peer *p;

	if (strcmp(id, a->peer_id) == 0) {
		rg_log(RG_LOG_WARN, "hub: another device joined with our peer id '%s'", id);
		return;
	}
	p = agent_peer_get(a, id, true);
	if (!p)
		return;
	p->present = true;
	p->confirmed = true;
	clear_src(&p->confirm_src);
	p->rotated_now = false;
	switch (peer_learn(p, key, address, cert, rotation)) {
	case LEARN_OK:
		if (p->rotated_now)
			return;	/* a key rotation on its hub connection: nothing more */
		break;
	case LEARN_HELD:
		return;
	case LEARN_REFUSED:
		/* Signed network, no certificate in a peers entry: offer anyway (if ours to); the
		 * answer must bring one. A bad certificate gets nothing. */
		if (a->trust && !p->trust_err[0] && p->offerer && !p->conn && !p->wg) {
			p->failures = 0;
			peer_connect(p);
		}
		return;
	}
	agent_relay_peer_ready(p);
	if (p->state == AGENT_PEER_LEFT)
		set_state(p, AGENT_PEER_DISCOVERED);
	if (p->conn) {
		/* Still connected (or connecting) to it: after a hub outage everyone re-joins and
		 * the tunnels must stay; after a restart of that peer the old connection is dead. */
		if (rejoin && p->state == AGENT_PEER_UP && !peer_restarting(p))
			peer_probe(p);
		if (rejoin)
			restart_resend(p, "peer rejoined the hub");
		return;
	}
	if (p->offerer) {
		p->failures = 0;
		peer_connect(p);
	}
}

/* Answers a new offer on a fresh connection (the key is known). */
static void accept_offer(struct agent_peer *p, const char *sdp_in)
{
	struct rg_err err = { 0 };
	char *sdp = NULL;

	if (!p->wg) {
		rg_log(RG_LOG_WARN, "peer %s: offer without a known public key; ignored", p->id);
		return;
	}
	if (p->conn)
		rg_log(RG_LOG_INFO, "peer %s: new offer replaces the current connection", p->id);
	clear_src(&p->retry_src);
	if (peer_new_conn(p) < 0)
		return;
	if (rtc_peer_set_remote_description(p->conn->pc, RTC_SDP_OFFER, sdp_in, &err) < 0 ||
	    rtc_peer_create_answer(p->conn->pc, &sdp, &err) < 0) {
		peer_fail(p, "bad offer: %s", err.msg);
		return;
	}
	note_remote(p->conn, sdp_in);
	/* Our answer completes the offer/answer exchange: ICE checks run from now on (the offerer
	 * moves to ICE when it gets the answer). libnice may already have said "checking" above,
	 * which must not be taken back to SIGNALING. */
	set_state(p, AGENT_PEER_ICE);
	rg_log(RG_LOG_INFO, "peer %s: answering", p->id);
	send_sdp(p, SIG_MSG_ANSWER, sdp);
	conn_sdp_sent(p->conn);
	g_free(sdp);
}

static void on_offer(struct agent *a, const struct sig_msg *m)
{
	struct agent_peer *p = agent_peer_get(a, m->from, true);
	enum rtc_offer_kind kind;

	if (!p)
		return;
	if (a->trust) {
		/* Signed: an offer (a restart too) speaks for a certified key, or is dropped
		 * before its SDP is looked at. */
		const char *key = m->public_key, *addr = m->address;

		if (!agent_trust_vouch(p, &key, &addr, m->cert, m->rotation))
			return;
	}
	kind = p->conn ? rtc_peer_offer_kind(p->conn->pc, m->sdp) : RTC_OFFER_NEW;
	if (kind != RTC_OFFER_NEW) {
		p->present = true;
		on_reoffer(p, m, kind == RTC_OFFER_RESTART);
		return;
	}
	if (p->offerer && p->conn && p->state < AGENT_PEER_UP && !peer_restarting(p)) {
		/* Glare: both offered. The smaller id (us) wins; it answers our offer. */
		rg_log(RG_LOG_INFO, "peer %s: glare, keeping our own offer", p->id);
		return;
	}
	p->present = true;
	if (tunnel_up(p) && agent_relay_bridges_lost_path(p, m->public_key, m->address)) {
		rg_log(RG_LOG_INFO, "peer %s: new connection offered while its direct path is lost "
		       "(the relay carries the tunnel meanwhile)", p->id);
	} else if (tunnel_up(p)) {
		/* A new connection for a working tunnel: the peer restarted (its side is gone), or
		 * another device holds its id on the hub. Only a tunnel that no longer answers a
		 * handshake is replaced (probe_cb answers the held offer then). */
		switch (peer_learn(p, m->public_key, m->address, m->cert, m->rotation)) {
		case LEARN_REFUSED:
			return;
		case LEARN_OK:
			peer_reject(p, "offer of a new connection while its tunnel works (held; "
				    "probing it)");
			peer_probe(p);
			break;
		case LEARN_HELD:
			break;
		}
		g_free(p->held_offer);
		p->held_offer = g_strdup(m->sdp);
		return;
	}
	if (peer_learn(p, m->public_key, m->address, m->cert, m->rotation) != LEARN_OK)
		return;
	accept_offer(p, m->sdp);
}

static void on_answer(struct agent *a, const struct sig_msg *m)
{
	struct agent_peer *p = agent_peer_get(a, m->from, false);
	struct rg_err err = { 0 };

	if (p && p->conn && rtc_peer_restart_pending(p->conn->pc)) {
		/* The answer to our ICE restart: new remote credentials, checks start. */
		if (rtc_peer_set_remote_description(p->conn->pc, RTC_SDP_ANSWER, m->sdp, &err) < 0) {
			rg_log(RG_LOG_WARN, "peer %s: ICE restart answer refused: %s", p->id, err.msg);
			return;
		}
		rg_log(RG_LOG_INFO, "peer %s: ICE restart answered", p->id);
		return;
	}
	if (!p || !p->conn || !p->offerer || p->state != AGENT_PEER_SIGNALING) {
		rg_log(RG_LOG_DEBUG, "hub: unexpected answer from '%.80s' dropped", m->from);
		return;
	}
	if (a->trust) {
		if (peer_learn(p, m->public_key, m->address, m->cert, m->rotation) != LEARN_OK ||
		    !p->wg) {
			peer_fail(p, "answer refused: %s", p->trust_err[0] ? p->trust_err :
				  "no certificate");
			return;
		}
	} else {
		if (m->public_key && m->public_key[0] && strcmp(m->public_key, p->key_b64) != 0 &&
		    peer_learn(p, m->public_key, m->address, NULL, NULL) != LEARN_OK) {
			peer_fail(p, "answer carries a refused public key");
			return;
		}
		(void)peer_learn(p, NULL, m->address, NULL, NULL);
	}
	if (rtc_peer_set_remote_description(p->conn->pc, RTC_SDP_ANSWER, m->sdp, &err) < 0) {
		peer_fail(p, "bad answer: %s", err.msg);
		return;
	}
	note_remote(p->conn, m->sdp);
	set_state(p, AGENT_PEER_ICE);
}

static void on_candidate(struct agent *a, const struct sig_msg *m)
{
	struct agent_peer *p = agent_peer_get(a, m->from, false);
	struct rg_err err = { 0 };

	if (!p || !p->conn) {
		rg_log(RG_LOG_DEBUG, "hub: candidate from '%.80s' without a connection dropped",
		       m->from);
		return;
	}
	if (rtc_peer_add_remote_candidate(p->conn->pc, m->candidate, &err) < 0)
		rg_log(RG_LOG_DEBUG, "peer %s: bad candidate ignored: %s", p->id, err.msg);
	else
		note_remote(p->conn, m->candidate);
}

static void on_left(struct agent *a, const char *id)
{
	struct agent_peer *p = agent_peer_get(a, id, false);

	if (!p)
		return;
	p->present = false;
	/* it may come back as a new process without our session: no channel may skip the
	 * handshake on the strength of it (agent_relay_session_fresh) */
	p->session_ns = 0;
	clear_src(&p->retry_src);
	if (p->state == AGENT_PEER_UP || peer_restarting(p)) {
		rg_log(RG_LOG_INFO, "peer %s: left the hub; keeping its tunnel while it works",
		       p->id);
		return;
	}
	rg_log(RG_LOG_INFO, "peer %s: left", p->id);
	peer_drop_conn(p);
	set_state(p, AGENT_PEER_LEFT);
}

void agent_peer_on_signal(struct agent *a, const struct sig_msg *m)
{
	/* The routes extension, from the id the hub vouches for (it overwrites `from`). */
	if (m->routes && (m->type == SIG_MSG_JOIN || m->type == SIG_MSG_OFFER ||
			  m->type == SIG_MSG_ANSWER)) {
		const char *id = m->type == SIG_MSG_JOIN ? m->peer_id : m->from;

		if (id && strcmp(id, a->peer_id) != 0 && agent_peer_get(a, id, true))
			agent_routes_learn(a->routes, id, m->routes);
	}
	switch (m->type) {
	case SIG_MSG_PEERS:
		for (size_t i = 0; i < m->n_peers; i++) {
			on_announce(a, m->peers[i].peer_id, m->peers[i].public_key,
				    m->peers[i].address, m->peers[i].cert, m->peers[i].rotation,
				    true);
			agent_trust_share_settings(a, m->peers[i].peer_id);
		}
		break;
	case SIG_MSG_JOIN:
		on_announce(a, m->peer_id, m->public_key, m->address, m->cert, m->rotation, true);
		agent_trust_greet(a, m->peer_id);	/* it may have been offline: revocations */
		break;
	case SIG_MSG_REVOKE:
		agent_trust_on_revoke(a, m);
		break;
	case SIG_MSG_OFFER:
		on_offer(a, m);
		break;
	case SIG_MSG_ANSWER:
		on_answer(a, m);
		break;
	case SIG_MSG_ICE_CANDIDATE:
		on_candidate(a, m);
		break;
	case SIG_MSG_PEER_LEFT:
		on_left(a, m->peer_id);
		break;
	case SIG_MSG_ERROR:
		rg_log(RG_LOG_WARN, "hub: error %s: %s", m->code ? m->code : "?",
		       m->message ? m->message : "");
		break;
	default:
		break;
	}
}

void agent_peer_on_wg_event(struct agent_peer *p, enum wg_peer_event ev)
{
	switch (ev) {
	case WG_PEER_HANDSHAKE_COMPLETE:
		p->session_ns = rg_mono_ns();
		/* over the relay it proves nothing about the direct path */
		if (p->restart_ns && !p->on_relay) {
			/* A handshake got through: the path works, whatever ICE said. */
			restart_done(p, "WireGuard handshake through the channel");
			break;
		}
		if (p->conn && p->conn->ch && p->state != AGENT_PEER_UP) {
			clear_src(&p->timeout_src);
			set_state(p, AGENT_PEER_UP);
			p->failures = 0;
			p->attempts = 0;
			p->last_error[0] = '\0';
		}
		break;
	case WG_PEER_SESSION_EXPIRED:
		p->session_ns = 0;
		break;
	case WG_PEER_HANDSHAKE_FAILED:
		if (p->conn && p->state == AGENT_PEER_HANDSHAKE && !peer_restarting(p))
			peer_fail_kind(p, "wg-handshake", "WireGuard handshake failed (wrong keys?)");
		break;
	default:
		break;
	}
}

/* The hub is back (first connect or reconnect): it sends `peers`, which drives everything new.
 * An offer we made while the hub connection was dying (the path change that broke a tunnel often
 * breaks the hub's TCP connection too) was lost with it: offer again now instead of waiting out
 * the connect timeout, and skip the backoff of peers waiting to retry. */
void agent_peer_on_hub_connected(struct agent *a)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, a->peers);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct agent_peer *p = v;

		restart_resend(p, "hub back");
		/* a loss reported while the hub was away (rtc_ice_path_cb) */
		if (p->conn && rtc_peer_path_lost(p->conn->pc) && !peer_restarting(p))
			peer_restart_ice(p, "hub back, the path is still silent");
		if (!p->offerer || !p->present || !p->wg)
			continue;
		if (p->state == AGENT_PEER_SIGNALING || p->state == AGENT_PEER_BACKOFF) {
			rg_log(RG_LOG_INFO, "peer %s: hub back, offering again", p->id);
			peer_connect(p);
		}
	}
}

void agent_peer_fill_status(struct agent_peer *p, struct agent_status_peer *out)
{
	struct wg_peer_stats st = { 0 };

	g_strlcpy(out->id, p->id, sizeof(out->id));
	g_strlcpy(out->state, peer_restarting(p) ? "restarting" : agent_peer_state_name(p->state),
		  sizeof(out->state));
	g_strlcpy(out->public_key, p->key_b64, sizeof(out->public_key));
	g_strlcpy(out->address, p->address, sizeof(out->address));
	g_strlcpy(out->last_error, p->last_error, sizeof(out->last_error));
	if (p->last_error[0] && p->last_error_kind)
		g_strlcpy(out->last_error_kind, p->last_error_kind, sizeof(out->last_error_kind));
	agent_trust_status(p, out->trust, sizeof(out->trust));
	g_strlcpy(out->rejected, p->rejected, sizeof(out->rejected));
	out->rejections = p->rejections;
	out->offerer = p->offerer;
	out->attempts = p->attempts;
	out->ice_restarts = p->ice_restarts;
	out->since = p->since;
	out->rtt_ms = -1;
	if (p->wg) {
		wg_peer_get_stats(p->wg, &st);
		out->rx_bytes = st.rx_bytes;
		out->tx_bytes = st.tx_bytes;
		out->last_handshake = st.last_handshake_sec;
	}
	if (p->conn && p->conn->pc && p->state >= AGENT_PEER_SCTP) {
		struct rtc_stats rs;
		enum rtc_cand_type t;

		memset(&rs, 0, sizeof(rs));
		rtc_peer_get_stats(p->conn->pc, &rs);
		t = MAX(rs.local_type, rs.remote_type);
		if (t != RTC_CAND_NONE)
			g_strlcpy(out->candidate, rtc_cand_type_name(t), sizeof(out->candidate));
		if (rs.local_type != RTC_CAND_NONE)
			g_strlcpy(out->local_type, rtc_cand_type_name(rs.local_type),
				  sizeof(out->local_type));
		if (rs.remote_type != RTC_CAND_NONE)
			g_strlcpy(out->remote_type, rtc_cand_type_name(rs.remote_type),
				  sizeof(out->remote_type));
		g_strlcpy(out->local_endpoint, rs.local_addr, sizeof(out->local_endpoint));
		g_strlcpy(out->remote_endpoint, rs.remote_addr, sizeof(out->remote_endpoint));
		out->rtt_ms = rs.rtt_ms;
	}
}

/* The usable local addresses as one string ("a b c", in getifaddrs order). */
static char *addr_set(struct agent *a)
{
	char bufs[RTC_MAX_LOCAL_ADDRS][INET6_ADDRSTRLEN];
	const char *addrs[RTC_MAX_LOCAL_ADDRS + 1];
	size_t n = local_addrs(a, bufs, addrs);

	addrs[n] = NULL;
	return g_strjoinv(" ", (char **)addrs);
}

void agent_peer_note_addrs(struct agent *a)
{
	g_free(a->addr_set);
	a->addr_set = addr_set(a);
}

/* Whether an address of the space-separated set before is missing from the set now. */
static bool addr_removed(const char *before, const char *now)
{
	char **b = g_strsplit(before, " ", -1);
	char **n = g_strsplit(now, " ", -1);
	bool gone = false;

	for (char **i = b; *i && !gone; i++)
		gone = **i && !g_strv_contains((const char *const *)n, *i);
	g_strfreev(b);
	g_strfreev(n);
	return gone;
}

void agent_peer_on_addrs_changed(struct agent *a)
{
	GHashTableIter it;
	gpointer v;
	char *now = addr_set(a);

	/* Netlink also reports refreshed lifetimes (IPv6 router advertisements, DHCP renewals)
	 * and DAD completing: only a different set of usable addresses is a network change. */
	if (a->addr_set && strcmp(now, a->addr_set) == 0) {
		rg_log(RG_LOG_DEBUG, "%s: address event, same addresses (%s)", a->ifname, now);
		g_free(now);
		return;
	}
	if (a->addr_set && !addr_removed(a->addr_set, now)) {
		/* Only new addresses (another interface or VPN came up): working paths stay as
		 * they are; restarts and new connections gather on them. Restarting here would
		 * break every tunnel for a path that may be worse (e.g. through another VPN). */
		rg_log(RG_LOG_INFO, "%s: new local addresses (%s -> %s); connections keep their "
		       "paths", a->ifname, a->addr_set, now);
		g_free(a->addr_set);
		a->addr_set = now;
		return;
	}
	rg_log(RG_LOG_INFO, "%s: local addresses changed (%s -> %s)", a->ifname,
	       a->addr_set ? a->addr_set : "?", now);
	g_free(a->addr_set);
	a->addr_set = now;
	/* The hub connection may sit on an address that is gone: offers would vanish into it. */
	if (a->sig)
		sig_client_reconnect(a->sig, "local addresses changed");

	g_hash_table_iter_init(&it, a->peers);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct agent_peer *p = v;

		if (p->conn && p->state >= AGENT_PEER_SCTP && p->state <= AGENT_PEER_UP &&
		    !peer_restarting(p))
			peer_restart_ice(p, "a local address changed");
	}
}

/* Graceful close of every connection (agent_free). */
void agent_peer_close_all(struct agent *a)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, a->peers);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct agent_peer *p = v;

		if (p->conn && p->conn->pc)
			rtc_peer_close(p->conn->pc);
	}
}

void agent_peer_revoke(struct agent_peer *p)
{
	rg_log(RG_LOG_WARN, "peer %s: certificate revoked; tunnel and WireGuard peer removed", p->id);
	clear_src(&p->retry_src);
	clear_src(&p->probe_src);
	peer_drop_conn(p);
	if (p->wg) {
		wg_device_remove_peer(p->a->dev, p->wg);
		p->wg = NULL;
	}
	p->key_b64[0] = p->address[0] = '\0';
	p->pending_key[0] = p->pending_addr[0] = '\0';
	g_clear_pointer(&p->pending_cert, g_free);
	g_clear_pointer(&p->pending_rotation, g_free);
	p->verified = false;
	g_strlcpy(p->trust_err, "revoked", sizeof(p->trust_err));
	set_state(p, AGENT_PEER_LEFT);
}
