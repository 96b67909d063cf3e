/* ICE (RFC 8445, trickle RFC 8838, consent freshness RFC 7675) with libnice on the peer's
 * GMainContext: one stream, one component, UDP only (ice-tcp off). The offerer is controlling.
 * peer.c owns the layer (struct rtc_ice, ice.h) and hears from it through struct rtc_ice_ops:
 * received datagrams go up there (STUN never does: libnice consumes it). Peer-reflexive
 * remote candidates (a browser that offers none) are libnice's job: it learns them from
 * incoming checks. libnice keeps one STUN server per agent, so only the first is used. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <string.h>
#include <linux/sockios.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rtc/ice.h"
#include "rtc/limits.h"
#include "rtc/loop.h"
#include "rtc/wgframe.h"
#include "util/clock.h"
#include "util/ct.h"
#include "util/err.h"
#include "util/gso.h"
#include "util/iceurl.h"
#include "util/log.h"
#include "util/sockaddr.h"

static enum rtc_cand_type from_nice_type(NiceCandidateType t)
{
	switch (t) {
	case NICE_CANDIDATE_TYPE_HOST:
		return RTC_CAND_HOST;
	case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
		return RTC_CAND_SRFLX;
	case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
		return RTC_CAND_PRFLX;
	case NICE_CANDIDATE_TYPE_RELAYED:
		return RTC_CAND_RELAY;
	}
	return RTC_CAND_NONE;
}

static NiceCandidateType to_nice_type(enum rtc_cand_type t)
{
	switch (t) {
	case RTC_CAND_SRFLX:
		return NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE;
	case RTC_CAND_PRFLX:
		return NICE_CANDIDATE_TYPE_PEER_REFLEXIVE;
	case RTC_CAND_RELAY:
		return NICE_CANDIDATE_TYPE_RELAYED;
	default:
		return NICE_CANDIDATE_TYPE_HOST;
	}
}

static void addr_str(const NiceAddress *a, char *out, size_t cap)
{
	char ip[NICE_ADDRESS_STRING_LEN];

	nice_address_to_string(a, ip);
	if (nice_address_ip_version(a) == 6)
		g_snprintf(out, cap, "[%s]:%u", ip, nice_address_get_port(a));
	else
		g_snprintf(out, cap, "%s:%u", ip, nice_address_get_port(a));
}

/* A stun:/turn:/turns: URL (util/iceurl.h) with its host resolved to an IP literal (blocking). */
static int parse_server(const char *url, struct rg_ice_url *u,
			char ip[static NICE_ADDRESS_STRING_LEN])
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res = NULL;
	int ret;

	if (rg_ice_url_parse(u, url) < 0)
		return -EINVAL;
	if (getaddrinfo(u->host, NULL, &hints, &res) != 0 || !res)
		return -EHOSTUNREACH;
	ret = getnameinfo(res->ai_addr, res->ai_addrlen, ip, NICE_ADDRESS_STRING_LEN, NULL, 0,
			  NI_NUMERICHOST) != 0 ? -EINVAL : 0;
	freeaddrinfo(res);
	return ret;
}

static void on_new_candidate(NiceAgent *agent, NiceCandidate *nc, gpointer data)
{
	struct rtc_ice *ice = data;
	struct rtc_cand c = { 0 };
	char buf[RTC_CAND_STR_MAX + 1];

	(void)agent;
	if (nc->stream_id != ice->stream_id || nc->transport != NICE_CANDIDATE_TRANSPORT_UDP)
		return;
	g_strlcpy(c.foundation, nc->foundation, sizeof(c.foundation));
	c.component = nc->component_id;
	c.priority = nc->priority;
	nice_address_to_string(&nc->addr, c.addr);
	c.port = (uint16_t)nice_address_get_port(&nc->addr);
	c.type = from_nice_type(nc->type);
	if (c.type != RTC_CAND_HOST) {
		nice_address_to_string(&nc->base_addr, c.raddr);
		c.rport = (uint16_t)nice_address_get_port(&nc->base_addr);
		c.has_raddr = true;
	}
	if (rtc_cand_format(buf, sizeof(buf), &c) > 0)
		ice->ops->local_candidate(ice->opaque, buf);
}

static void on_gathering_done(NiceAgent *agent, guint stream_id, gpointer data)
{
	struct rtc_ice *ice = data;

	(void)agent;
	if (stream_id != ice->stream_id)
		return;
	ice->gathered = true;
	ice->ops->local_candidate(ice->opaque, NULL);
}

static void bump_buffers(struct rtc_ice *ice)
{
	GSocket *s = nice_agent_get_selected_socket(ice->agent, ice->stream_id, 1);
	int v = RTC_UDP_SOCKBUF;

	if (!s)
		return;
	/* FORCE variants pass rmem_max/wmem_max when we are privileged; else the capped one. */
	int fd = g_socket_get_fd(s);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	g_object_unref(s);
	ice->bufs_bumped = true;
}

static void gro_off(struct rtc_ice *ice)
{
	int off = 0;

	if (ice->gro && ice->direct)
		setsockopt(g_socket_get_fd(ice->direct), SOL_UDP, UDP_GRO, &off, sizeof(off));
	ice->gro = false;
}

