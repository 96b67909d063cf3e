/* SCTP over DTLS (RFC 8261) with usrsctp in AF_CONN mode: usrsctp never touches a socket; it
 * hands us packets through conn_output() and we feed it decrypted records with
 * usrsctp_conninput(). usrsctp is process-wide: one ref-counted global owns
 * usrsctp_init_nothreads() and the GLib timer that calls usrsctp_handle_timers().
 * usrsctp knows each peer only by a random 32-bit id (sconn_addr and ulp_info); the id table maps
 * it back to the struct rtc_sctp, so a callback that arrives after rtc_sctp_clear finds nothing.
 * peer.c owns the layer (sctp.h); packets go down and events up through struct rtc_sctp_ops.
 * Rules: conn_output() only encrypts into the DTLS write BIO (never calls usrsctp);
 * receive_cb()/send_cb() only queue; the queue is drained (and user callbacks run) after the
 * usrsctp call returns, from the loop — so usrsctp is never re-entered from its own callbacks. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <usrsctp.h>

#include "rtc/sctp.h"
#include "util/clock.h"
#include "util/log.h"

/* usrsctp needs its timers driven with ~10 ms resolution while data moves (delayed SACK,
 * T3-rtx); an idle association only has heartbeats (interval consent/4, RFC 4960 §8.3 allows
 * jitter of an RTO), so the tick slows down to keep idle CPU near zero, and the next DATA in
 * or out speeds it up again. Heartbeats and their acks do not: with dozens of peers one of
 * them arrives nearly every second, and the tick would never leave its busy mode. usrsctp
 * 0.9.5 cannot tell when its next timer is due, so the idle tick stays periodic: one per
 * process, whatever the number of peers. BUSY_FOR_MS covers a sporadic message's SACK and the
 * 20 ms delayed-SACK timer; a flow keeps renewing it. */
enum { TICK_BUSY_MS = RTC_SCTP_TIMER_MS, TICK_IDLE_MS = 500, BUSY_FOR_MS = 250 };
enum { CHUNK_HEARTBEAT = 4, CHUNK_HEARTBEAT_ACK = 5 };
/* While the tick is idle, every peer is settled (rtc_sctp_set_settled) and no WireGuard moved
 * on a direct path since the last tick, the loop thread's timer slack grows to 1 s: the
 * kernel may end a poll() that long after its timeout, and GLib then dispatches every timer
 * that came due meanwhile in that one wakeup. It merges the per-peer timers we do not own
 * (libnice's consent checks, RFC 7675's 4-6 s, and its STUN pacing) with ours, and the kernel
 * lines such range timers up with other wakeups, so the answers to one batch of consent
 * checks arrive together too: 50 idle agents on one host wake about 7 times a second instead
 * of 30 (100 ms of slack). What waits on a timer while idle is late by up to that second:
 * consent expiry (30 s), a silent path reported lost (9 s), WireGuard's keepalives. Sockets
 * still wake the loop at once; any DATA in or out, direct-path traffic
 * (rtc_sctp_note_traffic), a new peer or an ICE restart puts the default slack back before
 * the next poll. */
enum { IDLE_TIMER_SLACK_NS = RTC_IDLE_TIMER_SLACK_MS * 1000 * 1000 };

static struct {
	unsigned refs;
	GHashTable *peers;	/* id → struct rtc_sctp *, not owned */
	GArray *drain;		/* uint32_t ids with queued input or writable since the last tick */
	GMainContext *ctx;	/* ref held; the first peer's context */
	GSource *timer;
	guint tick_ms;
	uint64_t last_ns;
	uint64_t busy_until_ns;
	uint64_t activity, tick_activity;	/* inputs + sends; compared per tick */
	bool stuck;		/* usrsctp_finish failed; reuse the running stack */
	bool settled;		/* rtc_sctp_set_settled: no peer connecting or restarting */
	bool relaxed;		/* the loop thread runs with IDLE_TIMER_SLACK_NS */
	uint64_t traffic, tick_traffic;	/* rtc_sctp_note_traffic calls; compared per idle tick */
	bool quiet;		/* no direct-path traffic during the last idle tick */
} g_sctp;

