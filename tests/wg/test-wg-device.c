/* Our core against our core in memory: handshake, data, rekey, expiry, keepalives, cookies,
 * replays. Two devices wired by tests/wg/harness.h with a fake clock. */
#include <errno.h>
#include <stdio.h>

#include "util/ct.h"

#include "harness.h"
#include "wg/peer.h"

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


static unsigned count_type(struct harness *h, uint32_t type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < h->loglen; i++)
		if (h->log[i].buf[16] == type)
			n++;
	return n;
}

static void log_reset(struct harness *h)
{
	for (unsigned i = 0; i < h->loglen; i++)
		h_free_dgram(&h->log[i]);
	h->loglen = 0;
}

/* Initiator rekeys once its session is REKEY_AFTER_TIME old and it sends. */
static void test_rekey_after_time(void)
{
	struct harness h;
	struct wg_keypair *old;

	h_init(&h);
	h.capture = true;
	handshake(&h);
	old = h_peer(&h, 0, 1)->kp_cur;
	h_advance(&h, 119);
	log_reset(&h);
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 1), ==, 0);
	h_run(&h);
	g_assert_cmpuint(count_type(&h, WG_MSG_INITIATION), ==, 0);
	h_advance(&h, 2);		/* 121 s */
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 1), ==, 0);	/* old key still sends */
	h_run(&h);
	g_assert_cmpuint(count_type(&h, WG_MSG_INITIATION), ==, 1);
	g_assert_cmpuint(count_type(&h, WG_MSG_RESPONSE), ==, 1);
	g_assert_true(h_peer(&h, 0, 1)->kp_cur != old);
	g_assert_true(h_peer(&h, 0, 1)->kp_prev == old);
	g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE], ==, 2);
	/* the responder confirmed the new session through the initiator's keepalive */
	g_assert_cmpuint(h.n[1].events[WG_PEER_HANDSHAKE_COMPLETE], ==, 2);
	g_assert_cmpint(h_ping(&h, 1, 0, 10, 2), ==, 0);
	h_run(&h);
	g_assert_cmpuint(h.n[0].tun_count, ==, 1);
	h_clear(&h);
}

/* ... and after REKEY_AFTER_MESSAGES (counter set near the limit: 2^60 sends take too long). */
static void test_rekey_after_messages(void)
{
	struct harness h;

	h_init(&h);
	h.capture = true;
	handshake(&h);
	h_advance(&h, 6);	/* past the one-initiation-per-REKEY_TIMEOUT limit */
	h_peer(&h, 0, 1)->kp_cur->send_counter = WG_REKEY_AFTER_MESSAGES + 1;
	log_reset(&h);
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 1), ==, 0);
	h_run(&h);
	g_assert_cmpuint(count_type(&h, WG_MSG_INITIATION), ==, 1);
	g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE], ==, 2);
	/* a session at REJECT_AFTER_MESSAGES cannot send at all: the packet is staged */
	h_peer(&h, 0, 1)->kp_cur->send_counter = WG_REJECT_AFTER_MESSAGES;
	h_advance(&h, 6);
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 1), ==, 1);
	h_clear(&h);
}

/* Without traffic nobody rekeys; after REJECT_AFTER_TIME the session is unusable, data is
 * staged and a new handshake starts. */
static void test_reject_after_time(void)
{
	struct harness h;
	struct wg_peer_stats st;

	h_init(&h);
	handshake(&h);
	h_advance(&h, 179);
	wg_peer_get_stats(h_peer(&h, 0, 1), &st);
	g_assert_true(st.has_session);
	h_advance(&h, 2);
	wg_peer_get_stats(h_peer(&h, 0, 1), &st);
	g_assert_false(st.has_session);
	g_assert_cmpuint(h.n[0].events[WG_PEER_SESSION_EXPIRED], ==, 1);
	g_assert_cmpuint(h.n[1].events[WG_PEER_SESSION_EXPIRED], ==, 1);
	h.n[0].drop_outgoing = true;
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 1), ==, 1);	/* staged */
	h.n[0].drop_outgoing = false;
	/* a data packet under the expired session is refused by the receiver too */
	h_drain(&h);
	h_advance(&h, 6);	/* retransmit brings the handshake through */
	g_assert_cmpuint(h.n[1].tun_count, ==, 2);
	h_clear(&h);
}

static void test_expired_data_rejected(void)
{
	struct harness h;
	struct wg_peer *pa;

	h_init(&h);
	handshake(&h);
	pa = h_peer(&h, 0, 1);
	/* jump past REJECT_AFTER_TIME without running timers: the receiver checks age itself */
	h.now += S(181);
	pa->kp_cur->birth_ns = h.now;	/* forge: make A's old key send anyway */
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 1), ==, 0);
	g_assert_cmpint(h_step(&h), ==, -EKEYEXPIRED);
	/* once the timers run, the expired keys are wiped, not just marked */
	h.n[0].drop_outgoing = h.n[1].drop_outgoing = true;
	h_advance(&h, 0.1);
	g_assert_null(h_peer(&h, 1, 0)->kp_cur);
	g_assert_null(h_peer(&h, 1, 0)->kp_prev);
	g_assert_nonnull(pa->kp_cur);	/* forged birth: not yet expired */
	h_clear(&h);
}

/* Both sides initiate at once: the crossing responses are dropped, the jittered retransmits
 * then settle on one handshake. */
static void test_simultaneous_initiation(void)
{
	struct harness h;

	h_init(&h);
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 1), ==, 1);
	g_assert_cmpint(h_ping(&h, 1, 0, 10, 2), ==, 1);
	h_run(&h);
	h_advance(&h, 6);
	g_assert_cmpuint(h.n[1].tun_count, ==, 1);
	g_assert_cmpuint(h.n[0].tun_count, ==, 1);
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 3), ==, 0);
	g_assert_cmpint(h_ping(&h, 1, 0, 10, 4), ==, 0);
	h_run(&h);
	g_assert_cmpuint(h.n[1].tun_count, ==, 2);
	g_assert_cmpuint(h.n[0].tun_count, ==, 2);
	h_clear(&h);
}

