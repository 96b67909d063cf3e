/* TUN MTU from the largest single-packet SCTP message: one WireGuard datagram (16-byte header,
 * packet padded to 16, 16-byte tag) must fit one SCTP packet. */
#include <glib.h>

#include "agent/agent.h"

static void test_mtu(void)
{
	static const struct { size_t msg; unsigned mtu; } cases[] = {
		/* 1 */ { 1135, 1088 },	/* path MTU 1200 with AES-GCM DTLS: our default */
		/* 2 */ { 1136, 1104 },
		/* 3 */ { 1151, 1104 },
		/* 4 */ { 1152, 1120 },
		/* 5 */ { 1435, 1392 },	/* path MTU 1500 */
		/* 6 */ { 100, 576 },	/* never below the IPv4 minimum */
		/* 7 */ { 0, 576 },
		/* 8 */ { 1132, 1088 },	/* rtc's single-packet message at a 1200 path MTU */
		/* 9 */ { 1200, 1168 },	/* ... at 1266 (a 1300-byte link, probed) */
		/* 10 */ { 1404, 1360 },	/* ... at 1472 (1500-byte Ethernet, probed) */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		unsigned m = agent_mtu_for_message(cases[i].msg);

		g_assert_cmpuint(m, ==, cases[i].mtu);
		if (cases[i].msg >= 576 + 32)
			g_assert_cmpuint(16 + ((m + 15) & ~15u) + 16, <=, cases[i].msg);
	}
}

/* TURN REST credentials; the expected value was computed independently (Python hmac). */
static void test_turn(void)
{
	char user[96], cred[64];

	g_assert_true(agent_turn_credentials("north", "peer1", 1700000000, user, sizeof(user), cred,
					     sizeof(cred)));
	g_assert_cmpstr(user, ==, "1700000000:peer1");
	g_assert_cmpstr(cred, ==, "K5uDot1F2Xe8vV/LSdlGIqxmSXk=");
	/* too small buffers are refused, not truncated */
	g_assert_false(agent_turn_credentials("north", "peer1", 1700000000, user, 8, cred,
					      sizeof(cred)));
	g_assert_false(agent_turn_credentials("north", "peer1", 1700000000, user, sizeof(user),
					      cred, 20));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent/agent/mtu", test_mtu);
	g_test_add_func("/agent/agent/turn-credentials", test_turn);
	return g_test_run();
}