static gboolean on_timer(gpointer data);

static void apply_slack(void)
{
	bool relaxed = g_sctp.refs && g_sctp.settled && g_sctp.quiet && g_sctp.tick_ms == TICK_IDLE_MS;

	if (relaxed == g_sctp.relaxed)
		return;
	g_sctp.relaxed = relaxed;
	/* 0 puts back the thread's default slack */
	prctl(PR_SET_TIMERSLACK, relaxed ? (unsigned long)IDLE_TIMER_SLACK_NS : 0UL, 0UL, 0UL, 0UL);
}

void rtc_sctp_set_settled(bool settled)
{
	g_sctp.settled = settled;
	apply_slack();
}

static void set_tick(guint ms)
{
	if (g_sctp.timer && g_sctp.tick_ms == ms)
		return;
	if (g_sctp.timer) {
		g_source_destroy(g_sctp.timer);
		g_source_unref(g_sctp.timer);
	}
	g_sctp.tick_ms = ms;
	g_sctp.timer = g_timeout_source_new(ms);
	g_source_set_callback(g_sctp.timer, on_timer, NULL, NULL);
	g_source_attach(g_sctp.timer, g_sctp.ctx);
	apply_slack();
}

/* Hot path of the direct path, which carries WireGuard past SCTP: a counter, and the default
 * slack back at once on the first batch after a quiet spell. usrsctp's tick stays idle. */
void rtc_sctp_note_traffic(void)
{
	g_sctp.traffic++;
	if (G_UNLIKELY(g_sctp.quiet)) {
		g_sctp.quiet = false;
		apply_slack();
	}
}

/* Hot path: a counter, no clock read; the tick turns it into busy_until_ns. */
static void mark_busy(void)
{
	g_sctp.activity++;
	if (g_sctp.tick_ms != TICK_BUSY_MS) {
		g_sctp.busy_until_ns = rg_mono_ns() + (uint64_t)BUSY_FOR_MS * RG_NSEC_PER_MSEC;
		set_tick(TICK_BUSY_MS);
	}
}

static struct rtc_sctp *lookup(uint32_t id)
{
	return g_sctp.peers ? g_hash_table_lookup(g_sctp.peers, GUINT_TO_POINTER(id)) : NULL;
}

static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
	struct rtc_sctp *s = lookup((uint32_t)(uintptr_t)addr);

	(void)tos;
	(void)set_df;
	if (!s)
		return -1;
	if (!s->crc_offload && len >= 12) {
		/* usrsctp runs with CRC32c offload on (process-wide); peers that are not riftgate
		 * get the checksum computed here. */
		uint8_t *b = buf;
		uint32_t crc;

		memset(b + 8, 0, 4);
		crc = usrsctp_crc32c(b, len);
		memcpy(b + 8, &crc, 4);
	}
	return s->ops->output(s->opaque, buf, len) < 0 ? -1 : 0;
}

/* From receive_cb/send_cb: the tick drains this layer if nobody else does first. */
static void queue_drain(struct rtc_sctp *s)
{
	if (s->drain_queued)
		return;
	s->drain_queued = true;
	g_array_append_val(g_sctp.drain, s->id);
}

/* Only the layers usrsctp called back since the last tick (timers fire retransmissions,
 * notifications and send_cb): the tick costs nothing per idle peer. */
static void drain_queued(void)
{
	for (guint i = 0; i < g_sctp.drain->len; i++) {
		struct rtc_sctp *s = lookup(g_array_index(g_sctp.drain, uint32_t, i));

		if (!s)
			continue;	/* cleared since */
		s->drain_queued = false;
		if (s->rx->len || s->writable)
			rtc_sctp_drain(s);
	}
	g_array_set_size(g_sctp.drain, 0);
}

