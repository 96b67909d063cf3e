/* net/hostaddr: which local addresses ICE may gather on. The filter as a table; then, in a
 * private network namespace (root only), real interfaces: a plain one, riftgate's own, a TUN
 * named like nothing in particular (skipped by kind), and one matching an exclude pattern (veths:
 * the kernel may have no dummy driver). */
#include <glib.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/hostaddr.h"

static const char *const patterns[] = { "wg*", "tailscale*", "vpn[0-9]" };

static void test_skip(void)
{
	static const struct {
		const char *name, *kind;
		bool skip;
	} cases[] = {
		/* 1 */ { "eth0", "", false },
		/* 2 */ { "riftgate0", "tun", true },	/* our own, and a tunnel */
		/* 3 */ { "rgown", "", true },		/* our own by name, whatever its kind */
		/* 4 */ { "corp0", "tun", true },	/* OpenVPN, Tailscale, wireguard-go: TUN */
		/* 5 */ { "corp1", "wireguard", true },	/* kernel WireGuard */
		/* 6 */ { "wg0", "", true },		/* by pattern */
		/* 7 */ { "tailscale0", "", true },
		/* 8 */ { "vpn3", "veth", true },
		/* 9 */ { "vpn10", "veth", false },	/* [0-9] is one character */
		/* 10 */ { "br0", "bridge", false },
		/* 11 */ { "veth1", "veth", false },
		/* 12 */ { "xwg0", "", false },		/* patterns match whole names */
	};
	const struct net_hostaddr_filter f = { .own_ifname = "rgown", .exclude = patterns,
					       .n_exclude = G_N_ELEMENTS(patterns) };

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		if (net_hostaddr_skip(&f, cases[i].name, cases[i].kind) != cases[i].skip)
			g_error("case %zu: %s (%s)", i + 1, cases[i].name, cases[i].kind);
}

static bool in_netns;

static void sh(const char *cmd)
{
	g_assert_cmpint(system(cmd), ==, 0);
}

static bool has(char a[][INET6_ADDRSTRLEN], size_t n, const char *want)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], want) == 0)
			return true;
	return false;
}

static void test_interfaces(void)
{
	const struct net_hostaddr_filter f = { .own_ifname = "rgown", .exclude = patterns,
					       .n_exclude = G_N_ELEMENTS(patterns) };
	const struct net_hostaddr_filter none = { 0 };
	char out[16][INET6_ADDRSTRLEN];
	size_t n;

	if (!in_netns) {
		g_test_skip("needs root (unshare CLONE_NEWNET)");
		return;
	}
	sh("ip link set lo up && "
	   "ip link add lan0 type veth peer name lan0p && ip addr add 192.0.2.1/24 dev lan0 && "
	   "ip addr add 2001:db8::1/64 dev lan0 nodad && ip link set lan0 up && "
	   "ip link add rgown type veth peer name rgownp && ip addr add 198.51.100.1/24 dev rgown && "
	   "ip link set rgown up && "
	   "ip tuntap add dev corp0 mode tun && ip addr add 198.51.101.1/24 dev corp0 && "
	   "ip link set corp0 up && "
	   "ip link add wgx type veth peer name wgxp && ip addr add 198.51.102.1/24 dev wgx && "
	   "ip link set wgx up && "
	   "ip link add down0 type veth peer name down0p && ip addr add 198.51.103.1/24 dev down0");
	n = net_hostaddrs(&f, out, G_N_ELEMENTS(out));
	for (size_t i = 0; i < n; i++)
		g_test_message("usable: %s", out[i]);
	g_assert_cmpuint(n, ==, 2);
	g_assert_true(has(out, n, "192.0.2.1"));
	g_assert_true(has(out, n, "2001:db8::1"));
	/* without a filter: every up, non-loopback address (kind and names no longer matter) */
	n = net_hostaddrs(&none, out, G_N_ELEMENTS(out));
	g_assert_false(has(out, n, "198.51.103.1"));	/* down */
	g_assert_false(has(out, n, "127.0.0.1"));
	g_assert_true(has(out, n, "198.51.102.1"));
	/* the TUN goes by its kind alone */
	g_assert_false(has(out, n, "198.51.101.1"));
	g_assert_true(has(out, n, "198.51.100.1"));
	/* at the limit */
	g_assert_cmpuint(net_hostaddrs(&none, out, 1), ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	in_netns = geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
	g_test_add_func("/net/hostaddr/skip", test_skip);
	g_test_add_func("/net/hostaddr/interfaces", test_interfaces);
	return g_test_run();
}
