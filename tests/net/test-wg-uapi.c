/* The UAPI text protocol (src/wg/uapi.c) against a real device: literal request/reply
 * transcripts as `wg` and wireguard-go exchange them, errno=22 on bad input with the
 * configuration unchanged, and the peer-block semantics (update_only, remove, replace_*). */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "util/encoding.h"
#include "wg/device.h"
#include "wg/uapi.h"

#define PRIV "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define PUB1 "b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33"
#define PUB2 "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376"
#define PSK1 "188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52"
#define ZERO "0000000000000000000000000000000000000000000000000000000000000000"

struct fake {
	uint16_t port;
	uint32_t mark;
	unsigned port_sets;
};

static int fake_send(void *o, const struct wg_endpoint *ep, const uint8_t *buf, size_t len)
{
	(void)o, (void)ep, (void)buf, (void)len;
	return 0;
}

static void fake_tun_write(void *o, struct wg_peer *p, uint8_t *pkt, size_t len)
{
	(void)o, (void)p, (void)pkt, (void)len;
}

static uint16_t get_port(void *o)
{
	return ((struct fake *)o)->port;
}

static int set_port(void *o, uint16_t port)
{
	struct fake *f = o;

	if (port == 1)
		return -EADDRINUSE;
	f->port = port ? port : 40000;
	f->port_sets++;
	return 0;
}

static uint32_t get_mark(void *o)
{
	return ((struct fake *)o)->mark;
}

static int set_mark(void *o, uint32_t mark)
{
	((struct fake *)o)->mark = mark;
	return 0;
}

struct fixture {
	struct wg_device *dev;
	struct fake fake;
	struct wg_uapi_hooks hooks;
};

static void setup(struct fixture *f, gconstpointer data)
{
	static const struct wg_device_ops ops = { .send = fake_send, .tun_write = fake_tun_write };

	(void)data;
	memset(f, 0, sizeof(*f));
	g_assert_cmpint(wg_device_new(&f->dev, &ops, NULL), ==, 0);
	f->hooks = (struct wg_uapi_hooks){ get_port, set_port, get_mark, set_mark, &f->fake };
}

static void teardown(struct fixture *f, gconstpointer data)
{
	(void)data;
	wg_device_free(f->dev);
}

/* Sends one request through wg_uapi_handle and returns the reply as a string. */
static char *req(struct fixture *f, const char *text)
{
	size_t len = 0;
	char *r = wg_uapi_handle(f->dev, &f->hooks, text, strlen(text), &len);
	char *s;

	if (!r)
		return NULL;
	s = g_strndup(r, len);
	free(r);
	return s;
}

static void expect(struct fixture *f, const char *text, const char *reply)
{
	char *got = req(f, text);

	g_assert_cmpstr(got, ==, reply);
	g_free(got);
}

static void test_empty(struct fixture *f, gconstpointer data)
{
	(void)data;
	expect(f, "get=1\n\n", "errno=0\n\n");
	g_assert_null(req(f, "get=2\n\n"));
	g_assert_null(req(f, "hello\n\n"));
	g_assert_null(req(f, "\n"));
}