/* Whether an SCTP packet carries only HEARTBEAT / HEARTBEAT ACK chunks (bytes from the remote
 * side, already DTLS-authenticated; a malformed one just counts as activity). */
static bool only_heartbeats(const uint8_t *buf, size_t len)
{
	size_t off = RTC_SCTP_COMMON_HDR;

	if (len < off + 4)
		return false;
	while (off + 4 <= len) {
		size_t clen = (size_t)buf[off + 2] << 8 | buf[off + 3];

		if ((buf[off] != CHUNK_HEARTBEAT && buf[off] != CHUNK_HEARTBEAT_ACK) || clen < 4)
			return false;
		off += (clen + 3) & ~(size_t)3;
	}
	return true;
}

static gboolean on_timer(gpointer data)
{
	uint64_t now = rg_mono_ns();
	uint32_t ms = (uint32_t)((now - g_sctp.last_ns) / RG_NSEC_PER_MSEC);

	(void)data;
	if (ms == 0)
		return G_SOURCE_CONTINUE;
	g_sctp.last_ns += (uint64_t)ms * RG_NSEC_PER_MSEC;
	if (g_sctp.activity != g_sctp.tick_activity) {
		g_sctp.tick_activity = g_sctp.activity;
		g_sctp.busy_until_ns = now + (uint64_t)BUSY_FOR_MS * RG_NSEC_PER_MSEC;
	}
	usrsctp_handle_timers(ms);
	drain_queued();
	if (g_sctp.tick_ms == TICK_IDLE_MS) {
		g_sctp.quiet = g_sctp.traffic == g_sctp.tick_traffic;
		g_sctp.tick_traffic = g_sctp.traffic;
		apply_slack();
	}
	if (now > g_sctp.busy_until_ns && g_sctp.tick_ms != TICK_IDLE_MS) {
		set_tick(TICK_IDLE_MS);	/* replaces this source */
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

int rtc_sctp_global_ref(GMainContext *ctx)
{
	if (g_sctp.refs++)
		return 0;
	if (g_sctp.stuck)	/* a previous usrsctp_finish failed: usrsctp is still up */
		goto started;
	usrsctp_init_nothreads(0, conn_output, NULL);
	/* Both ends of a WebRTC association sit behind DTLS: no ECN, and CRC32c is computed
	 * per peer in conn_output/rtc_sctp_input so riftgate↔riftgate can skip it. */
	usrsctp_enable_crc32c_offload();
	usrsctp_sysctl_set_sctp_ecn_enable(0);
	usrsctp_sysctl_set_sctp_asconf_enable(0);
	usrsctp_sysctl_set_sctp_auth_enable(0);
	usrsctp_sysctl_set_sctp_pr_enable(1);
	usrsctp_sysctl_set_sctp_reconfig_enable(1);
	usrsctp_sysctl_set_sctp_nr_outgoing_streams_default(RTC_MAX_CHANNELS);
	usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
	/* A riftgate receiver SACKs every RTC_SCTP_SACK_FREQ_RG packets (rtc_sctp_start); the
	 * slow-start increase per SACK may cover that many packets (RFC 3465's L), so the
	 * sender's window still doubles per round trip. Standard receivers SACK every second
	 * packet and see no change. */
	usrsctp_sysctl_set_sctp_L2_abc_variable(RTC_SCTP_SACK_FREQ_RG);
	/* Throughput: no burst limit after a SACK, and room for more than usrsctp's default
	 * 512 queued chunks (that capped a 1 MB window at ~600 KB of small messages). */
	usrsctp_sysctl_set_sctp_max_burst_default(0);
	usrsctp_sysctl_set_sctp_max_chunks_on_queue(16384);
started:
	g_sctp.peers = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_sctp.drain = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	g_sctp.last_ns = rg_mono_ns();
	g_sctp.ctx = g_main_context_ref(ctx);
	mark_busy();
	return 0;
}

void rtc_sctp_global_unref(void)
{
	if (!g_sctp.refs || --g_sctp.refs)
		return;
	g_source_destroy(g_sctp.timer);
	g_source_unref(g_sctp.timer);
	g_sctp.timer = NULL;
	g_sctp.tick_ms = 0;
	g_sctp.settled = false;
	apply_slack();
	g_main_context_unref(g_sctp.ctx);
	g_sctp.ctx = NULL;
	/* Sockets closed with SO_LINGER 0 are gone at once; give usrsctp a few timer rounds
	 * for anything still being torn down, then give up quietly. */
	g_sctp.stuck = true;
	for (int i = 0; i < 100; i++) {
		if (usrsctp_finish() == 0) {
			g_sctp.stuck = false;
			break;
		}
		usrsctp_handle_timers(100);
	}
	g_hash_table_destroy(g_sctp.peers);
	g_sctp.peers = NULL;
	g_array_free(g_sctp.drain, TRUE);
	g_sctp.drain = NULL;
}

/* Heartbeats keep an idle association's path checked where nothing else does (a short consent
 * timeout, a TURN pair; rtc_sctp_set_heartbeat): a side with nothing to send still sends one,
 * and with no answer within rtc's path_silence_ms the path is reported dead. A shorter
 * interval (2.5 s) noticed sooner but doubled an idle agent's CPU (0.13 -> ~0.25 % of a core). */
static uint32_t hb_interval_ms(unsigned consent_timeout_ms)
{
	uint32_t ms = consent_timeout_ms / 4;

	return ms ? ms : 1;
}

static uint32_t hb_flags(const struct rtc_sctp *s)
{
	return s->hb_off ? SPP_HB_DISABLE : SPP_HB_ENABLE;
}

int rtc_sctp_init(struct rtc_sctp *s, const char *log_id, unsigned consent_timeout_ms,
		  const struct rtc_sctp_ops *ops, void *opaque)
{
	s->log_id = log_id;
	s->ops = ops;
	s->opaque = opaque;
	s->hb_interval_ms = hb_interval_ms(consent_timeout_ms);
	do
		s->id = g_random_int();
	while (s->id == 0 || lookup(s->id));
	s->rx = g_array_sized_new(FALSE, FALSE, sizeof(struct rtc_sctp_rx), 64);
	s->resets = g_array_new(FALSE, FALSE, sizeof(uint16_t));
	s->reasm = g_byte_array_new();
	s->remote_port = RTC_SCTP_PORT;
	g_hash_table_insert(g_sctp.peers, GUINT_TO_POINTER(s->id), s);
	usrsctp_register_address((void *)(uintptr_t)s->id);
	return 0;
}

static int receive_cb(struct socket *sock, union sctp_sockstore addr, void *data, size_t len,
		      struct sctp_rcvinfo rcv, int flags, void *ulp_info)
{
	struct rtc_sctp *s = lookup((uint32_t)(uintptr_t)ulp_info);
	struct rtc_sctp_rx it = { data, len, rcv.rcv_sid, ntohl(rcv.rcv_ppid), flags };

	(void)sock;
	(void)addr;
	if (!s) {
		free(data);
		return 1;
	}
	g_array_append_val(s->rx, it);
	queue_drain(s);
	return 1;
}

static int send_cb(struct socket *sock, uint32_t sb_free, void *ulp_info)
{
	struct rtc_sctp *s = lookup((uint32_t)(uintptr_t)ulp_info);

	(void)sock;
	(void)sb_free;
	if (s) {
		s->writable = true;
		queue_drain(s);
	}
	return 0;
}

int rtc_sctp_start(struct rtc_sctp *s, unsigned path_mtu)
{
	struct sockaddr_conn local = { 0 }, remote = { 0 };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	uint16_t streams = s->streams ? s->streams : RTC_MAX_CHANNELS;
	struct sctp_initmsg im = { .sinit_num_ostreams = streams, .sinit_max_instreams = streams };
	struct sctp_assoc_value reset = { .assoc_id = SCTP_ALL_ASSOC,
					  .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ };
	struct sctp_paddrparams pp = { 0 };
	struct sctp_rtoinfo rto = { .srto_assoc_id = SCTP_FUTURE_ASSOC,
				    .srto_initial = RTC_SCTP_RTO_INITIAL_MS,
				    .srto_max = RTC_SCTP_RTO_MAX_MS };
	struct sctp_assocparams ap = { .sasoc_assoc_id = SCTP_FUTURE_ASSOC,
				       .sasoc_asocmaxrxt = RTC_SCTP_MAX_RXT };
	static const uint16_t events[] = { SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT,
					   SCTP_SHUTDOWN_EVENT, SCTP_REMOTE_ERROR,
					   SCTP_SEND_FAILED_EVENT };
	int on = 1, sndbuf = RTC_SCTP_SNDBUF, rcvbuf = RTC_SCTP_RCVBUF;

	if (s->sock)
		return 0;
	s->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, receive_cb, send_cb,
				 RTC_SCTP_SNDBUF / 8, (void *)(uintptr_t)s->id);
	if (!s->sock)
		return -errno;
	/* Path MTU before connect: usrsctp would size INIT and DATA for its own default, and one
	 * SCTP packet must stay one DTLS record within one UDP datagram (DESIGN §Data path). */
	pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
	pp.spp_flags = SPP_PMTUD_DISABLE | hb_flags(s);
	pp.spp_pathmtu = (uint32_t)(path_mtu - RTC_DTLS_OVERHEAD - RTC_SCTP_COMMON_HDR);
	pp.spp_hbinterval = s->hb_interval_ms;
	pp.spp_pathmaxrxt = RTC_SCTP_MAX_RXT;
	if (usrsctp_set_non_blocking(s->sock, 1) < 0 ||
	    usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
	    usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0 ||
	    usrsctp_setsockopt(s->sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0 ||
	    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset,
			       sizeof(reset)) < 0 ||
	    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on)) < 0 ||
	    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof(on)) < 0 ||
	    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof(im)) < 0 ||
	    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof(pp)) < 0 ||
	    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RTOINFO, &rto, sizeof(rto)) < 0 ||
	    usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_ASSOCINFO, &ap, sizeof(ap)) < 0)
		goto fail;
	/* SACK every second packet (RFC 4960 §6.2) toward other stacks: their slow start grows by
	 * at most one MTU per SACK. Between riftgate peers a SACK per RTC_SCTP_SACK_FREQ_RG
	 * packets saves most of the receiver's replies and the sender's SACK processing; gaps
	 * and duplicates still get an immediate SACK, and the delayed-SACK timer bounds the rest. */
	if (s->remote_rg) {
		struct sctp_sack_info si = { .sack_assoc_id = SCTP_FUTURE_ASSOC, .sack_delay = 20,
					     .sack_freq = RTC_SCTP_SACK_FREQ_RG };

		if (usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_DELAYED_SACK, &si,
				       sizeof(si)) < 0)
			goto fail;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(events); i++) {
		struct sctp_event ev = { .se_assoc_id = SCTP_ALL_ASSOC, .se_type = events[i],
					 .se_on = 1 };

		if (usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev)) < 0)
			goto fail;
	}
	local.sconn_family = AF_CONN;
	local.sconn_port = htons(RTC_SCTP_PORT);
	local.sconn_addr = (void *)(uintptr_t)s->id;
	remote = local;
	remote.sconn_port = htons(s->remote_port);
	if (usrsctp_bind(s->sock, (struct sockaddr *)&local, sizeof(local)) < 0)
		goto fail;
	/* Both sides connect; SCTP resolves the INIT collision (RFC 4960 §5.2.4). */
	mark_busy();
	if (usrsctp_connect(s->sock, (struct sockaddr *)&remote, sizeof(remote)) < 0 &&
	    errno != EINPROGRESS)
		goto fail;
	rtc_sctp_drain(s);
	return 0;
