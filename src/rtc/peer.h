/* Internal to src/rtc: the peer object and the calls between its layers. ice.c, dtls.c,
 * sctp.c and peer.c share it; nothing outside src/rtc (except the rtc_bytes fuzzer) includes it.
 * Layer order: peer.c (API, SDP, channels) → sctp.c → dtls.c → ice.c → UDP. Every function
 * here runs on the peer's GMainContext. */
#ifndef RG_RTC_PEER_H
#define RG_RTC_PEER_H

#include <glib.h>
#include <nice/agent.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rtc/pmtu.h"
#include "rtc/restart.h"
#include "rtc/rtc.h"
#include "rtc/sdp.h"

struct socket;	/* usrsctp */

enum rtc_peer_limits {
	RTC_DTLS_OVERHEAD = 37,		/* record header 13 + explicit nonce 8 + GCM tag 16 */
	RTC_DTLS_REC_HDR = 13,
	RTC_SCTP_DATA_OVERHEAD = 28,	/* common header 12 + DATA chunk header 16 */
	/* usrsctp (AF_CONN) leaves the 12-byte common header out of spp_pathmtu: its packets,
	 * bundles included, reach spp_pathmtu + 12. */
	RTC_SCTP_COMMON_HDR = 12,
	RTC_REC_MAX = 16384 + 2048,	/* DTLS plaintext limit plus slack */
	RTC_OUT_BATCH = 64,		/* datagrams per nice send call */
	RTC_OUT_BUF = 96 * 1024,	/* ciphertext drained from the write BIO per round */
	RTC_OUT_FLUSH_AT = 48 * 1024,	/* flush inline once this much ciphertext is queued */
	RTC_RX_FLUSH_EVERY = 32,	/* received datagrams between inline flushes of replies */
	RTC_PENDING_CANDS = 64,		/* remote candidates kept before the remote description */
	RTC_SCTP_SNDBUF = 2 * 1024 * 1024,
	RTC_SCTP_RCVBUF = 2 * 1024 * 1024,
	RTC_SCTP_TIMER_MS = 10,
	RTC_SCTP_SACK_FREQ_RG = 8,	/* packets per SACK when the remote side is riftgate */
	/* Retransmission backoff capped at 2 s (RFC 4960 suggests 60): after an ICE restart the
	 * first queued DATA waits for the running T3 timer, so the cap bounds the stall once the
	 * new path works. The retransmission limits let the association outlive any silence rtc
	 * tolerates (2 × consent timeout); rtc, not SCTP, decides that a path is gone. */
	RTC_SCTP_RTO_INITIAL_MS = 1000,	/* RFC 6298's initial RTO; must not exceed the cap */
	RTC_SCTP_RTO_MAX_MS = 2000,
	RTC_SCTP_MAX_RXT = 64,
	RTC_UDP_SOCKBUF = 4 * 1024 * 1024,
};

enum rtc_chan_state { RTC_CHAN_PENDING = 0, RTC_CHAN_OPENING, RTC_CHAN_OPEN, RTC_CHAN_CLOSING };

struct rtc_channel {
	struct rtc_peer *peer;		/* back-pointer, not owned */
	uint16_t stream;		/* 0xffff until assigned (SCTP not up yet) */
	enum rtc_chan_state state;
	bool ordered;
	bool remote_opened;
	bool want_writable;
	int max_retransmits;		/* -1 = reliable */
	void *opaque;			/* caller's, not owned */
	char label[RTC_LABEL_MAX + 1];
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
	unsigned rx_unflushed;		/* datagrams received since the last rtc_dtls_flush */
	unsigned selections;
};

struct rtc_dtls {
	SSL *ssl;			/* owned; NULL until the role is known */
	BIO *rbio, *wbio;		/* owned by ssl */
	bool client;
	bool started;
	bool connected;
	bool have_fp;
	uint8_t remote_fp[RTC_FP_LEN];
	GSource *timer;			/* owned; retransmission timer */
	bool test_lose_final_flight;	/* tests only: discard what the completing step sends */
};

