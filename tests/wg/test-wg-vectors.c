/* Known-answer tests: our Noise/cookie code against bytes produced by the independent Go
 * implementation in tests/wg/vectors/gen.go (fixed keys, ephemerals, indexes, timestamp). */
#include <glib.h>
#include <string.h>

#include "util/ct.h"
#include "util/encoding.h"
#include "util/x25519.h"
#include "wg/cookie.h"
#include "wg/device.h"
#include "wg/noise.h"
#include "harness.h"
#include "vectors.h"

enum { I_INDEX = 0x11223344, R_INDEX = 0x55667788 };
static const uint64_t wall_ns = 1700000000ull * 1000000000ull + 0x3000000;
static const uint64_t now_ns = 5ull * 1000000000ull;

static void seq(uint8_t k[32], uint8_t start)
{
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(start + i);
}

static void check_hex(const void *got, size_t len, const char *want_hex)
{
	uint8_t want[256];

	g_assert_cmpuint(strlen(want_hex), ==, 2 * len);
	g_assert_true(rg_hex_decode(want, len, want_hex, 2 * len));
	if (memcmp(got, want, len) != 0) {
		char hex[513];

		rg_hex_encode(hex, got, len);
		g_test_message("got  %s\nwant %s", hex, want_hex);
		g_assert_not_reached();
	}
}

struct pair {
	struct wg_static_identity id_i, id_r;
	struct wg_handshake hs_i, hs_r;
	struct wg_cookie ck_i, ck_r;
	struct wg_msg_initiation m1;
	struct wg_msg_response m2;
	struct wg_keypair kp_i, kp_r;
};

static void identity(struct wg_static_identity *id, uint8_t start)
{
	seq(id->private_key, start);
	g_assert_true(rg_x25519_public(id->public_key, id->private_key));
	id->has = true;
}

static void run_handshake(struct pair *p, const uint8_t *psk)
{
	struct wg_noise_initiation_state st;
	uint8_t eph[32];

	memset(p, 0, sizeof(*p));
	identity(&p->id_i, 0x10);
	identity(&p->id_r, 0x40);
	wg_noise_handshake_init(&p->hs_i, &p->id_i, p->id_r.public_key);
	wg_noise_handshake_init(&p->hs_r, &p->id_r, p->id_i.public_key);
	if (psk) {
		memcpy(p->hs_i.psk, psk, 32);
		memcpy(p->hs_r.psk, psk, 32);
		p->hs_i.has_psk = p->hs_r.has_psk = true;
	}
	wg_cookie_init(&p->ck_i, p->id_r.public_key);
	wg_cookie_init(&p->ck_r, p->id_i.public_key);

	seq(eph, 0x70);
	g_assert_true(wg_noise_create_initiation(&p->m1, &p->hs_i, &p->id_i, eph, I_INDEX, wall_ns));
	wg_cookie_add_macs(&p->ck_i, (uint8_t *)&p->m1, WG_INITIATION_MAC1_OFF, now_ns);

	g_assert_true(wg_noise_consume_initiation_static(&st, &p->m1, &p->id_r));
	g_assert_cmpmem(st.remote_static, 32, p->id_i.public_key, 32);
	g_assert_true(wg_noise_consume_initiation_peer(&p->hs_r, &st, &p->m1, now_ns));
	seq(eph, 0xa0);
	g_assert_true(wg_noise_create_response(&p->m2, &p->hs_r, eph, R_INDEX));
	wg_cookie_add_macs(&p->ck_r, (uint8_t *)&p->m2, WG_RESPONSE_MAC1_OFF, now_ns);

	g_assert_true(wg_noise_consume_response(&p->hs_i, &p->m2, &p->id_i));
	g_assert_true(wg_noise_derive_keypair(&p->kp_i, &p->hs_i, now_ns));
	g_assert_true(wg_noise_derive_keypair(&p->kp_r, &p->hs_r, now_ns));
	g_assert_true(p->kp_i.initiator);
	g_assert_false(p->kp_r.initiator);
	g_assert_cmpuint(p->kp_i.remote_index, ==, R_INDEX);
	g_assert_cmpuint(p->kp_r.remote_index, ==, I_INDEX);
}

static void data_messages(struct pair *p, const char *want_i2r, const char *want_keepalive)
{
	uint8_t buf[16 + 64 + 16], ka[32];
	uint32_t type = 4, rx = R_INDEX, rx2 = I_INDEX;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &type, 4);
	memcpy(buf + 4, &rx, 4);
	for (int i = 0; i < 60; i++)
		buf[16 + i] = (uint8_t)(i * 3);
	g_assert_true(wg_noise_encrypt(&p->kp_i, buf + 16, 64, 0));
	check_hex(buf, sizeof(buf), want_i2r);
	g_assert_true(wg_noise_decrypt(&p->kp_r, buf + 16, 64 + 16, 0));
	g_assert_cmpuint(buf[16 + 59], ==, 59 * 3);

	memset(ka, 0, sizeof(ka));
	memcpy(ka, &type, 4);
	memcpy(ka + 4, &rx2, 4);
	g_assert_true(wg_noise_encrypt(&p->kp_r, ka + 16, 0, 0));
	check_hex(ka, sizeof(ka), want_keepalive);
	g_assert_true(wg_noise_decrypt(&p->kp_i, ka + 16, 16, 0));
	/* wrong counter: the nonce differs, so authentication fails */
	g_assert_true(wg_noise_encrypt(&p->kp_r, ka + 16, 0, 0));
	g_assert_false(wg_noise_decrypt(&p->kp_i, ka + 16, 16, 1));
	wg_noise_keypair_free(&p->kp_i);
	wg_noise_keypair_free(&p->kp_r);
}

