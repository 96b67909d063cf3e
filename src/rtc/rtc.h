/* WebRTC data-channel peer (DESIGN §WebRTC data channel): one `struct rtc_peer` is one
 * RTCPeerConnection carrying data channels only. Layers, bottom up: ICE (libnice, ice.c),
 * DTLS 1.2 (OpenSSL memory BIOs, dtls.c), SCTP (usrsctp AF_CONN, sctp.c), DCEP (RFC 8832, dcep.c);
 * SDP offer/answer and trickle candidates in sdp.c. The agent calls it; the tests and the
 * rtc-peer interop tool call it too.
 *
 * Threading: everything runs on the GMainContext given to rtc_peer_new(); call every function
 * from that context's thread, and every callback arrives there. All peers of a process must use
 * the same GMainContext (usrsctp is process-wide and its timer lives on the first peer's context).
 *
 * Signaling flow (JSEP, data channels only):
 *   offerer:  rtc_peer_new → rtc_peer_create_channel (optional, may come later)
 *             → rtc_peer_create_offer → [send] … rtc_peer_set_remote_description(ANSWER)
 *   answerer: rtc_peer_new → rtc_peer_set_remote_description(OFFER) → rtc_peer_create_answer
 *   both:     ops.local_candidate → [send]; received candidates → rtc_peer_add_remote_candidate
 * The offerer is ICE-controlling and offers a=setup:actpass; the answerer answers a=setup:active
 * (it is the DTLS client), unless the offer forces a role.
 *
 * Errors: functions return 0 or -errno; those a remote party can trigger (SDP, candidates) also
 * fill `struct rg_err` with a reason. A rejected SDP or candidate leaves the peer usable. */
#ifndef RG_RTC_RTC_H
#define RG_RTC_RTC_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rg_err;
struct rtc_peer;
struct rtc_channel;

enum rtc_limits {
	RTC_MAX_ICE_SERVERS = 8,	/* per kind (STUN, TURN) */
	RTC_MAX_LOCAL_ADDRS = 16,
	RTC_SCTP_PORT = 5000,
	RTC_DEFAULT_PATH_MTU = 1200,	/* bytes of UDP payload; DESIGN §Data path */
	RTC_MAX_MESSAGE_SIZE = 262144,	/* what we announce in a=max-message-size */
	RTC_DEFAULT_CONSENT_TIMEOUT_MS = 30000,	/* RFC 7675 */
	RTC_MAX_CHANNELS = 1024,	/* SCTP streams each way */
	RTC_LABEL_MAX = 255,		/* bytes we keep of a channel label */
};

/* Connection state, as RTCPeerConnection.connectionState sees it (minus "disconnected"). */
enum rtc_state {
	RTC_STATE_NEW = 0,
	RTC_STATE_CHECKING,	/* ICE checks, then DTLS + SCTP handshakes */
	RTC_STATE_CONNECTED,	/* SCTP association up: channels can open */
	RTC_STATE_FAILED,	/* ICE failed, consent lost, DTLS failed (e.g. wrong fingerprint) */
	RTC_STATE_CLOSED,	/* rtc_peer_close() or the remote side shut down */
};

enum rtc_cand_type {
	RTC_CAND_NONE = 0,	/* no pair selected yet */
	RTC_CAND_HOST,
	RTC_CAND_SRFLX,
	RTC_CAND_PRFLX,
	RTC_CAND_RELAY,
};

enum rtc_sdp_type { RTC_SDP_OFFER = 0, RTC_SDP_ANSWER };

/* One TURN server as libnice will reach it: url is "turn:host:port[?transport=udp|tcp]" or
 * "turns:host:port[...]", with the credentials for this connection. The config's entry
 * (struct conf_turn) adds what rtc never sees (ca_file, credentials derived per connection);
 * rtc resolves this into struct rtc_ice_relay (ice.c). */
struct rtc_turn_server {
	const char *url;
	const char *username;
	const char *credential;
};

/* ICE and transport settings. Zero/NULL fields take the defaults; the strings are copied by
 * rtc_peer_new(), so the caller may free them afterwards. */
