/* Agent internals shared by agent.c (node: TUN, WireGuard device, sockets, signaling) and peer.c
 * (one remote peer's connection state machine). Agent loop only. */
#ifndef RG_AGENT_AGENT_INT_H
#define RG_AGENT_AGENT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "agent/agent.h"
#include "agent/ctl.h"
#include "agent/metrics.h"
#include "agent/status.h"
#include "net/addrwatch.h"
#include "net/icmp.h"
#include "net/netlink.h"
#include "net/offload.h"
#include "net/tun.h"
#include "net/tunwrite.h"
#include "net/uapisock.h"
#include "rtc/rtc.h"
#include "signal/msg.h"
#include "signal/relay.h"
#include "util/err.h"
#include "wg/device.h"

struct sig_client;
struct trust_settings;
struct trust_store;

enum agent_limits {
	AGENT_TUN_BATCH = 64,			/* packets read from TUN per wakeup */
	AGENT_FLUSH_MAX = 64,			/* connections flushed at the end of a TUN read */
	AGENT_PKT_MAX = WG_PACKET_MAX,
	AGENT_PENDING_CANDS_MAX = 64,		/* local candidates held until our SDP is out */
	AGENT_CONNECT_TIMEOUT_MS = 30000,	/* offer sent → channel open */
	AGENT_HANDSHAKE_TIMEOUT_MS = 20000,	/* channel open → WireGuard session */
	AGENT_PROBE_MS = 6000,			/* a rejoined peer must answer a handshake by then */
	AGENT_RESTART_TIMEOUT_MS = 10000,	/* ICE restart → new pair, else full reconnect */
	AGENT_PATH_SILENCE_MS = 3000,		/* sending, nothing heard back: restart ICE */
	AGENT_SCTP_STREAMS = 16,		/* per peer: the "wireguard" channel and spares */
	AGENT_RETRY_BASE_MS = 1000,
	AGENT_RETRY_CAP_MS = 30000,
	AGENT_TURN_TTL_S = 24 * 3600,		/* lifetime of derived TURN credentials */
	AGENT_ICMP_PER_S = 100,			/* "too big" answers per peer and second */
	AGENT_CONFIRM_MS = 15000,		/* a peer the hub never announced is removed */
};

enum agent_peer_state {
	AGENT_PEER_DISCOVERED = 0,	/* known from the hub, nothing started */
	AGENT_PEER_SIGNALING,		/* offer/answer exchange */
	AGENT_PEER_ICE,			/* ICE checks, DTLS and SCTP handshakes */
	AGENT_PEER_SCTP,		/* association up, `wireguard` channel opening */
	AGENT_PEER_HANDSHAKE,		/* channel open, WireGuard handshake */
	AGENT_PEER_UP,			/* WireGuard session over the channel */
	AGENT_PEER_BACKOFF,		/* failed; waiting to retry (or for the offerer) */
	AGENT_PEER_LEFT,		/* left the hub and has no tunnel */
};

struct agent_peer;

/* One WebRTC connection attempt. Outlives its peer's interest in it: when dropped, p is set to
 * NULL (callbacks then do nothing) and it is freed from an idle callback, since rtc forbids
 * rtc_peer_free() inside its own callbacks. */
struct agent_conn {
	struct agent *a;		/* back-pointer, not owned */
	struct agent_peer *p;		/* back-pointer, not owned; NULL once dropped */
	struct rtc_peer *pc;		/* owned */
	struct rtc_channel *ch;		/* owned by pc; NULL until open */
	bool sdp_sent;			/* our offer/answer is out: candidates may follow */
	GPtrArray *pending;		/* owned char *: local candidates before sdp_sent */
	/* What ICE had to work with, for an honest "no path" (1u << enum rtc_cand_type). */
	unsigned local_types;		/* types of the candidates we gathered */
	unsigned remote_types;		/* types the peer sent (SDP or trickled) */
	unsigned n_remote;		/* candidates the peer sent */
	bool flush_listed;		/* in agent.flush: sent to during this TUN read */
};

/* relay.c: whether a data channel answers while we send over it. The ICE datagram counter is
 * polled at most every AGENT_QUIET_POLL_MS while sending; silence counts from the first send
 * that nothing answered, and a pause in sending longer than AGENT_QUIET_IDLE_MS starts a new
 * count (WireGuard keepalives are never answered, so an idle tunnel is not a silent one). */
