/* The shared TUN writer (net/tunwrite.c) over a SOCK_SEQPACKET socketpair standing in for the
 * TUN (one write, one message): in-order TCP segments are held and written as one super-segment
 * with a GSO virtio header on flush; anything else goes out at once, after the open train;
 * without a virtio header every packet is written as is; failed writes are counted. */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tun.h"
#include "net/tunwrite.h"

/* IPv4 + TCP (ACK) with n payload bytes at sequence number seq. */
static size_t tcp4(uint8_t *p, uint32_t seq, size_t n)
{
	size_t len = 40 + n;
	uint32_t s = htonl(seq);

	memset(p, 0, 40);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[6] = 0x40;
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	inet_pton(AF_INET, "10.0.0.1", p + 12);
	inet_pton(AF_INET, "10.0.0.2", p + 16);
	p[20] = 0x13; p[21] = 0x88; p[22] = 0xc0; p[23] = 0x01;
	memcpy(p + 24, &s, 4);
	p[32] = 0x50;
	p[33] = 0x10;
	for (size_t i = 0; i < n; i++)
		p[40 + i] = (uint8_t)(seq + i);
	return len;
}

/* IPv4 + UDP with 8 payload bytes. */
static size_t udp4(uint8_t *p)
{
	memset(p, 0, 36);
	p[0] = 0x45;
	p[3] = 36;
	p[8] = 64;
	p[9] = IPPROTO_UDP;
	inet_pton(AF_INET, "10.0.0.1", p + 12);
	inet_pton(AF_INET, "10.0.0.2", p + 16);
	p[25] = 16;
	return 36;
}

struct pair {
	int fd[2];
	struct net_tun tun;
	struct net_tun_writer *w;
};

static void pair_open(struct pair *p, bool vnet_hdr)
{
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, p->fd), ==, 0);
	memset(&p->tun, 0, sizeof(p->tun));
	p->tun.fd = p->fd[0];
	p->tun.vnet_hdr = vnet_hdr;
	p->w = g_new0(struct net_tun_writer, 1);
	net_tun_writer_init(p->w, &p->tun);
}

static void pair_close(struct pair *p)
{
	close(p->fd[0]);
	if (p->fd[1] >= 0)
		close(p->fd[1]);
	g_free(p->w);
}

/* Next message the "TUN" received, or -1 when there is none. */
static ssize_t next_msg(struct pair *p, uint8_t *buf, size_t cap)
{
	ssize_t n = recv(p->fd[1], buf, cap, MSG_DONTWAIT);

	if (n < 0)
		g_assert_cmpint(errno, ==, EAGAIN);
	return n;
}

static void test_train(void)
{
	static uint8_t seg[3][1100], got[70000];
	struct virtio_net_hdr h;
	struct pair p;
	size_t len[3];

	pair_open(&p, true);
	for (unsigned k = 0; k < 3; k++)
		len[k] = tcp4(seg[k], 1000 + 1000 * k, 1000);
	g_assert_true(net_tun_writer_put(p.w, seg[0], len[0]));		/* starts a train */
	g_assert_false(net_tun_writer_put(p.w, seg[1], len[1]));
	g_assert_false(net_tun_writer_put(p.w, seg[2], len[2]));
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, -1);	/* held until the flush */
	net_tun_writer_flush(p.w);
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, NET_VNET_HDR_LEN + 40 + 3000);
	memcpy(&h, got, sizeof(h));
	g_assert_cmpuint(h.gso_type, ==, VIRTIO_NET_HDR_GSO_TCPV4);
	g_assert_cmpuint(h.gso_size, ==, 1000);
	g_assert_cmpuint(h.flags, ==, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	for (unsigned k = 0; k < 3; k++)
		g_assert_cmpmem(got + NET_VNET_HDR_LEN + 40 + 1000 * k, 1000, seg[k] + 40, 1000);
	net_tun_writer_flush(p.w);					/* nothing open: no write */
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, -1);
	g_assert_cmpuint(p.w->errors, ==, 0);
	pair_close(&p);
}

