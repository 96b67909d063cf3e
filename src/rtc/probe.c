/* Path-MTU probing on the selected ICE pair (pmtu.h has the wire format and state machine).
 * peer.c starts a search when DTLS is up and holds the SCTP association back until it ends:
 * usrsctp (0.9.5) sizes an association from the MTU it has at connect time and can only lower
 * it later (smallest_mtu never grows), so the size has to be known before SCTP connects. Later
 * searches (a new selected pair after an ICE restart, or confirmations of the size in use that
 * stop being answered: a black hole) can only keep or lower it. SCTP packets that arrive while
 * our association is held back are kept (a few) and replayed once it starts.
 *
 * Probes go out through rtc_ice_send, the same path as DTLS (the pair's own socket, or libnice
 * for relayed pairs), with IP_PMTUDISC_PROBE on that socket: DF set, never fragmented locally,
 * so a size only counts when it crossed the whole path in one piece. Answers: only to a peer
 * whose pair ICE has selected (libnice drops datagrams from addresses that are not remote
 * candidates, and the connectivity checks were authenticated with the ICE password from the
 * signed-in signaling), only over the selected pair, at most RTC_PROBE_ACKS_PER_S per second,
 * and never larger than the probe. Peer loop only. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "rtc/peer.h"
#include "util/clock.h"
#include "util/log.h"

enum { RTC_PROBE_ACKS_PER_S = 64, RTC_PROBE_EARLY_MAX = 8 };

static void arm(struct rtc_peer *p);

/* The selected pair's remote address and the largest UDP payload the route towards it allows
 * (the interface MTU, or a smaller PMTU the kernel learned); 0 when unknown. */
static uint16_t pair_max(struct rtc_peer *p)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, mtu = 0;
	socklen_t ml = sizeof(mtu);
	bool v6;

	if (!rtc_ice_selected_remote(&p->ice, &ss))
		return 0;
	v6 = ss.ss_family == AF_INET6;
	sl = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	/* connect() on UDP only looks the route up; nothing is sent. */
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
	    getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &ml) < 0)
		mtu = 0;
	close(fd);
	return mtu > 0 ? rtc_pmtu_link_max((unsigned)mtu, v6) : 0;
}

/* DF on, no local fragmentation, whatever PMTU the kernel has cached for the destination. */
static void set_df(struct rtc_peer *p)
{
	GSocket *s = rtc_ice_selected_socket(&p->ice);
	int v4 = IP_PMTUDISC_PROBE, v6 = IPV6_PMTUDISC_PROBE;

	if (!s)
		return;
	(void)setsockopt(g_socket_get_fd(s), IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof(v4));
	(void)setsockopt(g_socket_get_fd(s), IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof(v6));
	g_object_unref(s);
}

static void send_one(struct rtc_peer *p, const uint8_t *buf, size_t len)
{
	GOutputVector v = { .buffer = buf, .size = len };
	NiceOutputMessage m = { .buffers = &v, .n_buffers = 1 };

	if (!p->dead)
		rtc_ice_send(&p->ice, &m, 1);
}

static void start_search(struct rtc_peer *p)
{
	uint8_t token[RTC_PMTU_TOKEN_LEN];
	uint16_t max = pair_max(p);

	if (RAND_bytes(token, sizeof(token)) != 1) {
		guint32 a = g_random_int(), b = g_random_int();

		memcpy(token, &a, 4);
		memcpy(token + 4, &b, 4);
	}
	p->probe.selections = rtc_ice_selections(&p->ice);
	set_df(p);
	rtc_pmtu_start(&p->probe.m, max ? max : RTC_PMTU_FLOOR, rg_mono_ns(), token);
	rg_log(RG_LOG_DEBUG, "%s: path MTU search up to %u", p->log_id,
	       p->probe.m.n_cands ? p->probe.m.cands[0] : RTC_PMTU_FLOOR);
}

/* A new size in use: SCTP (only downwards once it runs), DTLS's handshake MTU, the agent. */
static void apply(struct rtc_peer *p, uint16_t mtu)
{
	if (mtu == p->path_mtu)
		return;
	if (p->probe.locked && mtu > p->path_mtu)
		return;		/* usrsctp cannot grow an association */
	rg_log(RG_LOG_INFO, "%s: path MTU %u -> %u", p->log_id, p->path_mtu, mtu);
	p->path_mtu = mtu;
	rtc_dtls_set_mtu(&p->dtls, mtu);
	if (p->probe.locked) {
		if (rtc_sctp_set_path_mtu(&p->sctp, p->path_mtu) < 0)
			rg_log(RG_LOG_WARN, "%s: cannot lower the SCTP path MTU: %s", p->log_id,
			       g_strerror(errno));
		if (p->ops.path_mtu_changed && !p->dead)
			p->ops.path_mtu_changed(p->opaque, rtc_peer_max_packet_message(p));
	}
}

static void on_events(struct rtc_peer *p, int ev)
{
	struct rtc_probe *pr = &p->probe;

	if (ev & RTC_PMTU_EV_CHANGED)
		apply(p, pr->m.mtu);
	if (!(ev & RTC_PMTU_EV_DONE))
		return;
	rg_log(RG_LOG_INFO, "%s: path MTU %u (%s)", p->log_id, p->path_mtu,
	       pr->m.answered ? "probed" : "no answer to probes");
	pr->done = true;
	if (!pr->waiting_sctp)
		return;
	/* First search over: the association starts at this size and may only shrink. */
	pr->waiting_sctp = false;
	pr->locked = true;
	pr->m.ceiling = p->path_mtu;
	if (rtc_sctp_start(&p->sctp, p->path_mtu) < 0) {
		rtc_peer_fail(p, "SCTP socket setup failed");
		return;
	}
	for (guint i = 0; pr->early && i < pr->early->len && !p->dead && rtc_sctp_started(&p->sctp); i++) {
		GBytes *b = pr->early->pdata[i];
		gsize n;
		const uint8_t *d = g_bytes_get_data(b, &n);
		uint8_t *copy = g_memdup2(d, n);

		rtc_sctp_input(&p->sctp, copy, n);
		g_free(copy);
	}
	if (pr->early)
		g_ptr_array_set_size(pr->early, 0);
	if (!p->dead && rtc_sctp_started(&p->sctp))
		rtc_sctp_drain(&p->sctp);
}

