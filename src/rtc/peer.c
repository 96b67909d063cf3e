/* The rtc_peer API (rtc.h): JSEP negotiation, the connection state machine, data channels and
 * DCEP. It sits on top of sctp.c / dtls.c / ice.c and runs on the caller's GMainContext.
 * Stream ids follow RFC 8832 §6: the DTLS client opens even ids, the server odd ones. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rtc/dcep.h"
#include "rtc/peer.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

enum { NO_STREAM = 0xffff, TICK_MS = 500 };

/* Nothing for fine timers to do: connected and not restarting, or finished for good. */
static bool settled(const struct rtc_peer *p)
{
	if (p->state >= RTC_STATE_FAILED)
		return true;
	return p->state == RTC_STATE_CONNECTED &&
	       rtc_restart_state(&p->restart) == RTC_RESTART_NONE && !rtc_restart_lost(&p->restart);
}

void rtc_peer_set_state(struct rtc_peer *p, enum rtc_state s)
{
	if (p->state == s || p->dead)
		return;
	/* failed and closed are final */
	if (p->state == RTC_STATE_FAILED || p->state == RTC_STATE_CLOSED)
		return;
	p->state = s;
	if (!settled(p))
		rtc_sctp_set_settled(false);
	if (s >= RTC_STATE_FAILED)
		rtc_probe_stop(&p->probe);
	rg_log(RG_LOG_INFO, "%s: state %s", p->log_id, rtc_state_name(s));
	if (p->ops.state_changed)
		p->ops.state_changed(p->opaque, s);
}

static void channel_destroy(struct rtc_peer *p, struct rtc_channel *ch, bool notify)
{
	/* A channel with a stream is in by_stream at it (assign_stream, on_dcep); a pending one
	 * (no stream yet) is in no index. */
	if (ch->stream != NO_STREAM)
		p->by_stream[ch->stream] = NULL;
	/* every channel the caller holds gets channel_closed, whatever its state */
	if (notify && !p->dead && p->ops.channel_closed)
		p->ops.channel_closed(p->opaque, ch);
	g_ptr_array_remove_fast(p->channels, ch);	/* frees ch */
}

static void close_all_channels(struct rtc_peer *p)
{
	while (p->channels->len && !p->dead)
		channel_destroy(p, p->channels->pdata[p->channels->len - 1], true);
}

static void go_down(struct rtc_peer *p, enum rtc_state s)
{
	if (p->state == RTC_STATE_FAILED || p->state == RTC_STATE_CLOSED || p->going_down)
		return;
	p->going_down = true;	/* no new channels from channel_closed callbacks */
	close_all_channels(p);
	rtc_peer_set_state(p, s);
}

void rtc_peer_fail(struct rtc_peer *p, const char *why)
{
	if (p->state == RTC_STATE_FAILED || p->state == RTC_STATE_CLOSED)
		return;
	rg_log(RG_LOG_WARN, "%s: failed: %s", p->log_id, why);
	go_down(p, RTC_STATE_FAILED);
}

static gboolean on_flush(gpointer data)
{
	struct rtc_peer *p = data;

	g_source_unref(p->flush_src);
	p->flush_src = NULL;
	rtc_direct_flush(&p->direct);
	rtc_dtls_flush(&p->dtls);
	return G_SOURCE_REMOVE;
}

void rtc_peer_schedule_flush(struct rtc_peer *p)
{
	if (p->flush_src || p->dead)
		return;
	p->flush_src = g_idle_source_new();
	g_source_set_priority(p->flush_src, G_PRIORITY_HIGH);
	g_source_set_callback(p->flush_src, on_flush, p, NULL);
	g_source_attach(p->flush_src, p->ctx);
}

/* The selected path died (ICE failed or consent lost after connecting, or silence): reports it
 * through ops.ice_path and returns true, or returns false when the caller must fail the peer
 * (no ice_path callback, or DTLS never came up). */
static bool path_lost(struct rtc_peer *p, const char *why)
{
	if (!p->ops.ice_path || !rtc_dtls_up(&p->dtls) || p->state >= RTC_STATE_FAILED)
		return false;
	if (rtc_restart_path_lost(&p->restart) == RTC_PATH_REPORT_NONE)
		return true;	/* already reported */
	rg_log(RG_LOG_INFO, "%s: ICE path lost (%s); waiting for an ICE restart", p->log_id, why);
	rtc_sctp_set_settled(false);
	p->ops.ice_path(p->opaque, false, why);
	return true;
}

/* An idle pair needs no SCTP heartbeats when ICE consent traffic proves it alive: the pair has
 * a socket of its own, whose last receive time rtc_ice_tick reads before it calls the path
 * silent, and the consent timeout spans RTC_QUIET_CONSENT_CHECKS of libnice's consent
 * intervals (the default 30 s does; the tests' 1-2 s do not). Heartbeats cost 4 datagrams
 * per peer every consent timeout / 4, each a DTLS record through usrsctp on both sides. */
static bool quiet_pair(const struct rtc_peer *p)
{
	return rtc_ice_hears_consent(&p->ice) &&
	       p->consent_timeout_ms >= RTC_QUIET_CONSENT_CHECKS * RTC_CONSENT_INTERVAL_MAX_MS;
}

/* ICE callbacks (struct rtc_ice_ops): the peer reacts to what its ICE layer reports. */

/* A pair was selected: ends a loss or a restart (ops.ice_path(up)). */
static void ice_pair_selected(void *opaque)
{
	struct rtc_peer *p = opaque;
	enum rtc_path_report r = rtc_restart_pair_selected(&p->restart);

	if (r == RTC_PATH_REPORT_NONE)
		return;
	rtc_ice_rearm(&p->ice, rg_mono_ns(), RTC_ICE_LIVE_UNANSWERED | RTC_ICE_LIVE_SILENT);
	rg_log(RG_LOG_INFO, "%s: ICE path %s after the restart", p->log_id,
	       r == RTC_PATH_REPORT_BACK ? "back" : "renewed");
	if (p->ops.ice_path && !p->dead)
		p->ops.ice_path(p->opaque, true, NULL);
}

/* A (new) selected pair, announced or found silently: the path-MTU probe and the direct path
 * look at it. */
static void ice_new_pair(void *opaque)
{
	struct rtc_peer *p = opaque;
	int r;

	if (p->dead)
		return;
	r = rtc_sctp_set_heartbeat(&p->sctp, !quiet_pair(p));

	if (r < 0)
		rg_log(RG_LOG_WARN, "%s: cannot switch SCTP heartbeats: %s", p->log_id,
		       g_strerror(-r));
	rtc_probe_on_pair(&p->probe);
	rtc_direct_on_change(&p->direct, rtc_dtls_up(&p->dtls), rg_mono_ns());
}