struct rtc_config {
	const char *const *stun;	/* "stun:host:port" URLs (host may be a literal or a name) */
	size_t n_stun;
	const struct rtc_turn_server *turn;
	size_t n_turn;
	const char *const *local_addrs;	/* IP literals to gather host candidates on; none = all */
	size_t n_local_addrs;
	uint16_t port_min, port_max;	/* UDP port range for host candidates; 0,0 = any */
	uint16_t path_mtu;		/* UDP payload bytes; 0 = RTC_DEFAULT_PATH_MTU */
	/* A silent path is reported RTC_STATE_FAILED after this long. 0 = 30 s (RFC 7675).
	 * Tests shorten it; SCTP heartbeats keep a healthy idle path from tripping it. */
	unsigned consent_timeout_ms;
	/* With ops.ice_path: we sent datagrams but received nothing at all (a live SCTP peer
	 * acknowledges within ~200 ms) for this long → report the path dead. 0 = off. */
	unsigned path_silence_ms;
	const char *log_id;		/* prefix of log lines about this peer (e.g. short peer id) */
	/* riftgate↔riftgate peers skip the SCTP CRC32c (DTLS already authenticates every
	 * packet), negotiated with a=x-rg-crc32c-offload. true turns that off (tests). */
	bool no_crc32c_offload;
	/* With path_mtu 0: probe the selected pair for larger path MTUs when the remote side is
	 * riftgate too (a=x-rg-pmtu-probe), before the SCTP association starts (probe.c). Off,
	 * or with another peer, the path MTU stays RTC_DEFAULT_PATH_MTU. */
	bool probe_path_mtu;
	/* SCTP streams each way, i.e. how many channels may exist at once; 0 = RTC_MAX_CHANNELS.
	 * usrsctp allocates about 100 bytes per stream and direction for every association as
	 * it starts (≈ 100 KiB per peer at 1024), so a caller that opens one channel asks for
	 * a few. Values above RTC_MAX_CHANNELS are capped. */
	uint16_t max_streams;
	/* Toward another riftgate peer (a=x-rg-wg-direct on both sides) on a pair that is not
	 * relayed: the caller's WireGuard datagrams may go straight on the ICE 5-tuple
	 * (rtc_peer_send_wg, ops.wg_datagram; wgframe.h). Needs ops.wg_datagram. */
	bool direct_path;
};

/* Where a peer's path MTU comes from (rtc_stats.path_mtu_state). */
enum rtc_path_mtu_state {
	RTC_PATH_MTU_DEFAULT = 0,	/* not probed (off, or the remote does not probe): 1200 */
	RTC_PATH_MTU_PINNED,		/* rtc_config.path_mtu */
	RTC_PATH_MTU_PENDING,		/* a search is running */
	RTC_PATH_MTU_PROBED,		/* verified end to end by an acknowledged probe */
	RTC_PATH_MTU_UNANSWERED,	/* probes went unanswered: the default */
};

/* Callbacks, all optional, all on the peer's GMainContext. A callback may call any rtc_
 * function of this peer except rtc_peer_free(); to drop the peer from a callback, schedule it
 * (e.g. g_idle_add) or call rtc_peer_close(). */