fail:;
	int ret = -errno;

	rg_log(RG_LOG_WARN, "%s: SCTP socket setup failed: %s", s->log_id, g_strerror(errno));
	usrsctp_close(s->sock);
	s->sock = NULL;
	return ret ? ret : -EIO;
}

void rtc_sctp_clear(struct rtc_sctp *s)
{
	if (!s->rx)
		return;
	/* Unregister first: whatever usrsctp does during close finds no peer. */
	g_hash_table_remove(g_sctp.peers, GUINT_TO_POINTER(s->id));
	if (s->sock)
		usrsctp_close(s->sock);
	usrsctp_deregister_address((void *)(uintptr_t)s->id);
	for (guint i = 0; i < s->rx->len; i++)
		free(g_array_index(s->rx, struct rtc_sctp_rx, i).data);
	g_array_free(s->rx, TRUE);
	g_array_free(s->resets, TRUE);
	g_byte_array_free(s->reasm, TRUE);
	memset(s, 0, sizeof(*s));
}

void rtc_sctp_input(struct rtc_sctp *s, uint8_t *buf, size_t len)
{
	if (!s->sock || len < 12)
		return;
	if (!s->crc_offload) {
		uint32_t want, got;

		memcpy(&want, buf + 8, 4);
		memset(buf + 8, 0, 4);
		got = usrsctp_crc32c(buf, len);
		memcpy(buf + 8, &want, 4);
		if (got != want) {
			rg_log(RG_LOG_DEBUG, "%s: SCTP packet with bad CRC32c dropped", s->log_id);
			return;
		}
	}
	if (!only_heartbeats(buf, len))
		mark_busy();
	usrsctp_conninput((void *)(uintptr_t)s->id, buf, len, 0);
	/* usrsctp's send_cb is not prompt in the no-threads build; a sender blocked on a full
	 * buffer retries after every packet we feed in (SACKs free space). */
	if (s->blocked)
		s->writable = true;
}

