/* Our core against our core in memory: handshake, data, rekey, expiry, keepalives, cookies,
 * replays. Two devices wired by tests/wg/harness.h with a fake clock. */
#include <errno.h>

#include "harness.h"

#define S(x) ((uint64_t)((x) * 1e9))

static void handshake(struct harness *h)
{
	g_assert_cmpint(h_ping(h, 0, 1, 100, 0xab), ==, 1);	/* staged, initiation sent */
	h_run(h);
	g_assert_cmpuint(h->n[1].tun_count, ==, 1);		/* staged packet arrived */
}

static void test_handshake_and_data(void)
{
	struct harness h;
	struct wg_peer_stats st;

	h_init(&h);
	handshake(&h);
	g_assert_cmpuint(h.n[1].tun_last_len, ==, 120);
	g_assert_cmpuint(h.n[1].tun_last[20], ==, 0xab);
	g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE], ==, 1);
	g_assert_cmpuint(h.n[1].events[WG_PEER_HANDSHAKE_COMPLETE], ==, 1);
	/* both directions now go straight through */
	g_assert_cmpint(h_ping(&h, 1, 0, 1000, 0x11), ==, 0);
	h_run(&h);
	g_assert_cmpuint(h.n[0].tun_count, ==, 1);
	g_assert_cmpuint(h.n[0].tun_last_len, ==, 1020);
	g_assert_cmpint(h_ping(&h, 0, 1, 0, 0), ==, 0);
	h_run(&h);
	g_assert_cmpuint(h.n[1].tun_count, ==, 2);
	wg_peer_get_stats(h_peer(&h, 0, 1), &st);
	g_assert_true(st.has_session);
	/* initiation 148 + data(120 -> 128 + 32) + data(20 -> 32 + 32) */
	g_assert_cmpuint(st.tx_bytes, ==, 148 + 160 + 64);
	g_assert_cmpuint(st.rx_bytes, ==, 92 + 1024 + 32);
	g_assert_cmpint(st.last_handshake_sec, ==, 1700001000);
	h_clear(&h);
}

static void test_handshake_reverse(void)
{
	struct harness h;

	h_init(&h);
	g_assert_cmpint(h_ping(&h, 1, 0, 10, 1), ==, 1);
	h_run(&h);
	g_assert_cmpuint(h.n[0].tun_count, ==, 1);
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 2), ==, 0);
	h_run(&h);
	g_assert_cmpuint(h.n[1].tun_count, ==, 1);
	h_clear(&h);
}

static void test_unrouted(void)
{
	struct harness h;
	uint8_t buf[WG_DATA_HEADROOM + 64 + WG_DATA_TAILROOM];
	size_t len;

	h_init(&h);
	len = h_ipv4(buf + WG_DATA_HEADROOM, 0, 7, 4, 0);
	g_assert_cmpint(wg_device_tun_input(h.n[0].dev, buf + WG_DATA_HEADROOM, len), ==,
			-ENETUNREACH);
	g_assert_cmpint(wg_device_tun_input(h.n[0].dev, buf + WG_DATA_HEADROOM, 3), ==, -EINVAL);
	h_clear(&h);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/wg/device/handshake_and_data", test_handshake_and_data);
	g_test_add_func("/wg/device/handshake_reverse", test_handshake_reverse);
	g_test_add_func("/wg/device/unrouted", test_unrouted);
	return g_test_run();
}