struct agent_quiet {
	uint64_t check_ns;	/* last poll of the counter */
	uint64_t rx;		/* the counter at that poll */
	uint64_t since_ns;	/* sending without hearing back since, 0 = heard */
	uint64_t last_tx_ns;	/* the last send */
};

enum agent_quiet_limits {
	AGENT_QUIET_MS = 1000,		/* silent this long while sending: the relay carries it */
	AGENT_QUIET_POLL_MS = 100,
	AGENT_QUIET_IDLE_MS = 2000,	/* a pause this long ends an episode */
	/* the direct path just failed: the data channel must answer within this, else the relay
	 * carries the traffic (when the whole ICE path died, its second of silence is spent) */
	AGENT_QUIET_AFTER_DIRECT_MS = 500,
};

/* Whether rtc's received-datagram counter is due to be read (every AGENT_QUIET_POLL_MS). */
bool agent_quiet_poll_due(const struct agent_quiet *q, uint64_t now_ns);
/* One send at now_ns; rx is the counter, freshly read when agent_quiet_poll_due() said so (else
 * q->rx). Returns whether the path has been silent for AGENT_QUIET_MS. */
bool agent_quiet_on_send(struct agent_quiet *q, uint64_t now_ns, uint64_t rx);
/* Without sending: whether the last episode reached AGENT_QUIET_MS (for status). */
bool agent_quiet_now(const struct agent_quiet *q, uint64_t now_ns);

struct agent_peer {
	struct agent *a;		/* back-pointer, not owned */
	char id[AGENT_ID_MAX + 1];
	struct wg_endpoint ep;		/* our endpoint for it: its id */
	char key_b64[AGENT_KEY_B64_MAX + 1];	/* "" = unknown */
	char address[AGENT_ADDR_MAX + 1];	/* as announced, "" = unknown */
	struct wg_peer *wg;		/* owned by the device; NULL until its key is known */
	struct agent_conn *conn;	/* owned; NULL when not connecting/connected */
	enum agent_peer_state state;
	bool offerer;			/* our id is the smaller: we offer */
	bool present;			/* on the hub now */
	guint retry_src;		/* owned GSource ids, 0 = none */
	guint timeout_src;
	guint probe_src;
	/* ICE restarts: rtc holds their state (rtc_peer_restart_state, _pending, _path_lost);
	 * the agent decides when to start one and how long to give it. */
	guint restart_src;		/* bounds an ICE restart (AGENT_RESTART_TIMEOUT_MS) */
	uint64_t restart_ns;		/* monotonic start of the restart we time, 0 = none */
	uint32_t ice_restarts;		/* completed in place, since the agent started */
	uint64_t probe_rx;
	bool probe_resend;		/* the probe's initiation was rate limited */
	/* A different key announced for this id while its tunnel works: a duplicate peer id or a
	 * reinstalled device. Applied only if the probe finds the old tunnel dead. */
	char pending_key[AGENT_KEY_B64_MAX + 1];
	char pending_addr[AGENT_ADDR_MAX + 1];
	char *pending_cert;		/* owned: the certificate that came with pending_key */
	char *pending_rotation;		/* owned: ... and its key rotation, NULL = none */
	/* Signed networks (agent/trust.c): what the certificate behind the installed key says. */
	bool verified;			/* the installed key and address come from a certificate */
	uint64_t serial;		/* ... with this serial */
	uint64_t vouched_serial;	/* of the last certificate agent_trust_vouch accepted */
	uint32_t rot_seq;		/* key rotation of the installed key, 0 = the cert's own */
	uint32_t vouched_rot_seq;	/* ... of the last vouched claim */
	/* The last vouched claim is a newer key rotation of the certificate installed: its key
	 * replaces the live peer's in place (peer_learn), no probe. */
	bool vouched_rekey;
	bool rotated_now;		/* peer_learn just re-keyed it (for on_announce) */
	char vouched_key[AGENT_KEY_B64_MAX + 1];	/* ... its key and address, to install */
	char vouched_addr[48];
	/* The routes field of that certificate (installed: cert_routes): the only prefixes, and
	 * prefixes inside them, this peer may advertise (agent_route_may_advertise) */
	struct rg_prefix vouched_routes[16], cert_routes[16];
	size_t n_vouched_routes, n_cert_routes;
	char trust_err[96];		/* why the last claim was rejected, "" = none */
	uint64_t rejects;		/* claims rejected */
	char *held_offer;		/* owned: a new offer for a working tunnel, answered only if
					 * the probe finds that tunnel dead; NULL = none */
	bool confirmed;			/* announced by the hub (peers or join) */
	guint confirm_src;		/* removes it if never announced (AGENT_CONFIRM_MS) */
	char rejected[128];		/* the last announcement refused for it, "" = none */
	uint32_t rejections;
	uint32_t attempts;		/* since the last time it was up */
	uint32_t failures;		/* consecutive, drives the backoff */
	int64_t since;			/* wall seconds of the last state change */
	unsigned icmp_mtu;		/* smallest MTU an ICMP "too big" told the kernel, 0 = none */
	uint64_t icmp_window_ns;	/* ICMP rate limit: start of the current second */
	unsigned icmp_in_window;
	uint64_t session_ns;		/* monotonic time of the last WireGuard handshake, 0 = none */
	bool on_relay;			/* the last datagram to it went through the hub (relay.c) */
	bool on_direct;			/* the last datagram to it went on the direct path */
	uint64_t direct_rejected;	/* direct-path datagrams WireGuard refused */
	struct agent_quiet quiet;	/* relay.c: is the direct path answering? */
	char last_error[256];
	const char *last_error_kind;	/* static machine name of last_error, "" = none */
};