static void ice_failed(void *opaque, bool was_connected)
{
	struct rtc_peer *p = opaque;

	/* After a restart this is the new checks failing: the path is already reported lost, or
	 * the caller's restart timer decides. */
	if (was_connected &&
	    path_lost(p, rtc_restart_state(&p->restart) != RTC_RESTART_NONE
			 ? "ICE failed after the restart" : "ICE consent lost"))
		return;
	rtc_peer_fail(p, was_connected ? "ICE consent lost" : "ICE failed");
}

static void tick_peer(struct rtc_peer *p, uint64_t now)
{
	unsigned ev = rtc_ice_tick(&p->ice, now,
				   (uint64_t)p->path_silence_ms * RG_NSEC_PER_MSEC,
				   p->sctp.hb_off ? (uint64_t)RTC_QUIET_SILENCE_MS * RG_NSEC_PER_MSEC : 0,
				   (uint64_t)p->consent_timeout_ms * RG_NSEC_PER_MSEC);

	if ((ev & RTC_ICE_LIVE_RX) && !p->dead &&
	    rtc_restart_rx(&p->restart) == RTC_PATH_REPORT_AGAIN) {
		rg_log(RG_LOG_INFO, "%s: ICE path works again", p->log_id);
		if (p->ops.ice_path)
			p->ops.ice_path(p->opaque, true, "packets arrive again");
	}
	if (p->state >= RTC_STATE_FAILED)
		return;
	rtc_direct_tick(&p->direct, now);
	/* Sending but hearing nothing: SCTP acknowledges DATA within its delayed-ACK time
	 * (200 ms), so a live path is never silent this long while we send. On a quiet pair
	 * (no heartbeats) libnice's unanswered consent checks count as sending. */
	if ((ev & RTC_ICE_LIVE_UNANSWERED) && rtc_restart_watching(&p->restart)) {
		char why[64];

		if (p->ice.unanswered_tx_ns)
			g_snprintf(why, sizeof(why), "sent for %u ms without hearing back",
				   p->path_silence_ms);
		else
			g_snprintf(why, sizeof(why), "nothing received for %u ms",
				   (unsigned)RTC_QUIET_SILENCE_MS);
		path_lost(p, why);
		rtc_ice_rearm(&p->ice, now, RTC_ICE_LIVE_UNANSWERED);
	}
	/* Covers a path that dies mid-handshake too: libnice's consent check (RFC 7675) and
	 * SCTP heartbeats keep a live path from ever being this quiet. A caller that restarts
	 * ICE (ops.ice_path) gets one more consent timeout for it. */
	if (ev & RTC_ICE_LIVE_SILENT) {
		if (!rtc_restart_lost(&p->restart) && path_lost(p, "no packets within the consent timeout"))
			rtc_ice_rearm(&p->ice, now, RTC_ICE_LIVE_SILENT);
		else
			rtc_peer_fail(p, "no packets from the remote side within the consent timeout");
	}
	rtc_probe_tick(&p->probe, now);	/* a no-op once the peer failed (rtc_probe_stop) */
}


/* One liveness tick for every peer on a GMainContext, not one timer per peer: idle wakeups stay
 * flat in the number of peers (issue 20). A peer joins in rtc_peer_new and leaves in
 * rtc_peer_free; a peer freed by a callback during the tick leaves a NULL that the tick
 * compacts afterwards. The tick also tells sctp.c whether every peer is settled. */
struct ticker {
	GMainContext *ctx;	/* not owned: every listed peer holds a ref */
	GSource *src;		/* owned */
	GPtrArray *peers;	/* struct rtc_peer *, not owned */
	bool running;
};

static GSList *tickers;	/* struct ticker *, one per context with peers */

static struct ticker *ticker_find(GMainContext *ctx)
{
	for (GSList *l = tickers; l; l = l->next)
		if (((struct ticker *)l->data)->ctx == ctx)
			return l->data;
	return NULL;
}

static void ticker_free(struct ticker *t)
{
	tickers = g_slist_remove(tickers, t);
	g_source_unref(t->src);
	g_ptr_array_free(t->peers, TRUE);
	g_free(t);
}

static gboolean on_tick(gpointer data)
{
	struct ticker *t = data;
	uint64_t now = rg_mono_ns();
	bool all_settled = true;

	t->running = true;
	for (guint i = 0; i < t->peers->len; i++)
		if (t->peers->pdata[i])
			tick_peer(t->peers->pdata[i], now);
	for (guint i = 0; i < t->peers->len; i++)
		if (t->peers->pdata[i] && !settled(t->peers->pdata[i]))
			all_settled = false;
	rtc_sctp_set_settled(all_settled);
	t->running = false;
	for (guint i = t->peers->len; i-- > 0;)
		if (!t->peers->pdata[i])
			g_ptr_array_remove_index_fast(t->peers, i);
	if (t->peers->len)
		return G_SOURCE_CONTINUE;
	ticker_free(t);		/* every peer was freed during this tick */
	return G_SOURCE_REMOVE;
}

static void ticker_add(struct rtc_peer *p)
{
	struct ticker *t = ticker_find(p->ctx);

	if (!t) {
		t = g_new0(struct ticker, 1);
		t->ctx = p->ctx;
		t->peers = g_ptr_array_new();
		t->src = g_timeout_source_new(TICK_MS);
		g_source_set_callback(t->src, on_tick, t, NULL);
		g_source_attach(t->src, t->ctx);
		tickers = g_slist_prepend(tickers, t);
	}
	g_ptr_array_add(t->peers, p);
	p->ticking = true;
	rtc_sctp_set_settled(false);	/* fine timers while it connects */
}

static void ticker_remove(struct rtc_peer *p)
{
	struct ticker *t = p->ticking ? ticker_find(p->ctx) : NULL;
	guint i;

	p->ticking = false;
	if (!t || !g_ptr_array_find(t->peers, p, &i))
		return;
	if (t->running) {
		t->peers->pdata[i] = NULL;	/* on_tick compacts */
		return;
	}
	g_ptr_array_remove_index_fast(t->peers, i);
	if (t->peers->len)
		return;
	g_source_destroy(t->src);
	ticker_free(t);
}

static void assign_stream(struct rtc_peer *p, struct rtc_channel *ch)
{
	/* DTLS client: even ids; server: odd ids. */
	for (unsigned sid = rtc_dtls_is_client(&p->dtls) ? 0 : 1; sid < p->max_streams; sid += 2)
		if (!p->by_stream[sid]) {
			ch->stream = (uint16_t)sid;
			p->by_stream[sid] = ch;
			return;
		}
}