struct rtc_peer_ops {
	/* A local candidate in the browser's "candidate:..." form (sdpMid "0", sdpMLineIndex 0),
	 * or NULL once gathering is complete (end-of-candidates). */
	void (*local_candidate)(void *opaque, const char *candidate);
	void (*state_changed)(void *opaque, enum rtc_state state);
	/* A channel is open: one we created (when the remote DATA_CHANNEL_ACK, or the first
	 * message on its stream, arrives) or one the remote side opened (at its
	 * DATA_CHANNEL_OPEN; our ACK is already sent). The handle stays valid until
	 * channel_closed returns or the peer is freed. */
	void (*channel_open)(void *opaque, struct rtc_channel *ch);
	/* One complete message. data is valid during the call only. */
	void (*channel_message)(void *opaque, struct rtc_channel *ch, const uint8_t *data,
				size_t len, bool binary);
	/* The channel's send buffer drained below its low-water mark after rtc_channel_send
	 * returned -EAGAIN: send more. */
	void (*channel_writable)(void *opaque, struct rtc_channel *ch);
	/* Closed by either side or by the peer going down; the handle dies after this returns. */
	void (*channel_closed)(void *opaque, struct rtc_channel *ch);
	/* The ICE path of an established connection (DTLS up) died (up = false; why says how:
	 * consent lost, ICE failed, sending without hearing back), or works again after an ICE
	 * restart (up = true, why = NULL) or, when the caller did not restart, because packets
	 * arrive again on the old path (up = true, why says so). With this callback set a dead path does not fail the
	 * peer: it stays CONNECTED (DTLS, SCTP and channels kept) while the caller restarts ICE
	 * (rtc_peer_restart_ice + a new offer), and fails only when nothing at all arrives for
	 * twice the consent timeout. Without it a dead path fails the peer. */
	void (*ice_path)(void *opaque, bool up, const char *why);
	/* rtc_peer_max_packet_message() changed while connected (a probe found the path smaller,
	 * e.g. after an ICE restart or a black hole); its new value. */
	void (*path_mtu_changed)(void *opaque, size_t max_packet_message);
	/* With rtc_config.direct_path: a WireGuard datagram that came on the direct path
	 * (unframed, writable: the callee may decrypt it in place; valid during the call). */
	void (*wg_datagram)(void *opaque, uint8_t *buf, size_t len);
	/* The direct path became usable (a probe was answered) or stopped being usable (probes
	 * unanswered, the pair changed or is relayed): rtc_peer_send_wg works from now on, or
	 * the data channel must carry WireGuard again. */
	void (*direct_changed)(void *opaque, bool up);
	/* Optional: the direct-path datagrams of one socket read (a GRO train) were all handed to
	 * wg_datagram: a good moment to write out what they decrypted. */
	void (*wg_batch_end)(void *opaque);
};

/* The direct path (rtc_config.direct_path) of a peer. */
enum rtc_direct_state {
	RTC_DIRECT_OFF = 0,	/* not negotiated: off here or there, no DTLS yet, relayed pair */
	RTC_DIRECT_PROBING,	/* negotiated, probes not answered (yet, or any more) */
	RTC_DIRECT_UP,		/* rtc_peer_send_wg sends on the ICE 5-tuple */
};

/* Selected ICE pair and transport figures (rtc_peer_get_stats). */
struct rtc_stats {
	enum rtc_cand_type local_type, remote_type;
	char local_addr[64], remote_addr[64];	/* "ip:port" of the selected pair, "" if none */
	int rtt_ms;			/* smoothed RTT (SCTP's view of the path), -1 if unknown */
	size_t max_packet_message;	/* rtc_peer_max_packet_message() */
	uint64_t tx_datagrams, rx_datagrams;	/* UDP datagrams through ICE */
	unsigned selections;		/* times ICE selected a pair (grows after a restart) */
	unsigned path_mtu;		/* UDP payload bytes per datagram in use */
	enum rtc_path_mtu_state path_mtu_state;
	enum rtc_direct_state direct_state;
	uint64_t direct_tx, direct_rx;	/* WireGuard datagrams on the direct path */
	/* frames dropped: before negotiation or on a relayed pair, malformed, oversized, stale
	 * or forged probe answers, probes over the answer rate limit */
	uint64_t direct_rx_dropped;
};

/* Creates a peer; no network activity until create_offer / set_remote_description.
 * Returns 0 and *out, or -errno with err filled (bad STUN/TURN URL, bad local address). */
int rtc_peer_new(struct rtc_peer **out, GMainContext *ctx, const struct rtc_config *cfg,
		 const struct rtc_peer_ops *ops, void *opaque, struct rg_err *err);
/* Tears down at once, sending nothing (the remote side sees silence, then consent failure).
 * No callback runs during or after it. NULL is fine. */
void rtc_peer_free(struct rtc_peer *p);
/* Graceful close: SCTP SHUTDOWN and DTLS close_notify go out, every open channel gets
 * channel_closed, then state_changed(CLOSED). The peer must still be freed. */
void rtc_peer_close(struct rtc_peer *p);

