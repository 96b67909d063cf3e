/* The hub relay as a WireGuard transport (docs/agent.md §Relay, docs/signaling.md §Relay).
 *
 * A peer's WireGuard endpoint is its peer id, so the same session runs over whichever path
 * carries its datagrams: the `wireguard` data channel when one works, else one binary frame per
 * datagram through the hub on the signaling socket. In "auto" mode the relay carries a peer
 * (a) from the moment its key is known while ICE is still connecting, (b) while ICE has found no
 * path (backoff), (c) while the direct path is silent or lost and an ICE restart looks for it. Moving between the two never
 * touches the WireGuard session. Agent loop only; called from agent.c's send callback and the
 * signaling client's binary callback.
 */
#include <errno.h>
#include <string.h>

#include "agent/agent-int.h"
#include "signal/client.h"
#include "util/clock.h"
#include "util/log.h"

/* a session younger than REKEY_AFTER_TIME carries on over a new channel as it is */
static const uint64_t SESSION_FRESH_NS = 120 * (uint64_t)RG_NSEC_PER_SEC;
/* Sending over the data channel and no datagram (data, SCTP SACK, heartbeat, consent) came
 * back for AGENT_QUIET_MS: the relay carries the traffic until the path answers again or ICE
 * declares it lost (AGENT_PATH_SILENCE_MS) and restarts. SCTP acknowledges within 200 ms. */
bool agent_quiet_on_send(struct agent_quiet *q, uint64_t now, uint64_t rx)
{
	if (q->since_ns && now - q->last_tx_ns >= AGENT_QUIET_IDLE_MS * (uint64_t)RG_NSEC_PER_MSEC)
		q->since_ns = 0;	/* we paused: what went unanswered before (keepalives) is old */
	if (agent_quiet_poll_due(q, now)) {
		q->check_ns = now;
		if (rx != q->rx) {
			q->rx = rx;
			q->since_ns = 0;
		}
	}
	q->last_tx_ns = now;
	if (!q->since_ns)
		q->since_ns = now;	/* sending from now on, nothing heard yet */
	return agent_quiet_now(q, now);
}

bool agent_quiet_poll_due(const struct agent_quiet *q, uint64_t now)
{
	return now - q->check_ns >= AGENT_QUIET_POLL_MS * (uint64_t)RG_NSEC_PER_MSEC;
}

bool agent_quiet_now(const struct agent_quiet *q, uint64_t now)
{
	return q->since_ns && now - q->since_ns >= AGENT_QUIET_MS * (uint64_t)RG_NSEC_PER_MSEC;
}

/* Whether p's data channel has gone quiet while we send (called per datagram; reads rtc's
 * counters at most every AGENT_QUIET_POLL_MS). */
static bool direct_quiet(struct agent_peer *p)
{
	uint64_t now = rg_mono_ns(), rx = p->quiet.rx;
	struct rtc_stats st;

	if (agent_quiet_poll_due(&p->quiet, now)) {
		memset(&st, 0, sizeof(st));
		rtc_peer_get_stats(p->conn->pc, &st);
		rx = st.rx_datagrams;
	}
	return agent_quiet_on_send(&p->quiet, now, rx);
}

/* sending: a datagram is about to go out (direct_quiet() may start counting silence) */
static bool decide(struct agent_peer *p, const char **why, bool sending)
{
	struct agent *a = p->a;
	const char *w = NULL;
	bool use;

	if (a->relay == AGENT_RELAY_NEVER || !a->sig || !sig_client_relay_available(a->sig) ||
	    !p->present) {
		use = false;
	} else if (a->relay == AGENT_RELAY_ALWAYS) {
		use = true;
		w = "relay = \"always\"";
	} else {
		switch (p->state) {
		case AGENT_PEER_HANDSHAKE:
		case AGENT_PEER_UP:
			if (!p->conn || !p->conn->ch) {
				use = true;
				w = "no data channel";
			} else if (rtc_peer_restart_state(p->conn->pc) != RTC_RESTART_NONE ||
				   rtc_peer_path_lost(p->conn->pc)) {
				use = true;
				w = "direct path lost, ICE restart in progress";
			} else if (rtc_peer_direct_up(p->conn->pc)) {
				/* the direct path checks itself and falls back to the channel */
				use = false;
			} else {
				use = p->state == AGENT_PEER_UP &&
				      (sending ? direct_quiet(p) : agent_quiet_now(&p->quiet,
										   rg_mono_ns()));
				w = "direct path silent";
			}
			break;
		case AGENT_PEER_BACKOFF:
			use = true;
			w = "ICE found no direct path";
			break;
		case AGENT_PEER_LEFT:
			use = false;
			break;
		default:
			use = true;
			w = "ICE still connecting";
			break;
		}
	}
	if (why)
		*why = use ? w : NULL;
	return use;
}

