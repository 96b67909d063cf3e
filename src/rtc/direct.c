/* See direct.h. The direct path (DESIGN §Performance): the caller's WireGuard datagrams between
 * two riftgate peers on the ICE-selected UDP 5-tuple itself instead of inside DTLS/SCTP; the
 * WireGuard session is the caller's and does not know which path carried a datagram.
 *
 * Negotiated when both SDPs carry a=x-rg-wg-direct, DTLS is up (the remote proved its
 * fingerprint) and the selected pair is relayed on neither side (TURN framing is not ours to
 * bypass). Then a probe (kind 0x80, a random token) must be answered before the caller is told
 * it may send; while it sends, a probe goes out every RTC_DIRECT_PROBE_MS, and when none is
 * answered for RTC_DIRECT_DOWN_MS (a firewall dropping the framing, a middlebox) the caller is
 * told to use the data channel again, and probing goes on every tick until one is answered.
 * The data channel stays up all along. */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <openssl/rand.h>

#include "rtc/direct.h"
#include "rtc/ice.h"
#include "rtc/pmtu.h"
#include "rtc/sctp.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/log.h"

_Static_assert((int)RTC_DIRECT_RX_MAX == (int)RTC_PMTU_CEIL, "frames up to the largest path MTU");

void rtc_direct_init(struct rtc_direct *d, const char *log_id, struct rtc_ice *ice, bool allowed,
		     const struct rtc_direct_ops *ops, void *opaque)
{
	memset(d, 0, sizeof(*d));
	d->log_id = log_id;
	d->ice = ice;
	d->ops = ops;
	d->opaque = opaque;
	d->allowed = allowed;
}

void rtc_direct_clear(struct rtc_direct *d)
{
	g_free(d->out);
	g_free(d->rx_buf);
	memset(d, 0, sizeof(*d));
}

bool rtc_direct_advertise(const struct rtc_direct *d)
{
	return d->allowed;
}

void rtc_direct_set_remote(struct rtc_direct *d, bool remote)
{
	d->remote = remote;
}

/* Both sides want it, DTLS has authenticated the remote, and the pair is not relayed. */
static bool negotiated(const struct rtc_direct *d)
{
	return d->allowed && d->remote && d->dtls_up && d->ice && rtc_ice_pair_direct(d->ice);
}

static void set_up(struct rtc_direct *d, bool up, const char *why)
{
	if (d->up == up)
		return;
	d->up = up;
	if (up) {
		rg_log(RG_LOG_INFO, "%s: direct path up (WireGuard on the ICE 5-tuple)", d->log_id);
	} else {
		rg_log(RG_LOG_INFO, "%s: direct path down (%s); the data channel carries WireGuard",
		       d->log_id, why);
		d->n_out = 0;	/* queued frames go nowhere now */
		d->out_used = 0;
	}
	d->ops->changed(d->opaque, up);
}

static void send_raw(struct rtc_direct *d, const uint8_t *buf, size_t len)
{
	GOutputVector v = { .buffer = buf, .size = len };
	NiceOutputMessage m = { .buffers = &v, .n_buffers = 1 };

	rtc_ice_send(d->ice, &m, 1);
}

static void make_probe(struct rtc_direct *d, uint64_t now, uint8_t buf[static RTC_WGF_PROBE_LEN])
{
	if (!d->probe_since_ns) {	/* a new token per episode; resends repeat it */
		memcpy(d->prev_token, d->token, sizeof(d->token));
		RAND_bytes(d->token, sizeof(d->token));
		d->probe_since_ns = now;
	}
	d->probe_last_ns = now;
	rtc_wgframe_probe(buf, RTC_WGF_KIND_PROBE, d->token);
}

static void send_probe(struct rtc_direct *d, uint64_t now)
{
	uint8_t buf[RTC_WGF_PROBE_LEN];

	make_probe(d, now, buf);
	send_raw(d, buf, sizeof(buf));
}

static bool probes_failed(const struct rtc_direct *d, uint64_t now)
{
	return d->up && d->probe_since_ns &&
	       now - d->probe_since_ns >= (uint64_t)RTC_DIRECT_DOWN_MS * RG_NSEC_PER_MSEC;
}

void rtc_direct_on_change(struct rtc_direct *d, bool dtls_up, uint64_t now)
{
	d->dtls_up = dtls_up;
	if (!negotiated(d)) {
		set_up(d, false, "the selected ICE pair changed");
		return;
	}
	/* A new pair (or DTLS just up): ask at once, whatever the last pair said. */
	d->probe_since_ns = 0;
	send_probe(d, now);
}

void rtc_direct_tick(struct rtc_direct *d, uint64_t now)
{
	bool sending = d->tx != d->tick_tx;

	d->tick_tx = d->tx;
	if (!negotiated(d)) {
		set_up(d, false, "the selected ICE pair is relayed or gone");
		return;
	}
	if (probes_failed(d, now)) {
		set_up(d, false, "probes unanswered");
		d->probe_since_ns = 0;
	}
	/* Up: only while WireGuard goes this way (an idle peer sends nothing). Down: until an
	 * answer comes, so the path is taken again once it works. */
	if (!d->up || sending || d->probe_since_ns)
		send_probe(d, now);
}

/* The answer waits for the end of the read (rtc_direct_input_done): a probe arrives after the
 * data of the same send, and the data someone waits for is written first. Probes of one read
 * get one answer, to the last token (the prober's current one). */
static void on_probe(struct rtc_direct *d, const uint8_t *buf, uint64_t now)
{
	if (now - d->ack_window_ns >= RG_NSEC_PER_SEC) {
		d->ack_window_ns = now;
		d->acks = 0;
	}
	if (d->acks >= RTC_DIRECT_ACKS_PER_S) {
		d->rx_dropped++;
		return;
	}
	d->acks++;
	rtc_wgframe_probe(d->ack, RTC_WGF_KIND_PROBE_ACK, rtc_wgframe_token(buf));
	d->ack_pending = true;
}

