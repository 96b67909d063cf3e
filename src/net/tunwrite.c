/* See tunwrite.h. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "net/tun.h"
#include "net/tunwrite.h"
#include "util/log.h"

/* Authenticated by WireGuard: like the kernel module, skip checksum verification. */
static const struct virtio_net_hdr valid = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };

void net_tun_writer_init(struct net_tun_writer *w, const struct net_tun *t)
{
	memset(&w->train, 0, sizeof(w->train));
	w->fd = t->fd;
	w->vnet_hdr = t->vnet_hdr;
	w->errors = 0;
	w->train.buf = w->train_buf;
}

static void write_error(struct net_tun_writer *w, int e)
{
	w->errors++;
	if (rg_log_on(RG_LOG_TRACE))
		rg_log_(RG_LOG_TRACE, "tun: write: %s", strerror(e));
}

static void write_hdr(struct net_tun_writer *w, const struct virtio_net_hdr *h,
		      const uint8_t *pkt, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)h, .iov_len = sizeof(*h) },
		{ .iov_base = (void *)pkt, .iov_len = len },
	};
	ssize_t n;

	do
		n = writev(w->fd, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		write_error(w, errno);
}

void net_tun_writer_flush(struct net_tun_writer *w)
{
	struct virtio_net_hdr h;
	size_t n;

	if (!w->train.open)
		return;
	n = net_gro_finish(&w->train, &h);
	write_hdr(w, &h, w->train.buf, n);
}

void net_tun_writer_put_alone(struct net_tun_writer *w, const uint8_t *pkt, size_t len)
{
	ssize_t n;

	if (w->vnet_hdr) {
		net_tun_writer_flush(w);
		write_hdr(w, &valid, pkt, len);
		return;
	}
	n = net_tun_write(w->fd, pkt, len);
	if (n < 0)
		write_error(w, (int)-n);
}

bool net_tun_writer_put(struct net_tun_writer *w, const uint8_t *pkt, size_t len)
{
	if (!w->vnet_hdr) {
		net_tun_writer_put_alone(w, pkt, len);
		return false;
	}
	if (w->train.open && net_gro_append(&w->train, pkt, len))
		return false;
	net_tun_writer_flush(w);
	if (net_gro_start(&w->train, pkt, len))
		return true;
	write_hdr(w, &valid, pkt, len);
	return false;
}