/* Path-MTU probing (probe.c). */
struct rtc_probe {
	bool enabled;			/* config asks for it */
	bool waiting_sctp;		/* the first search holds SCTP back */
	bool locked;			/* SCTP runs: the path MTU may only shrink */
	bool done;			/* a search has ended */
	unsigned selections;		/* ice.selections the last search was for */
	struct rtc_pmtu m;
	GSource *timer;			/* owned; next rtc_pmtu_poll */
	GPtrArray *early;		/* owned GBytes: SCTP packets held until SCTP starts */
	uint64_t ack_window_ns;		/* answer rate limit */
	unsigned acks;
	uint8_t ack[RTC_PMTU_HDR_LEN];
	uint8_t buf[RTC_PMTU_CEIL];	/* one probe */
};

struct rx_item {
	void *data;			/* malloc'd by usrsctp, freed with free() */
	size_t len;
	uint16_t sid;
	uint32_t ppid;
	int flags;
};

struct rtc_sctp {
	uint32_t id;			/* what usrsctp knows us by (sconn_addr, ulp_info) */
	struct socket *sock;		/* owned; NULL until DTLS is up */
	bool up;			/* COMM_UP seen */
	bool crc_offload;		/* both ends are riftgate: skip CRC32c */
	bool remote_rg;			/* the remote SDP says riftgate (a=x-rg-crc32c-offload) */
	bool writable;			/* send_cb fired since the last drain */
	bool blocked;			/* a send got EAGAIN since the last writable */
	bool draining;
	bool corked;			/* SCTP_NODELAY off during a run of RTC_SEND_MORE sends */
	uint16_t remote_port;
	GArray *rx;			/* struct rx_item, filled by receive_cb, drained after */
	GByteArray *reasm;		/* partial-delivery reassembly */
	GArray *resets;			/* uint16_t streams to reset (close) */
};

struct rtc_peer {
	GMainContext *ctx;		/* ref held */
	struct rtc_peer_ops ops;
	void *opaque;			/* caller's, not owned */
	char log_id[48];
	enum rtc_state state;
	bool offerer;			/* we created the offer */
	bool dead;			/* rtc_peer_free running: no more callbacks */
	bool closing;
	bool going_down;		/* closing every channel on the way to failed/closed */

	/* config (copied) */
	uint16_t path_mtu;		/* in use; probe.c may change it */
	bool pinned_mtu;		/* rtc_config.path_mtu was given */
	unsigned consent_timeout_ms;
	unsigned path_silence_ms;
	bool no_crc32c_offload;

	/* negotiation */
	bool have_local, have_remote;
	struct rtc_sdp local;		/* what we sent (n_cands = 0, we trickle) */
	struct rtc_sdp *remote;		/* owned; NULL until set */
	uint64_t session_id;
	size_t remote_max_msg;

	struct rtc_restart restart;	/* ICE restart, path loss, have-local-offer */
	struct rtc_ice ice;
	struct rtc_dtls dtls;
	struct rtc_sctp sctp;
	struct rtc_probe probe;

	GPtrArray *channels;		/* struct rtc_channel *, owned */
	struct rtc_channel *by_stream[RTC_MAX_CHANNELS];	/* index, not owned */

	GSource *flush_src;		/* owned; idle flush of queued ciphertext */
	GSource *tick_src;		/* owned; 1 s liveness check */
	uint8_t rec[RTC_REC_MAX];	/* one decrypted DTLS record */
	uint8_t out[RTC_OUT_BUF];	/* ciphertext on its way to ICE */
};

/* peer.c */
void rtc_peer_set_state(struct rtc_peer *p, enum rtc_state s);
void rtc_peer_fail(struct rtc_peer *p, const char *why);
void rtc_peer_schedule_flush(struct rtc_peer *p);
void rtc_peer_on_sctp_up(struct rtc_peer *p);
void rtc_peer_on_sctp_down(struct rtc_peer *p, bool failed);
void rtc_peer_on_message(struct rtc_peer *p, uint16_t sid, uint32_t ppid, const uint8_t *data,
			 size_t len);