static unsigned batch_calls, batch_items;

static size_t batch_send(void *o, const struct wg_send_item *items, size_t n)
{
	batch_calls++;
	batch_items += (unsigned)n;
	for (size_t i = 0; i < n; i++)
		h_send(o, items[i].ep, items[i].buf, items[i].len);
	return n > 1 ? n - 1 : n;	/* the transport takes all but the last */
}

/* Staged packets leave through send_batch when the transport offers it; tx bytes count only
 * what the transport took. */
static void test_send_batch(void)
{
	struct wg_device_ops ops = { .send = h_send, .send_batch = batch_send,
				     .tun_write = h_tun_write, .mono_ns = h_mono,
				     .wall_ns = h_wall, .random = h_random };
	struct wg_peer_stats st;
	struct harness h;
	struct wg_peer *p;
	struct wg_allowed_ip v4 = { .family = AF_INET, .cidr = 32, .addr = { 10, 0, 0, 2 } };

	h_init(&h);
	/* rebuild node 0's device with the batch op */
	wg_device_free(h.n[0].dev);
	g_assert_cmpint(wg_device_new(&h.n[0].dev, &ops, &h.n[0]), ==, 0);
	wg_device_set_private_key(h.n[0].dev, h.n[0].priv);
	g_assert_cmpint(wg_device_add_peer(h.n[0].dev, h.n[1].pub, &p), ==, 0);
	wg_peer_set_endpoint(p, &h.n[1].ep);
	g_assert_cmpint(wg_peer_allowed_ip_add(p, &v4), ==, 0);
	batch_calls = batch_items = 0;
	for (int i = 0; i < 40; i++)
		g_assert_cmpint(h_ping(&h, 0, 1, 100, (uint8_t)i), ==, 1);
	h_run(&h);
	g_assert_cmpuint(batch_calls, ==, 2);	/* 32 + 8 */
	g_assert_cmpuint(batch_items, ==, 40);
	g_assert_cmpuint(h.n[1].tun_count, ==, 40);
	wg_peer_get_stats(p, &st);
	/* initiation + 38 accepted data messages of 128 + 32 bytes */
	g_assert_cmpuint(st.tx_bytes, ==, 148 + 38 * 160);
	h_clear(&h);
}

/* Padding: to 16 bytes, capped at the MTU. */
static void test_padding_mtu(void)
{
	static const struct { uint32_t mtu; size_t len; size_t wire; } cases[] = {
		/* 1 */ { 0, 20, 32 + 32 },
		/* 2 */ { 0, 1420, 1424 + 32 },
		/* 3 */ { 1420, 1420, 1420 + 32 },
		/* 4 */ { 1420, 1419, 1420 + 32 },
		/* 5 */ { 1420, 1405, 1408 + 32 },
		/* 6 */ { 1420, 1409, 1420 + 32 },
		/* 7 */ { 1150, 1150, 1150 + 32 },
		/* 8 */ { 1150, 1200, 1200 + 32 },	/* larger than the MTU: no padding */
		/* 9 */ { 1150, 0, 0 + 32 },		/* keepalive */
	};
	struct harness h;

	h_init(&h);
	h.capture = true;
	handshake(&h);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("case %zu", i + 1);
		wg_device_set_mtu(h.n[0].dev, cases[i].mtu);
		g_assert_cmpuint(wg_device_get_mtu(h.n[0].dev), ==, cases[i].mtu);
		if (cases[i].len)
			g_assert_cmpint(h_ping(&h, 0, 1, cases[i].len - 20, (uint8_t)i), ==, 0);
		else
			g_assert_cmpint(wg_peer_send_keepalive(h_peer(&h, 0, 1)), ==, 0);
		g_assert_cmpuint(h.qlen, ==, 1);
		g_assert_cmpuint(h.q[h.qhead].len, ==, cases[i].wire);
		g_assert_cmpint(h_step(&h), ==, 0);
		if (cases[i].len)
			g_assert_cmpuint(h.n[1].tun_last_len, ==, cases[i].len);
	}
	h_clear(&h);
}

/* IPv6 inner packets route by destination and pass the source check. */
static void test_ipv6(void)
{
	struct harness h;
	uint8_t buf[WG_DATA_HEADROOM + 200 + WG_DATA_TAILROOM] = { 0 };
	uint8_t *p = buf + WG_DATA_HEADROOM;

	h_init(&h);
	p[0] = 0x60;
	p[5] = 60;		/* payload length */
	p[6] = 17;
	p[8] = 0xfd, p[23] = 1;	/* fd00::1 -> fd00::2 */
	p[24] = 0xfd, p[39] = 2;
	g_assert_cmpint(wg_device_tun_input(h.n[0].dev, p, 100), ==, 1);
	h_run(&h);
	g_assert_cmpuint(h.n[1].tun_count, ==, 1);
	g_assert_cmpuint(h.n[1].tun_last_len, ==, 100);
	p[0] = 0x60, p[23] = 9;	/* spoofed source fd00::9 */
	g_assert_cmpint(wg_device_peer_send(h.n[0].dev, h_peer(&h, 0, 1), p, 100), ==, 0);
	g_assert_cmpint(h_step(&h), ==, -EPERM);
	p[0] = 0x60, p[23] = 1, p[5] = 200;	/* claims more payload than present */
	g_assert_cmpint(wg_device_peer_send(h.n[0].dev, h_peer(&h, 0, 1), p, 100), ==, 0);
	g_assert_cmpint(h_step(&h), ==, -EPERM);
	h_clear(&h);
}

