/* signal/relay: the client's relay frame codec against the golden vectors of docs/signaling.md
 * §Relay (the same bytes tests/hub/test-hub-relay.c checks in the hub), the malformed shapes,
 * and the `"relay":true` announcement in `peers`. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "signal/msg.h"
#include "signal/relay.h"
#include "util/err.h"

static GBytes *unhex(const char *hex)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = g_malloc(n + 1);

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(g_ascii_xdigit_value(hex[2 * i]) << 4 | g_ascii_xdigit_value(hex[2 * i + 1]));
	return g_bytes_new_take(b, n);
}

static void test_golden(void)
{
	static const uint8_t payload[] = { 1, 2, 3, 4 };
	uint8_t out[64];
	g_autoptr(GBytes) want = unhex("010462657461" "01020304");
	g_autoptr(GBytes) from = unhex("0105616c706861" "01020304");
	const uint8_t *id, *pl;
	size_t il, pll, n;

	/* alpha sends to beta */
	n = sig_relay_encode(out, sizeof(out), "beta", payload, sizeof(payload));
	g_assert_cmpmem(out, n, g_bytes_get_data(want, NULL), g_bytes_get_size(want));
	/* beta receives from alpha */
	g_assert_cmpint(sig_relay_parse(g_bytes_get_data(from, NULL), g_bytes_get_size(from), &id,
					&il, &pl, &pll), ==, 0);
	g_assert_cmpmem(id, il, "alpha", 5);
	g_assert_cmpmem(pl, pll, payload, sizeof(payload));
}

static void test_limits(void)
{
	static uint8_t big[SIG_RELAY_FRAME_MAX + 8], payload[SIG_RELAY_PAYLOAD_MAX + 1];
	char id[SIG_RELAY_ID_MAX + 2];
	static const struct { const char *hex; int want; } bad[] = {
		/* 1 */ { "", -EINVAL },
		/* 2 */ { "01", -EINVAL },
		/* 3 */ { "0100", -EINVAL },
		/* 4 */ { "010161", -EINVAL },		/* no payload */
		/* 5 */ { "02016100", -EINVAL },		/* unknown type */
		/* 6 */ { "01ff6100", -EINVAL },		/* id past the end */
		/* 7 */ { "01016100", 0 },
	};
	const uint8_t *ip, *pl;
	size_t il, pll, n;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GBytes) b = unhex(bad[i].hex);

		g_assert_cmpint(sig_relay_parse(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &ip,
						&il, &pl, &pll), ==, bad[i].want);
	}
	memset(id, 'x', sizeof(id));
	id[SIG_RELAY_ID_MAX] = '\0';
	/* the largest frame: 255-byte id, 9216-byte payload */
	n = sig_relay_encode(big, sizeof(big), id, payload, SIG_RELAY_PAYLOAD_MAX);
	g_assert_cmpuint(n, ==, SIG_RELAY_FRAME_MAX);
	g_assert_cmpint(sig_relay_parse(big, n, &ip, &il, &pl, &pll), ==, 0);
	g_assert_cmpint(sig_relay_parse(big, n + 1, &ip, &il, &pl, &pll), ==, -EINVAL);
	/* one over: payload, id; empty: payload, id; no room */
	g_assert_cmpuint(sig_relay_encode(big, sizeof(big), "a", payload, SIG_RELAY_PAYLOAD_MAX + 1), ==, 0);
	id[SIG_RELAY_ID_MAX] = 'x';
	id[SIG_RELAY_ID_MAX + 1] = '\0';
	g_assert_cmpuint(sig_relay_encode(big, sizeof(big), id, payload, 1), ==, 0);
	g_assert_cmpuint(sig_relay_encode(big, sizeof(big), "a", payload, 0), ==, 0);
	g_assert_cmpuint(sig_relay_encode(big, sizeof(big), "", payload, 1), ==, 0);
	g_assert_cmpuint(sig_relay_encode(big, 4, "ab", payload, 1), ==, 0);
	g_assert_cmpuint(sig_relay_encode(big, 5, "ab", payload, 1), ==, 5);
}