static void handle_notification(struct rtc_sctp *s, const union sctp_notification *n, size_t len)
{
	if (len < sizeof(n->sn_header) || n->sn_header.sn_length > len)
		return;
	switch (n->sn_header.sn_type) {
	case SCTP_ASSOC_CHANGE:
		if (len < sizeof(n->sn_assoc_change))
			return;
		switch (n->sn_assoc_change.sac_state) {
		case SCTP_COMM_UP:
			if (!s->up) {
				s->up = true;
				s->ops->up(s->opaque);
			}
			break;
		case SCTP_COMM_LOST:
		case SCTP_CANT_STR_ASSOC:
			s->ops->down(s->opaque, true);
			break;
		case SCTP_SHUTDOWN_COMP:
			s->ops->down(s->opaque, false);
			break;
		}
		break;
	case SCTP_SHUTDOWN_EVENT:
		s->ops->down(s->opaque, false);
		break;
	case SCTP_STREAM_RESET_EVENT: {
		const struct sctp_stream_reset_event *e = &n->sn_strreset_event;
		size_t cnt;

		if (len < sizeof(*e) || e->strreset_length < sizeof(*e))
			return;
		if (!(e->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN))
			return;
		cnt = (e->strreset_length - sizeof(*e)) / sizeof(uint16_t);
		for (size_t i = 0; i < cnt; i++)
			s->ops->stream_reset(s->opaque, e->strreset_stream_list[i]);
		break;
	}
	default:
		break;
	}
}