/* Passive keepalive: data received and nothing sent back for KEEPALIVE_TIMEOUT. */
static void test_keepalive(void)
{
	struct harness h;
	struct wg_peer_stats before, after;

	h_init(&h);
	h.capture = true;
	handshake(&h);
	log_reset(&h);
	wg_peer_get_stats(h_peer(&h, 1, 0), &before);
	h_advance(&h, 9.9);
	g_assert_cmpuint(h.loglen, ==, 0);
	h_advance(&h, 0.2);
	g_assert_cmpuint(h.loglen, ==, 1);
	g_assert_cmpuint(h.log[0].from, ==, 1);
	g_assert_cmpuint(h.log[0].len, ==, 32);		/* empty data message */
	wg_peer_get_stats(h_peer(&h, 1, 0), &after);
	g_assert_cmpuint(after.tx_bytes - before.tx_bytes, ==, 32);
	/* nothing more while idle (until rekey/expiry timers) */
	h_advance(&h, 60);
	g_assert_cmpuint(h.loglen, ==, 1);
	h_clear(&h);
}

/* Data sent and nothing back for KEEPALIVE + REKEY_TIMEOUT: handshake again. */
static void test_new_handshake_when_unanswered(void)
{
	struct harness h;

	h_init(&h);
	h.capture = true;
	handshake(&h);
	h_advance(&h, 11);	/* B's keepalive for the staged packet arrives */
	log_reset(&h);
	h.n[1].drop_outgoing = true;
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 1), ==, 0);
	h_run(&h);
	h_advance(&h, 14.9);
	g_assert_cmpuint(count_type(&h, WG_MSG_INITIATION), ==, 0);
	h_advance(&h, 0.5);
	g_assert_cmpuint(count_type(&h, WG_MSG_INITIATION), ==, 1);
	h_clear(&h);
}

static void test_persistent_keepalive(void)
{
	struct harness h;

	h_init(&h);
	h.capture = true;
	wg_peer_set_persistent_keepalive(h_peer(&h, 0, 1), 25);	/* starts a handshake now */
	h_run(&h);
	g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE], ==, 1);
	g_assert_cmpuint(wg_peer_get_persistent_keepalive(h_peer(&h, 0, 1)), ==, 25);
	log_reset(&h);
	h_advance(&h, 24.9);
	g_assert_cmpuint(h.loglen, ==, 0);
	h_advance(&h, 0.2);
	g_assert_cmpuint(h.loglen, ==, 1);
	g_assert_cmpuint(h.log[0].len, ==, 32);
	h_advance(&h, 25);
	g_assert_cmpuint(h.loglen, ==, 2);
	wg_peer_set_persistent_keepalive(h_peer(&h, 0, 1), 0);
	h_advance(&h, 60);
	g_assert_cmpuint(h.loglen, ==, 2);
	h_clear(&h);
}

/* All keys are wiped 3 * REJECT_AFTER_TIME after the last session was derived. */
static void test_zero_keys(void)
{
	struct harness h;
	struct wg_peer *p;

	h_init(&h);
	handshake(&h);
	p = h_peer(&h, 0, 1);
	h_advance(&h, 179);
	g_assert_nonnull(p->kp_cur);
	h_advance(&h, 2);
	g_assert_null(p->kp_cur);	/* expired sessions are wiped right away */
	h_advance(&h, 539 - 181);
	g_assert_cmpuint(p->timers.zero_key_material, !=, 0);
	h_advance(&h, 2);
	g_assert_cmpuint(p->timers.zero_key_material, ==, 0);
	g_assert_null(p->kp_cur);
	g_assert_null(p->kp_prev);
	g_assert_null(p->kp_next);
	g_assert_cmpint(p->hs.state, ==, WG_HS_ZEROED);
	g_assert_true(rg_ct_is_zero(p->hs.chaining_key, sizeof(p->hs.chaining_key)));
	g_assert_null(h_peer(&h, 1, 0)->kp_cur);
	/* idle device: no timer left */
	g_assert_cmpuint(wg_device_next_deadline(h.n[0].dev), ==, UINT64_MAX);
	g_assert_cmpuint(wg_device_next_deadline(h.n[1].dev), ==, UINT64_MAX);
	h_clear(&h);
}

/* No answer: retransmit every REKEY_TIMEOUT (+ jitter), give up after REKEY_ATTEMPT_TIME. */
static void test_retransmit_and_give_up(void)
{
	struct harness h;

	h_init(&h);
	h.capture = true;
	h.n[1].drop_outgoing = true;
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 1), ==, 1);
	h_advance(&h, 5.0);
	g_assert_cmpuint(count_type(&h, WG_MSG_INITIATION), ==, 1);
	h_advance(&h, 0.34);
	g_assert_cmpuint(count_type(&h, WG_MSG_INITIATION), ==, 2);
	h_advance(&h, 120);
	g_assert_cmpuint(count_type(&h, WG_MSG_INITIATION), ==, 1 + WG_MAX_TIMER_HANDSHAKES);
	g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_FAILED], ==, 1);
	g_assert_cmpuint(h_peer(&h, 0, 1)->staged_count, ==, 0);
	h_clear(&h);
}

/* Under load, an initiation without mac2 gets a cookie reply; the retry carries mac2. */
static void test_cookie_under_load(void)
{
	struct harness h;

	h_init(&h);
	h.capture = true;
	wg_device_set_under_load(h.n[1].dev, 1);
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 1), ==, 1);
	g_assert_cmpint(h_step(&h), ==, -EBUSY);	/* initiation refused, cookie sent */
	g_assert_cmpuint(h.qlen, ==, 1);
	g_assert_cmpuint(h.q[h.qhead].len, ==, 64);
	g_assert_cmpint(h_step(&h), ==, 0);		/* cookie consumed */
	g_assert_true(h_peer(&h, 0, 1)->cookie.have_cookie);
	g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE], ==, 0);
	h_advance(&h, 5.4);			/* retransmit with mac2 */
	g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE], ==, 1);
	g_assert_cmpuint(h.n[1].tun_count, ==, 1);
	g_assert_cmpuint(count_type(&h, WG_MSG_COOKIE), ==, 1);
	h_clear(&h);
}