void rtc_peer_on_stream_reset(struct rtc_peer *p, uint16_t sid);
void rtc_peer_on_writable(struct rtc_peer *p);
void rtc_peer_on_ice_connected(struct rtc_peer *p);
void rtc_peer_on_dtls_up(struct rtc_peer *p);
void rtc_peer_on_local_candidate(struct rtc_peer *p, const char *cand);
/* One datagram from the selected pair (libnice consumed STUN): which layer it belongs to. */
void rtc_peer_on_datagram(struct rtc_peer *p, const uint8_t *buf, size_t len);
/* The selected path died (ICE failed or consent lost after connecting, or silence): reports it
 * through ops.ice_path and returns true, or returns false when the caller must fail the peer
 * (no ice_path callback, or DTLS never came up). */
bool rtc_peer_on_path_lost(struct rtc_peer *p, const char *why);
/* A pair was selected: ends a loss or a restart (ops.ice_path(up)). */
void rtc_peer_on_path_selected(struct rtc_peer *p);
/* ICE has a (new) selected pair, announced or found silently: the path-MTU probe looks at it. */
void rtc_peer_on_new_pair(struct rtc_peer *p);
/* The component failed: checks found nothing, or consent was lost (was_connected). */
void rtc_peer_on_ice_failed(struct rtc_peer *p, bool was_connected);

/* ice.c */
int rtc_ice_init(struct rtc_peer *p, const struct rtc_config *cfg, struct rg_err *err);
void rtc_ice_clear(struct rtc_peer *p);
int rtc_ice_gather(struct rtc_peer *p);
void rtc_ice_set_controlling(struct rtc_peer *p, bool controlling);
int rtc_ice_set_remote(struct rtc_peer *p, const struct rtc_sdp *remote);
int rtc_ice_add_candidate(struct rtc_peer *p, const struct rtc_cand *c);
void rtc_ice_end_of_candidates(struct rtc_peer *p);
int rtc_ice_restart(struct rtc_peer *p);
/* Local addresses for the next restart's agent (IP literals). -EINVAL on a bad one. */
int rtc_ice_set_local_addrs(struct rtc_peer *p, const char *const *addrs, size_t n);
/* Our current UDP candidates (for descriptions sent after an ICE restart). */
size_t rtc_ice_local_candidates(struct rtc_peer *p, struct rtc_cand *out, size_t max);
/* Sends datagrams; drops (like UDP) when the socket is full. */
void rtc_ice_send(struct rtc_peer *p, NiceOutputMessage *msgs, unsigned n);
/* Injects one received datagram as if it came from the selected pair (fuzzing, tests). */
void rtc_ice_on_datagram(struct rtc_peer *p, const uint8_t *buf, size_t len);
/* Receive batching on direct pairs (UDP GRO), this one and later ones: only toward a riftgate
 * peer, once SCTP is up (the caller checks). */
void rtc_ice_enable_gro(struct rtc_peer *p);
/* Liveness, from the datagram counters (no clock read per packet): peer.c's tick calls it every
 * 500 ms and decides what the result means for the connection. */
enum rtc_ice_liveness {
	RTC_ICE_LIVE_RX = 1u << 0,		/* datagrams arrived since the last tick */
	RTC_ICE_LIVE_UNANSWERED = 1u << 1,	/* we sent, nothing came back for silence_ns */
	RTC_ICE_LIVE_SILENT = 1u << 2,		/* nothing arrived for consent_ns */
};
/* Bits of enum rtc_ice_liveness; UNANSWERED and SILENT only once ICE connected, UNANSWERED
 * only with silence_ns. They stay set at every tick until rtc_ice_rearm. */
unsigned rtc_ice_tick(struct rtc_ice *ice, uint64_t now, uint64_t silence_ns, uint64_t consent_ns);
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
/* Queued replies went out (rtc_dtls_flush): the receive side counts anew. */
void rtc_ice_flushed(struct rtc_ice *ice);