bool agent_relay_use(struct agent_peer *p, const char **why)
{
	return decide(p, why, true);
}

bool agent_relay_status(struct agent_peer *p, const char **why)
{
	return decide(p, why, false);
}

int agent_relay_send(struct agent_peer *p, const uint8_t *buf, size_t len)
{
	struct agent *a = p->a;
	const char *why = NULL;
	size_t n = sig_relay_encode(a->relay_frame, sizeof(a->relay_frame), p->id, buf, len);
	int r;

	if (!n)
		return -EMSGSIZE;
	r = sig_client_send_binary(a->sig, a->relay_frame, n);
	if (r < 0) {
		a->relay_tx_dropped++;
		return r;
	}
	a->relay_tx++;
	if (!p->on_relay) {
		agent_relay_status(p, &why);
		p->on_relay = true;
		rg_log(RG_LOG_INFO, "peer %s: path: relay (hub): %s", p->id, why ? why : "");
	}
	return 0;
}

void agent_relay_on_frame(struct agent *a, const uint8_t *frame, size_t len)
{
	const uint8_t *id, *payload;
	size_t id_len, payload_len;
	char name[SIG_RELAY_ID_MAX + 1];
	struct agent_peer *p;

	if (a->relay == AGENT_RELAY_NEVER)
		return;
	if (sig_relay_parse(frame, len, &id, &id_len, &payload, &payload_len) < 0 ||
	    id_len > AGENT_ID_MAX || payload_len > sizeof(a->rx) || memchr(id, '\0', id_len)) {
		rg_log(RG_LOG_DEBUG, "relay: dropping a malformed frame of %zu bytes", len);
		return;
	}
	memcpy(name, id, id_len);
	name[id_len] = '\0';
	p = agent_peer_get(a, name, false);
	if (!p || !p->wg) {
		rg_log(RG_LOG_DEBUG, "relay: dropping a datagram from unknown peer '%.64s'", name);
		return;
	}
	/* WireGuard authenticates it; the hub vouches only for the sender's id. The core decrypts
	 * in place, the frame belongs to libsoup. */
	memcpy(a->rx, payload, payload_len);
	a->relay_rx++;
	wg_device_input(a->dev, &p->ep, a->rx, payload_len);
	agent_timer_rearm(a);
}

void agent_relay_peer_ready(struct agent_peer *p)
{
	if (!p->wg)
		return;
	wg_peer_set_endpoint(p->wg, &p->ep);
	/* The offerer starts the handshake (the answerer would only collide with it, see peer.c);
	 * the first packet then finds a session, one hub round trip after `up`. */
	if (p->offerer && agent_relay_status(p, NULL) && !agent_relay_session_fresh(p)) {
		int r = wg_peer_handshake_now(p->wg);

		if (r < 0 && r != -EAGAIN)
			rg_log(RG_LOG_DEBUG, "peer %s: handshake over the relay: %s", p->id,
			       g_strerror(-r));
		agent_timer_rearm(p->a);
	}
}

bool agent_relay_can_carry(const struct agent_peer *p)
{
	const struct agent *a = p->a;

	return a->relay != AGENT_RELAY_NEVER && p->present && a->sig &&
	       sig_client_relay_available(a->sig);
}

/* A new connection for a working tunnel is normally held while the tunnel is probed (peer.c:
 * only a tunnel that no longer answers is replaced). When the relay is what keeps it working
 * and the data channel's path is gone, the offerer reconnecting from scratch after a failed ICE
 * restart is exactly that case, and the probe would answer through the relay: the old
 * connection would block the direct path until its consent timeout (~30 s) and the probe would
 * cost a new handshake. Taking the offer loses nothing: same key, same address, and the relay
 * carries the same WireGuard session until the new data channel opens. */
bool agent_relay_bridges_lost_path(const struct agent_peer *p, const char *key_b64,
				   const char *address)
{
	if (!agent_relay_can_carry(p) || !p->conn || !p->conn->pc || !p->key_b64[0])
		return false;
	if ((key_b64 && key_b64[0] && strcmp(key_b64, p->key_b64) != 0) ||
	    (address && address[0] && strcmp(address, p->address) != 0))
		return false;
	return !p->conn->ch || rtc_peer_path_lost(p->conn->pc) ||
	       rtc_peer_restart_state(p->conn->pc) != RTC_RESTART_NONE;
}

bool agent_relay_session_fresh(const struct agent_peer *p)
{
	return p->wg && p->session_ns && rg_mono_ns() - p->session_ns < SESSION_FRESH_NS;
}