/* Automatic detection: a burst of initiations turns on "under load". */
static void test_under_load_auto(void)
{
	struct harness h;
	uint8_t m[148 + 32];
	int busy = 0;

	h_init(&h);
	h.capture = true;
	h.n[1].drop_outgoing = true;
	h_ping(&h, 0, 1, 10, 1);
	g_assert_cmpuint(h.loglen, ==, 1);
	for (int i = 0; i < WG_UNDER_LOAD_HANDSHAKES_PER_S + 10; i++) {
		memcpy(m, h.log[0].buf + 16, 148);
		if (wg_device_input(h.n[1].dev, &h.n[0].ep, m, 148) == -EBUSY)
			busy++;
	}
	g_assert_cmpint(busy, ==, 10);
	h_clear(&h);
}

/* A captured initiation replayed later is rejected (TAI64N), as is replayed data. */
static void test_replays(void)
{
	struct harness h;
	uint8_t m[2048];
	size_t data_len = 0;
	int data_idx = -1;

	h_init(&h);
	h.capture = true;
	handshake(&h);
	for (unsigned i = 0; i < h.loglen; i++)
		if (h.log[i].buf[16] == WG_MSG_DATA && h.log[i].len > 32 && data_idx < 0)
			data_idx = (int)i;
	g_assert_cmpint(data_idx, >=, 0);
	g_assert_cmpuint(h.log[0].buf[16], ==, WG_MSG_INITIATION);
	memcpy(m, h.log[0].buf + 16, 148);
	h_advance(&h, 1);
	g_assert_cmpint(wg_device_input(h.n[1].dev, &h.n[0].ep, m, 148), ==, -EBADMSG);
	data_len = h.log[data_idx].len;
	memcpy(m, h.log[data_idx].buf + 16, data_len);
	g_assert_cmpint(wg_device_input(h.n[1].dev, &h.n[0].ep, m, data_len), ==, -EALREADY);
	g_assert_cmpuint(h.n[1].tun_count, ==, 1);
	/* a flipped bit anywhere in the ciphertext fails authentication */
	memcpy(m, h.log[data_idx].buf + 16, data_len);
	m[data_len - 1] ^= 0x80;
	g_assert_cmpint(wg_device_input(h.n[1].dev, &h.n[0].ep, m, data_len), ==, -EBADMSG);
	h_clear(&h);
}

/* An authenticated packet from a new address moves the peer's endpoint there (roaming). */
static void test_roaming(void)
{
	struct harness h;
	struct wg_endpoint ep, moved = { .len = 3, .data = "new" };
	uint8_t buf[WG_DATA_HEADROOM + 64 + WG_DATA_TAILROOM], m[128];
	int ret;

	h_init(&h);
	h.capture = true;
	handshake(&h);
	log_reset(&h);
	h.n[0].drop_outgoing = false;
	size_t len = h_ipv4(buf + WG_DATA_HEADROOM, 0, 1, 8, 7);

	g_assert_cmpint(wg_device_tun_input(h.n[0].dev, buf + WG_DATA_HEADROOM, len), ==, 0);
	g_assert_cmpuint(h.qlen, ==, 1);
	memcpy(m, h.q[h.qhead].buf + 16, h.q[h.qhead].len);
	ret = wg_device_input(h.n[1].dev, &moved, m, h.q[h.qhead].len);
	g_assert_cmpint(ret, ==, 0);
	g_assert_true(wg_peer_get_endpoint(h_peer(&h, 1, 0), &ep));
	g_assert_cmpuint(ep.len, ==, 3);
	g_assert_cmpmem(ep.data, 3, "new", 3);
	/* an unauthenticated packet does not move it */
	m[40] ^= 1;
	g_assert_cmpint(wg_device_input(h.n[1].dev, &h.n[0].ep, m, h.q[h.qhead].len), <, 0);
	g_assert_true(wg_peer_get_endpoint(h_peer(&h, 1, 0), &ep));
	g_assert_cmpuint(ep.len, ==, 3);
	h_clear(&h);
}

/* Cryptokey routing inbound: a peer may only send from its allowed IPs. */
static void test_inbound_source_check(void)
{
	struct harness h;
	uint8_t buf[WG_DATA_HEADROOM + 64 + WG_DATA_TAILROOM];
	size_t len;

	h_init(&h);
	handshake(&h);
	len = h_ipv4(buf + WG_DATA_HEADROOM, 5, 1, 8, 7);	/* source 10.0.0.6 */
	g_assert_cmpint(wg_device_peer_send(h.n[0].dev, h_peer(&h, 0, 1), buf + WG_DATA_HEADROOM,
					    len), ==, 0);
	g_assert_cmpint(h_step(&h), ==, -EPERM);
	g_assert_cmpuint(h.n[1].tun_count, ==, 1);
	h_clear(&h);
}

/* The staged queue is bounded: the oldest packets go. */
static void test_staged_bound(void)
{
	struct harness h;

	h_init(&h);
	h.n[0].drop_outgoing = true;
	for (int i = 0; i < WG_STAGED_MAX; i++)
		g_assert_cmpint(h_ping(&h, 0, 1, 10, (uint8_t)i), ==, 1);
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 0xee), ==, -ENOBUFS);
	g_assert_cmpuint(h_peer(&h, 0, 1)->staged_count, ==, WG_STAGED_MAX);
	h.n[0].drop_outgoing = false;
	h_advance(&h, 5.4);
	g_assert_cmpuint(h.n[1].tun_count, ==, WG_STAGED_MAX);
	g_assert_cmpuint(h.n[1].tun_last[20], ==, 0xee);
	h_clear(&h);
}

