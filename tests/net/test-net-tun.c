/* TUN creation, netlink link/address/route/MTU, in a private network namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/netlink.h"
#include "net/tun.h"
#include "util/err.h"

static bool in_netns;

static void put_csum(uint8_t *at, const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	at[0] = (uint8_t)(sum >> 8);
	at[1] = (uint8_t)sum;
}

static void test_ifname(void)
{
	static const struct { const char *name; bool ok; } cases[] = {
		/* 1 */ { "rgwg0", true },
		/* 2 */ { "abcdefghijklmno", true },	/* 15 bytes */
		/* 3 */ { "abcdefghijklmnop", false },	/* 16 bytes */
		/* 4 */ { "", false },
		/* 5 */ { "a/b", false },
		/* 6 */ { "a b", false },
		/* 7 */ { ".", false },
		/* 8 */ { "..", false },
		/* 9 */ { "wg:0", false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		g_assert_cmpint(net_ifname_valid(cases[i].name), ==, cases[i].ok);
}

static void test_errors(void)
{
	struct net_tun t;
	struct rg_err err = { 0 };

	g_assert_cmpint(net_tun_open(&t, "abcdefghijklmnop", false, &err), ==, -EINVAL);
	g_assert_nonnull(strstr(err.msg, "invalid interface name"));
	g_assert_cmpint(t.fd, ==, -1);
	net_tun_close(&t);
}

/* Reads the next IPv4 packet from either queue (the kernel also emits IPv6 router solicitations
 * and MLD reports once the link is up; those are skipped). */
static ssize_t read_ipv4(int fd, int q, uint8_t *pkt, size_t cap)
{
	for (int i = 0; i < 500; i++) {
		ssize_t n = net_tun_read(fd, pkt, cap);

		if (n == -EAGAIN)
			n = net_tun_read(q, pkt, cap);
		if (n > 0 && pkt[0] >> 4 == 4)
			return n;
		if (n == -EAGAIN)
			g_usleep(10000);
	}
	return -ETIMEDOUT;
}

/* Sends one UDP datagram to an address routed into the TUN and reads it back as an IP packet. */
static void test_tun_roundtrip(void)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct rg_prefix addr, route;
	struct rg_err err = { 0 };
	uint8_t pkt[2048];
	struct net_tun t;
	unsigned mtu = 0;
	ssize_t n;
	int s;

	if (!in_netns) {
		g_test_skip("needs root (unshare CLONE_NEWNET)");
		return;
	}
	g_assert_cmpint(net_tun_open(&t, "rgwg-t0", true, &err), ==, 0);
	g_assert_cmpint(t.ifindex, >, 0);
	g_assert_true(rg_prefix_parse_addr(&addr, "10.77.0.1/24"));
	g_assert_cmpint(net_link_set_mtu(t.ifindex, 1420), ==, 0);
	g_assert_cmpint(net_link_get_mtu(t.ifindex, &mtu), ==, 0);
	g_assert_cmpuint(mtu, ==, 1420);
	g_assert_cmpint(net_link_set_mtu(t.ifindex, 20), ==, -EINVAL);
	g_assert_cmpint(net_addr_add(t.ifindex, &addr), ==, 0);
	g_assert_cmpint(net_addr_add(t.ifindex, &addr), ==, 0);	/* idempotent */
	g_assert_cmpint(net_link_set_up(t.ifindex, true), ==, 0);
	g_assert_true(rg_prefix_parse_addr(&route, "10.88.1.7/16"));	/* host bits masked */
	g_assert_cmpint(net_route_add(t.ifindex, &route), ==, 0);
	g_assert_cmpint(net_route_add(t.ifindex, &route), ==, 0);

	/* Another queue of the same device works. */
	int q = net_tun_open_queue(&t);
	g_assert_cmpint(q, >=, 0);

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(s, >=, 0);
	inet_pton(AF_INET, "10.88.3.4", &dst.sin_addr);
	g_assert_cmpint(sendto(s, "hello", 5, 0, (struct sockaddr *)&dst, sizeof(dst)), ==, 5);
	n = read_ipv4(t.fd, q, pkt, sizeof(pkt));
	g_assert_cmpint(n, ==, 20 + 8 + 5);
	g_assert_cmpint(pkt[0] >> 4, ==, 4);
	g_assert_cmpint(pkt[9], ==, 17);
	g_assert_cmpmem(pkt + 28, 5, "hello", 5);
	g_assert_cmpmem(pkt + 16, 4, &dst.sin_addr, 4);

	/* Write a packet in: an ICMP echo to our own address is answered back out of the TUN. */
	static const uint8_t echo_hdr[28] = {
		0x45, 0, 0, 28, 0x12, 0x34, 0, 0, 64, 1, 0, 0, 10, 77, 0, 2, 10, 77, 0, 1,
		8, 0, 0, 0, 0xab, 0xcd, 0, 1,
	};
	uint8_t echo[28];

	memcpy(echo, echo_hdr, sizeof(echo));
	put_csum(echo + 10, echo, 20);
	put_csum(echo + 22, echo + 20, 8);
	g_assert_cmpint(net_tun_write(t.fd, echo, sizeof(echo)), ==, (ssize_t)sizeof(echo));
	n = read_ipv4(t.fd, q, pkt, sizeof(pkt));
	g_assert_cmpint(n, ==, 28);
	g_assert_cmpint(pkt[20], ==, 0);	/* echo reply */
	g_assert_cmpmem(pkt + 16, 4, echo + 12, 4);
	g_assert_cmpmem(pkt + 24, 4, echo + 24, 4);

	g_assert_cmpint(net_route_del(t.ifindex, &route), ==, 0);
	g_assert_cmpint(net_route_del(t.ifindex, &route), ==, -ESRCH);
	close(s);
	close(q);
	net_tun_close(&t);
	net_tun_close(&t);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	in_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
	g_test_add_func("/net/tun/ifname", test_ifname);
	g_test_add_func("/net/tun/errors", test_errors);
	g_test_add_func("/net/tun/roundtrip", test_tun_roundtrip);
	return g_test_run();
}