static void run(struct rtc_peer *p)
{
	uint16_t sizes[RTC_PMTU_MAX_CANDS + 1];
	unsigned n = 0;
	int ev = rtc_pmtu_poll(&p->probe.m, rg_mono_ns(), sizes, &n);

	for (unsigned i = 0; i < n && !p->dead; i++) {
		rtc_pmtu_encode_probe(p->probe.buf, sizes[i], p->probe.m.token);
		send_one(p, p->probe.buf, sizes[i]);
	}
	on_events(p, ev);
	if (!p->dead)
		arm(p);
}

static gboolean on_timer(gpointer data)
{
	struct rtc_peer *p = data;

	g_source_unref(p->probe.timer);
	p->probe.timer = NULL;
	run(p);
	return G_SOURCE_REMOVE;
}

static void arm(struct rtc_peer *p)
{
	uint64_t d = p->probe.m.deadline_ns, now = rg_mono_ns();

	if (p->probe.timer) {
		g_source_destroy(p->probe.timer);
		g_source_unref(p->probe.timer);
		p->probe.timer = NULL;
	}
	if (d == UINT64_MAX || p->state >= RTC_STATE_FAILED)
		return;
	p->probe.timer = g_timeout_source_new(d > now ? (guint)((d - now + 999999) / 1000000) : 0);
	g_source_set_callback(p->probe.timer, on_timer, p, NULL);
	g_source_attach(p->probe.timer, p->ctx);
}

void rtc_probe_init(struct rtc_peer *p, const struct rtc_config *cfg)
{
	rtc_pmtu_init(&p->probe.m);
	p->probe.enabled = cfg->probe_path_mtu && !cfg->path_mtu;
}

void rtc_probe_clear(struct rtc_peer *p)
{
	if (p->probe.timer) {
		g_source_destroy(p->probe.timer);
		g_source_unref(p->probe.timer);
	}
	if (p->probe.early)
		g_ptr_array_free(p->probe.early, TRUE);
	memset(&p->probe, 0, sizeof(p->probe));
}

bool rtc_probe_on_dtls_up(struct rtc_peer *p)
{
	if (!p->probe.enabled || !p->remote || !p->remote->rg_pmtu_probe || p->probe.done ||
	    p->probe.waiting_sctp)
		return false;
	p->probe.waiting_sctp = true;
	start_search(p);
	run(p);
	return true;
}

void rtc_probe_on_pair(struct rtc_peer *p)
{
	/* A new path: search again (before SCTP starts, up to the new pair's limit; after, only
	 * down to what the new pair carries). */
	if (p->probe.m.phase == RTC_PMTU_IDLE || p->probe.selections == rtc_ice_selections(&p->ice) ||
	    p->dead)
		return;
	start_search(p);
	run(p);
}

bool rtc_probe_stash(struct rtc_peer *p, const uint8_t *buf, size_t len)
{
	if (!p->probe.waiting_sctp)
		return false;
	if (!p->probe.early)
		p->probe.early = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	if (p->probe.early->len < RTC_PROBE_EARLY_MAX)
		g_ptr_array_add(p->probe.early, g_bytes_new(buf, len));
	return true;
}

void rtc_probe_input(struct rtc_peer *p, const uint8_t *buf, size_t len)
{
	struct rtc_probe *pr = &p->probe;
	struct rtc_pmtu_msg m;
	uint64_t now;

	if (!rtc_pmtu_parse(buf, len, &m) || !rtc_ice_connected(&p->ice) || p->state >= RTC_STATE_FAILED)
		return;
	now = rg_mono_ns();
	if (m.kind == RTC_PMTU_KIND_ACK) {
		int ev = rtc_pmtu_on_ack(&pr->m, &m, now);

		if (ev) {
			on_events(p, ev);
			if (!p->dead)
				arm(p);
		}
		return;
	}
	/* A probe: answer only once the remote description (fingerprint, ICE credentials) is
	 * ours, at a bounded rate. */
	if (!rtc_dtls_started(&p->dtls))
		return;
	if (now - pr->ack_window_ns >= RG_NSEC_PER_SEC) {
		pr->ack_window_ns = now;
		pr->acks = 0;
	}
	if (pr->acks++ >= RTC_PROBE_ACKS_PER_S)
		return;
	rtc_pmtu_encode_ack(pr->ack, m.size, m.token);
	send_one(p, pr->ack, sizeof(pr->ack));
}

enum rtc_path_mtu_state rtc_probe_state(const struct rtc_peer *p)
{
	if (p->pinned_mtu)
		return RTC_PATH_MTU_PINNED;
	if (p->probe.waiting_sctp || p->probe.m.phase == RTC_PMTU_SEARCH)
		return RTC_PATH_MTU_PENDING;
	if (p->probe.done)
		return p->probe.m.answered || p->path_mtu > RTC_PMTU_FLOOR ? RTC_PATH_MTU_PROBED
									   : RTC_PATH_MTU_UNANSWERED;
	return RTC_PATH_MTU_DEFAULT;
}
