/* net/addrwatch: address changes arrive as counts. The test unshares into a private network
 * namespace (root only; skipped otherwise) and changes addresses on a TUN link there. */
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "net/addrwatch.h"
#include "net/netlink.h"
#include "net/tun.h"
#include "util/err.h"

static bool in_netns;

/* Waits up to 2 s for the watcher's fd, then reads; returns the change count. */
static int wait_read(struct net_addrwatch *w, int skip)
{
	struct pollfd pfd = { .fd = net_addrwatch_fd(w), .events = POLLIN };

	if (poll(&pfd, 1, 2000) < 0)
		return -errno;
	return net_addrwatch_read(w, skip);
}

/* Reads until a change is counted or 2 s pass, so a late uncounted event (an earlier address
 * leaving DAD) that wakes the poll first does not hide the one the caller waits for. Returns
 * the summed count. */
static int wait_counted(struct net_addrwatch *w, int skip)
{
	gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
	int n = 0, r;

	while (n == 0 && g_get_monotonic_time() < end) {
		r = wait_read(w, skip);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

static void test_changes(void)
{
	struct net_addrwatch w = { 0 };
	struct net_tun a = { .fd = -1 }, b = { .fd = -1 };
	struct rg_prefix p4, p6, ll;
	struct rg_err err = { 0 };

	if (!in_netns) {
		g_test_skip("needs root (unshare CLONE_NEWNET)");
		return;
	}
	g_assert_cmpint(net_tun_open(&a, "rgiaw0", false, &err), ==, 0);
	g_assert_cmpint(net_tun_open(&b, "rgiaw1", false, &err), ==, 0);
	g_assert_cmpint(net_link_set_up(a.ifindex, true), ==, 0);
	g_assert_cmpint(net_link_set_up(b.ifindex, true), ==, 0);
	g_assert_cmpint(net_addrwatch_open(&w), ==, 0);
	g_assert_cmpint(net_addrwatch_read(&w, 0), ==, 0);	/* nothing queued: no block */

	/* a global IPv4 address on a: one change */
	g_assert_true(rg_prefix_parse_addr(&p4, "198.18.201.7/24"));
	g_assert_cmpint(net_addr_add(a.ifindex, &p4), ==, 0);
	g_assert_cmpint(wait_counted(&w, 0), >=, 1);
	/* the same on the skipped interface (our own TUN): nothing */
	g_assert_true(rg_prefix_parse_addr(&p6, "fd00:7::7/64"));
	g_assert_cmpint(net_addr_add(b.ifindex, &p6), ==, 0);
	g_assert_cmpint(wait_read(&w, b.ifindex), ==, 0);
	/* an IPv6 link-local address: nothing (never a candidate) */
	g_assert_true(rg_prefix_parse_addr(&ll, "fe80::7/64"));
	g_assert_cmpint(net_addr_add(a.ifindex, &ll), ==, 0);
	g_assert_cmpint(wait_read(&w, b.ifindex), ==, 0);	/* (b's address may still be in DAD) */
	/* a global IPv6 address on a: counted */
	g_assert_cmpint(net_addr_add(a.ifindex, &p6), ==, 0);
	g_assert_cmpint(wait_counted(&w, b.ifindex), >=, 1);
	/* the link going away removes its addresses: counted */
	net_tun_close(&a);
	g_assert_cmpint(wait_counted(&w, b.ifindex), >=, 1);

	net_addrwatch_close(&w);
	net_addrwatch_close(&w);	/* twice is fine */
	g_assert_cmpint(net_addrwatch_fd(&w), ==, -1);
	g_assert_cmpint(net_addrwatch_read(&w, 0), ==, -EBADF);
	net_tun_close(&b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	in_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
	g_test_add_func("/net/addrwatch/changes", test_changes);
	return g_test_run();
}
