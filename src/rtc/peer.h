/* Internal to src/rtc: the peer object, which embeds one struct per layer (ice.h, dtls.h,
 * sctp.h, probe.h, direct.h, restart.h) and coordinates them: peer.c drives each layer through its entry
 * points and reacts to what the layer reports through its ops. No layer includes this header;
 * tests and the rtc_bytes fuzzer do. Layer order: peer.c (API, SDP, channels, DCEP) → sctp.c →
 * dtls.c → ice.c → UDP, with probe.c beside DTLS on ICE. Everything runs on the peer's
 * GMainContext. */
#ifndef RG_RTC_PEER_H
#define RG_RTC_PEER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "rtc/direct.h"
#include "rtc/dtls.h"
#include "rtc/ice.h"
#include "rtc/limits.h"
#include "rtc/probe.h"
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
	unsigned consent_timeout_ms;
	unsigned path_silence_ms;
	bool no_crc32c_offload;
	uint16_t max_streams;		/* SCTP streams each way (rtc_config.max_streams) */

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
	struct rtc_probe probe;		/* and the path MTU in use */
	GPtrArray *early;		/* owned GBytes: SCTP packets held while the probe holds SCTP */
	struct rtc_direct direct;	/* WireGuard on the ICE 5-tuple */

	GPtrArray *channels;		/* struct rtc_channel *, owned */
	struct rtc_channel **by_stream;	/* owned array of max_streams; entries not owned */

	GSource *flush_src;		/* owned; idle flush of queued ciphertext */
	bool ticking;			/* listed in peer.c's shared 500 ms liveness tick */
};

/* peer.c */
void rtc_peer_set_state(struct rtc_peer *p, enum rtc_state s);
void rtc_peer_fail(struct rtc_peer *p, const char *why);
void rtc_peer_schedule_flush(struct rtc_peer *p);
/* One SCTP message (struct rtc_sctp_ops.message; the rtc_bytes fuzzer calls it too). */
void rtc_peer_on_message(struct rtc_peer *p, uint16_t sid, uint32_t ppid, const uint8_t *data,
			 size_t len);

#endif
