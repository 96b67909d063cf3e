/* The ICE layer on its own (ice.h): what it reports through struct rtc_ice_ops for received
 * datagrams, without a libnice agent or a peer. GRO trains are cut at DTLS record boundaries;
 * the receiver's "went down" stops a train; a non-DTLS packet at a train's end turns GRO off. */
#include <glib.h>
#include <string.h>

#include "rtc/ice.h"

struct seen {
	size_t n, lens[8];
	size_t stop_after;	/* datagram returns false after this many; 0 = never */
};

static bool on_datagram(void *opaque, const uint8_t *buf, size_t len)
{
	struct seen *s = opaque;

	(void)buf;
	if (s->n < G_N_ELEMENTS(s->lens))
		s->lens[s->n] = len;
	s->n++;
	return !s->stop_after || s->n < s->stop_after;
}

static const struct rtc_ice_ops ops = { .datagram = on_datagram };

/* A DTLS application-data record header announcing len bytes. */
static size_t record(uint8_t *out, size_t len)
{
	static const uint8_t hdr[11] = { 23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7 };

	memcpy(out, hdr, sizeof(hdr));
	out[11] = (uint8_t)(len >> 8);
	out[12] = (uint8_t)len;
	memset(out + 13, 0xab, len);
	return 13 + len;
}

static void test_train(void)
{
	struct rtc_ice ice = { .ops = &ops, .log_id = "t" };
	struct seen s = { 0 };
	uint8_t buf[256];
	size_t n = 0;

	ice.opaque = &s;
	n += record(buf + n, 40);
	n += record(buf + n, 40);
	n += record(buf + n, 20);	/* a shorter last one */

	/* GRO off: one datagram, as it came. */
	rtc_ice_on_datagram(&ice, buf, n);
	g_assert_cmpuint(s.n, ==, 1);
	g_assert_cmpuint(s.lens[0], ==, n);
	g_assert_cmpuint(ice.rx_datagrams, ==, 1);

	/* GRO on: one per record. */
	memset(&s, 0, sizeof(s));
	ice.gro = true;
	rtc_ice_on_datagram(&ice, buf, n);
	g_assert_cmpuint(s.n, ==, 3);
	g_assert_cmpuint(s.lens[0], ==, 53);
	g_assert_cmpuint(s.lens[1], ==, 53);
	g_assert_cmpuint(s.lens[2], ==, 33);
	g_assert_cmpuint(ice.rx_datagrams, ==, 4);
	g_assert_true(ice.gro);

	/* The receiver went down after the first record: the rest is dropped. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	rtc_ice_on_datagram(&ice, buf, n);
	g_assert_cmpuint(s.n, ==, 1);
	g_assert_cmpuint(ice.rx_datagrams, ==, 5);
}

static void test_train_stun_tail(void)
{
	static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
	struct rtc_ice ice = { .ops = &ops, .log_id = "t", .gro = true };
	struct seen s = { 0 };
	uint8_t buf[256];
	size_t n = record(buf, 40);

	ice.opaque = &s;
	memcpy(buf + n, stun, sizeof(stun));
	n += sizeof(stun);
	rtc_ice_on_datagram(&ice, buf, n);
	/* the record, then the STUN packet handed up as it is (peer.c drops it) */
	g_assert_cmpuint(s.n, ==, 2);
	g_assert_cmpuint(s.lens[0], ==, 53);
	g_assert_cmpuint(s.lens[1], ==, sizeof(stun));
	g_assert_false(ice.gro);
	g_assert_true(ice.no_gro);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtc/ice/gro-train", test_train);
	g_test_add_func("/rtc/ice/gro-train-stun-tail", test_train_stun_tail);
	return g_test_run();
}
