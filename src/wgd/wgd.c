/* See wgd.h. Ownership: struct wgd owns the device, the TUN, both UDP sockets, the UAPI
 * server, every loop fd and the two packet arenas; wgd_free() releases them in reverse order
 * of wgd_new().
 *
 * Zero-copy transmit: wg_device_tun_input() encrypts in place inside a tx slot and calls
 * ops.send() with a pointer into that slot. Such sends are queued (the slot stays untouched until
 * the batch is flushed) and leave together in one sendmmsg per socket. Any other send (handshake
 * messages, keepalives, staged packets: buffers owned by the core) first flushes the queue, to
 * keep datagram order, then goes out at once. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net/netlink.h"
#include "net/offload.h"
#include "net/tun.h"
#include "net/tunwrite.h"
#include "net/uapisock.h"
#include "wgd/wgd.h"
#include "util/encoding.h"
#include "util/err.h"
#include "util/gso.h"
#include "util/log.h"
#include "wg/device.h"
#include "wg/uapi.h"

enum {
	SLOT_LEN = WG_DATA_HEADROOM + WG_PACKET_MAX + WG_DATA_TAILROOM + 16,
	SOCK_BUF_BYTES = 4 << 20,
	BIND_TRIES = 16,
};

enum ev_tag { EV_TUN = 1, EV_UDP4, EV_UDP6, EV_UAPI, EV_TIMER, EV_SIGNAL, EV_INOTIFY };

/* One cmsg carrying a u16 (UDP_SEGMENT) or an int (UDP_GRO). */
union cmsg_buf {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

struct txq {
	struct mmsghdr msgs[WGD_BATCH];
	struct iovec iov[WGD_BATCH];
	struct sockaddr_in6 names[WGD_BATCH];	/* large enough for either family */
	unsigned n;
	/* UDP GSO: runs of equal-sized datagrams to one endpoint become one message. */
	struct mmsghdr gso_msgs[WGD_BATCH];
	union cmsg_buf gso_cmsg[WGD_BATCH];
	unsigned gso_first[WGD_BATCH];	/* index in msgs of each message's first datagram */
};

struct wgd {
	struct wg_device *dev;
	struct net_tun tun;
	struct net_uapisock uapi;
	struct wg_uapi_hooks hooks;
	int epfd, timerfd, sigfd, inofd;
	int udp4, udp6;
	bool gso;			/* UDP_SEGMENT works (cleared on the first EIO) */
	bool gro;			/* UDP_GRO enabled on the sockets */
	uint16_t port;
	uint32_t fwmark;
	uint64_t armed;			/* deadline the timerfd holds, UINT64_MAX = disarmed */
	bool stop;
	int fatal;			/* -errno that ended the loop, 0 = clean stop */
	char sockname[IFNAMSIZ + 8];	/* "IFNAME.sock", for inotify */
	sigset_t old_mask;
	uint8_t *tx_arena, *rx_arena;	/* WGD_BATCH slots each */
	struct txq q4, q6;
	struct mmsghdr rx_msgs[WGD_BATCH];
	struct iovec rx_iov[WGD_BATCH];
	struct sockaddr_in6 rx_names[WGD_BATCH];
	union cmsg_buf rx_cmsg[WGD_BATCH];
	struct net_tun_writer tunw;	/* every decrypted packet reaches the TUN through it */
};

static bool in_tx_arena(const struct wgd *d, const uint8_t *p)
{
	return p >= d->tx_arena && p < d->tx_arena + (size_t)WGD_BATCH * SLOT_LEN;
}

/* Plain path: one datagram per message, from index `from`. */
static void txq_send_plain(int fd, struct txq *q, unsigned from, unsigned to)
{
	while (from < to) {
		int n = sendmmsg(fd, q->msgs + from, to - from, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* This datagram failed (unreachable, no route...); the rest may not. */
			if (rg_log_on(RG_LOG_DEBUG))
				rg_log(RG_LOG_DEBUG, "udp send: %s", strerror(errno));
			from++;
			continue;
		}
		from += (unsigned)n;
	}
}

static bool same_dest(const struct txq *q, unsigned a, unsigned b)
{
	return q->msgs[a].msg_hdr.msg_namelen == q->msgs[b].msg_hdr.msg_namelen &&
	       !memcmp(&q->names[a], &q->names[b], q->msgs[a].msg_hdr.msg_namelen);
}

/* GSO path: consecutive datagrams to one endpoint, all of one size except a shorter last one,
 * leave as one message with a UDP_SEGMENT cmsg; the kernel (or the NIC) splits them again. */
static void txq_send_gso(struct wgd *d, int fd, struct txq *q)
{
	unsigned m = 0, i = 0, done = 0;

	while (i < q->n) {
		size_t seg = q->iov[i].iov_len, total = seg;
		struct msghdr *h = &q->gso_msgs[m].msg_hdr;
		unsigned j = i + 1;

		while (j < q->n && j - i < RG_UDP_GSO_MAX_SEGS && q->iov[j].iov_len <= seg &&
		       total + q->iov[j].iov_len <= RG_UDP_GSO_MAX_BYTES && same_dest(q, i, j)) {
			total += q->iov[j].iov_len;
			if (q->iov[j++].iov_len < seg)
				break;		/* a shorter datagram ends the run */
		}
		*h = q->msgs[i].msg_hdr;
		h->msg_iovlen = j - i;	/* iov[i..j) are contiguous */
		if (j - i > 1) {
			struct cmsghdr *c = &q->gso_cmsg[m].align;
			uint16_t gso = (uint16_t)seg;

			h->msg_control = q->gso_cmsg[m].buf;
			h->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			memcpy(CMSG_DATA(c), &gso, sizeof(gso));
		}
		q->gso_first[m++] = i;
		i = j;
	}
	while (done < m) {
		int n = sendmmsg(fd, q->gso_msgs + done, m - done, 0);
		unsigned first, end;

		if (n >= 0) {
			done += (unsigned)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		first = q->gso_first[done];
		end = done + 1 < m ? q->gso_first[done + 1] : q->n;
		if (end - first > 1) {
			/* EIO: no checksum offload on the route's device; others (EINVAL: larger
			 * than the path MTU) concern this run only. Either way, resend it plainly. */
			if (errno == EIO) {
				rg_log(RG_LOG_INFO, "%s: UDP GSO unavailable (%s); sending per datagram",
				       d->tun.name, strerror(errno));
				d->gso = false;
				txq_send_plain(fd, q, first, q->n);
				return;
			}
			txq_send_plain(fd, q, first, end);
		} else if (rg_log_on(RG_LOG_DEBUG)) {
			rg_log(RG_LOG_DEBUG, "udp send: %s", strerror(errno));
		}
		done++;
	}
}

static void txq_flush(struct wgd *d, int fd, struct txq *q)
{
	if (d->gso && q->n > 1)
		txq_send_gso(d, fd, q);
	else
		txq_send_plain(fd, q, 0, q->n);
	q->n = 0;
}

static void flush(struct wgd *d)
{
	if (d->q4.n)
		txq_flush(d, d->udp4, &d->q4);
	if (d->q6.n)
		txq_flush(d, d->udp6, &d->q6);
}

static int ep_socket(const struct wgd *d, const struct wg_endpoint *ep, socklen_t *alen,
		     struct txq **q, struct wgd *mut)
{
	const struct sockaddr *sa = (const struct sockaddr *)ep->data;

	if (ep->len >= sizeof(struct sockaddr_in) && sa->sa_family == AF_INET && d->udp4 >= 0) {
		*alen = sizeof(struct sockaddr_in);
		*q = &mut->q4;
		return d->udp4;
	}
	if (ep->len >= sizeof(struct sockaddr_in6) && sa->sa_family == AF_INET6 && d->udp6 >= 0) {
		*alen = sizeof(struct sockaddr_in6);
		*q = &mut->q6;
		return d->udp6;
	}
	return -1;
}

static int op_send(void *opaque, const struct wg_endpoint *ep, const uint8_t *buf, size_t len)
{
	struct wgd *d = opaque;
	struct txq *q;
	socklen_t alen;
	ssize_t n;
	int fd = ep_socket(d, ep, &alen, &q, d);

	if (fd < 0)
		return -EAFNOSUPPORT;
	if (in_tx_arena(d, buf) && q->n < WGD_BATCH) {
		unsigned i = q->n++;

		memcpy(&q->names[i], ep->data, alen);
		q->iov[i].iov_base = (void *)buf;
		q->iov[i].iov_len = len;
		q->msgs[i].msg_hdr = (struct msghdr){
			.msg_name = &q->names[i], .msg_namelen = alen,
			.msg_iov = &q->iov[i], .msg_iovlen = 1,
		};
		return 0;
	}
	flush(d);
	do
		n = sendto(fd, buf, len, 0, (const struct sockaddr *)ep->data, alen);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static void op_tun_write(void *opaque, struct wg_peer *peer, uint8_t *pkt, size_t len)
{
	struct wgd *d = opaque;

	(void)peer;
	/* pkt lives in an rx slot that the next datagram may reuse: a train copies it. The loop
	 * flushes after every batch. */
	(void)net_tun_writer_put(&d->tunw, pkt, len);
}

static void peer_short_id(const struct wg_peer *peer, char out[9])
{
	uint8_t pub[WG_KEY_LEN];
	char b64[RG_KEY_B64_LEN + 1];

	wg_peer_get_public_key(peer, pub);
	rg_key_to_base64(b64, pub);
	memcpy(out, b64, 8);
	out[8] = '\0';
}

static void op_peer_event(void *opaque, struct wg_peer *peer, enum wg_peer_event ev)
{
	static const char *const names[] = {
		[WG_PEER_HANDSHAKE_COMPLETE] = "handshake complete",
		[WG_PEER_HANDSHAKE_FAILED] = "handshake did not complete, giving up for now",
		[WG_PEER_SESSION_EXPIRED] = "session expired",
	};
	struct wgd *d = opaque;
	char id[9];

	if (!rg_log_on(RG_LOG_INFO) || ev < WG_PEER_HANDSHAKE_COMPLETE ||
	    ev > WG_PEER_SESSION_EXPIRED)
		return;
	peer_short_id(peer, id);
	rg_log(RG_LOG_INFO, "peer %s: %s (%s)", id, names[ev], d->tun.name);
}

static int udp_socket(int family, uint16_t port, uint32_t fwmark, uint16_t *bound, bool *gro)
{
	int buf = SOCK_BUF_BYTES, one = 1, ret;
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* FORCE works as root and ignores rmem_max; fall back to the capped variant. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		goto fail;
	/* Coalesced receive (Linux >= 5.0); without it every datagram is its own message. */
	if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0)
		*gro = false;
	if (family == AF_INET ? bind(fd, (struct sockaddr *)&a4, sizeof(a4)) :
				bind(fd, (struct sockaddr *)&a6, sizeof(a6)))
		goto fail;
	if (bound) {
		struct sockaddr_in6 got = { 0 };
		socklen_t len = sizeof(got);

		if (getsockname(fd, (struct sockaddr *)&got, &len) < 0)
			goto fail;
		*bound = ntohs(got.sin6_port);	/* same offset in sockaddr_in */
	}
	return fd;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

static int epoll_add(int epfd, int fd, enum ev_tag tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Binds both families to port (0: a random port both are free on), then replaces the old
 * sockets. On failure the old sockets stay. */
static int rebind(struct wgd *d, uint16_t port)
{
	int s4 = -1, s6 = -1, ret = -EADDRINUSE;
	uint16_t got = 0;

	for (int tries = 0; tries < BIND_TRIES; tries++) {
		s4 = udp_socket(AF_INET, port, d->fwmark, &got, &d->gro);
		if (s4 == -EAFNOSUPPORT) {
			s4 = -1;		/* IPv6-only host */
			got = port;
		} else if (s4 < 0) {
			return s4;
		}
		s6 = udp_socket(AF_INET6, got, d->fwmark, got ? NULL : &got, &d->gro);
		if (s6 >= 0)
			break;
		if (s6 == -EAFNOSUPPORT && s4 >= 0) {
			s6 = -1;		/* IPv4-only host */
			break;
		}
		ret = s6;
		s6 = -1;
		if (s4 >= 0)
			close(s4);
		s4 = -1;
		/* A random IPv4 port that is taken on IPv6: pick another. */
		if (port || ret != -EADDRINUSE)
			return ret;
	}
	if (s4 < 0 && s6 < 0)
		return ret;
	if ((s4 >= 0 && (ret = epoll_add(d->epfd, s4, EV_UDP4)) < 0) ||
	    (s6 >= 0 && (ret = epoll_add(d->epfd, s6, EV_UDP6)) < 0)) {
		if (s4 >= 0)
			close(s4);
		if (s6 >= 0)
			close(s6);
		return ret;
	}
	flush(d);
	if (d->udp4 >= 0)
		close(d->udp4);
	if (d->udp6 >= 0)
		close(d->udp6);
	d->udp4 = s4;
	d->udp6 = s6;
	d->port = got;
	rg_log(RG_LOG_INFO, "%s: listening on UDP port %u", d->tun.name, got);
	return 0;
}

static uint16_t hook_get_port(void *opaque)
{
	return ((struct wgd *)opaque)->port;
}

static int hook_set_port(void *opaque, uint16_t port)
{
	struct wgd *d = opaque;

	if (port && port == d->port)
		return 0;
	return rebind(d, port);
}

static uint32_t hook_get_fwmark(void *opaque)
{
	return ((struct wgd *)opaque)->fwmark;
}

static int hook_set_fwmark(void *opaque, uint32_t mark)
{
	struct wgd *d = opaque;
	int fds[2] = { d->udp4, d->udp6 };

	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0 && setsockopt(fds[i], SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
			return -errno;
	d->fwmark = mark;
	return 0;
}

static char *uapi_handler(void *opaque, const char *req, size_t len, size_t *reply_len)
{
	struct wgd *d = opaque;

	return wg_uapi_handle(d->dev, &d->hooks, req, len, reply_len);
}

void wgd_free(struct wgd *d)
{
	if (!d)
		return;
	net_uapisock_close(&d->uapi);
	wg_device_free(d->dev);		/* wipes every key */
	if (d->udp4 >= 0)
		close(d->udp4);
	if (d->udp6 >= 0)
		close(d->udp6);
	net_tun_close(&d->tun);		/* last fd of a non-persistent TUN: the link goes */
	int fds[] = { d->inofd, d->sigfd, d->timerfd, d->epfd };
	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	sigprocmask(SIG_SETMASK, &d->old_mask, NULL);
	free(d->tx_arena);
	free(d->rx_arena);
	free(d);
}

int wgd_new(struct wgd **out, const struct wgd_config *cfg, struct rg_err *err)
{
	static const struct wg_device_ops ops = {
		.send = op_send,
		.tun_write = op_tun_write,
		.peer_event = op_peer_event,
	};
	const char *dir = cfg->uapi_dir ? cfg->uapi_dir : NET_UAPISOCK_DIR;
	unsigned mtu = cfg->mtu ? cfg->mtu : WGD_DEFAULT_MTU;
	struct wgd *d;
	sigset_t mask;
	int ret;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return rg_err_set(err, -ENOMEM, "out of memory");
	d->epfd = d->timerfd = d->sigfd = d->inofd = d->udp4 = d->udp6 = -1;
	d->tun.fd = -1;
	d->uapi.epfd = d->uapi.listen_fd = -1;
	for (unsigned i = 0; i < NET_UAPISOCK_MAX_CLIENTS; i++)
		d->uapi.clients[i].fd = -1;
	d->armed = UINT64_MAX;
	d->gso = d->gro = getenv("RG_WG_NO_OFFLOAD") == NULL;	/* tests/bench compare both */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);	/* a closed terminal: stop cleanly, no stale socket */
	sigprocmask(SIG_BLOCK, &mask, &d->old_mask);
	d->hooks = (struct wg_uapi_hooks){
		.get_listen_port = hook_get_port, .set_listen_port = hook_set_port,
		.get_fwmark = hook_get_fwmark, .set_fwmark = hook_set_fwmark, .opaque = d,
	};

	d->tx_arena = calloc(WGD_BATCH, SLOT_LEN);
	d->rx_arena = calloc(WGD_BATCH, SLOT_LEN);
	if (!d->tx_arena || !d->rx_arena) {
		ret = rg_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	ret = d->gso ? net_tun_open_offload(&d->tun, cfg->ifname, false, err) :
		       net_tun_open(&d->tun, cfg->ifname, false, err);
	if (ret < 0)
		goto fail;
	net_tun_writer_init(&d->tunw, &d->tun);
	ret = net_link_set_mtu(d->tun.ifindex, mtu);
	if (ret < 0) {
		rg_err_set(err, ret, "%s: cannot set MTU %u: %s", cfg->ifname, mtu, strerror(-ret));
		goto fail;
	}
	ret = wg_device_new(&d->dev, &ops, d);
	if (ret < 0) {
		rg_err_set(err, ret, "cannot create the WireGuard device: %s", strerror(-ret));
		goto fail;
	}
	ret = net_uapisock_open(&d->uapi, dir, cfg->ifname, uapi_handler, d, err);
	if (ret < 0)
		goto fail;
	snprintf(d->sockname, sizeof(d->sockname), "%s.sock", cfg->ifname);

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	d->inofd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (d->epfd < 0 || d->timerfd < 0 || d->sigfd < 0 || d->inofd < 0) {
		ret = rg_err_set(err, -errno, "event loop setup: %s", strerror(errno));
		goto fail;
	}
	if (inotify_add_watch(d->inofd, dir, IN_DELETE | IN_MOVED_FROM) < 0 ||
	    (ret = epoll_add(d->epfd, d->tun.fd, EV_TUN)) < 0 ||
	    (ret = epoll_add(d->epfd, net_uapisock_fd(&d->uapi), EV_UAPI)) < 0 ||
	    (ret = epoll_add(d->epfd, d->timerfd, EV_TIMER)) < 0 ||
	    (ret = epoll_add(d->epfd, d->sigfd, EV_SIGNAL)) < 0 ||
	    (ret = epoll_add(d->epfd, d->inofd, EV_INOTIFY)) < 0) {
		ret = rg_err_set(err, ret < 0 ? ret : -errno, "event loop setup: %s",
				 strerror(ret < 0 ? -ret : errno));
		goto fail;
	}
	ret = rebind(d, 0);
	if (ret < 0) {
		rg_err_set(err, ret, "cannot bind a UDP port: %s", strerror(-ret));
		goto fail;
	}
	for (unsigned i = 0; i < WGD_BATCH; i++) {
		d->rx_iov[i].iov_base = d->rx_arena + (size_t)i * SLOT_LEN;
		d->rx_msgs[i].msg_hdr.msg_iov = &d->rx_iov[i];
		d->rx_msgs[i].msg_hdr.msg_iovlen = 1;
		d->rx_msgs[i].msg_hdr.msg_name = &d->rx_names[i];
	}
	rg_log(RG_LOG_INFO, "%s: up, UAPI at %s", d->tun.name, d->uapi.path);
	*out = d;
	return 0;
fail:
	wgd_free(d);
	return ret;
}

static void arm_timer(struct wgd *d)
{
	uint64_t dl = wg_device_next_deadline(d->dev);
	struct itimerspec its = { 0 };

	if (dl == d->armed)
		return;
	if (dl != UINT64_MAX) {
		if (dl == 0)
			dl = 1;			/* 0 would disarm */
		its.it_value.tv_sec = (time_t)(dl / 1000000000u);
		its.it_value.tv_nsec = (long)(dl % 1000000000u);
	}
	if (timerfd_settime(d->timerfd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		d->armed = dl;
}

/* Splits the TSO super-segment read into slot src into MSS-sized packets in the other slots and
 * encrypts each. Returns the next free slot. Slots before src hold queued datagrams until the
 * queue is flushed, so wrapping around flushes first. */
static unsigned tso_split(struct wgd *d, unsigned src, const struct net_tso *t)
{
	unsigned next = src + 1;

	for (unsigned k = 0; k < t->segs; k++) {
		if (next == src)
			next++;
		if (next >= WGD_BATCH) {
			flush(d);
			next = src == 0 ? 1 : 0;
		}
		uint8_t *out = d->tx_arena + (size_t)next * SLOT_LEN + WG_DATA_HEADROOM;
		size_t n = net_tso_segment(t, k, out);

		(void)wg_device_tun_input(d->dev, out, n);
		next++;
	}
	return next;
}

/* The vnet-header read path: each read is a header plus one packet or one TCP super-segment. */
static void on_tun_vnet(struct wgd *d)
{
	unsigned used = 0;

	for (unsigned reads = 0; reads < WGD_BATCH; reads++) {
		if (used >= WGD_BATCH) {
			flush(d);
			used = 0;
		}
		/* The header lands in the core's headroom, which it overwrites after we parsed it. */
		uint8_t *raw = d->tx_arena + (size_t)used * SLOT_LEN + WG_DATA_HEADROOM -
			       NET_VNET_HDR_LEN;
		ssize_t n = net_tun_read(d->tun.fd, raw, NET_VNET_HDR_LEN + WG_PACKET_MAX);
		struct net_tso t;

		if (n == -EAGAIN)
			break;
		if (n < 0) {
			rg_log(n == -EBADFD ? RG_LOG_INFO : RG_LOG_ERROR, "%s: TUN %s; stopping",
			       d->tun.name, n == -EBADFD ? "removed" : strerror((int)-n));
			d->stop = true;
			d->fatal = n == -EBADFD ? 0 : (int)n;
			break;
		}
		switch (net_vnet_rx(raw, (size_t)n, WG_PACKET_MAX, &t)) {
		case NET_VNET_RX_PACKET:
			(void)wg_device_tun_input(d->dev, raw + NET_VNET_HDR_LEN,
						  (size_t)n - NET_VNET_HDR_LEN);
			used++;
			break;
		case NET_VNET_RX_TSO:
			used = tso_split(d, used, &t);
			break;
		case NET_VNET_RX_DROP:
			break;		/* reuse the slot */
		}
	}
	flush(d);
}

static void on_tun(struct wgd *d)
{
	if (d->tun.vnet_hdr) {
		on_tun_vnet(d);
		return;
	}
	for (unsigned i = 0; i < WGD_BATCH; i++) {
		uint8_t *pkt = d->tx_arena + (size_t)i * SLOT_LEN + WG_DATA_HEADROOM;
		ssize_t n = net_tun_read(d->tun.fd, pkt, WG_PACKET_MAX);

		if (n == -EAGAIN)
			break;
		if (n == -EBADFD) {
			/* The link was deleted (`ip link del`, wg-quick down): a normal stop. */
			rg_log(RG_LOG_INFO, "%s: TUN removed; stopping", d->tun.name);
			d->stop = true;
			break;
		}
		if (n < 0) {
			rg_log(RG_LOG_ERROR, "%s: TUN read: %s; stopping", d->tun.name,
			       strerror((int)-n));
			d->stop = true;
			d->fatal = (int)n;
			break;
		}
		(void)wg_device_tun_input(d->dev, pkt, (size_t)n);
	}
	flush(d);
}

/* The segment size of a coalesced (GRO) datagram, or 0. */
static size_t gro_size(const struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int v;

			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v > 0 ? (size_t)v : 0;
		}
	}
	return 0;
}

static void on_udp(struct wgd *d, int fd)
{
	struct wg_endpoint ep;
	int n;

	for (unsigned i = 0; i < WGD_BATCH; i++) {
		struct msghdr *h = &d->rx_msgs[i].msg_hdr;

		d->rx_iov[i].iov_len = SLOT_LEN - WG_DATA_TAILROOM;
		h->msg_namelen = sizeof(d->rx_names[i]);
		h->msg_control = d->gro ? d->rx_cmsg[i].buf : NULL;
		h->msg_controllen = d->gro ? sizeof(d->rx_cmsg[i].buf) : 0;
	}
	do
		n = recvmmsg(fd, d->rx_msgs, WGD_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	for (int i = 0; i < n; i++) {
		const struct sockaddr_in6 *sa = &d->rx_names[i];
		uint8_t *buf = d->rx_iov[i].iov_base;
		size_t len = d->rx_msgs[i].msg_len, seg = d->gro ? gro_size(&d->rx_msgs[i].msg_hdr) : 0;

		/* Canonical endpoint bytes, so the core's byte compare sees a stable address. */
		memset(&ep, 0, sizeof(ep));
		if (sa->sin6_family == AF_INET) {
			const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
			struct sockaddr_in *o = (struct sockaddr_in *)ep.data;

			o->sin_family = AF_INET;
			o->sin_port = s4->sin_port;
			o->sin_addr = s4->sin_addr;
			ep.len = sizeof(*o);
		} else if (sa->sin6_family == AF_INET6) {
			struct sockaddr_in6 *o = (struct sockaddr_in6 *)ep.data;

			o->sin6_family = AF_INET6;
			o->sin6_port = sa->sin6_port;
			o->sin6_addr = sa->sin6_addr;
			o->sin6_scope_id = sa->sin6_scope_id;
			ep.len = sizeof(*o);
		} else {
			continue;
		}
		if (seg == 0 || seg >= len) {
			(void)wg_device_input(d->dev, &ep, buf, len);
			continue;
		}
		/* A GRO train: equal segments, the last one possibly shorter. */
		for (size_t off = 0; off < len; off += seg)
			(void)wg_device_input(d->dev, &ep, buf + off, len - off < seg ? len - off : seg);
	}
	net_tun_writer_flush(&d->tunw);
	flush(d);
}

static void on_inotify(struct wgd *d)
{
	_Alignas(struct inotify_event) char buf[4096];
	ssize_t n;

	while ((n = read(d->inofd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;

			if (e->len && !strcmp(e->name, d->sockname)) {
				rg_log(RG_LOG_INFO, "%s: UAPI socket removed; stopping", d->tun.name);
				d->uapi.path[0] = '\0';	/* gone; never unlink a successor's */
				d->stop = true;
			}
			p += sizeof(*e) + e->len;
		}
	}
}

int wgd_run(struct wgd *d, struct rg_err *err)
{
	struct epoll_event evs[8];

	while (!d->stop) {
		arm_timer(d);
		int n = epoll_wait(d->epfd, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return rg_err_set(err, -errno, "epoll_wait: %s", strerror(errno));
		}
		for (int i = 0; i < n && !d->stop; i++) {
			switch ((enum ev_tag)evs[i].data.u32) {
			case EV_TUN:
				on_tun(d);
				break;
			case EV_UDP4:
				on_udp(d, d->udp4);
				break;
			case EV_UDP6:
				on_udp(d, d->udp6);
				break;
			case EV_UAPI:
				net_uapisock_dispatch(&d->uapi);
				flush(d);
				break;
			case EV_TIMER: {
				uint64_t ticks;

				if (read(d->timerfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					break;
				d->armed = UINT64_MAX;
				wg_device_tick(d->dev);
				flush(d);
				break;
			}
			case EV_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
					rg_log(RG_LOG_INFO, "%s: signal %u; stopping", d->tun.name,
					       si.ssi_signo);
					d->stop = true;
				}
				break;
			}
			case EV_INOTIFY:
				on_inotify(d);
				break;
			}
			net_tun_writer_flush(&d->tunw);
		}
	}
	if (d->fatal)
		return rg_err_set(err, d->fatal, "%s: %s", d->tun.name, strerror(-d->fatal));
	return 0;
}