static int send_open(struct rtc_peer *p, struct rtc_channel *ch)
{
	uint8_t buf[RTC_DCEP_OPEN_HDR + RTC_LABEL_MAX];
	struct rtc_dcep_open o = {
		.channel_type = (uint8_t)((ch->max_retransmits >= 0 ? RTC_DCEP_PARTIAL_RELIABLE_REXMIT
								   : RTC_DCEP_RELIABLE) |
					  (ch->ordered ? 0 : RTC_DCEP_UNORDERED)),
		.priority = 256,
		.reliability = ch->max_retransmits >= 0 ? (uint32_t)ch->max_retransmits : 0,
		.label = (const uint8_t *)ch->label,
		.label_len = (uint16_t)strlen(ch->label),
	};
	int n = rtc_dcep_encode_open(buf, sizeof(buf), &o);

	if (n < 0)
		return n;
	ch->state = RTC_CHAN_OPENING;
	/* DCEP messages go ordered and reliable (RFC 8832 §6). */
	return rtc_sctp_send(&p->sctp, ch->stream, RTC_PPID_DCEP, true, -1, buf, (size_t)n, false);
}

/* SCTP callbacks (struct rtc_sctp_ops). */

static int sctp_output(void *opaque, const void *buf, size_t len)
{
	struct rtc_peer *p = opaque;

	return p->dead ? -1 : rtc_dtls_write(&p->dtls, buf, len);
}

static void sctp_up(void *opaque)
{
	struct rtc_peer *p = opaque;

	rg_log(RG_LOG_INFO, "%s: SCTP association up", p->log_id);
	if (rtc_sctp_remote_rg(&p->sctp))	/* riftgate sends one record per datagram: trains split */
		rtc_ice_enable_gro(&p->ice);
	rtc_peer_set_state(p, RTC_STATE_CONNECTED);
	for (guint i = 0; i < p->channels->len && p->state == RTC_STATE_CONNECTED; i++) {
		struct rtc_channel *ch = p->channels->pdata[i];

		if (ch->state != RTC_CHAN_PENDING)
			continue;
		assign_stream(p, ch);
		if (ch->stream == NO_STREAM || send_open(p, ch) < 0)
			rg_log(RG_LOG_WARN, "%s: cannot open channel '%s'", p->log_id, ch->label);
	}
}

static void sctp_down(void *opaque, bool failed)
{
	struct rtc_peer *p = opaque;

	if (p->closing)
		return;
	if (failed)
		rtc_peer_fail(p, "SCTP association lost");
	else
		go_down(p, RTC_STATE_CLOSED);
}

static void ice_connected(void *opaque)
{
	struct rtc_peer *p = opaque;

	rg_log(RG_LOG_INFO, "%s: ICE connected", p->log_id);
	rtc_dtls_transport_up(&p->dtls);
	rtc_dtls_kick(&p->dtls);
}

/* DTLS callbacks (struct rtc_dtls_ops). */

static void dtls_send(void *opaque, NiceOutputMessage *msgs, unsigned n)
{
	struct rtc_peer *p = opaque;

	if (!p->dead)
		rtc_ice_send(&p->ice, msgs, n);
}

static void dtls_flush_soon(void *opaque)
{
	rtc_peer_schedule_flush(opaque);
}

static bool dtls_up(void *opaque)
{
	struct rtc_peer *p = opaque;

	rtc_direct_on_change(&p->direct, true, rg_mono_ns());
	/* A path-MTU search first, when both sides probe: SCTP starts when it ends. */
	if (!rtc_probe_on_dtls_up(&p->probe, p->remote && p->remote->rg_pmtu_probe) &&
	    rtc_sctp_start(&p->sctp, rtc_probe_mtu(&p->probe)) < 0)
		rtc_peer_fail(p, "SCTP socket setup failed");
	return p->state < RTC_STATE_FAILED;
}

static bool dtls_record(void *opaque, uint8_t *buf, size_t len)
{
	struct rtc_peer *p = opaque;

	/* The remote's INIT may come while our path-MTU search holds SCTP back: kept (a few)
	 * for probe_search_done. */
	if (!rtc_sctp_started(&p->sctp)) {
		if (len >= RTC_SCTP_COMMON_HDR && rtc_probe_holds_sctp(&p->probe)) {
			if (!p->early)
				p->early = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
			if (p->early->len < RTC_EARLY_SCTP_MAX)
				g_ptr_array_add(p->early, g_bytes_new(buf, len));
		}
		return p->state < RTC_STATE_FAILED;
	}
	rtc_sctp_input(&p->sctp, buf, len);
	return p->state < RTC_STATE_FAILED;
}

static void dtls_closed(void *opaque)
{
	sctp_down(opaque, false);
}

static void dtls_failed(void *opaque, const char *why)
{
	rtc_peer_fail(opaque, why);
}

static const struct rtc_dtls_ops dtls_ops = {
	.send = dtls_send,
	.flush_soon = dtls_flush_soon,
	.up = dtls_up,
	.record = dtls_record,
	.closed = dtls_closed,
	.failed = dtls_failed,
};

static void ice_local_candidate(void *opaque, const char *cand)
{
	struct rtc_peer *p = opaque;

	if (!p->dead && p->ops.local_candidate)
		p->ops.local_candidate(p->opaque, cand);
}

static bool ice_datagram(void *opaque, const uint8_t *buf, size_t len)
{
	struct rtc_peer *p = opaque;

	/* RFC 7983 demultiplexing (wgframe.h): DTLS, and in the unassigned 4..15 our path-MTU
	 * probe and the direct path; anything else here is not ours. */
	switch (rtc_demux_classify(buf, len)) {
	case RTC_DEMUX_DTLS:
		if (p->state < RTC_STATE_FAILED && rtc_dtls_input(&p->dtls, buf, len))
			rtc_sctp_drain(&p->sctp);
		break;
	case RTC_DEMUX_PMTU:
		rtc_probe_input(&p->probe, buf, len, rtc_dtls_started(&p->dtls));
		break;
	case RTC_DEMUX_DIRECT:
		if (p->state < RTC_STATE_FAILED)
			rtc_direct_input(&p->direct, buf, len);
		break;
	default:
		break;
	}
	/* Replies (SACKs mostly) wait until libnice has read what the socket holds, then go out
	 * in one batch from the high-priority idle flush; a long burst still flushes every
	 * RTC_RX_FLUSH_EVERY datagrams so the sender's window keeps moving. */
	if (!p->dead && rtc_dtls_pending(&p->dtls)) {
		if (rtc_dtls_rx_flush_due(&p->dtls))
			rtc_dtls_flush(&p->dtls);
		else
			rtc_peer_schedule_flush(p);
	}
	return !p->dead && p->state < RTC_STATE_FAILED;
}