/* Setting a new private key drops sessions; a peer with our own key is refused. */
static void test_config(void)
{
	struct harness h;
	struct wg_peer *p;
	uint8_t k[32], psk[32] = { 1 };
	struct wg_endpoint ep;
	char text[64];

	h_init(&h);
	handshake(&h);
	g_assert_cmpint(wg_device_add_peer(h.n[0].dev, h.n[0].pub, &p), ==, -EINVAL);
	g_assert_cmpint(wg_device_add_peer(h.n[0].dev, h.n[1].pub, &p), ==, -EEXIST);
	g_assert_true(p == h_peer(&h, 0, 1));
	g_assert_cmpuint(wg_device_peer_count(h.n[0].dev), ==, 1);
	g_assert_false(wg_peer_get_preshared_key(p, k));
	wg_peer_set_preshared_key(p, psk);
	g_assert_true(wg_peer_get_preshared_key(p, k));
	g_assert_cmpmem(k, 32, psk, 32);
	wg_peer_set_preshared_key(p, NULL);
	g_assert_false(wg_peer_get_preshared_key(p, k));
	g_assert_true(wg_device_get_private_key(h.n[0].dev, k));
	g_assert_cmpmem(k, 32, h.n[0].priv, 32);

	/* endpoint text round trip through the sockaddr defaults */
	g_assert_cmpint(wg_device_endpoint_parse(h.n[0].dev, "192.0.2.1:51820", &ep), ==, 0);
	g_assert_cmpint(wg_device_endpoint_format(h.n[0].dev, &ep, text, sizeof(text)), ==, 0);
	g_assert_cmpstr(text, ==, "192.0.2.1:51820");
	g_assert_cmpint(wg_device_endpoint_parse(h.n[0].dev, "[fd00::1]:1", &ep), ==, 0);
	g_assert_cmpint(wg_device_endpoint_format(h.n[0].dev, &ep, text, sizeof(text)), ==, 0);
	g_assert_cmpstr(text, ==, "[fd00::1]:1");
	g_assert_cmpint(wg_device_endpoint_parse(h.n[0].dev, "fd00::1:1", &ep), ==, 0);
	g_assert_cmpint(wg_device_endpoint_parse(h.n[0].dev, "1.2.3.4", &ep), ==, -EINVAL);
	g_assert_cmpint(wg_device_endpoint_parse(h.n[0].dev, "1.2.3.4:65536", &ep), ==, -EINVAL);
	g_assert_cmpint(wg_device_endpoint_parse(h.n[0].dev, "[::1]x", &ep), ==, -EINVAL);
	g_assert_cmpint(wg_device_endpoint_parse(h.n[0].dev, "host:1", &ep), ==, -EINVAL);

	h_key(k, 9);
	wg_device_set_private_key(h.n[0].dev, k);
	g_assert_null(p->kp_cur);
	g_assert_cmpuint(h.n[0].events[WG_PEER_SESSION_EXPIRED], ==, 1);
	/* taking the peer's own key removes that peer */
	wg_device_set_private_key(h.n[0].dev, h.n[1].priv);
	g_assert_cmpuint(wg_device_peer_count(h.n[0].dev), ==, 0);
	wg_device_set_private_key(h.n[0].dev, NULL);
	g_assert_false(wg_device_get_public_key(h.n[0].dev, k));
	g_assert_cmpint(h_ping(&h, 1, 0, 1, 1), ==, 0);
	g_assert_cmpint(h_step(&h), ==, -ENOKEY);
	h_clear(&h);
}

static int fmt_peer_id(void *o, const struct wg_endpoint *ep, char *out, size_t cap)
{
	(void)o;
	return snprintf(out, cap, "peer:%.*s", (int)ep->len, (const char *)ep->data) < (int)cap
		       ? 0 : -ENOSPC;
}

static int parse_peer_id(void *o, const char *text, struct wg_endpoint *out)
{
	(void)o;
	if (strncmp(text, "peer:", 5) || strlen(text + 5) > WG_ENDPOINT_MAX)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->len = (uint32_t)strlen(text + 5);
	memcpy(out->data, text + 5, out->len);
	return 0;
}

/* Endpoint text goes through the transport's hooks when it has them (data-channel peer ids). */
static void test_endpoint_hooks(void)
{
	struct wg_device_ops ops = { .send = h_send, .tun_write = h_tun_write,
				     .endpoint_format = fmt_peer_id,
				     .endpoint_parse = parse_peer_id };
	struct wg_device *dev;
	struct wg_endpoint ep;
	char text[80];

	g_assert_cmpint(wg_device_new(&dev, &ops, NULL), ==, 0);
	g_assert_cmpint(wg_device_endpoint_parse(dev, "peer:laptop", &ep), ==, 0);
	g_assert_cmpuint(ep.len, ==, 6);
	g_assert_cmpint(wg_device_endpoint_format(dev, &ep, text, sizeof(text)), ==, 0);
	g_assert_cmpstr(text, ==, "peer:laptop");
	g_assert_cmpint(wg_device_endpoint_parse(dev, "1.2.3.4:5", &ep), ==, -EINVAL);
	g_assert_cmpint(wg_device_endpoint_format(dev, &ep, text, 4), ==, -ENOSPC);
	wg_device_free(dev);
	ops.send = NULL;
	g_assert_cmpint(wg_device_new(&dev, &ops, NULL), ==, -EINVAL);
	g_assert_null(dev);
	wg_device_free(NULL);
}

