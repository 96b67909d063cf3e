/* The path-MTU layer (probe.c): owns the path MTU in use (configured, default or probed) and
 * runs the searches of pmtu.h on the selected ICE pair. Internal to src/rtc. peer.c owns a
 * struct rtc_probe (embedded in struct rtc_peer) and drives it with the calls below; probes go
 * out through the ICE layer's entry points (ice.h), and what a search decides goes up through
 * struct rtc_probe_ops. Everything runs on the GMainContext given to rtc_probe_init. */
#ifndef RG_RTC_PROBE_H
#define RG_RTC_PROBE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "rtc/pmtu.h"
#include "rtc/rtc.h"

struct rtc_ice;

struct rtc_probe_ops {
	/* A new path MTU is in use. locked: SCTP runs, so the size only went down. */
	void (*mtu_changed)(void *opaque, unsigned mtu, bool locked);
	/* The first search (started by rtc_probe_on_dtls_up) ended: SCTP may start now, at
	 * rtc_probe_mtu(). */
	void (*search_done)(void *opaque);
};

struct rtc_probe {
	GMainContext *ctx;		/* not owned: the peer holds a ref */
	const char *log_id;		/* not owned: the peer's */
	struct rtc_ice *ice;		/* not owned: the peer's ICE layer, used through ice.h */
	const struct rtc_probe_ops *ops;	/* not owned, static */
	void *opaque;			/* ops' argument, not owned */
	uint16_t path_mtu;		/* in use */
	bool pinned;			/* rtc_config.path_mtu was given */
	bool enabled;			/* config asks for it */
	bool waiting_sctp;		/* the first search holds SCTP back */
	bool locked;			/* SCTP runs: the path MTU may only shrink */
	bool done;			/* a search has ended */
	bool stopped;			/* the peer failed or closed: no more timers */
	unsigned selections;		/* ICE selections the last search was for */
	uint64_t own_tx;		/* datagrams this layer sent (probes, acks) */
	uint64_t data_mark;		/* the pair's other sends at the last confirmation due */
	struct rtc_pmtu m;
	GSource *timer;			/* owned; next rtc_pmtu_poll while a search runs */
	uint64_t ack_window_ns;		/* answer rate limit */
	unsigned acks;
	uint8_t ack[RTC_PMTU_HDR_LEN];
	uint8_t buf[RTC_PMTU_CEIL];	/* one probe */
};

/* Takes the path MTU settings of cfg. ctx, log_id, ice, ops and opaque must outlive it. */
void rtc_probe_init(struct rtc_probe *pr, GMainContext *ctx, const char *log_id,
		    struct rtc_ice *ice, const struct rtc_config *cfg,
		    const struct rtc_probe_ops *ops, void *opaque);
/* Safe on a zeroed or half-built layer; no callback runs during or after it. */
void rtc_probe_clear(struct rtc_probe *pr);
/* The peer failed or closed: a running search sends what it is due, and no more. */
void rtc_probe_stop(struct rtc_probe *pr);
/* DTLS is up (remote_probes: the remote description says a=x-rg-pmtu-probe): true when a
 * search started and ops.search_done will say when SCTP may start. */
bool rtc_probe_on_dtls_up(struct rtc_probe *pr, bool remote_probes);
/* ICE selected a (new) pair. */
void rtc_probe_on_pair(struct rtc_probe *pr);
/* A datagram whose first byte is RTC_PMTU_TYPE. may_answer: the remote description is ours
 * (DTLS started), so probes get an answer. */
void rtc_probe_input(struct rtc_probe *pr, const uint8_t *buf, size_t len, bool may_answer);
/* The first search holds SCTP back: SCTP packets that arrive meanwhile are kept for later. */
/* The liveness tick (peer.c, every 500 ms): a settled layer's confirmation when it is due. */
void rtc_probe_tick(struct rtc_probe *pr, uint64_t now);
bool rtc_probe_holds_sctp(const struct rtc_probe *pr);
unsigned rtc_probe_mtu(const struct rtc_probe *pr);
enum rtc_path_mtu_state rtc_probe_state(const struct rtc_probe *pr);

#endif