/* Direct-path callbacks (struct rtc_direct_ops). */

static void direct_datagram(void *opaque, uint8_t *buf, size_t len)
{
	struct rtc_peer *p = opaque;

	if (!p->dead && p->ops.wg_datagram)
		p->ops.wg_datagram(p->opaque, buf, len);
}

static void direct_changed(void *opaque, bool up)
{
	struct rtc_peer *p = opaque;

	if (!p->dead && p->ops.direct_changed)
		p->ops.direct_changed(p->opaque, up);
}

static void direct_batch_end(void *opaque)
{
	struct rtc_peer *p = opaque;

	if (!p->dead && p->ops.wg_batch_end)
		p->ops.wg_batch_end(p->opaque);
}

static const struct rtc_direct_ops direct_ops = {
	.datagram = direct_datagram,
	.changed = direct_changed,
	.flush_soon = dtls_flush_soon,
	.batch_end = direct_batch_end,
};

static void ice_datagrams_done(void *opaque)
{
	struct rtc_peer *p = opaque;

	if (!p->dead)
		rtc_direct_input_done(&p->direct);
}

void rtc_peer_flush(struct rtc_peer *p)
{
	if (!p->flush_src)
		return;
	g_source_destroy(p->flush_src);
	on_flush(p);	/* unrefs and clears flush_src */
}

int rtc_peer_send_wg(struct rtc_peer *p, const void *buf, size_t len)
{
	if (p->dead)
		return -ENOTCONN;
	return rtc_direct_send(&p->direct, buf, len, rtc_peer_max_direct_datagram(p));
}

size_t rtc_peer_max_direct_datagram(const struct rtc_peer *p)
{
	return rtc_probe_mtu(&p->probe);
}

bool rtc_peer_direct_up(const struct rtc_peer *p)
{
	return rtc_direct_up(&p->direct);
}

static const struct rtc_ice_ops ice_ops = {
	.local_candidate = ice_local_candidate,
	.connected = ice_connected,
	.pair_selected = ice_pair_selected,
	.new_pair = ice_new_pair,
	.failed = ice_failed,
	.datagram = ice_datagram,
	.datagrams_done = ice_datagrams_done,
};

static void on_dcep(struct rtc_peer *p, uint16_t sid, const uint8_t *data, size_t len)
{
	struct rtc_channel *ch = sid < p->max_streams ? p->by_stream[sid] : NULL;
	struct rtc_dcep_open o;

	switch (rtc_dcep_msg_type(data, len)) {
	case RTC_DCEP_ACK:
		if (ch && ch->state == RTC_CHAN_OPENING) {
			ch->state = RTC_CHAN_OPEN;
			if (p->ops.channel_open)
				p->ops.channel_open(p->opaque, ch);
		}
		return;
	case RTC_DCEP_OPEN:
		if (!rtc_dcep_decode_open(&o, data, len) || sid >= p->max_streams) {
			rg_log(RG_LOG_DEBUG, "%s: malformed DATA_CHANNEL_OPEN on stream %u dropped",
			       p->log_id, sid);
			return;
		}
		if (ch) {
			rg_log(RG_LOG_DEBUG, "%s: DATA_CHANNEL_OPEN for busy stream %u dropped",
			       p->log_id, sid);
			return;
		}
		ch = g_new0(struct rtc_channel, 1);
		ch->peer = p;
		ch->stream = sid;
		ch->remote_opened = true;
		ch->ordered = !(o.channel_type & RTC_DCEP_UNORDERED);
		ch->max_retransmits = (o.channel_type & 0x7f) == RTC_DCEP_PARTIAL_RELIABLE_REXMIT
					      ? (int)MIN(o.reliability, (uint32_t)INT_MAX)
				      : (o.channel_type & 0x7f) == RTC_DCEP_PARTIAL_RELIABLE_TIMED
					      ? 0	/* timed: closest we have is unreliable */
					      : -1;
		memcpy(ch->label, o.label, MIN((size_t)o.label_len, (size_t)RTC_LABEL_MAX));
		for (size_t i = 0; i < RTC_LABEL_MAX && ch->label[i]; i++)
			if ((unsigned char)ch->label[i] < 0x20)
				ch->label[i] = '?';
		ch->state = RTC_CHAN_OPEN;
		p->by_stream[sid] = ch;
		g_ptr_array_add(p->channels, ch);
		/* The ACK goes out before anything we send on the channel (delivery runs after
		 * usrsctp returned, so sending here does not re-enter it). */
		{
			uint8_t ack = RTC_DCEP_ACK;

			rtc_sctp_send(&p->sctp, sid, RTC_PPID_DCEP, true, -1, &ack, 1, false);
		}
		rg_log(RG_LOG_INFO, "%s: remote opened channel '%s' on stream %u", p->log_id,
		       ch->label, sid);
		if (p->ops.channel_open)
			p->ops.channel_open(p->opaque, ch);
		return;
	default:
		rg_log(RG_LOG_DEBUG, "%s: unknown DCEP message dropped", p->log_id);
		return;
	}
}

void rtc_peer_on_message(struct rtc_peer *p, uint16_t sid, uint32_t ppid, const uint8_t *data,
			 size_t len)
{
	struct rtc_channel *ch;

	if (ppid == RTC_PPID_DCEP) {
		on_dcep(p, sid, data, len);
		return;
	}
	ch = sid < p->max_streams ? p->by_stream[sid] : NULL;
	if (!ch)
		return;
	/* Data before the ACK means the remote side has our OPEN (RFC 8832 §6). */
	if (ch->state == RTC_CHAN_OPENING) {
		ch->state = RTC_CHAN_OPEN;
		if (p->ops.channel_open)
			p->ops.channel_open(p->opaque, ch);
		if (p->by_stream[sid] != ch)
			return;
	}
	if (ch->state != RTC_CHAN_OPEN || !p->ops.channel_message)
		return;
	switch (ppid) {
	case RTC_PPID_STRING_EMPTY:
	case RTC_PPID_BINARY_EMPTY:
		p->ops.channel_message(p->opaque, ch, data, 0, ppid == RTC_PPID_BINARY_EMPTY);
		break;
	case RTC_PPID_STRING:
	case RTC_PPID_STRING_PARTIAL:
		p->ops.channel_message(p->opaque, ch, data, len, false);
		break;
	case RTC_PPID_BINARY:
	case RTC_PPID_BINARY_PARTIAL:
		p->ops.channel_message(p->opaque, ch, data, len, true);
		break;
	default:
		break;
	}
}

