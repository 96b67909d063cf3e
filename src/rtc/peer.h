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

#include "rtc/dtls.h"
#include "rtc/ice.h"
#include "rtc/limits.h"
#include "rtc/pmtu.h"
#include "rtc/restart.h"
#include "rtc/rtc.h"
#include "rtc/sdp.h"

struct socket;	/* usrsctp */

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
/* The selected path died (ICE failed or consent lost after connecting, or silence): reports it
 * through ops.ice_path and returns true, or returns false when the caller must fail the peer
 * (no ice_path callback, or DTLS never came up). */
bool rtc_peer_on_path_lost(struct rtc_peer *p, const char *why);

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