struct agent {
	GMainContext *ctx;		/* not owned (a ref is held) */
	agent_stop_fn stop;
	void *stop_opaque;
	bool stop_called;
	guint stop_src;

	char ifname[AGENT_IFNAME_MAX + 1];
	char peer_id[AGENT_ID_MAX + 1];
	char address[AGENT_ADDR_MAX + 1];
	char key_b64[AGENT_KEY_B64_MAX + 1];
	char *hub_url, *token;
	char *version;			/* owned, "" = unknown */
	agent_reload_fn reload;		/* the CLI's config re-read, or NULL */
	void *reload_opaque;		/* its argument, not owned */
	unsigned mtu;			/* TUN MTU */
	bool mtu_pinned;		/* [device] mtu */
	uint64_t too_big_icmp;		/* packets over their peer's MTU answered with ICMP */
	uint64_t too_big_dropped;	/* ... dropped without (IPv4, DF clear) */
	int64_t started;

	/* rtc_config with owned copies of the strings it points to */
	struct rtc_config rtc;
	char **stun;
	char **exclude_ifaces;		/* owned, NULL-terminated: [webrtc] exclude_interfaces */
	struct rtc_turn_server *turn;
	char *turn_secret;		/* owned, wiped on free; NULL = none */
	/* per rtc TURN entry: the TLS bridge that stands in for a turns: server, else NULL */
	struct agent_turntls **turntls;	/* owned, n_turntls entries */
	size_t n_turntls;
	GPtrArray *turntls_retired;	/* owned bridges replaced by a reload, NULL = none */
	char network[AGENT_ID_MAX + 1];	/* [network] name: the network id certificates name */
	/* Signed membership (agent/trust.c); trust NULL = an unsigned network. */
	struct trust_store *trust;	/* owned */
	char *cert_b64;			/* owned: our certificate, sent in join/offer/answer */
	char *rotation_b64;		/* owned: our newest key rotation, or NULL */
	char *trust_config;		/* owned: the config path (rotate re-reads it) */
	GPtrArray *revocations;		/* owned base64 records we hold, passed on to peers */
	/* The network's signed DNS settings (trust.c takes them, dns.c uses them instead of
	 * [network] dns/search); settings_b64 NULL = none. Refused: unsigned or tampered records
	 * from the hub, counted, each reason logged once. */
	char *settings_b64;		/* owned */
	struct trust_settings *settings;	/* owned; NULL with settings_b64 */
	uint64_t settings_refused;
	uint32_t settings_logged;	/* bit -verdict: that reason was logged */
	bool ordered;
	int max_retransmits;