/* Receive batching. With UDP_GRO on the selected pair's socket the kernel hands over a train
 * of equal-sized datagrams from the remote side (the last may be shorter) in one read, so
 * libnice makes one recvmsg and one callback per train instead of per datagram;
 * rtc_ice_on_datagram cuts the train at DTLS record boundaries. Only toward riftgate peers,
 * which send one record per datagram after the handshake, only on a direct pair (a TURN
 * server's packets carry other framing), and only once SCTP is up (the path-MTU probe is
 * over). libnice has no call to take back a STUN packet that a NIC's GRO merged at the end
 * of a train (same 5-tuple: consent checks and their answers); such a packet is lost, and GRO
 * is turned off for this peer for good, so at most one STUN packet per peer is lost to it. */
void rtc_ice_enable_gro(struct rtc_ice *ice)
{
	int on = 1;

	ice->gro_wanted = true;	/* also for the pairs a restart selects */
	if (ice->gro || ice->no_gro || !ice->direct)
		return;
	if (setsockopt(g_socket_get_fd(ice->direct), SOL_UDP, UDP_GRO, &on, sizeof(on)) == 0)
		ice->gro = true;
}

/* Whether anything reached the selected pair's socket within window_ns before now, STUN
 * included (libnice reads and consumes consent checks and their answers; our counters never
 * see them). SIOCGSTAMPNS returns the kernel's receive time of the last datagram read from the
 * socket; the first call turns those stamps on, so take_direct makes it once. Asked only when
 * the counters have been silent for the consent timeout, not per packet or per tick. A stamp
 * is wall-clock time: a clock step shifts it (forward: a live idle path looks silent once and
 * gets an ICE restart; back: a dead one is caught by libnice's own consent failure). Any
 * sender reaching the port refreshes it; libnice's consent failure still ends such a path. On
 * true, last_rx_ns moves to the stamp. */
static bool heard_lately(struct rtc_ice *ice, uint64_t now, uint64_t window_ns)
{
	struct timespec ts;
	uint64_t stamp, wall, age;

	if (!ice->direct || ice->test_blackhole ||
	    ioctl(g_socket_get_fd(ice->direct), SIOCGSTAMPNS, &ts) < 0 || ts.tv_sec <= 0)
		return false;
	stamp = (uint64_t)ts.tv_sec * RG_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	wall = rg_wall_ns();
	age = wall > stamp ? wall - stamp : 0;
	if (age >= window_ns || age > now)
		return false;
	if (now - age > ice->last_rx_ns)
		ice->last_rx_ns = now - age;
	return true;
}

/* Our own receive on the selected pair's socket. libnice's receive path (its socket source,
 * agent lock, STUN check, component lookup, then on_recv) costs each datagram as much user time
 * as WireGuard itself, and libnice has no call to hand it a datagram we read. So a source of
 * ours watches the same socket (through a dup of its descriptor: it stays that socket whatever
 * libnice closes) and takes only what is ours: a datagram whose first byte is not STUN's
 * (RFC 7983: DTLS, our probe, the direct path) and that comes from the selected pair's remote
 * address. It looks at the head with MSG_PEEK and reads only then, so STUN, TURN and anything
 * from elsewhere stay queued for libnice's own source, which reads what we leave. Both handle
 * a datagram the same way (rtc_ice_on_datagram), so which one reads it changes nothing else.
 * Ours runs at a higher priority; as GLib runs nothing of a lower one while a higher source
 * is ready, every RTC_RX_YIELD_EVERY-th busy iteration it steps aside once (libnice's timers
 * and its read get their turn). RG_RTC_NICE_RECV=1 leaves all reads to libnice. */
struct rx_source {
	GSource base;
	struct rtc_ice *ice;
	/* g_source_add_poll, not add_unix_fd: GLib dispatches a source whose unix fd is ready
	 * whatever its check says, and check must be able to leave a datagram to libnice.
	 * pfd.fd is ours: a dup of the selected pair's socket. */
	GPollFD pfd;
	unsigned busy;		/* iterations in a row this source was ready */
};

/* One receive buffer per thread, shared by every peer's source on it: a datagram is handled
 * completely (decrypted in place, copied where it is kept) before the next read, and nothing
 * runs a context nested from a callback (see let_socket_source_recurse). One per peer cost
 * 64 KiB of RSS each (+2.7 MB at 49 peers). */
static GPrivate rx_buf_key = G_PRIVATE_INIT(g_free);

static uint8_t *rx_buf(void)
{
	uint8_t *b = g_private_get(&rx_buf_key);

	if (!b) {
		b = g_malloc(RTC_RX_BUF);
		g_private_set(&rx_buf_key, b);
	}
	return b;
}

/* Whether the datagram at the head of the queue is ours to read (see above). */
static bool rx_head_ours(const struct rx_source *r)
{
	struct sockaddr_storage from;
	uint8_t first;
	struct iovec iov = { .iov_base = &first, .iov_len = 1 };
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			     .msg_iovlen = 1 };

	if (recvmsg(r->pfd.fd, &mh, MSG_PEEK | MSG_DONTWAIT) < 1)
		return false;
	switch (rtc_demux_classify(&first, 1)) {
	case RTC_DEMUX_DTLS:
	case RTC_DEMUX_PMTU:
	case RTC_DEMUX_DIRECT:
		return rg_sockaddr_same(&from, &r->ice->direct_to, true);
	default:
		return false;
	}
}