/* Starting a handshake by hand: needs a key and an endpoint, and is rate limited. */
static void test_handshake_now(void)
{
	struct harness h;
	struct wg_peer *p;
	struct wg_endpoint ep;

	h_init(&h);
	p = h_peer(&h, 0, 1);
	g_assert_true(wg_peer_get_endpoint(p, &ep));
	wg_peer_set_endpoint(p, NULL);
	g_assert_false(wg_peer_get_endpoint(p, &ep));
	g_assert_cmpint(wg_peer_handshake_now(p), ==, -EDESTADDRREQ);
	wg_peer_set_endpoint(p, &h.n[1].ep);
	g_assert_cmpint(wg_peer_handshake_now(p), ==, 0);
	g_assert_cmpint(wg_peer_handshake_now(p), ==, -EAGAIN);
	h_run(&h);
	g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE], ==, 1);
	g_assert_true(wg_peer_device(p) == h.n[0].dev);
	wg_peer_set_user(p, &h);
	g_assert_true(wg_peer_get_user(p) == &h);
	wg_device_set_private_key(h.n[0].dev, NULL);
	g_assert_cmpint(wg_peer_handshake_now(p), ==, -ENOKEY);
	g_assert_cmpint(h_ping(&h, 0, 1, 1, 1), ==, -ENOKEY);
	h_clear(&h);
}

/* Key rotation (docs/membership.md): node 1 takes a new private key and node 0 learns the new
 * public key; the running session carries data throughout, a handshake under the new key
 * follows, and a handshake under the old key is refused afterwards. */
static void test_rotate(void)
{
	struct harness h;
	uint8_t k2[32], pub2[32], old_priv[32], old_pub[32];
	struct wg_peer *p01;
	unsigned hs0, hs1;

	h_init(&h);
	h.capture = true;
	handshake(&h);
	memcpy(old_priv, h.n[1].priv, 32);
	memcpy(old_pub, h.n[1].pub, 32);
	h_key(k2, 99);
	/* the rotating side: new identity, sessions kept */
	g_assert_cmpint(wg_device_rotate_private_key(h.n[1].dev, k2), ==, 0);
	g_assert_true(wg_device_get_public_key(h.n[1].dev, pub2));
	g_assert_false(rg_ct_eq(pub2, old_pub, 32));
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 1), ==, 0);
	g_assert_cmpint(h_ping(&h, 1, 0, 10, 2), ==, 0);
	h_run(&h);
	g_assert_cmpuint(h.n[1].tun_count, ==, 2);
	g_assert_cmpuint(h.n[0].tun_count, ==, 1);
	/* its peer switches the key in place: same peer, allowed IPs, session */
	g_assert_cmpint(wg_device_peer_rekey(h.n[0].dev, h_peer(&h, 0, 1), h.n[0].pub), ==,
			-EINVAL);
	p01 = h_peer(&h, 0, 1);
	g_assert_cmpint(wg_device_peer_rekey(h.n[0].dev, p01, pub2), ==, 0);
	g_assert_null(wg_device_lookup_peer(h.n[0].dev, old_pub));
	g_assert_true(wg_device_lookup_peer(h.n[0].dev, pub2) == p01);
	memcpy(h.n[1].pub, pub2, 32);
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 3), ==, 0);
	h_run(&h);
	g_assert_cmpuint(h.n[1].tun_count, ==, 3);
	/* a handshake under the new key completes */
	hs0 = h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE];
	hs1 = h.n[1].events[WG_PEER_HANDSHAKE_COMPLETE];
	h_advance(&h, 6);	/* past REKEY_TIMEOUT: handshake_now may start one */
	g_assert_cmpint(wg_peer_handshake_now(h_peer(&h, 0, 1)), ==, 0);
	h_run(&h);
	g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE], ==, hs0 + 1);
	g_assert_cmpuint(h.n[1].events[WG_PEER_HANDSHAKE_COMPLETE], ==, hs1 + 1);
	g_assert_cmpint(h_ping(&h, 1, 0, 10, 4), ==, 0);
	h_run(&h);
	g_assert_cmpuint(h.n[0].tun_count, ==, 2);
	/* the old key is nobody's now: its initiation gets no response */
	wg_device_set_private_key(h.n[1].dev, old_priv);
	h_advance(&h, 6);
	log_reset(&h);
	hs0 = h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE];
	g_assert_cmpint(wg_peer_handshake_now(h_peer(&h, 1, 0)), ==, 0);
	h_run(&h);
	g_assert_cmpuint(count_type(&h, WG_MSG_INITIATION), ==, 1);
	g_assert_cmpuint(count_type(&h, WG_MSG_RESPONSE), ==, 0);
	g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE], ==, hs0);
	log_reset(&h);
	h_clear(&h);
}

/* Three nodes: cryptokey routing picks the peer by destination, each with its own session;
 * moving an allowed IP to another peer moves both directions of the check. */
static void test_three_peers(void)
{
	struct harness h;
	struct wg_allowed_ip c_ip = { .family = AF_INET, .cidr = 32, .addr = { 10, 0, 0, 3 } };

	h_init_nodes(&h, 3, NULL);
	g_assert_cmpuint(wg_device_peer_count(h.n[0].dev), ==, 2);
	g_assert_cmpint(h_ping(&h, 0, 1, 10, 0xb), ==, 1);
	g_assert_cmpint(h_ping(&h, 0, 2, 10, 0xc), ==, 1);
	h_run(&h);
	g_assert_cmpuint(h.n[1].tun_count, ==, 1);
	g_assert_cmpuint(h.n[1].tun_last[20], ==, 0xb);
	g_assert_cmpuint(h.n[2].tun_count, ==, 1);
	g_assert_cmpuint(h.n[2].tun_last[20], ==, 0xc);
	g_assert_true(h_peer(&h, 0, 1)->kp_cur != h_peer(&h, 0, 2)->kp_cur);

	/* A gives 10.0.0.3 to B: traffic for it now goes to B ... */
	g_assert_cmpint(wg_peer_allowed_ip_add(h_peer(&h, 0, 1), &c_ip), ==, 0);
	g_assert_cmpint(h_ping(&h, 0, 2, 10, 0xd), ==, 0);
	h_run(&h);
	g_assert_cmpuint(h.n[1].tun_count, ==, 2);
	g_assert_cmpuint(h.n[1].tun_last[20], ==, 0xd);
	g_assert_cmpuint(h.n[2].tun_count, ==, 1);
	/* ... and C may no longer send from it to A */
	g_assert_cmpint(h_ping(&h, 2, 0, 10, 0xe), ==, 0);
	g_assert_cmpint(h_step(&h), ==, -EPERM);
	g_assert_cmpuint(h.n[0].tun_count, ==, 0);
	/* B and C, which never talked, handshake on their own */
	g_assert_cmpint(h_ping(&h, 1, 2, 10, 0xf), ==, 1);
	h_run(&h);
	g_assert_cmpuint(h.n[2].tun_count, ==, 2);
	h_clear(&h);
}