	struct net_tun tun;
	guint tun_src;
	/* Connections the current TUN read queued direct-path datagrams on: flushed when it ends,
	 * not one main-loop iteration later (latency). Only during tun_cb: conns outlive it. */
	bool in_tun_read;
	unsigned n_flush;
	struct agent_conn *flush[AGENT_FLUSH_MAX];
	struct net_addrwatch addrwatch;	/* host address changes → ICE restarts */
	guint addrwatch_src;
	guint addr_settle_src;		/* coalesces a burst of address events */
	char *addr_set;			/* owned: the usable local addresses last seen, joined */
	GSource *train_src;		/* owned; flushes the GRO train once per loop iteration */
	struct net_tun_writer tunw;	/* every decrypted packet reaches the TUN through it */
	struct wg_device *dev;
	GSource *timer;			/* owned; ready time = the core's next deadline */
	struct net_uapisock uapi;
	bool uapi_open;
	guint uapi_src;
	struct agent_ctl ctl;
	struct agent_routes *routes;	/* owned: subnet routes, both directions (routes.c) */
	struct agent_metrics metrics;	/* [metrics] listen; fd -1 = off */
	struct agent_exit *exit;	/* owned: the exit node in use (exit.c) */
	struct agent_dns *dns;		/* owned: the peer name responder (dns.c) */

	struct sig_client *sig;
	enum agent_relay_mode relay;	/* relay.c */
	uint64_t relay_tx, relay_rx;	/* datagrams through the hub relay */
	uint64_t relay_tx_dropped;	/* not sent: pacing or a full socket (as UDP would) */
	bool hub_connected;		/* the hub is reachable now */
	bool hub_ever;			/* connected at least once since the start */
	bool hub_down_logged;		/* the current outage has had its warning */
	struct rg_err hub_err;
	char hub_reason[256];		/* why the hub is not connected now, "" = connected */

	GHashTable *peers;		/* id → owned struct agent_peer * */
	unsigned max_peers;		/* entries in peers, at most */
	uint64_t refused_over_max;	/* peers not created: the table was full */
	uint64_t refused_bad_id;	/* frames naming an id outside A-Z a-z 0-9 . _ - */
	GPtrArray *graveyard;		/* owned struct agent_conn * waiting to be freed */
	guint reap_src;

	/* Data path buffers (no allocation per packet). */
	uint8_t rx[AGENT_PKT_MAX + WG_DATA_HEADROOM + WG_DATA_TAILROOM];
	uint8_t tx[WG_DATA_HEADROOM + AGENT_PKT_MAX + WG_DATA_TAILROOM];
	/* With TUN offload: one segment of a TCP super-segment read into tx. */
	uint8_t seg[WG_DATA_HEADROOM + AGENT_PKT_MAX + WG_DATA_TAILROOM];
	uint8_t icmp[NET_ICMP_TOO_BIG_MAX];	/* one "packet too big" answer */
	uint8_t relay_frame[SIG_RELAY_FRAME_MAX];	/* relay.c: the frame being sent */
};

/* agent.c */
static inline bool agent_hub_reachable(const struct agent *a)
{
	return a->hub_connected;
}
void agent_timer_rearm(struct agent *a);
/* Whether agent_timer_rearm moves the WireGuard timer from ready time cur to want (µs, -1 =
 * none). GLib wakes the loop on every g_source_set_ready_time (an eventfd write, even from the
 * loop's own thread, and one more iteration), and WireGuard's next deadline moves with nearly
 * every data packet (new_handshake and send_keepalive armed and disarmed). So only an earlier
 * deadline (or the first) moves the timer; a later one waits until the timer fires early,
 * finds nothing due and sets the real one: at most one spare wakeup per deadline. */
static inline bool agent_timer_moves(gint64 cur, gint64 want)
{
	return want >= 0 && (cur < 0 || want < cur);
}
int agent_send_signal(struct agent *a, const struct sig_msg *m);

/* sockmark.c: the fwmark every IPv4/IPv6 socket of this process gets from now on (0 = none). */
void agent_sockmark_set(uint32_t mark);