static void deliver(struct rtc_sctp *s, struct rtc_sctp_rx *it)
{
	if (!it->data) {	/* EOF on the socket: association gone */
		s->ops->down(s->opaque, false);
		return;
	}
	if (it->flags & MSG_NOTIFICATION) {
		handle_notification(s, it->data, it->len);
		return;
	}
	if (!(it->flags & MSG_EOR) || s->reasm->len) {
		/* Partial delivery of a large message: collect until MSG_EOR. */
		if (s->reasm->len + it->len > RTC_MAX_MESSAGE_SIZE + 64) {
			g_byte_array_set_size(s->reasm, 0);
			return;
		}
		g_byte_array_append(s->reasm, it->data, (guint)it->len);
		if (!(it->flags & MSG_EOR))
			return;
		s->ops->message(s->opaque, it->sid, it->ppid, s->reasm->data, s->reasm->len);
		g_byte_array_set_size(s->reasm, 0);
		return;
	}
	s->ops->message(s->opaque, it->sid, it->ppid, it->data, it->len);
}

static void send_resets(struct rtc_sctp *s)
{
	if (s->resets->len && s->sock) {
		size_t sz = sizeof(struct sctp_reset_streams) + s->resets->len * sizeof(uint16_t);
		struct sctp_reset_streams *r = g_malloc0(sz);

		r->srs_assoc_id = SCTP_ALL_ASSOC;
		r->srs_flags = SCTP_STREAM_RESET_OUTGOING;
		r->srs_number_streams = (uint16_t)s->resets->len;
		memcpy(r->srs_stream_list, s->resets->data, s->resets->len * sizeof(uint16_t));
		if (usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, r, (socklen_t)sz) < 0)
			rg_log(RG_LOG_DEBUG, "%s: SCTP stream reset failed: %s", s->log_id,
			       g_strerror(errno));
		g_free(r);
		g_array_set_size(s->resets, 0);
	}
}