static gboolean rx_check(GSource *s)
{
	struct rx_source *r = (struct rx_source *)s;

	if (!(r->pfd.revents & G_IO_IN) || ++r->busy > RTC_RX_YIELD_EVERY ||
	    !rx_head_ours(r)) {
		r->busy = 0;
		return FALSE;
	}
	return TRUE;
}

static gboolean rx_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
	struct rx_source *r = (struct rx_source *)s;
	struct rtc_ice *ice = r->ice;
	uint8_t *buf = rx_buf();
	unsigned got = 0;

	(void)cb;
	(void)data;
	/* The head was peeked in rx_check or just now, and only this thread reads the socket. */
	while (got < RTC_RX_BATCH && (got == 0 || rx_head_ours(r))) {
		ssize_t n = recv(r->pfd.fd, buf, RTC_RX_BUF, MSG_DONTWAIT);

		if (n < 0)
			break;
		got++;
		ice->rx_own++;
		if (G_LIKELY(!ice->test_blackhole))
			rtc_ice_on_datagram(ice, buf, (size_t)n);
		if (g_source_is_destroyed(s))	/* the pair changed under a callback */
			break;
	}
	/* as on_recv does per datagram: ice outlives the callbacks (peer.c frees it later) */
	if (got && !ice->test_blackhole && ice->ops->datagrams_done)
		ice->ops->datagrams_done(ice->opaque);
	return G_SOURCE_CONTINUE;
}

static void rx_finalize(GSource *s)
{
	close(((struct rx_source *)s)->pfd.fd);
}

static GSourceFuncs rx_funcs = {
	.check = rx_check,
	.dispatch = rx_dispatch,
	.finalize = rx_finalize,
};

static void rx_start(struct rtc_ice *ice)
{
	int fd = fcntl(g_socket_get_fd(ice->direct), F_DUPFD_CLOEXEC, 0);
	struct rx_source *r;

	if (fd < 0) {	/* libnice's receive still works; only slower */
		rg_log(RG_LOG_DEBUG, "%s: own receive not started: %s", ice->log_id,
		       g_strerror(errno));
		return;
	}
	r = (struct rx_source *)g_source_new(&rx_funcs, sizeof(*r));
	r->ice = ice;
	r->pfd.fd = fd;
	r->pfd.events = G_IO_IN;
	g_source_add_poll(&r->base, &r->pfd);
	g_source_set_priority(&r->base, G_PRIORITY_DEFAULT - 1);
	g_source_set_can_recurse(&r->base, TRUE);
	g_source_set_static_name(&r->base, "rtc-rx");
	g_source_attach(&r->base, ice->nctx);
	ice->rx_src = &r->base;
}

static void drop_direct(struct rtc_ice *ice)
{
	if (ice->rx_src) {
		g_source_destroy(ice->rx_src);
		g_source_unref(ice->rx_src);
		ice->rx_src = NULL;
	}
	gro_off(ice);
	if (ice->direct)
		g_object_unref(ice->direct);
	ice->direct = NULL;
}

/* Data goes out through the selected pair's own UDP socket with one sendmmsg per batch;
 * libnice keeps the socket, STUN (checks, consent) and the receive side. Relayed pairs need
 * TURN framing, so they keep going through libnice. */
static void take_direct(struct rtc_ice *ice, NiceCandidate *l, NiceCandidate *r)
{
	drop_direct(ice);
	if (l->type == NICE_CANDIDATE_TYPE_RELAYED || l->transport != NICE_CANDIDATE_TRANSPORT_UDP)
		return;
	memset(&ice->direct_to, 0, sizeof(ice->direct_to));
	nice_address_copy_to_sockaddr(&r->addr, (struct sockaddr *)&ice->direct_to);
	ice->direct_tolen = ice->direct_to.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								     : sizeof(struct sockaddr_in);
	ice->direct = nice_agent_get_selected_socket(ice->agent, ice->stream_id, 1);
	if (ice->gro_wanted)	/* a new pair after a restart */
		rtc_ice_enable_gro(ice);
	if (ice->direct)	/* turns receive stamps on (see heard_lately); tells nothing yet */
		heard_lately(ice, rg_mono_ns(), 0);
	if (ice->direct && !ice->nice_rx_only)
		rx_start(ice);
}

static void on_selected_pair(NiceAgent *agent, guint stream_id, guint component,
			     NiceCandidate *l, NiceCandidate *r, gpointer data)
{
	struct rtc_ice *ice = data;

	(void)agent;
	(void)component;
	if (stream_id != ice->stream_id)
		return;
	take_direct(ice, l, r);
	ice->selections++;
	ice->local_type = from_nice_type(l->type);
	ice->remote_type = from_nice_type(r->type);
	addr_str(&l->addr, ice->local_addr, sizeof(ice->local_addr));
	addr_str(&r->addr, ice->remote_addr, sizeof(ice->remote_addr));
	rg_log(RG_LOG_INFO, "%s: ICE selected %s %s <-> %s %s", ice->log_id,
	       rtc_cand_type_name(ice->local_type), ice->local_addr,
	       rtc_cand_type_name(ice->remote_type), ice->remote_addr);
	bump_buffers(ice);
	ice->ops->pair_selected(ice->opaque);
	ice->ops->new_pair(ice->opaque);
}