/* Offer SDP (caller frees with g_free). Starts candidate gathering; makes us ICE-controlling. */
int rtc_peer_create_offer(struct rtc_peer *p, char **sdp_out, struct rg_err *err);
/* Applies the remote offer or answer: ICE credentials, fingerprint, setup role, SCTP port,
 * max message size and any a=candidate lines. On error nothing changes. */
int rtc_peer_set_remote_description(struct rtc_peer *p, enum rtc_sdp_type type, const char *sdp,
				    struct rg_err *err);
/* Answer SDP to the remote offer (caller frees with g_free). Starts gathering. */
int rtc_peer_create_answer(struct rtc_peer *p, char **sdp_out, struct rg_err *err);
/* A trickled remote candidate, "candidate:..." (a leading "a=" is accepted). NULL or "" means
 * end-of-candidates. Candidates that arrive before the remote description are kept. mDNS
 * (.local) and TCP candidates are ignored and return 0. */
int rtc_peer_add_remote_candidate(struct rtc_peer *p, const char *candidate, struct rg_err *err);
/* ICE restart: new local ufrag/pwd; the next rtc_peer_create_offer carries them (and lists our
 * candidates) and the caller renegotiates. DTLS and SCTP survive the restart. Either side may
 * restart. -EBUSY while an offer of ours is unanswered (restart during restart): wait for the
 * answer, or give up on the peer connection.
 *
 * Renegotiation follows JSEP's offer/answer states: an answer is only taken while an offer of
 * ours is outstanding (a late or repeated answer is refused with -EBUSY). A remote offer that
 * arrives while ours is outstanding (glare) rolls ours back and is answered; the caller decides
 * which side yields. A re-offer must come from the same peer connection (same o= sess-id and
 * DTLS fingerprint); it restarts ICE when its ice-ufrag/ice-pwd changed (RFC 8839 §4.4.1.1.1),
 * and is answered without restarting when they did not (a repeated offer). */
int rtc_peer_restart_ice(struct rtc_peer *p);
/* Where an ICE restart of this peer connection stands (rtc owns it; the caller decides when to
 * restart and what to do when one takes too long). */
enum rtc_restart_state {
	RTC_RESTART_NONE = 0,	/* none running (the path may still be lost: rtc_peer_path_lost) */
	RTC_RESTART_LOCAL,	/* we restarted: waiting for the answer with the remote's credentials */
	RTC_RESTART_CHECKING,	/* both sides have new credentials; no pair selected yet */
};
enum rtc_restart_state rtc_peer_restart_state(const struct rtc_peer *p);
/* Our restart offer is out and unanswered: an answer from the remote side belongs to it, the
 * offer may be said again (rtc_peer_create_offer: same credentials, every candidate gathered
 * so far), and another restart is refused (-EBUSY). */
bool rtc_peer_restart_pending(const struct rtc_peer *p);
/* The path was reported dead (ops.ice_path down) and nothing has worked since. */
bool rtc_peer_path_lost(const struct rtc_peer *p);
/* Local addresses (IP literals, as rtc_config.local_addrs; none = every interface) that the
 * next ICE restart gathers on: a restart after a network change should use the addresses the
 * host has now. -EINVAL (nothing changed) on a bad one. */
int rtc_peer_set_local_addrs(struct rtc_peer *p, const char *const *addrs, size_t n);
/* What a remote offer means for this peer connection: NEW starts another peer connection (or
 * cannot be parsed, or ours is not established); RESTART and REPEAT are re-offers for this one
 * (same o= sess-id and DTLS fingerprint as the current remote description), with changed
 * ICE credentials or the same ones. */
enum rtc_offer_kind { RTC_OFFER_NEW = 0, RTC_OFFER_RESTART, RTC_OFFER_REPEAT };
enum rtc_offer_kind rtc_peer_offer_kind(struct rtc_peer *p, const char *sdp);

enum rtc_state rtc_peer_state(const struct rtc_peer *p);
void rtc_peer_get_stats(struct rtc_peer *p, struct rtc_stats *st);
/* Queues one WireGuard datagram for the direct path (sent at the end of this main-loop
 * iteration, with the others, in GSO runs). 0, -ENOTCONN (the direct path is not up: use the
 * data channel), -EMSGSIZE (over the path MTU), -EINVAL (not a WireGuard message). */