static void test_transcript(struct fixture *f, gconstpointer data)
{
	(void)data;
	/* What `wg setconf` sends for a two-peer file. */
	expect(f, "set=1\n"
		  "private_key=" PRIV "\n"
		  "listen_port=51820\n"
		  "fwmark=0\n"
		  "replace_peers=true\n"
		  "public_key=" PUB1 "\n"
		  "preshared_key=" PSK1 "\n"
		  "replace_allowed_ips=true\n"
		  "allowed_ip=10.0.0.2/32\n"
		  "endpoint=192.168.4.6:51820\n"
		  "public_key=" PUB2 "\n"
		  "replace_allowed_ips=true\n"
		  "persistent_keepalive_interval=25\n"
		  "allowed_ip=fd00::/64\n"
		  "endpoint=[fd00::9]:123\n"
		  "\n", "errno=0\n\n");
	expect(f, "get=1\n\n",
	       "private_key=" PRIV "\n"
	       "listen_port=51820\n"
	       "public_key=" PUB1 "\n"
	       "preshared_key=" PSK1 "\n"
	       "protocol_version=1\n"
	       "endpoint=192.168.4.6:51820\n"
	       "last_handshake_time_sec=0\n"
	       "last_handshake_time_nsec=0\n"
	       "tx_bytes=0\n"
	       "rx_bytes=0\n"
	       "persistent_keepalive_interval=0\n"
	       "allowed_ip=10.0.0.2/32\n"
	       "public_key=" PUB2 "\n"
	       "preshared_key=" ZERO "\n"
	       "protocol_version=1\n"
	       "endpoint=[fd00::9]:123\n"
	       "last_handshake_time_sec=0\n"
	       "last_handshake_time_nsec=0\n"
	       "tx_bytes=0\n"
	       "rx_bytes=0\n"
	       "persistent_keepalive_interval=25\n"
	       "allowed_ip=fd00::/64\n"
	       "errno=0\n\n");
	/* fwmark shows once set; the same private key again does not reset anything. */
	expect(f, "set=1\nfwmark=51\nprivate_key=" PRIV "\nlisten_port=51820\n\n", "errno=0\n\n");
	g_assert_cmpuint(f->fake.mark, ==, 51);
	g_assert_cmpuint(f->fake.port_sets, ==, 2);
	char *got = req(f, "get=1\n\n");
	g_assert_nonnull(strstr(got, "listen_port=51820\nfwmark=51\npublic_key=" PUB1));
	g_free(got);
	/* Two requests' worth of peers: `wg set` style updates. */
	expect(f, "set=1\npublic_key=" PUB1 "\nallowed_ip=10.0.0.3/32\nallowed_ip=-10.0.0.2/32\n\n",
	       "errno=0\n\n");
	got = req(f, "get=1\n\n");
	g_assert_nonnull(strstr(got, "allowed_ip=10.0.0.3/32\npublic_key=" PUB2));
	g_assert_null(strstr(got, "10.0.0.2/32"));
	g_free(got);
}

/* Every one of these is rejected with errno=22 and changes nothing. */
static void test_invalid(struct fixture *f, gconstpointer data)
{
	static const char *const bad[] = {
		/* 1 */ "set=1\nprivate_key=00\n\n",
		/* 2 */ "set=1\nprivate_key=" PRIV "0\n\n",
		/* 3 */ "set=1\nlisten_port=65536\n\n",
		/* 4 */ "set=1\nlisten_port=-1\n\n",
		/* 5 */ "set=1\nlisten_port=\n\n",
		/* 6 */ "set=1\nfwmark=4294967296\n\n",
		/* 7 */ "set=1\nreplace_peers=false\n\n",
		/* 8 */ "set=1\nbogus=1\n\n",
		/* 9 */ "set=1\nlisten_port\n\n",
		/* 10 */ "set=1\nendpoint=1.2.3.4:5\n\n",		/* peer key before public_key */
		/* 11 */ "set=1\npublic_key=" PUB2 "\nlisten_port=5\n\n",	/* device key in a peer block */
		/* 12 */ "set=1\npublic_key=" PUB2 "\nendpoint=1.2.3.4\n\n",
		/* 13 */ "set=1\npublic_key=" PUB2 "\nendpoint=example.com:5\n\n",
		/* 14 */ "set=1\npublic_key=" PUB2 "\nallowed_ip=10.0.0.0/33\n\n",
		/* 15 */ "set=1\npublic_key=" PUB2 "\nallowed_ip=10.0.0.0\n\n",
		/* 16 */ "set=1\npublic_key=" PUB2 "\nallowed_ip=fd00::/129\n\n",
		/* 17 */ "set=1\npublic_key=" PUB2 "\npersistent_keepalive_interval=65536\n\n",
		/* 18 */ "set=1\npublic_key=" PUB2 "\nprotocol_version=2\n\n",
		/* 19 */ "set=1\npublic_key=" PUB2 "\nremove=1\n\n",
		/* 20 */ "set=1\npublic_key=" PUB2 "\nupdate_only=yes\n\n",
		/* 21 */ "set=1\npublic_key=" PUB2 "\npreshared_key=" PSK1 "x\n\n",
		/* 22: valid lines first, the bad one last: nothing may apply */
		"set=1\nprivate_key=" ZERO "\nreplace_peers=true\npublic_key=" PUB2
		"\nallowed_ip=1.2.3.4/32\nallowed_ip=nope\n\n",
	};
	char *before, *after;

	(void)data;
	expect(f, "set=1\nprivate_key=" PRIV "\nlisten_port=51820\npublic_key=" PUB1
		  "\nallowed_ip=10.0.0.2/32\n\n", "errno=0\n\n");
	before = req(f, "get=1\n\n");
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *got = req(f, bad[i]);

		if (g_strcmp0(got, "errno=22\n\n"))
			g_error("case %zu: got %s", i + 1, got);
		g_free(got);
		after = req(f, "get=1\n\n");
		g_assert_cmpstr(after, ==, before);
		g_free(after);
	}
	/* A port that cannot be bound: errno=98, nothing else applied either. */
	expect(f, "set=1\nprivate_key=" ZERO "\nlisten_port=1\nreplace_peers=true\n\n",
	       "errno=98\n\n");
	after = req(f, "get=1\n\n");
	g_assert_cmpstr(after, ==, before);
	g_free(after);
	g_free(before);
}