void rtc_sctp_drain(struct rtc_sctp *s)
{
	if (s->draining || !s->rx)
		return;
	s->draining = true;
	/* Items may be appended while we deliver (a callback that sends makes usrsctp process
	 * SACKs); the loop picks them up. */
	for (guint i = 0; i < s->rx->len; i++) {
		struct rtc_sctp_rx it = g_array_index(s->rx, struct rtc_sctp_rx, i);

		g_array_index(s->rx, struct rtc_sctp_rx, i).data = NULL;
		deliver(s, &it);
		free(it.data);
	}
	if (s->rx)
		g_array_set_size(s->rx, 0);
	s->draining = false;
	if (!s->rx)
		return;
	send_resets(s);
	if (s->writable) {
		s->writable = false;
		s->blocked = false;
		s->ops->writable(s->opaque);
	}
	if (s->rx->len)
		rtc_sctp_drain(s);
}

/* SCTP_NODELAY stays on except during a run of sends flagged "more": then usrsctp's Nagle
 * check holds a packet that is not full while data is in flight, the next message fills it,
 * and the run's last send (NODELAY back on) sends what is left. */
static void set_corked(struct rtc_sctp *s, bool corked)
{
	int nodelay = !corked;

	if (s->corked == corked)
		return;
	if (usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_NODELAY, &nodelay,
			       sizeof(nodelay)) == 0)
		s->corked = corked;
}

int rtc_sctp_send(struct rtc_sctp *s, uint16_t sid, uint32_t ppid, bool ordered, int max_rtx,
		  const void *data, size_t len, bool more)
{
	struct sctp_sendv_spa spa = { 0 };
	ssize_t n;

	if (!s->sock || !s->up)
		return -ENOTCONN;
	spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
	spa.sendv_sndinfo.snd_sid = sid;
	spa.sendv_sndinfo.snd_ppid = htonl(ppid);
	spa.sendv_sndinfo.snd_flags = SCTP_EOR | (ordered ? 0 : SCTP_UNORDERED);
	if (max_rtx >= 0) {
		spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
		spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
		spa.sendv_prinfo.pr_value = (uint32_t)max_rtx;
	}
	mark_busy();
	set_corked(s, more);
	n = usrsctp_sendv(s->sock, data, len, NULL, 0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0);
	if (n < 0) {
		int e = errno;

		set_corked(s, false);	/* the run ends here; SACKs send what is held */
		if (e == EWOULDBLOCK || e == EAGAIN) {
			s->blocked = true;
			return -EAGAIN;
		}
		return -e;
	}
	if (!s->draining && (s->rx->len || s->writable))
		rtc_sctp_drain(s);
	return 0;
}

