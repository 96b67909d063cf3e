/* The ICE layer (ice.c): one libnice agent, one stream, one component, UDP only. Internal to
 * src/rtc. peer.c owns a struct rtc_ice (embedded in struct rtc_peer) and drives it with the
 * calls below; the layer reports what happens through struct rtc_ice_ops, and knows nothing of
 * the layers above it or of the peer. Everything runs on the GMainContext given to
 * rtc_ice_init. */
#ifndef RG_RTC_ICE_H
#define RG_RTC_ICE_H

#include <glib.h>
#include <nice/agent.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rtc/limits.h"
#include "rtc/rtc.h"
#include "rtc/sdp.h"

struct rg_err;

/* What ICE tells the layer above. All are called on the agent's context, never during
 * rtc_ice_clear. */
struct rtc_ice_ops {
	/* A local candidate in "candidate:..." form, or NULL once gathering is done. */
	void (*local_candidate)(void *opaque, const char *cand);
	/* The component reached CONNECTED or READY for the first time: sending works. */
	void (*connected)(void *opaque);
	/* A pair was selected (announced by libnice), or the component reached READY. */
	void (*pair_selected)(void *opaque);
	/* ICE has a (new) selected pair, announced or found silently after a restart. */
	void (*new_pair)(void *opaque);
	/* The component failed: checks found nothing, or consent was lost (was_connected). */
	void (*failed)(void *opaque, bool was_connected);
	/* One received datagram (libnice consumed STUN). Returns false when the receiver went
	 * down: the rest of a GRO train is dropped. */
	bool (*datagram)(void *opaque, const uint8_t *buf, size_t len);
	/* Optional: every datagram of one read from the socket (a GRO train) was handed up. */
	void (*datagrams_done)(void *opaque);
};

/* A TURN server as libnice takes it (rtc_turn_server resolved: IP literal, port, relay type),
 * kept to set up the stream of an ICE restart again. */
struct rtc_ice_relay {
	char ip[NICE_ADDRESS_STRING_LEN];
	uint16_t port;
	NiceRelayType type;
	char *username, *credential;	/* owned; the credential is wiped on clear */
};

struct rtc_ice {
	GMainContext *ctx;		/* not owned: the peer holds a ref */
	GMainContext *nctx;		/* owned ref: libnice's, a context of its own run from
					 * ctx's loop (loop.h), or ctx itself with
					 * RG_RTC_ONE_CONTEXT=1 (for comparisons) */
	bool own_nctx;			/* nctx came from rtc_loop_context_new */
	const char *log_id;		/* not owned: the peer's */
	const struct rtc_ice_ops *ops;	/* not owned, static */
	void *opaque;			/* ops' argument, not owned */
	NiceAgent *agent;		/* owned */
	guint stream_id;
	/* what a new agent is set up with (rtc_ice_restart makes one) */
	bool have_stun;
	char stun_ip[NICE_ADDRESS_STRING_LEN];
	uint16_t stun_port;
	size_t n_local;
	NiceAddress local[RTC_MAX_LOCAL_ADDRS];	/* none = every interface */
	uint16_t port_min, port_max;	/* 0,0 = any */
	size_t n_relays;
	struct rtc_ice_relay relays[RTC_MAX_ICE_SERVERS];
	bool gathering;
	bool gathered;			/* candidate-gathering-done seen on this stream */
	bool controlling;
	bool remote_creds;		/* remote ufrag/pwd given to libnice */
	bool connected;			/* component reached CONNECTED/READY at least once */
	bool bufs_bumped;
	char ufrag[RTC_UFRAG_MAX + 1], pwd[RTC_PWD_MAX + 1];
	size_t n_pending;
	struct rtc_cand pending[RTC_PENDING_CANDS];	/* remote, before remote description */
	bool pending_eoc;
	enum rtc_cand_type local_type, remote_type;
	char local_addr[64], remote_addr[64];
	GSocket *direct;		/* ref held: selected pair's socket, NULL for relay/none */
	GSource *rx_src;		/* owned: our own receive on it (ice.c rx_*), or NULL */
	bool nice_rx_only;		/* RG_RTC_NICE_RECV=1: libnice reads everything (comparisons) */
	struct sockaddr_storage direct_to;	/* remote address of the selected pair */
	socklen_t direct_tolen;
	bool no_gso;			/* UDP_SEGMENT failed with EIO on this pair's route */
	bool gro;			/* UDP_GRO on the direct socket: reads may be trains */
	bool no_gro;			/* a train ended in a non-DTLS packet: GRO off for good */
	bool gro_wanted;		/* rtc_ice_enable_gro ran: GRO on every direct pair */
	uint64_t last_rx_ns;		/* set by the liveness tick when rx_datagrams moved */
	uint64_t tick_rx;		/* rx_datagrams at the last tick */
	uint64_t tick_tx;		/* tx_datagrams at the last tick */
	uint64_t unanswered_tx_ns;	/* first tick that saw us send since the last rx; 0 = none */
	bool test_blackhole;		/* tests only: drop every received datagram (dead path) */
	uint64_t tx_datagrams, rx_datagrams;
	uint64_t rx_own;		/* of rx_datagrams: read by our own receive, not libnice's */
	unsigned selections;
};