/* "relay":true only: absent, false, or not a boolean all mean no relay. The budget
 * ("relayRate", "relayBurst") counts only beside "relay":true, as a positive integer that fits
 * 32 bits; anything else reads as absent (0: the client keeps the default). The golden
 * `peers` of docs/signaling.md §Relay budgets is case 7. */
static void test_announce(void)
{
	static const struct {
		const char *json;
		bool relay;
		uint32_t rate, burst;
	} cases[] = {
		/* 1 */ { "{\"type\":\"peers\",\"peers\":[],\"relay\":true}", true, 0, 0 },
		/* 2 */ { "{\"type\":\"peers\",\"peers\":[]}", false, 0, 0 },
		/* 3 */ { "{\"type\":\"peers\",\"peers\":[],\"relay\":false}", false, 0, 0 },
		/* 4 */ { "{\"type\":\"peers\",\"peers\":[],\"relay\":\"yes\"}", false, 0, 0 },
		/* 5 */ { "{\"type\":\"peers\",\"peers\":null,\"relay\":1}", false, 0, 0 },
		/* 6 */ { "{\"type\":\"peers\",\"relay\":true,\"peers\":[{\"peerId\":\"a\",\"publicKey\":\"K\"}]}", true, 0, 0 },
		/* 7 */ { "{\"type\":\"peers\",\"peers\":[],\"relay\":true,\"relayRate\":8388608,\"relayBurst\":524288}",
			  true, 8388608, 524288 },
		/* 8 */ { "{\"type\":\"peers\",\"peers\":[],\"relay\":false,\"relayRate\":65536,\"relayBurst\":4096}",
			  false, 0, 0 },
		/* 9 */ { "{\"type\":\"peers\",\"peers\":[],\"relay\":true,\"relayRate\":4294967295,\"relayBurst\":1}",
			  true, 4294967295u, 1 },
		/* 10 */ { "{\"type\":\"peers\",\"peers\":[],\"relay\":true,\"relayRate\":4294967296,\"relayBurst\":0}",
			   true, 0, 0 },
		/* 11 */ { "{\"type\":\"peers\",\"peers\":[],\"relay\":true,\"relayRate\":-5,\"relayBurst\":1.5}",
			   true, 0, 0 },
		/* 12 */ { "{\"type\":\"peers\",\"peers\":[],\"relay\":true,\"relayRate\":\"8M\",\"relayBurst\":null}",
			   true, 0, 0 },
		/* 13 */ { "{\"type\":\"peers\",\"peers\":[],\"relay\":true,\"relayRate\":1e6,\"relayBurst\":true}",
			   true, 0, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct sig_msg m;
		struct rg_err err = { 0 };

		g_test_message("case %zu", i + 1);
		g_assert_cmpint(sig_msg_parse(&m, cases[i].json, strlen(cases[i].json), &err), ==, 0);
		g_assert_cmpint(m.relay, ==, cases[i].relay);
		g_assert_cmpuint(m.relay_rate, ==, cases[i].rate);
		g_assert_cmpuint(m.relay_burst, ==, cases[i].burst);
		sig_msg_clear(&m);
	}
	/* named twice: refused like every member the agent acts on */
	static const char twice[] =
		"{\"type\":\"peers\",\"peers\":[],\"relay\":true,\"relayRate\":1,\"relayRate\":9}";
	struct sig_msg m;
	struct rg_err err = { 0 };

	g_assert_cmpint(sig_msg_parse(&m, twice, strlen(twice), &err), ==, -EINVAL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/signal/relay/golden", test_golden);
	g_test_add_func("/signal/relay/limits", test_limits);
	g_test_add_func("/signal/relay/announce", test_announce);
	return g_test_run();
}