static void on_state(NiceAgent *agent, guint stream_id, guint component, guint state,
		     gpointer data)
{
	struct rtc_ice *ice = data;

	(void)agent;
	(void)component;
	if (stream_id != ice->stream_id)
		return;
	rg_log(RG_LOG_DEBUG, "%s: ICE component state %s", ice->log_id,
	       nice_component_state_to_string(state));
	switch (state) {
	case NICE_COMPONENT_STATE_CONNECTED:
	case NICE_COMPONENT_STATE_READY:
		if (!ice->connected) {
			ice->connected = true;
			ice->last_rx_ns = rg_mono_ns();
			if (!ice->bufs_bumped)
				bump_buffers(ice);
			ice->ops->connected(ice->opaque);
		}
		if (!ice->direct) {	/* after a restart the pair may be re-selected silently */
			NiceCandidate *l = NULL, *r = NULL;

			if (nice_agent_get_selected_pair(ice->agent, ice->stream_id, 1, &l, &r)) {
				take_direct(ice, l, r);
				ice->selections++;
				ice->ops->new_pair(ice->opaque);
			}
		}
		if (state == NICE_COMPONENT_STATE_READY)
			ice->ops->pair_selected(ice->opaque);
		break;
	case NICE_COMPONENT_STATE_FAILED:
		drop_direct(ice);
		ice->ops->failed(ice->opaque, ice->connected);
		break;
	default:
		break;
	}
}

/* The source functions of every GSocket source (g_socket_create_source), learnt from one of our
 * own; a pointer no source has when the socket cannot be made. */
static const GSourceFuncs *gsocket_source_funcs(void)
{
	static gsize funcs;

	if (g_once_init_enter(&funcs)) {
		GSocket *sock = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
					     G_SOCKET_PROTOCOL_UDP, NULL);
		gsize f = (gsize)&funcs;

		if (sock) {
			GSource *s = g_socket_create_source(sock, G_IO_IN, NULL);

			f = (gsize)s->source_funcs;
			g_source_unref(s);
			g_object_unref(sock);
		}
		g_once_init_leave(&funcs, f);
	}
	return (const GSourceFuncs *)funcs;
}

/* GLib takes a source that may not recurse out of the poll set while it dispatches and puts it
 * back afterwards; both steps write the context's wakeup eventfd, and the wakeup costs one more
 * loop iteration: per datagram libnice reads. libnice attaches its socket sources itself
 * (g_socket_create_source in agent/component.c, one per socket, new ones with TURN and ICE
 * restarts) and offers no call to reach them, but it calls on_recv from inside their dispatch
 * (directly, on the thread that owns the context), so the first datagram from each marks its
 * own source. A source blocked for this dispatch is put back all the same (GLib unblocks what it
 * blocked, whatever the flag says by then). Recursion cannot happen: nothing in riftgate runs
 * the context nested from a callback (agent_free drains it from the top level only). */
static void let_socket_source_recurse(void)
{
	GSource *s = g_main_current_source();

	if (s && !g_source_get_can_recurse(s) && s->source_funcs == gsocket_source_funcs())
		g_source_set_can_recurse(s, TRUE);
}

static void on_recv(NiceAgent *agent, guint stream_id, guint component, guint len, gchar *buf,
		    gpointer data)
{
	struct rtc_ice *ice = data;

	(void)agent;
	(void)stream_id;
	(void)component;
	let_socket_source_recurse();
	if (G_UNLIKELY(ice->test_blackhole))
		return;
	rtc_ice_on_datagram(ice, (const uint8_t *)buf, len);
	if (ice->ops->datagrams_done)
		ice->ops->datagrams_done(ice->opaque);
}

/* Counts the datagram for the liveness tick (no clock read per packet) and hands it up. */
static bool on_datagram(struct rtc_ice *ice, const uint8_t *buf, size_t len)
{
	ice->rx_datagrams++;
	return ice->ops->datagram(ice->opaque, buf, len);
}

void rtc_ice_on_datagram(struct rtc_ice *ice, const uint8_t *buf, size_t len)
{
	/* A GRO train (see rtc_ice_enable_gro): one DTLS record or direct-path frame per
	 * datagram, each with its length. */
	while (ice->gro) {
		size_t l = rtc_demux_train_cut(buf, len);

		if (!l)
			break;
		if (!on_datagram(ice, buf, l))
			return;
		buf += l;
		len -= l;
		enum rtc_demux next = rtc_demux_classify(buf, len);

		if (next != RTC_DEMUX_DTLS && next != RTC_DEMUX_DIRECT) {
			rg_log(RG_LOG_INFO, "%s: a %s packet arrived merged into a UDP GRO train; "
			       "receive batching off for this peer", ice->log_id,
			       next == RTC_DEMUX_STUN ? "STUN" : "non-DTLS");
			gro_off(ice);
			ice->no_gro = true;
		}
	}
	on_datagram(ice, buf, len);
}

/* One stream, one component: port range, TURN servers, receive callback, credentials. ICE
 * restarts open a new one (libnice keeps a restarted stream's old candidates, and after a
 * network change those are stale: a fresh server-reflexive address and TURN allocation are
 * what the new path needs). */