static void sctp_message(void *opaque, uint16_t sid, uint32_t ppid, const uint8_t *data,
			 size_t len)
{
	rtc_peer_on_message(opaque, sid, ppid, data, len);
}

static void sctp_stream_reset(void *opaque, uint16_t sid)
{
	struct rtc_peer *p = opaque;
	struct rtc_channel *ch = sid < p->max_streams ? p->by_stream[sid] : NULL;

	if (!ch)
		return;
	/* The remote side closed its direction; close ours too unless we started it. */
	if (ch->state != RTC_CHAN_CLOSING)
		rtc_sctp_reset_stream(&p->sctp, sid);
	channel_destroy(p, ch, true);
}

static void sctp_writable(void *opaque)
{
	struct rtc_peer *p = opaque;

	for (guint i = 0; i < p->channels->len && !p->dead; i++) {
		struct rtc_channel *ch = p->channels->pdata[i];

		if (ch->want_writable && ch->state == RTC_CHAN_OPEN) {
			ch->want_writable = false;
			if (p->ops.channel_writable)
				p->ops.channel_writable(p->opaque, ch);
		}
	}
}

static const struct rtc_sctp_ops sctp_ops = {
	.output = sctp_output,
	.up = sctp_up,
	.down = sctp_down,
	.message = sctp_message,
	.stream_reset = sctp_stream_reset,
	.writable = sctp_writable,
};

/* Path-MTU callbacks (struct rtc_probe_ops). */

/* A new size in use: DTLS's handshake MTU; once SCTP runs, SCTP (only downwards) and the
 * caller. */
static void probe_mtu_changed(void *opaque, unsigned mtu, bool locked)
{
	struct rtc_peer *p = opaque;

	rtc_dtls_set_mtu(&p->dtls, mtu);
	if (!locked)
		return;
	if (rtc_sctp_set_path_mtu(&p->sctp, mtu) < 0)
		rg_log(RG_LOG_WARN, "%s: cannot lower the SCTP path MTU: %s", p->log_id,
		       g_strerror(errno));
	if (p->ops.path_mtu_changed && !p->dead)
		p->ops.path_mtu_changed(p->opaque, rtc_peer_max_packet_message(p));
}

/* The first search is over: SCTP starts at the size found, then takes what came early. */
static void probe_search_done(void *opaque)
{
	struct rtc_peer *p = opaque;

	if (rtc_sctp_start(&p->sctp, rtc_probe_mtu(&p->probe)) < 0) {
		rtc_peer_fail(p, "SCTP socket setup failed");
		return;
	}
	for (guint i = 0; p->early && i < p->early->len && !p->dead && rtc_sctp_started(&p->sctp);
	     i++) {
		gsize n;
		const uint8_t *d = g_bytes_get_data(p->early->pdata[i], &n);
		uint8_t *copy = g_memdup2(d, n);

		rtc_sctp_input(&p->sctp, copy, n);
		g_free(copy);
	}
	if (p->early)
		g_ptr_array_set_size(p->early, 0);
	if (!p->dead && rtc_sctp_started(&p->sctp))
		rtc_sctp_drain(&p->sctp);
}

static const struct rtc_probe_ops probe_ops = {
	.mtu_changed = probe_mtu_changed,
	.search_done = probe_search_done,
};

int rtc_peer_new(struct rtc_peer **out, GMainContext *ctx, const struct rtc_config *cfg,
		 const struct rtc_peer_ops *ops, void *opaque, struct rg_err *err)
{
	static const struct rtc_config defaults = { 0 };
	struct rtc_peer *p;
	int ret;

	*out = NULL;
	if (!cfg)
		cfg = &defaults;
	if (cfg->path_mtu && (cfg->path_mtu < 576 || cfg->path_mtu > 9000))
		return rg_err_set(err, -EINVAL, "rtc: path_mtu %u outside 576-9000", cfg->path_mtu);
	p = g_new0(struct rtc_peer, 1);
	p->ctx = g_main_context_ref(ctx ? ctx : g_main_context_default());
	if (ops)
		p->ops = *ops;
	p->opaque = opaque;
	p->state = RTC_STATE_NEW;
	g_strlcpy(p->log_id, cfg->log_id ? cfg->log_id : "rtc", sizeof(p->log_id));
	rtc_probe_init(&p->probe, p->ctx, p->log_id, &p->ice, cfg, &probe_ops, p);
	rtc_direct_init(&p->direct, p->log_id, &p->ice, cfg->direct_path && p->ops.wg_datagram,
			&direct_ops, p);
	p->consent_timeout_ms = cfg->consent_timeout_ms ? cfg->consent_timeout_ms
							: RTC_DEFAULT_CONSENT_TIMEOUT_MS;
	p->path_silence_ms = cfg->path_silence_ms;
	p->no_crc32c_offload = cfg->no_crc32c_offload;
	p->max_streams = cfg->max_streams && cfg->max_streams < RTC_MAX_CHANNELS ? cfg->max_streams
										 : RTC_MAX_CHANNELS;
	p->session_id = ((uint64_t)g_random_int() << 32 | g_random_int()) & INT64_MAX;
	p->remote_max_msg = 65536;
	p->channels = g_ptr_array_new_with_free_func(g_free);
	p->by_stream = g_new0(struct rtc_channel *, p->max_streams);
	if ((ret = rtc_dtls_global_ref(err)) < 0) {
		g_main_context_unref(p->ctx);
		g_ptr_array_free(p->channels, TRUE);
		g_free(p->by_stream);
		g_free(p);
		return ret;
	}
	rtc_dtls_init(&p->dtls, p->ctx, p->log_id, &dtls_ops, p);
	rtc_sctp_global_ref(p->ctx);
	rtc_sctp_init(&p->sctp, p->log_id, p->consent_timeout_ms, &sctp_ops, p);
	rtc_sctp_set_streams(&p->sctp, p->max_streams);
	if ((ret = rtc_ice_init(&p->ice, p->ctx, p->log_id, cfg, &ice_ops, p, err)) < 0) {
		rtc_peer_free(p);
		return ret;
	}
	ticker_add(p);
	*out = p;
	return 0;
}

void rtc_peer_free(struct rtc_peer *p)
{
	if (!p)
		return;
	p->dead = true;		/* no callbacks from here on */
	ticker_remove(p);
	if (p->flush_src) {
		g_source_destroy(p->flush_src);
		g_source_unref(p->flush_src);
	}
	rtc_direct_clear(&p->direct);
	rtc_probe_clear(&p->probe);
	if (p->early)
		g_ptr_array_free(p->early, TRUE);
	rtc_sctp_clear(&p->sctp);	/* reverse order of setup */
	rtc_dtls_clear(&p->dtls);
	rtc_ice_clear(&p->ice);
	if (p->channels)
		g_ptr_array_free(p->channels, TRUE);
	g_free(p->by_stream);
	g_free(p->remote);
	rtc_sctp_global_unref();
	rtc_dtls_global_unref();
	g_main_context_unref(p->ctx);
	g_free(p);
}