static int count_cb(void *ctx, const struct wg_allowed_ip *ip)
{
	(void)ip;
	(*(int *)ctx)++;
	return 0;
}

static void test_remove_peer(void)
{
	struct harness h;
	int n = 0;
	uint8_t dst[4] = { 10, 0, 0, 2 };

	h_init(&h);
	handshake(&h);
	g_assert_cmpint(wg_peer_allowed_ips_foreach(h_peer(&h, 0, 1), count_cb, &n), ==, 0);
	g_assert_cmpint(n, ==, 2);
	g_assert_true(wg_device_route(h.n[0].dev, AF_INET, dst) == h_peer(&h, 0, 1));
	wg_device_remove_peer(h.n[0].dev, h_peer(&h, 0, 1));
	g_assert_null(wg_device_route(h.n[0].dev, AF_INET, dst));
	g_assert_cmpint(h_ping(&h, 1, 0, 1, 1), ==, 0);
	g_assert_cmpint(h_step(&h), ==, -ENOENT);	/* its session index is gone */
	g_assert_cmpuint(wg_device_next_deadline(h.n[0].dev), ==, UINT64_MAX);
	h_clear(&h);
}

/* Timer jitter: request/response traffic re-arms new_handshake (15 s + 0..333 ms) with every
 * data packet sent after one received; none of those draws reaches the random hook (the
 * CSPRNG in production): the jitter generator was seeded once, at the initiation. */
static void test_jitter_not_per_packet(void)
{
	const uint64_t base = S(WG_KEEPALIVE_TIMEOUT_S + WG_REKEY_TIMEOUT_S);
	const uint64_t jmax = (uint64_t)WG_REKEY_TIMEOUT_JITTER_MAX_MS * 1000000u;
	uint64_t lo = UINT64_MAX, hi = 0;
	struct wg_peer *p;
	struct harness h;
	unsigned calls;

	h_init(&h);
	handshake(&h);
	p = h_peer(&h, 0, 1);
	g_assert_cmpint(h_ping(&h, 1, 0, 100, 2), ==, 0);
	h_run(&h);
	calls = h.n[0].random_calls;
	for (int i = 0; i < 200; i++) {
		uint64_t d;

		g_assert_cmpuint(p->timers.new_handshake, ==, 0);
		g_assert_cmpint(h_ping(&h, 0, 1, 100, 1), ==, 0);
		d = p->timers.new_handshake - h.now;
		g_assert_cmpuint(d, >=, base);
		g_assert_cmpuint(d, <=, base + jmax);
		lo = MIN(lo, d - base);
		hi = MAX(hi, d - base);
		h_run(&h);
		g_assert_cmpint(h_ping(&h, 1, 0, 100, 2), ==, 0);
		h_run(&h);	/* an authenticated packet back disarms new_handshake */
	}
	g_assert_cmpuint(h.n[0].random_calls, ==, calls);
	g_assert_cmpuint(h.n[0].tun_count, ==, 201);
	/* the draws spread over the range (200 uniform draws: both ends within 30 ms) */
	g_assert_cmpuint(lo, <, S(0.03));
	g_assert_cmpuint(hi, >, jmax - S(0.03));
	h_clear(&h);
}

/* wg_device_jitter at its limits: 0 gives 0, the full 32-bit range does not overflow, and
 * every draw stays within 0..max. */
static void test_jitter_bounds(void)
{
	unsigned seen[4] = { 0 };
	struct harness h;
	bool big = false;

	h_init(&h);
	for (int i = 0; i < 1000; i++)
		g_assert_cmpuint(wg_device_jitter(h.n[0].dev, 0), ==, 0);
	for (int i = 0; i < 1000; i++)
		big |= wg_device_jitter(h.n[0].dev, UINT32_MAX) > UINT32_MAX / 2;
	g_assert_true(big);
	for (int i = 0; i < 4000; i++) {
		uint32_t r = wg_device_jitter(h.n[0].dev, 3);

		g_assert_cmpuint(r, <=, 3);
		seen[r]++;
	}
	for (int i = 0; i < 4; i++)
		g_assert_cmpuint(seen[i], >, 800);
	g_assert_cmpuint(h.n[0].random_calls, ==, 1);	/* the seed */
	h_clear(&h);
}

/* The device's next deadline is kept in a heap of peers (timers.c) instead of a walk over them.
 * Cross-check it against that walk after every step of random sequences over many peers:
 * every timer event, key changes, persistent keepalive on/off, real traffic with node 1,
 * clock jumps with ticks that fire timers, and peers removed and added. */
static uint64_t deadline_walk(const struct wg_device *dev)
{
	uint64_t d = UINT64_MAX;

	for (const struct wg_peer *p = wg_device_first_peer(dev); p; p = wg_device_next_peer(p))
		d = MIN(d, wg_timers_next(p));
	return d;
}

static struct wg_peer *deadline_add_peer(struct harness *h, GRand *r)
{
	struct wg_endpoint ep = { .len = 2, .data = { 'X', (uint8_t)g_rand_int(r) } };
	uint8_t pub[32];
	struct wg_peer *p;

	for (int i = 0; i < 32; i++)
		pub[i] = (uint8_t)g_rand_int(r);
	g_assert_cmpint(wg_device_add_peer(h->n[0].dev, pub, &p), ==, 0);
	if (g_rand_int_range(r, 0, 4))		/* a quarter stay without endpoint */
		wg_peer_set_endpoint(p, &ep);	/* nobody there: sends are lost */
	return p;
}