static void test_handshake_no_psk(void)
{
	struct pair p;

	run_handshake(&p, NULL);
	check_hex(&p.m1, sizeof(p.m1), VEC_INITIATION);
	check_hex(&p.m2, sizeof(p.m2), VEC_RESPONSE);
	data_messages(&p, VEC_DATA_I2R, VEC_KEEPALIVE_R2I);
}

static void test_handshake_psk(void)
{
	struct pair p;
	uint8_t psk[32];

	seq(psk, 0xd0);
	run_handshake(&p, psk);
	check_hex(&p.m1, sizeof(p.m1), VEC_PSK_INITIATION);
	check_hex(&p.m2, sizeof(p.m2), VEC_PSK_RESPONSE);
	data_messages(&p, VEC_PSK_DATA_I2R, VEC_PSK_KEEPALIVE_R2I);
}

/* Scripted randomness for the cookie checker: the reply nonce, then the secret. */
static void scripted_random(void *ctx, uint8_t *buf, size_t len)
{
	unsigned *calls = ctx;

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((*calls == 0 ? 0xc0 : 0x33) + i);
	(*calls)++;
}

static void test_cookie(void)
{
	struct wg_cookie_checker checker = { 0 };
	struct wg_msg_cookie reply;
	struct wg_endpoint ep = { .len = 16 };
	struct pair p;
	uint8_t msg[148];
	unsigned calls = 0;

	memcpy(ep.data, "endpoint-bytes-0", 16);
	run_handshake(&p, NULL);
	wg_noise_keypair_free(&p.kp_i);
	wg_noise_keypair_free(&p.kp_r);
	wg_cookie_checker_init(&checker, p.id_r.public_key);
	wg_cookie_make_reply(&checker, &reply, (const uint8_t *)&p.m1, WG_INITIATION_MAC1_OFF,
			     I_INDEX, &ep, now_ns, scripted_random, &calls);
	check_hex(&reply, sizeof(reply), VEC_COOKIE_REPLY);

	/* the initiator takes the cookie and stamps mac2 on its next message */
	g_assert_true(wg_cookie_consume_reply(&p.ck_i, &reply, now_ns));
	g_assert_false(wg_cookie_consume_reply(&p.ck_i, &reply, now_ns));	/* once per mac1 */
	memcpy(msg, &p.m1, sizeof(msg));
	wg_cookie_add_macs(&p.ck_i, msg, WG_INITIATION_MAC1_OFF, now_ns);
	check_hex(msg, sizeof(msg), VEC_INITIATION_MAC2);
	g_assert_cmpint(wg_cookie_validate(&checker, msg, sizeof(msg), WG_INITIATION_MAC1_OFF, &ep,
					   now_ns, scripted_random, &calls),
			==, WG_COOKIE_MAC2_VALID);
	/* mac2 is bound to the endpoint */
	ep.data[0] ^= 1;
	g_assert_cmpint(wg_cookie_validate(&checker, msg, sizeof(msg), WG_INITIATION_MAC1_OFF, &ep,
					   now_ns, scripted_random, &calls),
			==, WG_COOKIE_MAC1_ONLY);
	ep.data[0] ^= 1;
	/* the secret rotates after two minutes, and old cookies stop validating */
	g_assert_cmpint(wg_cookie_validate(&checker, msg, sizeof(msg), WG_INITIATION_MAC1_OFF, &ep,
					   now_ns + 121ull * 1000000000ull, scripted_random,
					   &calls),
			==, WG_COOKIE_MAC2_VALID);	/* scripted secret is the same bytes */
	g_assert_cmpuint(calls, ==, 3);			/* ... but it was regenerated */
	/* a stale cookie (older than 120 - 5 s) is not used for mac2 */
	wg_cookie_add_macs(&p.ck_i, msg, WG_INITIATION_MAC1_OFF, now_ns + 116ull * 1000000000ull);
	g_assert_true(rg_ct_is_zero(msg + WG_INITIATION_MAC2_OFF, 16));
	wg_cookie_checker_clear(&checker);
}