static int open_stream(struct rtc_ice *ice)
{
	gchar *ufrag = NULL, *pwd = NULL;

	ice->stream_id = nice_agent_add_stream(ice->agent, 1);
	if (!ice->stream_id)
		return -ENOMEM;
	if (ice->port_min || ice->port_max)
		nice_agent_set_port_range(ice->agent, ice->stream_id, 1, ice->port_min,
					  ice->port_max);
	for (size_t i = 0; i < ice->n_relays; i++) {
		const struct rtc_ice_relay *rl = &ice->relays[i];

		if (!nice_agent_set_relay_info(ice->agent, ice->stream_id, 1, rl->ip, rl->port,
					       rl->username, rl->credential, rl->type))
			return -EINVAL;
	}
	nice_agent_attach_recv(ice->agent, ice->stream_id, 1, ice->nctx, on_recv, ice);
	if (!nice_agent_get_local_credentials(ice->agent, ice->stream_id, &ufrag, &pwd))
		return -EIO;
	g_strlcpy(ice->ufrag, ufrag, sizeof(ice->ufrag));
	g_strlcpy(ice->pwd, pwd, sizeof(ice->pwd));
	g_free(ufrag);
	g_free(pwd);
	return 0;
}

static void close_stream(struct rtc_ice *ice)
{
	if (!ice->stream_id)
		return;
	nice_agent_attach_recv(ice->agent, ice->stream_id, 1, ice->nctx, NULL, NULL);
	nice_agent_remove_stream(ice->agent, ice->stream_id);
	ice->stream_id = 0;
}

/* A libnice agent with our settings (STUN server, local addresses) and our signal handlers. */
static int create_agent(struct rtc_ice *ice)
{
	ice->agent = nice_agent_new_full(ice->nctx, NICE_COMPATIBILITY_RFC5245,
					 NICE_AGENT_OPTION_ICE_TRICKLE |
					 NICE_AGENT_OPTION_CONSENT_FRESHNESS);
	if (!ice->agent)
		return -ENOMEM;
	g_object_set(ice->agent, "ice-tcp", FALSE, "ice-udp", TRUE, "upnp", FALSE,
		     "controlling-mode", ice->controlling, NULL);
	if (ice->have_stun)
		g_object_set(ice->agent, "stun-server", ice->stun_ip, "stun-server-port",
			     (guint)ice->stun_port, NULL);
	for (size_t i = 0; i < ice->n_local; i++)
		nice_agent_add_local_address(ice->agent, &ice->local[i]);
	g_signal_connect(ice->agent, "new-candidate-full", G_CALLBACK(on_new_candidate), ice);
	g_signal_connect(ice->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), ice);
	g_signal_connect(ice->agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), ice);
	g_signal_connect(ice->agent, "component-state-changed", G_CALLBACK(on_state), ice);
	return 0;
}

static void free_agent(struct rtc_ice *ice)
{
	if (!ice->agent)
		return;
	g_signal_handlers_disconnect_by_data(ice->agent, ice);
	close_stream(ice);
	g_object_unref(ice->agent);
	ice->agent = NULL;
}

int rtc_ice_set_local_addrs(struct rtc_ice *ice, const char *const *addrs, size_t n)
{
	NiceAddress tmp[RTC_MAX_LOCAL_ADDRS];

	if (n > RTC_MAX_LOCAL_ADDRS)
		n = RTC_MAX_LOCAL_ADDRS;
	for (size_t i = 0; i < n; i++)
		if (!nice_address_set_from_string(&tmp[i], addrs[i]))
			return -EINVAL;
	memcpy(ice->local, tmp, n * sizeof(tmp[0]));
	ice->n_local = n;
	return 0;
}

int rtc_ice_init(struct rtc_ice *ice, GMainContext *ctx, const char *log_id,
		 const struct rtc_config *cfg, const struct rtc_ice_ops *ops, void *opaque,
		 struct rg_err *err)
{
	int ret;