int rtc_peer_send_wg(struct rtc_peer *p, const void *buf, size_t len);
bool rtc_peer_direct_up(const struct rtc_peer *p);
/* The largest WireGuard datagram rtc_peer_send_wg takes: the verified path MTU (the framing
 * adds nothing). rtc_peer_max_packet_message() is the data channel's, smaller by DTLS + SCTP. */
size_t rtc_peer_max_direct_datagram(const struct rtc_peer *p);
/* Sends what is queued (direct-path datagrams, DTLS records) now instead of at the end of this
 * main-loop iteration: the caller knows its batch is complete. */
void rtc_peer_flush(struct rtc_peer *p);
const char *rtc_direct_state_name(enum rtc_direct_state s);

/* Largest message that still fits one SCTP packet = one DTLS record = one UDP datagram at the
 * path MTU in use (configured, or probed: then final once the peer is connected, except that it
 * may shrink later, see path_mtu_changed). The agent derives the TUN MTU from it. */
size_t rtc_peer_max_packet_message(const struct rtc_peer *p);
/* The same at a given path MTU (no peer needed). */
size_t rtc_max_packet_message_at(unsigned path_mtu);
/* Largest message rtc_channel_send accepts (min of ours and the remote a=max-message-size). */
size_t rtc_peer_max_message_size(const struct rtc_peer *p);

/* Opens a data channel (DCEP, in-band). max_retransmits < 0 = reliable; 0 = unreliable
 * (SCTP_PR_SCTP_RTX, no retransmission). May be called before the peer is connected: the
 * DATA_CHANNEL_OPEN goes out once SCTP is up. channel_open fires when it is usable. */
int rtc_peer_create_channel(struct rtc_peer *p, const char *label, bool ordered,
			    int max_retransmits, struct rtc_channel **out);

/* Sends one message (binary, or UTF-8 text when binary is false). Returns 0, -EAGAIN (send
 * buffer full: wait for channel_writable), -EMSGSIZE (len > rtc_peer_max_message_size),
 * -ENOTCONN (channel not open) or another -errno. A message of at most
 * rtc_peer_max_packet_message() bytes travels in one SCTP packet = one UDP datagram. The
 * plaintext is copied once, into usrsctp's buffers. */
int rtc_channel_send(struct rtc_channel *ch, const void *data, size_t len, bool binary);
/* rtc_channel_send with flags. RTC_SEND_MORE: another send follows at once (like MSG_MORE), so
 * SCTP may hold a packet that is not full yet and fill it with the next message (messages
 * then share packets, and a message larger than one packet leaves no small tail packet).
 * End every run with a send without RTC_SEND_MORE; held data otherwise waits for the next
 * SACK. An -EAGAIN also ends the run. */
enum { RTC_SEND_MORE = 1u << 0 };
int rtc_channel_send_flags(struct rtc_channel *ch, const void *data, size_t len, bool binary,
			   unsigned flags);
/* Closes the channel (SCTP stream reset, RFC 8831 §6.7); channel_closed follows. */
void rtc_channel_close(struct rtc_channel *ch);

const char *rtc_channel_label(const struct rtc_channel *ch);
uint16_t rtc_channel_stream(const struct rtc_channel *ch);
bool rtc_channel_ordered(const struct rtc_channel *ch);
int rtc_channel_max_retransmits(const struct rtc_channel *ch);	/* -1 = reliable */
bool rtc_channel_is_open(const struct rtc_channel *ch);
/* SCTP chunks queued or in flight for the whole association (a backlog hint, not bytes). */
size_t rtc_channel_buffered(const struct rtc_channel *ch);
void rtc_channel_set_opaque(struct rtc_channel *ch, void *opaque);
void *rtc_channel_opaque(const struct rtc_channel *ch);
struct rtc_peer *rtc_channel_peer(const struct rtc_channel *ch);

const char *rtc_state_name(enum rtc_state s);
const char *rtc_cand_type_name(enum rtc_cand_type t);
const char *rtc_path_mtu_state_name(enum rtc_path_mtu_state s);

#endif