void rtc_peer_close(struct rtc_peer *p)
{
	if (!p || p->closing || p->state == RTC_STATE_CLOSED)
		return;
	p->closing = true;
	close_all_channels(p);
	rtc_sctp_shutdown(&p->sctp);
	rtc_dtls_flush(&p->dtls);
	rtc_dtls_shutdown(&p->dtls);
	rtc_peer_set_state(p, RTC_STATE_CLOSED);
}

static void fill_local(struct rtc_peer *p, enum rtc_setup setup, const char *mid)
{
	struct rtc_sdp *d = &p->local;

	memset(d, 0, sizeof(*d));
	g_strlcpy(d->ufrag, rtc_ice_ufrag(&p->ice), sizeof(d->ufrag));
	g_strlcpy(d->pwd, rtc_ice_pwd(&p->ice), sizeof(d->pwd));
	rtc_dtls_local_fingerprint(d->fingerprint);
	d->setup = setup;
	g_strlcpy(d->mid, mid, sizeof(d->mid));
	d->sctp_port = RTC_SCTP_PORT;
	d->max_message_size = RTC_MAX_MESSAGE_SIZE;
	d->trickle = true;
	d->rg_crc32c_offload = !p->no_crc32c_offload;
	d->rg_pmtu_probe = true;	/* we always answer probes */
	d->rg_wg_direct = rtc_direct_advertise(&p->direct);
}

static int format_local(struct rtc_peer *p, char **sdp_out, struct rg_err *err)
{
	/* A description of an established connection (after an ICE restart, or said again) lists
	 * the candidates gathered so far: trickled ones may have been lost with an earlier copy. */
	if (rtc_restart_take_list_cands(&p->restart) || rtc_dtls_started(&p->dtls)) {
		p->local.n_cands = rtc_ice_local_candidates(&p->ice, p->local.cands, RTC_SDP_MAX_CANDS);
		p->local.end_of_candidates = rtc_ice_gathered(&p->ice);	/* else more are trickled */
	}
	char *s = rtc_sdp_format(&p->local, p->session_id);

	if (!s)
		return rg_err_set(err, -ENOMEM, "rtc: cannot format SDP");
	*sdp_out = g_strdup(s);
	free(s);
	return 0;
}

int rtc_peer_create_offer(struct rtc_peer *p, char **sdp_out, struct rg_err *err)
{
	int ret;

	*sdp_out = NULL;
	if (p->state >= RTC_STATE_FAILED)
		return rg_err_set(err, -ENOTCONN, "rtc: peer is %s", rtc_state_name(p->state));
	if (p->have_remote && !p->offerer && !rtc_dtls_started(&p->dtls))
		return rg_err_set(err, -EBUSY, "rtc: remote offer pending; create an answer");
	/* A re-offer (ICE restart) may come from either side; DTLS keeps its roles. */
	p->offerer = true;
	rtc_ice_set_controlling(&p->ice, true);
	fill_local(p, RTC_SETUP_ACTPASS, p->remote ? p->remote->mid : "0");
	if (p->remote)
		p->local.legacy = p->remote->legacy;
	if ((ret = format_local(p, sdp_out, err)) < 0)
		return ret;
	p->have_local = true;
	if ((ret = rtc_ice_gather(&p->ice)) < 0) {
		g_free(*sdp_out);
		*sdp_out = NULL;
		return rg_err_set(err, ret, "rtc: ICE gathering failed to start");
	}
	rtc_restart_offer_sent(&p->restart);
	return 0;
}

/* Applies what the remote description says about DTLS and SCTP. */
static int apply_remote(struct rtc_peer *p, const struct rtc_sdp *r, bool we_are_client)
{
	int ret;

	rtc_dtls_set_remote_fp(&p->dtls, r->fingerprint);
	rtc_sctp_set_remote_port(&p->sctp, r->sctp_port);
	rtc_sctp_set_remote_rg(&p->sctp, r->rg_crc32c_offload,
			       r->rg_crc32c_offload && !p->no_crc32c_offload);
	rtc_direct_set_remote(&p->direct, r->rg_wg_direct);
	p->remote_max_msg = r->max_message_size ? r->max_message_size : 65536;
	if ((ret = rtc_ice_set_remote(&p->ice, r)) < 0)
		return ret;
	if ((ret = rtc_dtls_start(&p->dtls, we_are_client, rtc_probe_mtu(&p->probe))) < 0)
		return ret;
	rtc_peer_set_state(p, RTC_STATE_CHECKING);
	if (rtc_ice_connected(&p->ice))
		rtc_dtls_kick(&p->dtls);
	return 0;
}

int rtc_peer_set_remote_description(struct rtc_peer *p, enum rtc_sdp_type type, const char *sdp,
				    struct rg_err *err)
{
	struct rtc_sdp *r;
	int ret;