/* dtls.c */
int rtc_dtls_global_ref(struct rg_err *err);
void rtc_dtls_global_unref(void);
void rtc_dtls_local_fingerprint(uint8_t fp[static RTC_FP_LEN]);
int rtc_dtls_start(struct rtc_peer *p, bool client);
void rtc_dtls_clear(struct rtc_peer *p);
void rtc_dtls_input(struct rtc_peer *p, const uint8_t *buf, size_t len);
/* Encrypts one SCTP packet as one record; queued until rtc_dtls_flush. */
int rtc_dtls_write(struct rtc_peer *p, const void *buf, size_t len);
void rtc_dtls_flush(struct rtc_peer *p);
size_t rtc_dtls_pending(struct rtc_peer *p);
void rtc_dtls_shutdown(struct rtc_peer *p);
/* Starts the client handshake once ICE is up (no-op for the server or when running). */
void rtc_dtls_kick(struct rtc_peer *p);
/* What the layers above may know of DTLS, and what they tell it. */
bool rtc_dtls_started(const struct rtc_dtls *d);	/* the role is known: a session exists */
bool rtc_dtls_up(const struct rtc_dtls *d);		/* handshake done, fingerprint checked */
bool rtc_dtls_is_client(const struct rtc_dtls *d);
void rtc_dtls_set_remote_fp(struct rtc_dtls *d, const uint8_t fp[static RTC_FP_LEN]);
void rtc_dtls_set_mtu(struct rtc_dtls *d, unsigned mtu);

/* sctp.c */
int rtc_sctp_global_ref(GMainContext *ctx);
void rtc_sctp_global_unref(void);
int rtc_sctp_init(struct rtc_peer *p);
int rtc_sctp_start(struct rtc_peer *p);
void rtc_sctp_clear(struct rtc_peer *p);
void rtc_sctp_input(struct rtc_peer *p, uint8_t *buf, size_t len);
/* Processes what usrsctp queued during the last call into it (messages, notifications). */
void rtc_sctp_drain(struct rtc_peer *p);
/* more: another send follows at once; SCTP may hold a packet that is not full (Nagle on). */
int rtc_sctp_send(struct rtc_peer *p, uint16_t sid, uint32_t ppid, bool ordered, int max_rtx,
		  const void *data, size_t len, bool more);
int rtc_sctp_reset_stream(struct rtc_peer *p, uint16_t sid);
void rtc_sctp_shutdown(struct rtc_peer *p);
size_t rtc_sctp_buffered(struct rtc_peer *p);
/* Applies p->path_mtu to the running association (usrsctp only honours a decrease). */
int rtc_sctp_set_path_mtu(struct rtc_peer *p);
/* What the remote description says (before rtc_sctp_start): its SCTP port; whether it is
 * riftgate (a=x-rg-crc32c-offload), and then whether both skip the CRC32c. */
void rtc_sctp_set_remote_port(struct rtc_sctp *s, uint16_t port);
void rtc_sctp_set_remote_rg(struct rtc_sctp *s, bool remote_rg, bool crc_offload);
bool rtc_sctp_remote_rg(const struct rtc_sctp *s);
bool rtc_sctp_started(const struct rtc_sctp *s);	/* our socket exists */
bool rtc_sctp_is_up(const struct rtc_sctp *s);		/* COMM_UP seen */

/* probe.c */
void rtc_probe_init(struct rtc_peer *p, const struct rtc_config *cfg);
void rtc_probe_clear(struct rtc_peer *p);
/* DTLS is up: true when a search started and will start SCTP itself when it ends. */
bool rtc_probe_on_dtls_up(struct rtc_peer *p);
/* ICE selected a (new) pair. */
void rtc_probe_on_pair(struct rtc_peer *p);
/* A datagram whose first byte is RTC_PMTU_TYPE. */
void rtc_probe_input(struct rtc_peer *p, const uint8_t *buf, size_t len);
/* An SCTP packet before our association exists: true when kept for later. */
bool rtc_probe_stash(struct rtc_peer *p, const uint8_t *buf, size_t len);
enum rtc_path_mtu_state rtc_probe_state(const struct rtc_peer *p);
int rtc_sctp_rtt_ms(struct rtc_peer *p);

#endif