	ice->ctx = ctx;
	ice->log_id = log_id;
	ice->ops = ops;
	ice->opaque = opaque;
	for (size_t i = 0; i < cfg->n_stun; i++) {
		char ip[NICE_ADDRESS_STRING_LEN];
		struct rg_ice_url u;

		if (parse_server(cfg->stun[i], &u, ip) < 0 || u.scheme != RG_ICE_URL_STUN)
			return rg_err_set(err, -EINVAL, "ice: bad or unresolvable STUN URL '%s'",
					  cfg->stun[i]);
		if (i == 0) {
			ice->have_stun = true;
			g_strlcpy(ice->stun_ip, ip, sizeof(ice->stun_ip));
			ice->stun_port = u.port;
		} else {
			rg_log(RG_LOG_DEBUG, "%s: STUN server %s not used (libnice takes one)",
			       ice->log_id, cfg->stun[i]);
		}
	}
	for (size_t i = 0; i < cfg->n_local_addrs; i++) {
		NiceAddress a;

		if (!nice_address_set_from_string(&a, cfg->local_addrs[i]))
			return rg_err_set(err, -EINVAL, "ice: bad local address '%s'",
					  cfg->local_addrs[i]);
	}
	rtc_ice_set_local_addrs(ice, cfg->local_addrs, cfg->n_local_addrs);
	if (cfg->port_min || cfg->port_max) {
		ice->port_min = cfg->port_min;
		ice->port_max = cfg->port_max ? cfg->port_max : 65535;
	}
	for (size_t i = 0; i < cfg->n_turn && i < RTC_MAX_ICE_SERVERS; i++) {
		const struct rtc_turn_server *t = &cfg->turn[i];
		struct rtc_ice_relay *rl = &ice->relays[i];
		struct rg_ice_url u;

		ret = parse_server(t->url, &u, rl->ip);
		if (ret < 0 || u.scheme == RG_ICE_URL_STUN || !t->username || !t->credential)
			return rg_err_set(err, -EINVAL,
					  "ice: bad TURN server '%s' (want turn[s]:host:port"
					  "[?transport=udp|tcp] with username and credential)",
					  t->url ? t->url : "(null)");
		rl->port = u.port;
		rl->type = u.scheme == RG_ICE_URL_TURNS ? NICE_RELAY_TYPE_TURN_TLS
			   : u.tcp ? NICE_RELAY_TYPE_TURN_TCP : NICE_RELAY_TYPE_TURN_UDP;
		rl->username = g_strdup(t->username);
		rl->credential = g_strdup(t->credential);
		ice->n_relays = i + 1;
	}
	/* The agent's sources go on a context of their own, so that the parent's loop walks
	 * and polls them only when they are ready (loop.h). */
	ice->nice_rx_only = !g_strcmp0(g_getenv("RG_RTC_NICE_RECV"), "1");
	if (!g_strcmp0(g_getenv("RG_RTC_ONE_CONTEXT"), "1")) {
		ice->nctx = g_main_context_ref(ctx ? ctx : g_main_context_default());
	} else if ((ice->nctx = rtc_loop_context_new(ctx))) {
		ice->own_nctx = true;
	} else {
		int e = errno ? errno : ENOMEM;

		return rg_err_set(err, -e, "ice: cannot make the agent's context: %s", g_strerror(e));
	}
	if ((ret = create_agent(ice)) < 0)
		return rg_err_set(err, ret, "ice: cannot create agent");
	if ((ret = open_stream(ice)) < 0)
		return rg_err_set(err, ret, "ice: cannot set up the stream (TURN server refused?)");
	return 0;
}

void rtc_ice_clear(struct rtc_ice *ice)
{
	drop_direct(ice);
	free_agent(ice);
	if (ice->own_nctx)
		rtc_loop_context_release(ice->nctx);
	else if (ice->nctx)
		g_main_context_unref(ice->nctx);
	for (size_t i = 0; i < ice->n_relays; i++) {
		g_free(ice->relays[i].username);
		if (ice->relays[i].credential) {
			rg_memzero(ice->relays[i].credential, strlen(ice->relays[i].credential));
			g_free(ice->relays[i].credential);
		}
	}
	rg_memzero(ice, sizeof(*ice));
}

int rtc_ice_gather(struct rtc_ice *ice)
{
	if (ice->gathering)
		return 0;
	if (!nice_agent_gather_candidates(ice->agent, ice->stream_id))
		return -EIO;
	ice->gathering = true;
	return 0;
}

void rtc_ice_set_controlling(struct rtc_ice *ice, bool controlling)
{
	ice->controlling = controlling;
	g_object_set(ice->agent, "controlling-mode", controlling, NULL);
}

static int add_nice_candidate(struct rtc_ice *ice, const struct rtc_cand *c)
{
	NiceCandidate *nc;
	GSList *l;
	int n;

	nc = nice_candidate_new(to_nice_type(c->type));
	nc->transport = NICE_CANDIDATE_TRANSPORT_UDP;
	nc->stream_id = ice->stream_id;
	nc->component_id = 1;
	nc->priority = c->priority;
	g_strlcpy(nc->foundation, c->foundation, sizeof(nc->foundation));
	if (!nice_address_set_from_string(&nc->addr, c->addr)) {
		nice_candidate_free(nc);
		return -EINVAL;
	}
	nice_address_set_port(&nc->addr, c->port);
	if (c->has_raddr && nice_address_set_from_string(&nc->base_addr, c->raddr))
		nice_address_set_port(&nc->base_addr, c->rport);
	else
		nc->base_addr = nc->addr;
	l = g_slist_append(NULL, nc);
	n = nice_agent_set_remote_candidates(ice->agent, ice->stream_id, 1, l);
	g_slist_free(l);
	nice_candidate_free(nc);
	return n == 1 ? 0 : -EINVAL;
}

int rtc_ice_set_remote(struct rtc_ice *ice, const struct rtc_sdp *remote)
{
	if (!nice_agent_set_remote_credentials(ice->agent, ice->stream_id, remote->ufrag,
					       remote->pwd))
		return -EINVAL;
	ice->remote_creds = true;
	for (size_t i = 0; i < remote->n_cands; i++)
		rtc_ice_add_candidate(ice, &remote->cands[i]);
	for (size_t i = 0; i < ice->n_pending; i++)
		rtc_ice_add_candidate(ice, &ice->pending[i]);
	ice->n_pending = 0;
	if (remote->end_of_candidates || ice->pending_eoc)
		rtc_ice_end_of_candidates(ice);
	return 0;
}

int rtc_ice_add_candidate(struct rtc_ice *ice, const struct rtc_cand *c)
{
	NiceAddress probe;

	/* TCP and mDNS (.local) candidates: we cannot use them; the browser also reaches us
	 * as peer-reflexive, so skipping is safe. */
	if (c->tcp || c->component != 1 || !nice_address_set_from_string(&probe, c->addr))
		return 0;
	if (!ice->remote_creds) {
		if (ice->n_pending == RTC_PENDING_CANDS)
			return -ENOSPC;
		ice->pending[ice->n_pending++] = *c;
		return 0;
	}
	return add_nice_candidate(ice, c);
}