/* Tampering with any authenticated part of message 1 makes the responder drop it. */
static void test_tampered_initiation(void)
{
	static const struct { size_t off; bool ok; } cases[] = {
		/* 1 */ { 0, true },	/* type byte is dispatch, not checked by noise */
		/* 2 */ { 4, true },	/* sender index is not authenticated by noise */
		/* 3 */ { 8, false },	/* ephemeral */
		/* 4 */ { 39, false },
		/* 5 */ { 40, false },	/* encrypted static */
		/* 6 */ { 87, false },	/* its tag */
		/* 7 */ { 88, false },	/* encrypted timestamp */
		/* 8 */ { 115, false },
		/* 9 */ { 116, true },	/* mac1 is checked by cookie.c, not noise */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct wg_noise_initiation_state st;
		struct pair p;
		bool ok;

		run_handshake(&p, NULL);
		wg_noise_keypair_free(&p.kp_i);
		wg_noise_keypair_free(&p.kp_r);
		wg_noise_handshake_init(&p.hs_r, &p.id_r, p.id_i.public_key);
		((uint8_t *)&p.m1)[cases[i].off] ^= 0x01;
		ok = wg_noise_consume_initiation_static(&st, &p.m1, &p.id_r) &&
		     wg_noise_consume_initiation_peer(&p.hs_r, &st, &p.m1, now_ns);
		g_test_message("case %zu", i + 1);
		g_assert_cmpint(ok, ==, cases[i].ok);
	}
}

/* The responder accepts each timestamp once, and only increasing ones. */
static void test_initiation_replay(void)
{
	struct wg_noise_initiation_state st;
	struct pair p;

	run_handshake(&p, NULL);
	wg_noise_keypair_free(&p.kp_i);
	wg_noise_keypair_free(&p.kp_r);
	/* same message again, later: replayed timestamp */
	g_assert_true(wg_noise_consume_initiation_static(&st, &p.m1, &p.id_r));
	g_assert_false(wg_noise_consume_initiation_peer(&p.hs_r, &st, &p.m1,
							now_ns + 1000000000ull));
}

/* The same bytes through the whole device: two wg_devices with the vector keys, scripted
 * randomness (ephemerals, indexes) and the vector's wall clock. A's first packet is staged,
 * so the datagrams are: initiation, response, A's data message (the staged packet), and ten
 * seconds later B's keepalive. */
static void test_device_path(void)
{
	static const uint8_t i_index[4] = { 0x44, 0x33, 0x22, 0x11 };
	static const uint8_t r_index[4] = { 0x88, 0x77, 0x66, 0x55 };
	uint8_t keys[2][32], eph_i[32], eph_r[32], secret[32] = { 0 }, jitter[8] = { 0 };
	uint8_t buf[WG_DATA_HEADROOM + 64 + WG_DATA_TAILROOM];
	struct harness h;

	seq(keys[0], 0x10);
	seq(keys[1], 0x40);
	seq(eph_i, 0x70);
	seq(eph_r, 0xa0);
	h_init_keys(&h, keys);
	h.wall = wall_ns - h.now;
	h.capture = true;
	/* A: ephemeral, sender index, the seed of its timer jitter (drawn once, at the first
	 * jitter: the retransmit timer armed by the initiation) */
	h.n[0].script[0].p = eph_i, h.n[0].script[0].len = 32;
	h.n[0].script[1].p = i_index, h.n[0].script[1].len = 4;
	h.n[0].script[2].p = jitter, h.n[0].script[2].len = 8;
	h.n[0].script_n = 3;
	/* B: cookie secret (mac2 is checked on every message), ephemeral, sender index */
	h.n[1].script[0].p = secret, h.n[1].script[0].len = 32;
	h.n[1].script[1].p = eph_r, h.n[1].script[1].len = 32;
	h.n[1].script[2].p = r_index, h.n[1].script[2].len = 4;
	h.n[1].script_n = 3;

	for (int i = 0; i < 60; i++)
		buf[WG_DATA_HEADROOM + i] = (uint8_t)(i * 3);
	g_assert_cmpint(wg_device_peer_send(h.n[0].dev, h_peer(&h, 0, 1), buf + WG_DATA_HEADROOM,
					    60), ==, 1);
	h_run(&h);
	h_advance(&h, 10.5);
	g_assert_cmpuint(h.loglen, ==, 4);
	check_hex(h.log[0].buf + 16, h.log[0].len, VEC_INITIATION);
	check_hex(h.log[1].buf + 16, h.log[1].len, VEC_RESPONSE);
	check_hex(h.log[2].buf + 16, h.log[2].len, VEC_DATA_I2R);
	check_hex(h.log[3].buf + 16, h.log[3].len, VEC_KEEPALIVE_R2I);
	g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE], ==, 1);
	g_assert_cmpuint(h.n[1].events[WG_PEER_HANDSHAKE_COMPLETE], ==, 1);
	g_assert_cmpuint(h.n[1].tun_count, ==, 0);	/* not an IP packet: source check drops */
	h_clear(&h);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/wg/vectors/handshake_no_psk", test_handshake_no_psk);
	g_test_add_func("/wg/vectors/handshake_psk", test_handshake_psk);
	g_test_add_func("/wg/vectors/cookie", test_cookie);
	g_test_add_func("/wg/vectors/tampered_initiation", test_tampered_initiation);
	g_test_add_func("/wg/vectors/initiation_replay", test_initiation_replay);
	g_test_add_func("/wg/vectors/device_path", test_device_path);
	return g_test_run();
}