/* A packet that cannot join the train is written after it: order is kept. */
static void test_order(void)
{
	static uint8_t seg[2][1100], udp[64], got[70000];
	struct virtio_net_hdr h;
	struct pair p;
	size_t len[2], ulen = udp4(udp);

	pair_open(&p, true);
	len[0] = tcp4(seg[0], 5000, 1000);
	len[1] = tcp4(seg[1], 9000, 1000);				/* not the next sequence */
	g_assert_true(net_tun_writer_put(p.w, seg[0], len[0]));
	g_assert_false(net_tun_writer_put(p.w, udp, ulen));		/* written at once */
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, NET_VNET_HDR_LEN + len[0]);
	memcpy(&h, got, sizeof(h));
	g_assert_cmpuint(h.gso_type, ==, VIRTIO_NET_HDR_GSO_NONE);	/* a train of one */
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, NET_VNET_HDR_LEN + ulen);
	memcpy(&h, got, sizeof(h));
	g_assert_cmpuint(h.flags, ==, VIRTIO_NET_HDR_F_DATA_VALID);
	g_assert_cmpmem(got + NET_VNET_HDR_LEN, ulen, udp, ulen);

	/* A gap in the sequence closes the train and starts the next. */
	g_assert_true(net_tun_writer_put(p.w, seg[0], len[0]));
	g_assert_true(net_tun_writer_put(p.w, seg[1], len[1]));
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, NET_VNET_HDR_LEN + len[0]);
	g_assert_cmpmem(got + NET_VNET_HDR_LEN, len[0], seg[0], len[0]);
	/* put_alone (an ICMP answer) flushes the open train first, and never merges. */
	net_tun_writer_put_alone(p.w, seg[0], len[0]);
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, NET_VNET_HDR_LEN + len[1]);
	g_assert_cmpmem(got + NET_VNET_HDR_LEN, len[1], seg[1], len[1]);
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, NET_VNET_HDR_LEN + len[0]);
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, -1);
	pair_close(&p);
}

/* Without a virtio header nothing is held or prefixed. */
static void test_plain(void)
{
	static uint8_t seg[2][1100], got[4096];
	struct pair p;
	size_t len[2];

	pair_open(&p, false);
	len[0] = tcp4(seg[0], 1, 1000);
	len[1] = tcp4(seg[1], 1001, 1000);
	g_assert_false(net_tun_writer_put(p.w, seg[0], len[0]));
	g_assert_false(net_tun_writer_put(p.w, seg[1], len[1]));
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, len[0]);
	g_assert_cmpmem(got, len[0], seg[0], len[0]);
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, len[1]);
	net_tun_writer_put_alone(p.w, seg[0], len[0]);
	g_assert_cmpint(next_msg(&p, got, sizeof(got)), ==, len[0]);
	pair_close(&p);
}

/* A TUN that refuses writes: every lost packet is counted, nothing else happens. */
static void test_errors(void)
{
	static uint8_t seg[1100], udp[64];
	struct pair p;
	size_t len = tcp4(seg, 1, 1000), ulen = udp4(udp);

	for (int vnet = 0; vnet < 2; vnet++) {
		pair_open(&p, vnet);
		close(p.fd[1]);
		p.fd[1] = -1;
		net_tun_writer_put(p.w, seg, len);
		net_tun_writer_put(p.w, udp, ulen);
		net_tun_writer_put_alone(p.w, udp, ulen);
		g_assert_cmpuint(p.w->errors, ==, 3);
		pair_close(&p);
	}
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/net/tunwrite/train", test_train);
	g_test_add_func("/net/tunwrite/order", test_order);
	g_test_add_func("/net/tunwrite/plain", test_plain);
	g_test_add_func("/net/tunwrite/errors", test_errors);
	return g_test_run();
}