static void on_ack(struct rtc_direct *d, const uint8_t *buf)
{
	if (!rg_ct_eq(rtc_wgframe_token(buf), d->token, sizeof(d->token))) {
		/* a resent probe of the episode before, answered late: no harm; else forged */
		if (!rg_ct_eq(rtc_wgframe_token(buf), d->prev_token, sizeof(d->prev_token)))
			d->rx_dropped++;
		return;
	}
	if (!d->probe_since_ns)
		return;		/* the answer to a resent probe of an episode already answered */
	d->probe_since_ns = 0;
	set_up(d, true, NULL);
}

void rtc_direct_input(struct rtc_direct *d, const uint8_t *buf, size_t len)
{
	if (!negotiated(d)) {
		/* Before negotiation, toward a peer that did not offer it, on a relayed pair. */
		if (!d->dropped_logged++)
			rg_log(RG_LOG_INFO, "%s: direct-path frame before negotiation dropped "
			       "(counted, said once)", d->log_id);
		d->rx_dropped++;
		return;
	}
	if (len > RTC_DIRECT_RX_MAX) {
		d->rx_dropped++;
		return;
	}
	if (!d->rx_buf)
		d->rx_buf = g_malloc(RTC_DIRECT_RX_MAX);
	/* The frame is unwrapped (and the caller decrypts) in place: our own copy. */
	memcpy(d->rx_buf, buf, len);
	switch (rtc_wgframe_unwrap(d->rx_buf, len)) {
	case RTC_WGF_WG:
		d->rx++;
		d->rx_batch++;
		d->ops->datagram(d->opaque, d->rx_buf, len);
		return;
	case RTC_WGF_PROBE:
		on_probe(d, d->rx_buf, rg_mono_ns());
		return;
	case RTC_WGF_ACK:
		on_ack(d, d->rx_buf);
		return;
	case RTC_WGF_BAD:
		d->rx_dropped++;
		return;
	}
}

void rtc_direct_input_done(struct rtc_direct *d)
{
	if (d->rx_batch) {
		d->rx_batch = 0;
		rtc_sctp_note_traffic();
		d->ops->batch_end(d->opaque);
	}
	if (d->ack_pending) {
		d->ack_pending = false;
		send_raw(d, d->ack, sizeof(d->ack));
	}
}

void rtc_direct_flush(struct rtc_direct *d)
{
	NiceOutputMessage m[RTC_OUT_BATCH];
	GOutputVector v[RTC_OUT_BATCH];
	uint8_t probe[RTC_WGF_PROBE_LEN];
	unsigned n = d->n_out;
	size_t off = 0;
	uint64_t now;

	if (!d->n_out)
		return;
	rtc_sctp_note_traffic();
	/* Sending: ask for an answer every RTC_DIRECT_PROBE_MS (one clock read per batch). */
	now = rg_mono_ns();
	if (probes_failed(d, now)) {
		set_up(d, false, "probes unanswered");	/* drops the batch: it would be lost */
		d->probe_since_ns = 0;
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		v[i].buffer = d->out + off;
		v[i].size = d->out_len[i];
		m[i].buffers = &v[i];
		m[i].n_buffers = 1;
		off += d->out_len[i];
	}
	/* The probe goes after the data, so the peer handles what someone waits for first, and in
	 * the same system call when there is room (the last, shorter segment of a GSO run). */
	if (now - d->probe_last_ns >= (uint64_t)RTC_DIRECT_PROBE_MS * RG_NSEC_PER_MSEC) {
		make_probe(d, now, probe);
		if (n == RTC_OUT_BATCH) {
			rtc_ice_send(d->ice, m, n);
			n = 0;
		}
		v[n].buffer = probe;
		v[n].size = sizeof(probe);
		m[n].buffers = &v[n];
		m[n].n_buffers = 1;
		n++;
	}
	rtc_ice_send(d->ice, m, n);
	d->n_out = 0;
	d->out_used = 0;
}

int rtc_direct_send(struct rtc_direct *d, const void *buf, size_t len, size_t max_len)
{
	uint8_t *f;

	if (!d->up)
		return -ENOTCONN;
	if (len > max_len || len > RTC_DIRECT_OUT_BUF)
		return -EMSGSIZE;
	if (!d->out)
		d->out = g_malloc(RTC_DIRECT_OUT_BUF);
	if (d->n_out == RTC_OUT_BATCH || d->out_used + len > RTC_DIRECT_OUT_BUF)
		rtc_direct_flush(d);
	if (!d->up)
		return -ENOTCONN;	/* that flush found the path dead */
	f = d->out + d->out_used;
	memcpy(f, buf, len);
	if (!rtc_wgframe_wrap(f, len))
		return -EINVAL;
	d->out_len[d->n_out++] = len;
	d->out_used += len;
	d->tx++;
	d->ops->flush_soon(d->opaque);
	return 0;
}

bool rtc_direct_up(const struct rtc_direct *d)
{
	return d->up;
}

enum rtc_direct_state rtc_direct_state(const struct rtc_direct *d)
{
	if (d->up)
		return RTC_DIRECT_UP;
	return negotiated(d) ? RTC_DIRECT_PROBING : RTC_DIRECT_OFF;
}

void rtc_direct_stats(const struct rtc_direct *d, struct rtc_stats *st)
{
	st->direct_state = rtc_direct_state(d);
	st->direct_tx = d->tx;
	st->direct_rx = d->rx;
	st->direct_rx_dropped = d->rx_dropped;
}