	if (!sdp)
		return rg_err_set(err, -EINVAL, "rtc: no SDP");
	if (p->state >= RTC_STATE_FAILED)
		return rg_err_set(err, -ENOTCONN, "rtc: peer is %s", rtc_state_name(p->state));
	r = g_new(struct rtc_sdp, 1);
	if ((ret = rtc_sdp_parse(r, sdp, strlen(sdp), err)) < 0)
		goto out;
	if (type == RTC_SDP_OFFER && rtc_dtls_started(&p->dtls) && p->remote) {
		/* Re-offer on an established session: ICE restart when the credentials
		 * changed (RFC 8445 §9); DTLS and SCTP carry on. */
		bool restart = strcmp(r->ufrag, p->remote->ufrag) || strcmp(r->pwd, p->remote->pwd);

		if (r->has_session_id != p->remote->has_session_id ||
		    r->session_id != p->remote->session_id ||
		    memcmp(r->fingerprint, p->remote->fingerprint, RTC_FP_LEN) != 0) {
			ret = rg_err_set(err, -EINVAL, "rtc: re-offer from another peer connection "
						       "(o= sess-id or fingerprint changed)");
			goto out;
		}
		/* Glare: our own offer is rolled back. If it restarted ICE and is unanswered, its
		 * fresh credentials serve this answer: no second restart. */
		if (rtc_restart_remote_needs_ice(&p->restart, restart) &&
		    (ret = rtc_ice_restart(&p->ice)) < 0) {
			ret = rg_err_set(err, ret, "rtc: ICE restart failed");
			goto out;
		}
		rtc_restart_remote_taken(&p->restart, restart);
		rtc_sctp_set_settled(false);
		rtc_ice_set_controlling(&p->ice, false);
		p->offerer = false;
		g_free(p->remote);
		p->remote = r;
		r = NULL;
		/* A repeated offer after our own restart: libnice dropped the remote credentials. */
		if ((restart || !rtc_ice_has_remote_creds(&p->ice)) && (ret = rtc_ice_set_remote(&p->ice, p->remote)) < 0)
			ret = rg_err_set(err, ret, "rtc: libnice refused the remote credentials");
		goto out;
	}
	if (type == RTC_SDP_OFFER) {
		if (p->offerer || p->have_remote) {
			ret = rg_err_set(err, -EBUSY, "rtc: unexpected offer (renegotiation is not "
						      "supported; use ICE restart)");
			goto out;
		}
		rtc_ice_set_controlling(&p->ice, false);
		g_free(p->remote);
		p->remote = r;
		r = NULL;
		p->have_remote = true;
		/* Credentials and candidates go to libnice now; DTLS waits for our answer. */
		rtc_dtls_set_remote_fp(&p->dtls, p->remote->fingerprint);
		p->remote_max_msg = p->remote->max_message_size ? p->remote->max_message_size
								: 65536;
		rtc_sctp_set_remote_port(&p->sctp, p->remote->sctp_port);
		if ((ret = rtc_ice_set_remote(&p->ice, p->remote)) < 0)
			ret = rg_err_set(err, ret, "rtc: libnice refused the remote credentials");
		goto out;
	}
	/* answer */
	if (!p->offerer || !p->have_local || !rtc_restart_answer_expected(&p->restart)) {
		ret = rg_err_set(err, -EBUSY, p->offerer && p->have_local
					      ? "rtc: answer with no offer outstanding (stale or repeated)"
					      : "rtc: answer without our offer");
		goto out;
	}
	if (r->setup == RTC_SETUP_ACTPASS) {
		ret = rg_err_set(err, -EINVAL, "rtc: answer must say a=setup:active or passive");
		goto out;
	}
	if (p->have_remote && rtc_dtls_started(&p->dtls)) {
		/* A later answer (after ICE restart): only ICE changes. */
		if (memcmp(r->fingerprint, p->remote->fingerprint, RTC_FP_LEN) != 0) {
			ret = rg_err_set(err, -EINVAL, "rtc: answer changes the DTLS fingerprint");
			goto out;
		}
		if ((ret = rtc_ice_set_remote(&p->ice, r)) < 0) {
			ret = rg_err_set(err, ret, "rtc: libnice refused the remote credentials");
			goto out;
		}
		g_free(p->remote);
		p->remote = r;
		r = NULL;
		rtc_restart_answer_taken(&p->restart);
		goto out;
	}
	g_free(p->remote);
	p->remote = r;
	r = NULL;
	p->have_remote = true;
	if ((ret = apply_remote(p, p->remote, p->remote->setup == RTC_SETUP_PASSIVE)) < 0)
		ret = rg_err_set(err, ret, "rtc: cannot apply the remote answer");
	else
		rtc_restart_answer_taken(&p->restart);
out:
	g_free(r);
	return ret;
}

int rtc_peer_create_answer(struct rtc_peer *p, char **sdp_out, struct rg_err *err)
{
	bool client;
	int ret;

	*sdp_out = NULL;
	if (p->offerer || !p->have_remote)
		return rg_err_set(err, -EBUSY, "rtc: no remote offer to answer");
	if (p->state >= RTC_STATE_FAILED)
		return rg_err_set(err, -ENOTCONN, "rtc: peer is %s", rtc_state_name(p->state));
	/* We take the DTLS client role unless the offer insists on it; an established session
	 * keeps the role it has. */
	client = rtc_dtls_started(&p->dtls) ? rtc_dtls_is_client(&p->dtls) : p->remote->setup != RTC_SETUP_ACTIVE;
	fill_local(p, client ? RTC_SETUP_ACTIVE : RTC_SETUP_PASSIVE, p->remote->mid);
	p->local.legacy = p->remote->legacy;
	if ((ret = format_local(p, sdp_out, err)) < 0)
		return ret;
	p->have_local = true;
	rtc_sctp_set_remote_rg(&p->sctp, p->remote->rg_crc32c_offload,
			       p->remote->rg_crc32c_offload && !p->no_crc32c_offload);
	rtc_direct_set_remote(&p->direct, p->remote->rg_wg_direct);
	if ((ret = rtc_dtls_start(&p->dtls, client, rtc_probe_mtu(&p->probe))) < 0 ||
	    (ret = rtc_ice_gather(&p->ice)) < 0) {
		g_free(*sdp_out);
		*sdp_out = NULL;
		return rg_err_set(err, ret, "rtc: cannot start DTLS or ICE gathering");
	}
	if (p->state == RTC_STATE_NEW)
		rtc_peer_set_state(p, RTC_STATE_CHECKING);
	if (rtc_ice_connected(&p->ice))
		rtc_dtls_kick(&p->dtls);
	return 0;
}

int rtc_peer_add_remote_candidate(struct rtc_peer *p, const char *candidate, struct rg_err *err)
{
	struct rtc_cand c;
	int ret;

	if (!candidate || !*candidate) {
		rtc_ice_end_of_candidates(&p->ice);
		return 0;
	}
	if ((ret = rtc_cand_parse(&c, candidate, strlen(candidate), err)) < 0)
		return ret;
	if ((ret = rtc_ice_add_candidate(&p->ice, &c)) < 0)
		return rg_err_set(err, ret, "rtc: candidate '%.60s' not accepted", candidate);
	return 0;
}

int rtc_peer_restart_ice(struct rtc_peer *p)
{
	int ret;

	if (p->state >= RTC_STATE_FAILED)
		return -ENOTCONN;
	if (rtc_restart_answer_expected(&p->restart))
		return -EBUSY;
	if ((ret = rtc_ice_restart(&p->ice)) == 0) {
		rtc_restart_local(&p->restart);
		rtc_sctp_set_settled(false);
	}
	return ret;
}

enum rtc_restart_state rtc_peer_restart_state(const struct rtc_peer *p)
{
	return rtc_restart_state(&p->restart);
}

bool rtc_peer_restart_pending(const struct rtc_peer *p)
{
	return rtc_restart_pending(&p->restart);
}

bool rtc_peer_path_lost(const struct rtc_peer *p)
{
	return rtc_restart_lost(&p->restart);
}