void rtc_ice_end_of_candidates(struct rtc_ice *ice)
{
	if (!ice->remote_creds) {
		ice->pending_eoc = true;
		return;
	}
	nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream_id);
}

size_t rtc_ice_local_candidates(struct rtc_ice *ice, struct rtc_cand *out, size_t max)
{
	GSList *l = nice_agent_get_local_candidates(ice->agent, ice->stream_id, 1);
	size_t n = 0;

	for (GSList *it = l; it; it = it->next) {
		NiceCandidate *nc = it->data;
		struct rtc_cand *c = &out[n];

		if (n < max && nc->transport == NICE_CANDIDATE_TRANSPORT_UDP) {
			memset(c, 0, sizeof(*c));
			g_strlcpy(c->foundation, nc->foundation, sizeof(c->foundation));
			c->component = nc->component_id;
			c->priority = nc->priority;
			nice_address_to_string(&nc->addr, c->addr);
			c->port = (uint16_t)nice_address_get_port(&nc->addr);
			c->type = from_nice_type(nc->type);
			n++;
		}
		nice_candidate_free(nc);
	}
	g_slist_free(l);
	return n;
}

int rtc_ice_restart(struct rtc_ice *ice)
{
	int ret;

	/* RFC 8445 §9: new credentials; we also gather anew, on a new libnice agent (a restarted
	 * stream keeps its old candidates, and an agent never forgets a local address): see
	 * open_stream. The DTLS and SCTP state above does not know which agent carries it. */
	drop_direct(ice);
	free_agent(ice);
	ice->gathering = ice->gathered = false;
	ice->remote_creds = false;
	ice->n_pending = 0;
	ice->pending_eoc = false;
	if ((ret = create_agent(ice)) < 0 || (ret = open_stream(ice)) < 0)
		return ret;
	return 0;
}

