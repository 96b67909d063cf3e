/* The direct-path layer (direct.c): WireGuard datagrams between two riftgate peers straight on
 * the ICE-selected UDP 5-tuple, framed per wgframe.h, beside DTLS. Internal to src/rtc. peer.c
 * owns a struct rtc_direct (embedded in struct rtc_peer), tells it what the SDPs and DTLS say
 * and feeds it frames; frames go out through the ICE layer's entry points (ice.h), and what
 * arrives or changes goes up through struct rtc_direct_ops. Everything runs on the peer's
 * GMainContext. */
#ifndef RG_RTC_DIRECT_H
#define RG_RTC_DIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtc/limits.h"
#include "rtc/rtc.h"
#include "rtc/wgframe.h"

struct rtc_ice;

enum rtc_direct_limits {
	RTC_DIRECT_DOWN_MS = 1000,	/* probes unanswered this long: back to the data channel */
	RTC_DIRECT_PROBE_MS = 200,	/* probe interval while WireGuard goes this way */
	RTC_DIRECT_ACKS_PER_S = 20,	/* probe answers we send per second, at most */
	RTC_DIRECT_OUT_BUF = 128 * 1024,	/* framed datagrams waiting for the flush */
	RTC_DIRECT_RX_MAX = 9000,	/* largest frame taken in (RTC_PMTU_CEIL) */
};

struct rtc_direct_ops {
	/* A WireGuard datagram (unframed, writable, valid during the call). */
	void (*datagram)(void *opaque, uint8_t *buf, size_t len);
	/* The direct path became usable, or stopped being usable. */
	void (*changed)(void *opaque, bool up);
	/* Frames are queued: call rtc_direct_flush at the end of this loop iteration. */
	void (*flush_soon)(void *opaque);
	/* The datagrams of one read (a GRO train) were handed up: the caller may write out what
	 * it decrypted now rather than at the end of the loop iteration. */
	void (*batch_end)(void *opaque);
};

struct rtc_direct {
	const char *log_id;		/* not owned: the peer's */
	struct rtc_ice *ice;		/* not owned: the peer's ICE layer, used through ice.h */
	const struct rtc_direct_ops *ops;	/* not owned, static */
	void *opaque;			/* ops' argument, not owned */
	bool allowed;			/* config + a datagram callback: we advertise it */
	bool remote;			/* the remote description advertises it */
	bool dtls_up;			/* the remote proved its fingerprint */
	bool up;			/* a probe was answered: the caller sends on it */
	uint8_t token[RTC_WGF_TOKEN_LEN];	/* of the probes now out */
	uint8_t prev_token[RTC_WGF_TOKEN_LEN];	/* of the episode before (late answers) */
	uint64_t probe_since_ns;	/* first probe with this token, 0 = none unanswered */
	uint64_t probe_last_ns;
	uint64_t tick_tx;		/* tx at the last tick */
	uint64_t ack_window_ns;		/* answer rate limit */
	unsigned acks;
	bool ack_pending;		/* ack goes out when the read ends (after the data) */
	uint8_t ack[RTC_WGF_PROBE_LEN];
	unsigned dropped_logged;
	uint64_t tx, rx, rx_dropped;
	unsigned rx_batch;		/* datagrams handed up since the last read ended */
	unsigned n_out;
	size_t out_used;
	size_t out_len[RTC_OUT_BATCH];
	uint8_t *out;			/* owned, allocated at the first send: framed datagrams */
	uint8_t *rx_buf;		/* owned, allocated at the first frame: one, unwrapped */
};

/* allowed: rtc_config.direct_path and the caller takes datagrams. log_id, ice, ops and opaque
 * must outlive it. */
void rtc_direct_init(struct rtc_direct *d, const char *log_id, struct rtc_ice *ice, bool allowed,
		     const struct rtc_direct_ops *ops, void *opaque);
/* Safe on a zeroed or half-built layer; no callback runs during or after it. */
void rtc_direct_clear(struct rtc_direct *d);
bool rtc_direct_advertise(const struct rtc_direct *d);
/* The remote description says a=x-rg-wg-direct (or no longer does). */
void rtc_direct_set_remote(struct rtc_direct *d, bool remote);
/* DTLS came up (dtls_up) or ICE selected a (new) pair: probe it, or stop using the old one. */
void rtc_direct_on_change(struct rtc_direct *d, bool dtls_up, uint64_t now);
/* The peer's liveness tick (every 500 ms). */
void rtc_direct_tick(struct rtc_direct *d, uint64_t now);
/* A datagram whose first byte is RTC_WGF_TYPE. */
void rtc_direct_input(struct rtc_direct *d, const uint8_t *buf, size_t len);
/* One read from the socket ended (every datagram of a GRO train went through input): what the
 * read decrypted is written (ops.batch_end), then the answer to a probe of that read goes out. */
void rtc_direct_input_done(struct rtc_direct *d);
/* Queues one WireGuard datagram (at most max_len bytes): 0, -ENOTCONN, -EMSGSIZE, -EINVAL. */
int rtc_direct_send(struct rtc_direct *d, const void *buf, size_t len, size_t max_len);
/* Sends what rtc_direct_send queued (with a probe when one is due). */
void rtc_direct_flush(struct rtc_direct *d);
bool rtc_direct_up(const struct rtc_direct *d);
enum rtc_direct_state rtc_direct_state(const struct rtc_direct *d);
void rtc_direct_stats(const struct rtc_direct *d, struct rtc_stats *st);

#endif
