/* Path-MTU probing on the selected ICE pair (pmtu.h has the wire format and state machine).
 * peer.c starts a search when DTLS is up and holds the SCTP association back until it ends:
 * usrsctp (0.9.5) sizes an association from the MTU it has at connect time and can only lower
 * it later (smallest_mtu never grows), so the size has to be known before SCTP connects. Later
 * searches (a new selected pair after an ICE restart, or confirmations of the size in use that
 * stop being answered: a black hole) can only keep or lower it. SCTP packets that arrive while
 * our association is held back are kept (a few, by peer.c) and replayed once it starts.
 *
 * The layer owns the path MTU in use (probe.h); peer.c applies a new one to DTLS and SCTP when
 * told (ops.mtu_changed). Probes go out through rtc_ice_send, the same path as DTLS (the pair's own socket, or libnice
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

#include "rtc/ice.h"
#include "rtc/probe.h"
#include "util/clock.h"
#include "util/log.h"

enum { RTC_PROBE_ACKS_PER_S = 64 };

static void arm(struct rtc_probe *pr);

/* The selected pair's remote address and the largest UDP payload the route towards it allows
 * (the interface MTU, or a smaller PMTU the kernel learned); 0 when unknown. */
static uint16_t pair_max(struct rtc_probe *pr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, mtu = 0;
	socklen_t ml = sizeof(mtu);
	bool v6;

	if (!rtc_ice_selected_remote(pr->ice, &ss))
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
static void set_df(struct rtc_probe *pr)
{
	GSocket *s = rtc_ice_selected_socket(pr->ice);
	int v4 = IP_PMTUDISC_PROBE, v6 = IPV6_PMTUDISC_PROBE;

	if (!s)
		return;
	(void)setsockopt(g_socket_get_fd(s), IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof(v4));
	(void)setsockopt(g_socket_get_fd(s), IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof(v6));
	g_object_unref(s);
}

static void send_one(struct rtc_probe *pr, const uint8_t *buf, size_t len)
{
	GOutputVector v = { .buffer = buf, .size = len };
	NiceOutputMessage m = { .buffers = &v, .n_buffers = 1 };
	uint64_t before = pr->ice->tx_datagrams;

	rtc_ice_send(pr->ice, &m, 1);
	pr->own_tx += pr->ice->tx_datagrams - before;
}

/* Whether the pair sent anything but probes and acks (DTLS records, direct-path frames) since
 * the last time a confirmation was due. Confirmations look for a black hole in the size in
 * use; an idle pair sends nothing that a black hole would swallow, and its confirmations were
 * a third of an idle agent's datagrams (issue 20: 2 each way per peer every 10 s, of 1472
 * bytes and 16). Once data flows again the next one goes out within an interval. */
static bool carried_data(struct rtc_probe *pr)
{
	uint64_t data = pr->ice->tx_datagrams - pr->own_tx;
	bool moved = data != pr->data_mark;

	pr->data_mark = data;
	return moved;
}

static void start_search(struct rtc_probe *pr)
{
	uint8_t token[RTC_PMTU_TOKEN_LEN];
	uint16_t max = pair_max(pr);

	if (RAND_bytes(token, sizeof(token)) != 1) {
		guint32 a = g_random_int(), b = g_random_int();

		memcpy(token, &a, 4);
		memcpy(token + 4, &b, 4);
	}
	pr->selections = rtc_ice_selections(pr->ice);
	set_df(pr);
	rtc_pmtu_start(&pr->m, max ? max : RTC_PMTU_FLOOR, rg_mono_ns(), token);
	rg_log(RG_LOG_DEBUG, "%s: path MTU search up to %u", pr->log_id,
	       pr->m.n_cands ? pr->m.cands[0] : RTC_PMTU_FLOOR);
}

/* A new size in use: SCTP (only downwards once it runs), DTLS's handshake MTU, the agent. */
static void apply(struct rtc_probe *pr, uint16_t mtu)
{
	if (mtu == pr->path_mtu)
		return;
	if (pr->locked && mtu > pr->path_mtu)
		return;		/* usrsctp cannot grow an association */
	rg_log(RG_LOG_INFO, "%s: path MTU %u -> %u", pr->log_id, pr->path_mtu, mtu);
	pr->path_mtu = mtu;
	pr->ops->mtu_changed(pr->opaque, mtu, pr->locked);
}

static void on_events(struct rtc_probe *pr, int ev)
{
	if (ev & RTC_PMTU_EV_CHANGED)
		apply(pr, pr->m.mtu);
	if (!(ev & RTC_PMTU_EV_DONE))
		return;
	rg_log(RG_LOG_INFO, "%s: path MTU %u (%s)", pr->log_id, pr->path_mtu,
	       pr->m.answered ? "probed" : "no answer to probes");
	pr->done = true;
	if (!pr->waiting_sctp)
		return;
	/* First search over: the association starts at this size and may only shrink. */
	pr->waiting_sctp = false;
	pr->locked = true;
	pr->m.ceiling = pr->path_mtu;
	pr->ops->search_done(pr->opaque);
}

static void run(struct rtc_probe *pr)
{
	uint16_t sizes[RTC_PMTU_MAX_CANDS + 1];
	unsigned n = 0;
	uint64_t now = rg_mono_ns();
	int ev;

	if (pr->m.phase == RTC_PMTU_SETTLED && now >= pr->m.deadline_ns && !carried_data(pr)) {
		rtc_pmtu_postpone(&pr->m, now);
		arm(pr);
		return;
	}
	ev = rtc_pmtu_poll(&pr->m, now, sizes, &n);

	for (unsigned i = 0; i < n; i++) {
		rtc_pmtu_encode_probe(pr->buf, sizes[i], pr->m.token);
		send_one(pr, pr->buf, sizes[i]);
	}
	on_events(pr, ev);
	arm(pr);
}

static gboolean on_timer(gpointer data)
{
	struct rtc_probe *pr = data;

	g_source_unref(pr->timer);
	pr->timer = NULL;
	run(pr);
	return G_SOURCE_REMOVE;
}

/* A timer of its own only while a search runs (rounds tens of milliseconds apart); once
 * settled, the confirmations (every RTC_PMTU_CONFIRM_MS) ride on peer.c's 500 ms liveness tick
 * through rtc_probe_tick, so an idle mesh has no GSource per peer for them: GLib walks every
 * source of the context in each loop iteration. */
static void arm(struct rtc_probe *pr)
{
	uint64_t d = pr->m.deadline_ns, now = rg_mono_ns();

	if (pr->timer) {
		g_source_destroy(pr->timer);
		g_source_unref(pr->timer);
		pr->timer = NULL;
	}
	if (d == UINT64_MAX || pr->stopped || pr->m.phase == RTC_PMTU_SETTLED)
		return;
	pr->timer = g_timeout_source_new(d > now ? (guint)((d - now + 999999) / 1000000) : 0);
	g_source_set_callback(pr->timer, on_timer, pr, NULL);
	g_source_attach(pr->timer, pr->ctx);
}

void rtc_probe_init(struct rtc_probe *pr, GMainContext *ctx, const char *log_id,
		    struct rtc_ice *ice, const struct rtc_config *cfg,
		    const struct rtc_probe_ops *ops, void *opaque)
{
	pr->ctx = ctx;
	pr->log_id = log_id;
	pr->ice = ice;
	pr->ops = ops;
	pr->opaque = opaque;
	pr->path_mtu = cfg->path_mtu ? cfg->path_mtu : RTC_DEFAULT_PATH_MTU;
	pr->pinned = cfg->path_mtu != 0;
	rtc_pmtu_init(&pr->m);
	pr->enabled = cfg->probe_path_mtu && !cfg->path_mtu;
}

void rtc_probe_clear(struct rtc_probe *pr)
{
	if (pr->timer) {
		g_source_destroy(pr->timer);
		g_source_unref(pr->timer);
	}
	memset(pr, 0, sizeof(*pr));
}

void rtc_probe_stop(struct rtc_probe *pr)
{
	pr->stopped = true;
}

bool rtc_probe_on_dtls_up(struct rtc_probe *pr, bool remote_probes)
{
	if (!pr->enabled || !remote_probes || pr->done || pr->waiting_sctp)
		return false;
	pr->waiting_sctp = true;
	start_search(pr);
	run(pr);
	return true;
}

void rtc_probe_on_pair(struct rtc_probe *pr)
{
	/* A new path: search again (before SCTP starts, up to the new pair's limit; after, only
	 * down to what the new pair carries). */
	if (pr->m.phase == RTC_PMTU_IDLE || pr->selections == rtc_ice_selections(pr->ice))
		return;
	start_search(pr);
	run(pr);
}

void rtc_probe_tick(struct rtc_probe *pr, uint64_t now)
{
	if (!pr->stopped && pr->m.phase == RTC_PMTU_SETTLED && now >= pr->m.deadline_ns)
		run(pr);
}

bool rtc_probe_holds_sctp(const struct rtc_probe *pr)
{
	return pr->waiting_sctp;
}

void rtc_probe_input(struct rtc_probe *pr, const uint8_t *buf, size_t len, bool may_answer)
{
	struct rtc_pmtu_msg m;
	uint64_t now;

	if (!rtc_pmtu_parse(buf, len, &m) || !rtc_ice_connected(pr->ice) || pr->stopped)
		return;
	now = rg_mono_ns();
	if (m.kind == RTC_PMTU_KIND_ACK) {
		int ev = rtc_pmtu_on_ack(&pr->m, &m, now);

		if (ev) {
			on_events(pr, ev);
			arm(pr);
		}
		return;
	}
	/* A probe: answer only once the remote description (fingerprint, ICE credentials) is
	 * ours, at a bounded rate. */
	if (!may_answer)
		return;
	if (now - pr->ack_window_ns >= RG_NSEC_PER_SEC) {
		pr->ack_window_ns = now;
		pr->acks = 0;
	}
	if (pr->acks++ >= RTC_PROBE_ACKS_PER_S)
		return;
	rtc_pmtu_encode_ack(pr->ack, m.size, m.token);
	send_one(pr, pr->ack, sizeof(pr->ack));
}

unsigned rtc_probe_mtu(const struct rtc_probe *pr)
{
	return pr->path_mtu;
}

enum rtc_path_mtu_state rtc_probe_state(const struct rtc_probe *pr)
{
	if (pr->pinned)
		return RTC_PATH_MTU_PINNED;
	if (pr->waiting_sctp || pr->m.phase == RTC_PMTU_SEARCH)
		return RTC_PATH_MTU_PENDING;
	if (pr->done)
		return pr->m.answered || pr->path_mtu > RTC_PMTU_FLOOR ? RTC_PATH_MTU_PROBED
									 : RTC_PATH_MTU_UNANSWERED;
	return RTC_PATH_MTU_DEFAULT;
}