/* Plain path: one datagram per mmsghdr. Returns how many left. */
static unsigned send_plain(int fd, struct mmsghdr *mm, unsigned n)
{
	unsigned done = 0;
	int r;

	while (done < n) {
		r = sendmmsg(fd, mm + done, n - done, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;	/* full socket buffer: drop the rest, as UDP would */
		done += (unsigned)r;
	}
	return done;
}

/* Data goes out in runs of equal-sized datagrams (a shorter one may end a run), each run as one
 * message with a UDP_SEGMENT cmsg: the stack carries one skb per run and splits it at the
 * device (or at the receiving socket, over veth), so the receiver still sees one DTLS record
 * per datagram. Without checksum offload on the route (EIO) the peer falls back to one
 * datagram per message for good. */
static void send_direct(struct rtc_ice *ice, NiceOutputMessage *msgs, unsigned n)
{
	struct mmsghdr mm[RTC_OUT_BATCH];
	struct iovec iov[RTC_OUT_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} cm[RTC_OUT_BATCH];
	unsigned first[RTC_OUT_BATCH + 1], m = 0, done = 0, sent = 0;
	int fd = g_socket_get_fd(ice->direct);

	if (n > RTC_OUT_BATCH)
		n = RTC_OUT_BATCH;
	for (unsigned i = 0; i < n; i++) {
		iov[i].iov_base = (void *)msgs[i].buffers[0].buffer;
		iov[i].iov_len = msgs[i].buffers[0].size;
	}
	for (unsigned i = 0; i < n;) {
		size_t seg = iov[i].iov_len, total = seg;
		unsigned j = i + 1;

		while (!ice->no_gso && j < n && j - i < RG_UDP_GSO_MAX_SEGS &&
		       iov[j].iov_len <= seg && total + iov[j].iov_len <= RG_UDP_GSO_MAX_BYTES) {
			total += iov[j].iov_len;
			if (iov[j++].iov_len < seg)
				break;	/* a shorter datagram ends the run */
		}
		mm[m].msg_hdr = (struct msghdr){ .msg_name = &ice->direct_to,
						 .msg_namelen = ice->direct_tolen,
						 .msg_iov = &iov[i], .msg_iovlen = j - i };
		mm[m].msg_len = 0;
		if (j - i > 1) {
			struct cmsghdr *c = &cm[m].align;
			uint16_t gso = (uint16_t)seg;

			mm[m].msg_hdr.msg_control = cm[m].buf;
			mm[m].msg_hdr.msg_controllen = sizeof(cm[m].buf);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			memcpy(CMSG_DATA(c), &gso, sizeof(gso));
		}
		first[m++] = i;
		i = j;
	}
	first[m] = n;
	while (done < m) {
		int r = sendmmsg(fd, mm + done, m - done, MSG_DONTWAIT);
		unsigned a, b;

		if (r > 0) {
			for (int k = 0; k < r; k++)
				sent += first[done + (unsigned)k + 1] - first[done + (unsigned)k];
			done += (unsigned)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			break;	/* full socket buffer: drop the rest, as UDP would */
		a = first[done];
		b = first[done + 1];
		if (b - a > 1) {
			struct mmsghdr one[RTC_OUT_BATCH];

			/* EIO: no checksum offload on this route; others (EINVAL, EMSGSIZE)
			 * concern this run only. Either way the run goes out plainly. */
			if (r < 0 && errno == EIO) {
				rg_log(RG_LOG_INFO, "%s: UDP GSO unavailable; one datagram per send",
				       ice->log_id);
				ice->no_gso = true;
			}
			for (unsigned k = a; k < b; k++)
				one[k - a] = (struct mmsghdr){ .msg_hdr = {
					.msg_name = &ice->direct_to,
					.msg_namelen = ice->direct_tolen,
					.msg_iov = &iov[k], .msg_iovlen = 1 } };
			sent += send_plain(fd, one, b - a);
		}
		done++;
	}
	ice->tx_datagrams += sent;
}

void rtc_ice_send(struct rtc_ice *ice, NiceOutputMessage *msgs, unsigned n)
{
	GError *e = NULL;
	gint sent;

	if (!ice->connected)
		return;
	if (ice->direct) {
		send_direct(ice, msgs, n);
		return;
	}
	sent = nice_agent_send_messages_nonblocking(ice->agent, ice->stream_id, 1, msgs, n,
						    NULL, &e);
	if (sent > 0)
		ice->tx_datagrams += (uint64_t)sent;
	/* A full socket buffer drops datagrams, as UDP would; SCTP retransmits what matters. */
	if (e) {
		rg_log(RG_LOG_TRACE, "%s: ICE send: %s", ice->log_id, e->message);
		g_error_free(e);
	}
}

unsigned rtc_ice_tick(struct rtc_ice *ice, uint64_t now, uint64_t silence_ns, uint64_t quiet_ns,
		      uint64_t consent_ns)
{
	unsigned ev = 0;

	if (ice->rx_datagrams != ice->tick_rx) {
		ice->tick_rx = ice->rx_datagrams;
		ice->last_rx_ns = now;
		ice->unanswered_tx_ns = 0;
		ev |= RTC_ICE_LIVE_RX;
	} else if (ice->tx_datagrams != ice->tick_tx && !ice->unanswered_tx_ns) {
		ice->unanswered_tx_ns = now;	/* sending, and nothing came back since */
	}
	ice->tick_tx = ice->tx_datagrams;
	if (!ice->connected)
		return ev;
	if (silence_ns && ice->unanswered_tx_ns && now - ice->unanswered_tx_ns >= silence_ns)
		ev |= RTC_ICE_LIVE_UNANSWERED;
	/* libnice's consent checks are the sending here; the stamp is read only once the
	 * counters have been quiet for quiet_ns, and then moves last_rx_ns up to it */
	else if (silence_ns && quiet_ns && now - ice->last_rx_ns > quiet_ns &&
		 !heard_lately(ice, now, quiet_ns))
		ev |= RTC_ICE_LIVE_UNANSWERED;
	if (now - ice->last_rx_ns > consent_ns && !heard_lately(ice, now, consent_ns))
		ev |= RTC_ICE_LIVE_SILENT;
	return ev;
}

void rtc_ice_rearm(struct rtc_ice *ice, uint64_t now, unsigned what)
{
	if (what & RTC_ICE_LIVE_UNANSWERED)
		ice->unanswered_tx_ns = 0;
	if (what & RTC_ICE_LIVE_SILENT)
		ice->last_rx_ns = now;
}

bool rtc_ice_connected(const struct rtc_ice *ice)
{
	return ice->connected;
}

bool rtc_ice_gathered(const struct rtc_ice *ice)
{
	return ice->gathered;
}

bool rtc_ice_has_remote_creds(const struct rtc_ice *ice)
{
	return ice->remote_creds;
}

unsigned rtc_ice_selections(const struct rtc_ice *ice)
{
	return ice->selections;
}

void rtc_ice_stats(const struct rtc_ice *ice, struct rtc_stats *st)
{
	st->local_type = ice->local_type;
	st->remote_type = ice->remote_type;
	g_strlcpy(st->local_addr, ice->local_addr, sizeof(st->local_addr));
	g_strlcpy(st->remote_addr, ice->remote_addr, sizeof(st->remote_addr));
	st->tx_datagrams = ice->tx_datagrams;
	st->rx_datagrams = ice->rx_datagrams;
	st->selections = ice->selections;
}

GSocket *rtc_ice_selected_socket(const struct rtc_ice *ice)
{
	return ice->agent ? nice_agent_get_selected_socket(ice->agent, ice->stream_id, 1) : NULL;
}

bool rtc_ice_selected_remote(const struct rtc_ice *ice, struct sockaddr_storage *ss)
{
	NiceCandidate *l = NULL, *r = NULL;

	if (!ice->agent || !nice_agent_get_selected_pair(ice->agent, ice->stream_id, 1, &l, &r))
		return false;
	memset(ss, 0, sizeof(*ss));
	nice_address_copy_to_sockaddr(&r->addr, (struct sockaddr *)ss);
	return true;
}

bool rtc_ice_hears_consent(const struct rtc_ice *ice)
{
	return ice->direct != NULL;
}

bool rtc_ice_pair_direct(const struct rtc_ice *ice)
{
	return ice->direct && ice->local_type != RTC_CAND_RELAY &&
	       ice->remote_type != RTC_CAND_RELAY;
}

const char *rtc_ice_ufrag(const struct rtc_ice *ice)
{
	return ice->ufrag;
}

const char *rtc_ice_pwd(const struct rtc_ice *ice)
{
	return ice->pwd;
}