int rtc_peer_set_local_addrs(struct rtc_peer *p, const char *const *addrs, size_t n)
{
	return rtc_ice_set_local_addrs(&p->ice, addrs, n);
}

enum rtc_offer_kind rtc_peer_offer_kind(struct rtc_peer *p, const char *sdp)
{
	enum rtc_offer_kind kind = RTC_OFFER_NEW;
	struct rtc_sdp *r;

	if (!sdp || !p->remote || !rtc_dtls_started(&p->dtls) || p->state >= RTC_STATE_FAILED)
		return RTC_OFFER_NEW;
	r = g_new(struct rtc_sdp, 1);
	if (rtc_sdp_parse(r, sdp, strlen(sdp), NULL) == 0 && r->has_session_id &&
	    p->remote->has_session_id && r->session_id == p->remote->session_id &&
	    memcmp(r->fingerprint, p->remote->fingerprint, RTC_FP_LEN) == 0)
		kind = strcmp(r->ufrag, p->remote->ufrag) || strcmp(r->pwd, p->remote->pwd)
			       ? RTC_OFFER_RESTART : RTC_OFFER_REPEAT;
	g_free(r);
	return kind;
}

enum rtc_state rtc_peer_state(const struct rtc_peer *p)
{
	return p->state;
}

void rtc_peer_get_stats(struct rtc_peer *p, struct rtc_stats *st)
{
	memset(st, 0, sizeof(*st));
	rtc_ice_stats(&p->ice, st);
	st->rtt_ms = rtc_sctp_rtt_ms(&p->sctp);
	st->max_packet_message = rtc_peer_max_packet_message(p);
	st->path_mtu = rtc_probe_mtu(&p->probe);
	st->path_mtu_state = rtc_probe_state(&p->probe);
	rtc_direct_stats(&p->direct, st);
}

size_t rtc_max_packet_message_at(unsigned path_mtu)
{
	/* A multiple of 4: the DATA chunk needs no padding, so the packet is exactly this plus
	 * 28 bytes, within the path MTU less DTLS's 37, whatever usrsctp bundles with it. */
	return ((size_t)path_mtu - RTC_DTLS_OVERHEAD - RTC_SCTP_DATA_OVERHEAD) & ~(size_t)3;
}

size_t rtc_peer_max_packet_message(const struct rtc_peer *p)
{
	return rtc_max_packet_message_at(rtc_probe_mtu(&p->probe));
}

size_t rtc_peer_max_message_size(const struct rtc_peer *p)
{
	return MIN((size_t)RTC_MAX_MESSAGE_SIZE, p->remote_max_msg);
}

int rtc_peer_create_channel(struct rtc_peer *p, const char *label, bool ordered,
			    int max_retransmits, struct rtc_channel **out)
{
	struct rtc_channel *ch;
	int ret;

	if (out)
		*out = NULL;
	if (p->state >= RTC_STATE_FAILED || p->closing || p->going_down)
		return -ENOTCONN;
	if (!label || strlen(label) > RTC_LABEL_MAX)
		return -EINVAL;
	ch = g_new0(struct rtc_channel, 1);
	ch->peer = p;
	ch->stream = NO_STREAM;
	ch->ordered = ordered;
	ch->max_retransmits = max_retransmits < 0 ? -1 : max_retransmits;
	g_strlcpy(ch->label, label, sizeof(ch->label));
	ch->state = RTC_CHAN_PENDING;
	g_ptr_array_add(p->channels, ch);
	if (out)
		*out = ch;
	if (p->state == RTC_STATE_CONNECTED) {
		assign_stream(p, ch);
		if (ch->stream == NO_STREAM) {
			g_ptr_array_remove_fast(p->channels, ch);
			if (out)
				*out = NULL;
			return -ENOSPC;
		}
		if ((ret = send_open(p, ch)) < 0) {
			channel_destroy(p, ch, false);
			if (out)
				*out = NULL;
			return ret;
		}
	}
	return 0;
}

int rtc_channel_send(struct rtc_channel *ch, const void *data, size_t len, bool binary)
{
	return rtc_channel_send_flags(ch, data, len, binary, 0);
}

int rtc_channel_send_flags(struct rtc_channel *ch, const void *data, size_t len, bool binary,
			   unsigned flags)
{
	struct rtc_peer *p = ch->peer;
	static const uint8_t zero;
	uint32_t ppid;
	int ret;

	if (ch->state != RTC_CHAN_OPEN || p->state != RTC_STATE_CONNECTED)
		return -ENOTCONN;
	if (len > rtc_peer_max_message_size(p))
		return -EMSGSIZE;
	if (len == 0) {
		/* RFC 8831 §6.6: empty messages carry one byte with the "empty" PPID. */
		ppid = binary ? RTC_PPID_BINARY_EMPTY : RTC_PPID_STRING_EMPTY;
		data = &zero;
		len = 1;
	} else {
		ppid = binary ? RTC_PPID_BINARY : RTC_PPID_STRING;
	}
	ret = rtc_sctp_send(&p->sctp, ch->stream, ppid, ch->ordered, ch->max_retransmits, data, len,
			    flags & RTC_SEND_MORE);
	if (ret == -EAGAIN)
		ch->want_writable = true;
	return ret;
}

void rtc_channel_close(struct rtc_channel *ch)
{
	struct rtc_peer *p = ch->peer;

	if (ch->state == RTC_CHAN_CLOSING)
		return;
	if (ch->stream == NO_STREAM || !rtc_sctp_is_up(&p->sctp)) {
		channel_destroy(p, ch, true);
		return;
	}
	ch->state = RTC_CHAN_CLOSING;
	rtc_sctp_reset_stream(&p->sctp, ch->stream);
}

const char *rtc_channel_label(const struct rtc_channel *ch)
{
	return ch->label;
}

uint16_t rtc_channel_stream(const struct rtc_channel *ch)
{
	return ch->stream;
}

bool rtc_channel_ordered(const struct rtc_channel *ch)
{
	return ch->ordered;
}

int rtc_channel_max_retransmits(const struct rtc_channel *ch)
{
	return ch->max_retransmits;
}

bool rtc_channel_is_open(const struct rtc_channel *ch)
{
	return ch->state == RTC_CHAN_OPEN;
}

size_t rtc_channel_buffered(const struct rtc_channel *ch)
{
	return rtc_sctp_buffered(&ch->peer->sctp);
}

void rtc_channel_set_opaque(struct rtc_channel *ch, void *opaque)
{
	ch->opaque = opaque;
}

void *rtc_channel_opaque(const struct rtc_channel *ch)
{
	return ch->opaque;
}

struct rtc_peer *rtc_channel_peer(const struct rtc_channel *ch)
{
	return ch->peer;
}