/* Resolves the STUN/TURN servers and local addresses of cfg (blocking DNS), creates the agent
 * and its stream. ctx, log_id, ops and opaque must outlive the layer. On error err says which
 * setting; rtc_ice_clear cleans up either way. */
int rtc_ice_init(struct rtc_ice *ice, GMainContext *ctx, const char *log_id,
		 const struct rtc_config *cfg, const struct rtc_ice_ops *ops, void *opaque,
		 struct rg_err *err);
/* Safe on a zeroed or half-built layer; no callback runs during or after it. */
void rtc_ice_clear(struct rtc_ice *ice);
int rtc_ice_gather(struct rtc_ice *ice);
void rtc_ice_set_controlling(struct rtc_ice *ice, bool controlling);
int rtc_ice_set_remote(struct rtc_ice *ice, const struct rtc_sdp *remote);
int rtc_ice_add_candidate(struct rtc_ice *ice, const struct rtc_cand *c);
void rtc_ice_end_of_candidates(struct rtc_ice *ice);
int rtc_ice_restart(struct rtc_ice *ice);
/* Local addresses for the next restart's agent (IP literals). -EINVAL on a bad one. */
int rtc_ice_set_local_addrs(struct rtc_ice *ice, const char *const *addrs, size_t n);
/* Our current UDP candidates (for descriptions sent after an ICE restart). */
size_t rtc_ice_local_candidates(struct rtc_ice *ice, struct rtc_cand *out, size_t max);
/* Sends datagrams once ICE connected; drops (like UDP) when the socket is full. */
void rtc_ice_send(struct rtc_ice *ice, NiceOutputMessage *msgs, unsigned n);
/* Injects one received datagram as if it came from the selected pair (fuzzing, tests). */
void rtc_ice_on_datagram(struct rtc_ice *ice, const uint8_t *buf, size_t len);
/* Receive batching on direct pairs (UDP GRO), this one and later ones: only toward a riftgate
 * peer, once SCTP is up (the caller checks). */
void rtc_ice_enable_gro(struct rtc_ice *ice);
/* Liveness, from the datagram counters (no clock read per packet): peer.c's tick calls it every
 * 500 ms and decides what the result means for the connection. Before SILENT it asks the
 * selected pair's socket when it last received anything (rtc_ice_hears_consent). */
enum rtc_ice_liveness {
	RTC_ICE_LIVE_RX = 1u << 0,		/* datagrams arrived since the last tick */
	RTC_ICE_LIVE_UNANSWERED = 1u << 1,	/* we sent, nothing came back for silence_ns */
	RTC_ICE_LIVE_SILENT = 1u << 2,		/* nothing arrived for consent_ns */
};
/* Bits of enum rtc_ice_liveness; UNANSWERED and SILENT only once ICE connected, UNANSWERED
 * only with silence_ns. They stay set at every tick until rtc_ice_rearm. quiet_ns (0 = off;
 * a pair without SCTP heartbeats): UNANSWERED too when nothing at all, STUN included, arrived
 * for that long. */
unsigned rtc_ice_tick(struct rtc_ice *ice, uint64_t now, uint64_t silence_ns, uint64_t quiet_ns,
		      uint64_t consent_ns);
/* Starts the UNANSWERED and/or SILENT clocks over (a report was made, a new pair selected). */
void rtc_ice_rearm(struct rtc_ice *ice, uint64_t now, unsigned what);
/* What the layers above may know of ICE. */
bool rtc_ice_connected(const struct rtc_ice *ice);	/* a pair worked at least once */
bool rtc_ice_gathered(const struct rtc_ice *ice);	/* end-of-candidates on this stream */
bool rtc_ice_has_remote_creds(const struct rtc_ice *ice);
/* Our credentials on the current stream (a restart makes new ones). */
const char *rtc_ice_ufrag(const struct rtc_ice *ice);
const char *rtc_ice_pwd(const struct rtc_ice *ice);
unsigned rtc_ice_selections(const struct rtc_ice *ice);
/* The selected pair and datagram counts into st (rtc_peer_get_stats). */
void rtc_ice_stats(const struct rtc_ice *ice, struct rtc_stats *st);
/* The selected pair's local socket (a ref: g_object_unref it) and remote address; NULL/false
 * when none. */
GSocket *rtc_ice_selected_socket(const struct rtc_ice *ice);
bool rtc_ice_selected_remote(const struct rtc_ice *ice, struct sockaddr_storage *ss);
/* The selected pair goes through our own UDP socket to the remote's, relayed on neither side
 * (the direct path may use it). */
bool rtc_ice_pair_direct(const struct rtc_ice *ice);
/* The selected pair has a socket of its own (not a TURN allocation of ours), whose last
 * receive time, STUN included, rtc_ice_tick consults before it reports a silent path. */
bool rtc_ice_hears_consent(const struct rtc_ice *ice);

#endif