static void test_deadline_cross_check(void)
{
	enum { PEERS = 200, STEPS = 3000 };

	for (guint32 seed = 1; seed <= 3; seed++) {
		GRand *r = g_rand_new_with_seed(seed);
		struct wg_peer *peers[PEERS];
		unsigned fired = 0;
		struct harness h;

		h_init(&h);
		for (int i = 0; i < PEERS; i++)
			peers[i] = deadline_add_peer(&h, r);
		g_assert_cmpuint(wg_device_next_deadline(h.n[0].dev), ==, UINT64_MAX);
		for (int step = 0; step < STEPS; step++) {
			int i = g_rand_int_range(r, 0, PEERS);
			struct wg_peer *p = peers[i];
			uint64_t before = wg_device_next_deadline(h.n[0].dev);

			switch (g_rand_int_range(r, 0, 18)) {
			case 0: wg_timers_data_sent(p); break;
			case 1: wg_timers_data_received(p); break;
			case 2: wg_timers_any_authenticated_packet_sent(p); break;
			case 3: wg_timers_any_authenticated_packet_received(p); break;
			case 4: wg_timers_any_authenticated_packet_traversal(p); break;
			case 5: wg_timers_handshake_initiated(p); break;
			case 6: wg_timers_handshake_complete(p); break;
			case 7: wg_timers_session_derived(p); break;
			case 8:
				wg_peer_set_persistent_keepalive(p, (uint16_t)g_rand_int_range(r, 0, 4) * 7);
				break;
			case 9: wg_peer_zero_keys(p); break;
			case 10: wg_peer_expire_current(p); break;
			case 11: wg_peer_send_initiation(p, g_rand_boolean(r)); break;
			case 12:
				wg_timers_session_expires(p, h.now + S(g_rand_double_range(r, 0, 200)));
				break;
			case 13:	/* a clock jump: whatever is due fires */
				h.now += S(g_rand_double_range(r, 0, 30));
				wg_device_tick(h.n[0].dev);
				break;
			case 14:	/* exactly to the next deadline, as the agent's timer does */
				if (before != UINT64_MAX) {
					h.now = MAX(h.now, before);
					wg_device_tick(h.n[0].dev);
					fired++;
					g_assert_cmpuint(wg_device_next_deadline(h.n[0].dev), >, h.now);
				}
				break;
			case 15:	/* the one real peer: handshakes, data, keepalives */
				h_ping(&h, 1, 0, 100, 1);
				h_ping(&h, 0, 1, 100, 1);
				h_run(&h);
				break;
			case 16:
				h_advance(&h, g_rand_double_range(r, 0, 12));
				break;
			case 17:
				wg_device_remove_peer(h.n[0].dev, p);
				peers[i] = deadline_add_peer(&h, r);
				break;
			}
			h_drain(&h);
			for (int n = 0; n < 2; n++)
				g_assert_cmpuint(wg_device_next_deadline(h.n[n].dev), ==,
						 deadline_walk(h.n[n].dev));
		}
		g_assert_cmpuint(fired, >, 100);
		g_assert_cmpuint(h.n[0].events[WG_PEER_HANDSHAKE_COMPLETE], >, 0);
		h_clear(&h);
		g_rand_free(r);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/wg/device/handshake_and_data", test_handshake_and_data);
	g_test_add_func("/wg/device/handshake_reverse", test_handshake_reverse);
	g_test_add_func("/wg/device/unrouted", test_unrouted);
	g_test_add_func("/wg/device/rekey_after_time", test_rekey_after_time);
	g_test_add_func("/wg/device/rekey_after_messages", test_rekey_after_messages);
	g_test_add_func("/wg/device/reject_after_time", test_reject_after_time);
	g_test_add_func("/wg/device/expired_data_rejected", test_expired_data_rejected);
	g_test_add_func("/wg/device/simultaneous_initiation", test_simultaneous_initiation);
	g_test_add_func("/wg/device/ipv6", test_ipv6);
	g_test_add_func("/wg/device/padding_mtu", test_padding_mtu);
	g_test_add_func("/wg/device/send_batch", test_send_batch);
	g_test_add_func("/wg/device/endpoint_hooks", test_endpoint_hooks);
	g_test_add_func("/wg/device/handshake_now", test_handshake_now);
	g_test_add_func("/wg/device/rotate", test_rotate);
	g_test_add_func("/wg/device/three_peers", test_three_peers);
	g_test_add_func("/wg/device/keepalive", test_keepalive);
	g_test_add_func("/wg/device/new_handshake_when_unanswered", test_new_handshake_when_unanswered);
	g_test_add_func("/wg/device/persistent_keepalive", test_persistent_keepalive);
	g_test_add_func("/wg/device/zero_keys", test_zero_keys);
	g_test_add_func("/wg/device/retransmit_and_give_up", test_retransmit_and_give_up);
	g_test_add_func("/wg/device/cookie_under_load", test_cookie_under_load);
	g_test_add_func("/wg/device/under_load_auto", test_under_load_auto);
	g_test_add_func("/wg/device/replays", test_replays);
	g_test_add_func("/wg/device/roaming", test_roaming);
	g_test_add_func("/wg/device/inbound_source_check", test_inbound_source_check);
	g_test_add_func("/wg/device/staged_bound", test_staged_bound);
	g_test_add_func("/wg/device/config", test_config);
	g_test_add_func("/wg/device/remove_peer", test_remove_peer);
	g_test_add_func("/wg/device/jitter_not_per_packet", test_jitter_not_per_packet);
	g_test_add_func("/wg/device/jitter_bounds", test_jitter_bounds);
	g_test_add_func("/wg/device/deadline_cross_check", test_deadline_cross_check);
	return g_test_run();
}