int rtc_sctp_reset_stream(struct rtc_sctp *s, uint16_t sid)
{
	g_array_append_val(s->resets, sid);
	send_resets(s);
	return 0;
}

void rtc_sctp_shutdown(struct rtc_sctp *s)
{
	if (s->sock && s->up)
		usrsctp_shutdown(s->sock, SHUT_RDWR);
}

size_t rtc_sctp_buffered(const struct rtc_sctp *s)
{
	struct sctp_status st = { 0 };
	socklen_t l = sizeof(st);

	if (!s->sock || usrsctp_getsockopt(s->sock, IPPROTO_SCTP, SCTP_STATUS, &st, &l) < 0)
		return 0;
	return (size_t)st.sstat_penddata + st.sstat_unackdata;
}

int rtc_sctp_set_path_mtu(struct rtc_sctp *s, unsigned path_mtu)
{
	struct sctp_paddrparams pp = { 0 };
	struct sockaddr_conn remote = { 0 };

	if (!s->sock)
		return 0;	/* rtc_sctp_start takes the size */
	/* The association's one path, named as at connect (an unspecified address is refused
	 * with EAFNOSUPPORT once the association exists). */
	remote.sconn_family = AF_CONN;
	remote.sconn_port = htons(s->remote_port);
	remote.sconn_addr = (void *)(uintptr_t)s->id;
	memcpy(&pp.spp_address, &remote, sizeof(remote));
	pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
	pp.spp_flags = SPP_PMTUD_DISABLE | hb_flags(s);
	pp.spp_pathmtu = (uint32_t)(path_mtu - RTC_DTLS_OVERHEAD - RTC_SCTP_COMMON_HDR);
	pp.spp_hbinterval = s->hb_interval_ms;
	if (usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp,
			       sizeof(pp)) < 0)
		return -errno;
	return 0;
}

int rtc_sctp_set_heartbeat(struct rtc_sctp *s, bool on)
{
	struct sctp_paddrparams pp = { 0 };
	struct sockaddr_conn remote = { 0 };

	if (s->hb_off == !on)
		return 0;
	s->hb_off = !on;
	if (!s->sock)
		return 0;	/* rtc_sctp_start applies it */
	remote.sconn_family = AF_CONN;
	remote.sconn_port = htons(s->remote_port);
	remote.sconn_addr = (void *)(uintptr_t)s->id;
	memcpy(&pp.spp_address, &remote, sizeof(remote));
	pp.spp_assoc_id = SCTP_FUTURE_ASSOC;
	pp.spp_flags = hb_flags(s);
	pp.spp_hbinterval = s->hb_interval_ms;
	if (usrsctp_setsockopt(s->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp,
			       sizeof(pp)) < 0)
		return -errno;
	return 0;
}

int rtc_sctp_rtt_ms(const struct rtc_sctp *s)
{
	struct sctp_status st = { 0 };
	socklen_t l = sizeof(st);

	if (!s->sock || !s->up ||
	    usrsctp_getsockopt(s->sock, IPPROTO_SCTP, SCTP_STATUS, &st, &l) < 0)
		return -1;
	return (int)st.sstat_primary.spinfo_srtt;
}

void rtc_sctp_set_streams(struct rtc_sctp *s, uint16_t n)
{
	s->streams = n;
}

void rtc_sctp_set_remote_port(struct rtc_sctp *s, uint16_t port)
{
	s->remote_port = port;
}

void rtc_sctp_set_remote_rg(struct rtc_sctp *s, bool remote_rg, bool crc_offload)
{
	s->remote_rg = remote_rg;
	s->crc_offload = crc_offload;
}

bool rtc_sctp_remote_rg(const struct rtc_sctp *s)
{
	return s->remote_rg;
}

bool rtc_sctp_started(const struct rtc_sctp *s)
{
	return s->sock != NULL;
}

bool rtc_sctp_is_up(const struct rtc_sctp *s)
{
	return s->up;
}