static void test_peer_blocks(struct fixture *f, gconstpointer data)
{
	uint8_t pub[WG_KEY_LEN];
	char own[RG_KEY_HEX_LEN + 1], *got, *text;

	(void)data;
	expect(f, "set=1\nprivate_key=" PRIV "\npublic_key=" PUB1 "\n\n", "errno=0\n\n");
	g_assert_cmpuint(wg_device_peer_count(f->dev), ==, 1);	/* a bare block creates it */
	/* update_only on a missing peer: nothing is created. */
	expect(f, "set=1\npublic_key=" PUB2 "\nupdate_only=true\nallowed_ip=10.9.0.0/24\n\n",
	       "errno=0\n\n");
	g_assert_cmpuint(wg_device_peer_count(f->dev), ==, 1);
	/* update_only on an existing one updates it. */
	expect(f, "set=1\npublic_key=" PUB1 "\nupdate_only=true\nallowed_ip=10.9.0.0/24\n\n",
	       "errno=0\n\n");
	got = req(f, "get=1\n\n");
	g_assert_nonnull(strstr(got, "allowed_ip=10.9.0.0/24\n"));
	g_free(got);
	/* replace_allowed_ips. */
	expect(f, "set=1\npublic_key=" PUB1 "\nreplace_allowed_ips=true\nallowed_ip=10.8.0.1/32\n\n",
	       "errno=0\n\n");
	got = req(f, "get=1\n\n");
	g_assert_null(strstr(got, "10.9.0.0/24"));
	g_assert_nonnull(strstr(got, "allowed_ip=10.8.0.1/32\n"));
	g_free(got);
	/* Our own public key is ignored as a peer. */
	g_assert_true(wg_device_get_public_key(f->dev, pub));
	rg_key_to_hex(own, pub);
	text = g_strdup_printf("set=1\npublic_key=%s\nallowed_ip=10.7.0.0/16\n\n", own);
	expect(f, text, "errno=0\n\n");
	g_free(text);
	g_assert_cmpuint(wg_device_peer_count(f->dev), ==, 1);
	/* remove, and later lines of that block are ignored. */
	expect(f, "set=1\npublic_key=" PUB2 "\npublic_key=" PUB1 "\nremove=true\n"
		  "allowed_ip=10.6.0.0/16\n\n", "errno=0\n\n");
	g_assert_cmpuint(wg_device_peer_count(f->dev), ==, 1);
	got = req(f, "get=1\n\n");
	g_assert_nonnull(strstr(got, "public_key=" PUB2 "\n"));
	g_assert_null(strstr(got, PUB1));
	g_free(got);
	/* replace_peers, then the zero private key removes it. */
	expect(f, "set=1\nreplace_peers=true\n\n", "errno=0\n\n");
	g_assert_cmpuint(wg_device_peer_count(f->dev), ==, 0);
	expect(f, "set=1\nprivate_key=" ZERO "\n\n", "errno=0\n\n");
	expect(f, "get=1\n\n", "errno=0\n\n");
	/* listen_port=0 picks a port; it is reported. */
	expect(f, "set=1\nlisten_port=0\n\n", "errno=0\n\n");
	expect(f, "get=1\n\n", "listen_port=40000\nerrno=0\n\n");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/wg/uapi/empty", struct fixture, NULL, setup, test_empty, teardown);
	g_test_add("/wg/uapi/transcript", struct fixture, NULL, setup, test_transcript, teardown);
	g_test_add("/wg/uapi/invalid", struct fixture, NULL, setup, test_invalid, teardown);
	g_test_add("/wg/uapi/peer_blocks", struct fixture, NULL, setup, test_peer_blocks, teardown);
	return g_test_run();
}