/* relay.c: WireGuard datagrams through the hub (docs/agent.md §Relay). */
/* Whether datagrams to p go through the hub now; *why (may be NULL) says why, for status. */
bool agent_relay_use(struct agent_peer *p, const char **why);
/* The same answer without counting as a send (for status). */
bool agent_relay_status(struct agent_peer *p, const char **why);
/* Sends one WireGuard datagram to p through the hub: 0 or -errno (a drop, as UDP). */
int agent_relay_send(struct agent_peer *p, const uint8_t *buf, size_t len);
/* A binary frame from the hub (sig_client ops->binary). */
void agent_relay_on_frame(struct agent *a, const uint8_t *frame, size_t len);
/* p's WireGuard peer exists and the hub relays: set its endpoint and, as the offerer, start the
 * handshake at once, so traffic flows before ICE has finished. */
void agent_relay_peer_ready(struct agent_peer *p);
/* The relay could carry p's datagrams whatever ICE does (mode not never, p on the hub, the hub
 * relays): its WireGuard endpoint stays set when its connection is dropped. */
bool agent_relay_can_carry(const struct agent_peer *p);
/* A session fresh enough to carry on over a new data channel without a new handshake. */
bool agent_relay_session_fresh(const struct agent_peer *p);
/* p's tunnel works only through the relay because its data channel's path is lost (or an ICE
 * restart runs or gave up), and key_b64/address (NULL or "" = unchanged) are what p has: an
 * offer of a new connection then replaces the dead one at once (peer.c on_offer). */
bool agent_relay_bridges_lost_path(const struct agent_peer *p, const char *key_b64,
				   const char *address);

/* peer.c */
const char *agent_peer_state_name(enum agent_peer_state s);
/* The peer with that id; with create, a new entry unless the id is outside the peer-id alphabet
 * or the table is full (both counted and logged once; NULL). */
struct agent_peer *agent_peer_get(struct agent *a, const char *id, bool create);
void agent_peer_free(struct agent_peer *p);
void agent_peer_on_signal(struct agent *a, const struct sig_msg *m);
void agent_peer_on_wg_event(struct agent_peer *p, enum wg_peer_event ev);
void agent_peer_on_hub_connected(struct agent *a);
/* Records the host's usable addresses (at start). */
void agent_peer_note_addrs(struct agent *a);
/* The host's addresses may have changed: if the usable set did, connected peers restart ICE
 * on the current ones and the hub connection is renewed. */
void agent_peer_on_addrs_changed(struct agent *a);
void agent_peer_fill_status(struct agent_peer *p, struct agent_status_peer *out);
void agent_peer_close_all(struct agent *a);
/* Frees dropped connections now (agent_free). */
void agent_peer_reap(struct agent *a);
/* Certificate revoked: tunnel, WireGuard peer and allowed IPs go now. */
void agent_peer_revoke(struct agent_peer *p);

/* agent/trust.c: signed membership. */
struct rg_err;
int agent_trust_init(struct agent *a, const char *config_path, struct rg_err *err);
void agent_trust_free(struct agent *a);
/* The gate for identity claims: may point key and address at the certificate's. */
bool agent_trust_vouch(struct agent_peer *p, const char **key, const char **address,
		       const char *cert_b64, const char *rotation_b64);
/* The vouched key is installed: the peer is verified under that certificate. */
void agent_trust_installed(struct agent_peer *p);
bool agent_trust_reject(struct agent_peer *p, const char *detail);
const char *agent_trust_status(const struct agent_peer *p, char *buf, size_t cap);
void agent_trust_greet(struct agent *a, const char *peer_id);
void agent_trust_on_revoke(struct agent *a, const struct sig_msg *m);
/* Sends our network DNS settings record (if any) to peer_id. */
void agent_trust_share_settings(struct agent *a, const char *peer_id);
/* Takes DIR/settings (written by `riftgate devices dns`) when newer, and passes it on. */
int agent_trust_settings_reload(struct agent *a, struct rg_err *err);
int agent_trust_revoke_text(struct agent *a, const char *text, struct rg_err *err);
/* `riftgate rotate` wrote a new key rotation and private key: switch to them now (the WireGuard
 * sessions stay; peers learn the key from a join on the open hub connection). */
int agent_trust_rotate(struct agent *a, struct rg_err *err);
/* Our certificate's serial (a signed network only). */
uint64_t agent_trust_serial(const struct agent *a);

#endif
