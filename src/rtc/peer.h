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
#include "rtc/sctp.h"
#include "rtc/sdp.h"

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
/* One SCTP message (struct rtc_sctp_ops.message; the rtc_bytes fuzzer calls it too). */
void rtc_peer_on_message(struct rtc_peer *p, uint16_t sid, uint32_t ppid, const uint8_t *data,
			 size_t len);

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

#endif
