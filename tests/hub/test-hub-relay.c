/* Hub relay (relay.h): golden frames, who may send to whom, every drop reason and its counter,
 * the budgets (socket, network, fair share, daily, slow receiver, flood close), and that the
 * relay path asks the host for no memory. Driven through a host that records binary sends. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"

/* a valid key (the hub takes only base64 of 32 bytes) */
#define RKEY "KAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

struct rec {
	GPtrArray *bins;	/* "conn:hex" of every binary frame sent */
	GPtrArray *texts;	/* "conn text" */
	GPtrArray *closes;	/* "conn code" */
	size_t chunks;
	size_t backlog;		/* what ops->backlog reports for every conn */
	bool record;		/* false: only count */
	uint64_t bin_count[8];	/* frames per destination conn (< 8) */
	uint64_t bin_bytes[8];
	uint64_t bin_from[26];	/* frames by the source's first letter ('a'..'z') */
};

static void rec_send(void *host, uint64_t conn, const char *frame, size_t len)
{
	struct rec *r = host;

	g_ptr_array_add(r->texts, g_strdup_printf("%" G_GUINT64_FORMAT " %.*s", conn, (int)len,
						  frame));
}

static void rec_send_binary(void *host, uint64_t conn, const uint8_t *frame, size_t len)
{
	struct rec *r = host;

	if (conn < 8) {
		r->bin_count[conn]++;
		r->bin_bytes[conn] += len;
	}
	if (len > 2 && frame[2] >= 'a' && frame[2] <= 'z')
		r->bin_from[frame[2] - 'a']++;
	if (!r->record)
		return;
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "%" G_GUINT64_FORMAT ":", conn);
	for (size_t i = 0; i < len; i++)
		g_string_append_printf(s, "%02x", frame[i]);
	g_ptr_array_add(r->bins, g_string_free(s, FALSE));
}

static void rec_close(void *host, uint64_t conn, uint16_t code, const char *reason)
{
	struct rec *r = host;

	(void)reason;
	g_ptr_array_add(r->closes, g_strdup_printf("%" G_GUINT64_FORMAT " %u", conn, code));
}

static size_t rec_backlog(void *host, uint64_t conn)
{
	(void)conn;
	return ((struct rec *)host)->backlog;
}

static void *rec_grow(void *host, size_t bytes)
{
	((struct rec *)host)->chunks++;
	return aligned_alloc(16, (bytes + 15) & ~(size_t)15);
}

static void rec_release(void *host, void *chunk, size_t bytes)
{
	(void)bytes;
	((struct rec *)host)->chunks--;
	free(chunk);
}

static const struct hub_ops relay_ops = {
	.send = rec_send, .close = rec_close, .grow = rec_grow, .release = rec_release,
	.send_binary = rec_send_binary, .backlog = rec_backlog,
};

/* The same host without binary sends: a hub that cannot relay. */
static const struct hub_ops text_ops = {
	.send = rec_send, .close = rec_close, .grow = rec_grow, .release = rec_release,
};

struct fx {
	struct rec rec;
	struct hub hub;
	uint64_t now;
};

static void fx_init_ops(struct fx *f, const struct hub_ops *ops)
{
	memset(f, 0, sizeof(*f));
	f->rec.bins = g_ptr_array_new_with_free_func(g_free);
	f->rec.texts = g_ptr_array_new_with_free_func(g_free);
	f->rec.closes = g_ptr_array_new_with_free_func(g_free);
	f->rec.record = true;
	f->now = 1000;
	g_assert_cmpint(hub_init(&f->hub, ops, &f->rec), ==, 0);
}

static void fx_init(struct fx *f)
{
	fx_init_ops(f, &relay_ops);
}

static void fx_clear(struct fx *f)
{
	hub_clear(&f->hub);
	g_assert_cmpuint(f->rec.chunks, ==, 0);
	g_ptr_array_unref(f->rec.bins);
	g_ptr_array_unref(f->rec.texts);
	g_ptr_array_unref(f->rec.closes);
}

static void join(struct fx *f, uint64_t conn, const char *id)
{
	char frame[128];

	g_assert_cmpint(hub_open(&f->hub, conn), ==, 0);
	g_snprintf(frame, sizeof(frame), "{\"type\":\"join\",\"peerId\":\"%s\",\"publicKey\":\"" RKEY "\"}",
		   id);
	hub_text(&f->hub, conn, frame, strlen(frame), f->now);
}

/* A relay frame to `to` carrying payload_len bytes of 0xab (or the given bytes). */
static size_t frame_to(uint8_t *buf, const char *to, const uint8_t *payload, size_t payload_len)
{
	size_t n = 0, tl = strlen(to);

	buf[n++] = HUB_RELAY_DATAGRAM;
	buf[n++] = (uint8_t)tl;
	memcpy(buf + n, to, tl);
	n += tl;
	for (size_t i = 0; i < payload_len; i++)
		buf[n++] = payload ? payload[i] : 0xab;
	return n;
}

static struct hub_relay_stats stats(struct fx *f)
{
	struct hub_relay_stats s;

	hub_relay_get_stats(&f->hub, &s);
	/* every frame is relayed or counted as exactly one drop */
	g_assert_cmpuint(s.frames_in, ==, s.frames_out + hub_relay_drops(&s));
	return s;
}

static uint8_t *unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = g_malloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		char t[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		b[i] = (uint8_t)strtoul(t, NULL, 16);
	}
	*len = n;
	return b;
}

/* docs/signaling.md §Relay golden vectors: what alpha sends, what beta receives. */
static void test_golden(void)
{
	static const struct { const char *in, *out; } cases[] = {
		/* 1: alpha -> beta, a 4-byte datagram */
		{ "010462657461" "01020304", "2:01" "05616c706861" "01020304" },
		/* 2: a WireGuard keepalive header (type 4, 32 bytes) */
		{ "010462657461" "04000000" "01000000" "0000000000000000" "00000000000000000000000000000000",
		  "2:01" "05616c706861" "04000000" "01000000" "0000000000000000"
		  "00000000000000000000000000000000" },
	};
	struct fx f;

	fx_init(&f);
	join(&f, 1, "alpha");
	join(&f, 2, "beta");
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t len;
		g_autofree uint8_t *in = unhex(cases[i].in, &len);

		hub_binary(&f.hub, 1, in, len, f.now);
		g_assert_cmpuint(f.rec.bins->len, ==, i + 1);
		g_assert_cmpstr(f.rec.bins->pdata[i], ==, cases[i].out);
	}
	struct hub_relay_stats s = stats(&f);

	g_assert_cmpuint(s.frames_out, ==, 2);
	g_assert_cmpuint(s.bytes_out, ==, 4 + 32);
	fx_clear(&f);
}

/* Parser table: every malformed shape and the limits. */
static void test_parse(void)
{
	static uint8_t big[HUB_RELAY_FRAME_MAX + 2];
	static const struct { size_t len; const char *hex; int want; } cases[] = {
		/* 1 */ { 0, "", -1 },
		/* 2 */ { 1, "01", -1 },
		/* 3 */ { 2, "0101", -1 },		/* id length 1, no id */
		/* 4 */ { 3, "010161", -1 },		/* id, no payload */
		/* 5 */ { 4, "01016100", 0 },
		/* 6 */ { 4, "01006100", -1 },		/* empty id */
		/* 7 */ { 4, "02016100", -1 },		/* unknown type */
		/* 8 */ { 4, "00016100", -1 },
		/* 9 */ { 4, "01ff6100", -1 },		/* id runs past the end */
		/* 10 */ { 5, "0103616263", -1 },	/* id takes everything */
	};
	const uint8_t *id, *pl;
	size_t il, pll;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		size_t len;
		g_autofree uint8_t *b = unhex(cases[i].hex, &len);

		g_assert_cmpuint(len, ==, cases[i].len);
		g_assert_cmpint(hub_relay_parse(b, len, &id, &il, &pl, &pll), ==, cases[i].want);
	}
	/* payload exactly at the limit, one over, frame over the limit */
	size_t n = frame_to(big, "a", NULL, HUB_RELAY_PAYLOAD_MAX);

	g_assert_cmpint(hub_relay_parse(big, n, &id, &il, &pl, &pll), ==, 0);
	g_assert_cmpuint(pll, ==, HUB_RELAY_PAYLOAD_MAX);
	g_assert_cmpint(hub_relay_parse(big, n + 1, &id, &il, &pl, &pll), ==, -2);
	g_assert_cmpint(hub_relay_parse(big, HUB_RELAY_FRAME_MAX + 1, &id, &il, &pl, &pll), ==, -2);
	/* the longest id with the largest payload is exactly HUB_RELAY_FRAME_MAX */
	memset(big, 'x', sizeof(big));
	big[0] = HUB_RELAY_DATAGRAM;
	big[1] = 255;
	g_assert_cmpint(hub_relay_parse(big, HUB_RELAY_FRAME_MAX, &id, &il, &pl, &pll), ==, 0);
	g_assert_cmpuint(il, ==, 255);
	g_assert_cmpuint(pll, ==, HUB_RELAY_PAYLOAD_MAX);
}

/* Bad input through the hub: each is dropped, counted under its reason, nothing is sent. */
static void test_drops(void)
{
	static uint8_t buf[HUB_RELAY_FRAME_MAX + 64];
	struct fx f;
	struct hub_relay_stats s;
	size_t n;

	fx_init(&f);
	/* before join */
	g_assert_cmpint(hub_open(&f.hub, 1), ==, 0);
	join(&f, 2, "beta");
	n = frame_to(buf, "beta", NULL, 10);
	hub_binary(&f.hub, 1, buf, n, f.now);
	s = stats(&f);
	g_assert_cmpuint(s.drop_unjoined, ==, 1);
	/* empty, short, unknown type */
	hub_binary(&f.hub, 2, buf, 0, f.now);
	hub_binary(&f.hub, 2, buf, 1, f.now);
	buf[0] = 0x7f;
	hub_binary(&f.hub, 2, buf, n, f.now);
	s = stats(&f);
	g_assert_cmpuint(s.drop_malformed, ==, 3);
	/* oversized: payload one over, and a frame far over */
	n = frame_to(buf, "beta", NULL, HUB_RELAY_PAYLOAD_MAX + 1);
	hub_binary(&f.hub, 2, buf, n, f.now);
	hub_binary(&f.hub, 2, buf, sizeof(buf), f.now);
	s = stats(&f);
	g_assert_cmpuint(s.drop_oversized, ==, 2);
	/* to itself */
	n = frame_to(buf, "beta", NULL, 10);
	hub_binary(&f.hub, 2, buf, n, f.now);
	s = stats(&f);
	g_assert_cmpuint(s.drop_not_allowed, ==, 1);
	/* unknown peer, then a peer that left */
	join(&f, 3, "gamma");
	n = frame_to(buf, "nobody", NULL, 10);
	hub_binary(&f.hub, 2, buf, n, f.now);
	n = frame_to(buf, "gamma", NULL, 10);
	hub_binary(&f.hub, 2, buf, n, f.now);
	g_assert_cmpuint(f.rec.bins->len, ==, 1);
	hub_close(&f.hub, 3);
	hub_binary(&f.hub, 2, buf, n, f.now);
	s = stats(&f);
	g_assert_cmpuint(s.drop_unknown_peer, ==, 2);
	g_assert_cmpuint(s.frames_out, ==, 1);
	g_assert_cmpuint(s.frames_in, ==, 10);
	/* unknown conn: not even counted */
	hub_binary(&f.hub, 99, buf, n, f.now);
	g_assert_cmpuint(stats(&f).frames_in, ==, 10);
	/* the payload at the limit goes through */
	join(&f, 4, "delta");
	n = frame_to(buf, "delta", NULL, HUB_RELAY_PAYLOAD_MAX);
	hub_binary(&f.hub, 2, buf, n, f.now);
	g_assert_cmpuint(f.rec.bin_count[4], ==, 1);
	/* none of this closed anything or sent a text error */
	g_assert_cmpuint(f.rec.closes->len, ==, 0);
	fx_clear(&f);
}

/* The hub writes the source: a sender cannot claim another id. Its own id in the frame is the
 * destination, so "from mallory, to beta, pretending to be alpha" arrives as from mallory. */
static void test_no_spoofing(void)
{
	uint8_t buf[64];
	struct fx f;
	size_t n;

	fx_init(&f);
	join(&f, 1, "alpha");
	join(&f, 2, "beta");
	join(&f, 3, "mallory");
	n = frame_to(buf, "beta", (const uint8_t *)"alpha", 5);
	hub_binary(&f.hub, 3, buf, n, f.now);
	g_assert_cmpstr(f.rec.bins->pdata[0], ==, "2:01" "076d616c6c6f7279" "616c706861");
	fx_clear(&f);
}

/* Networks are separate hubs: a socket of network B cannot reach alpha of network A, even with
 * a peer of the same name joined in its own network. */
static void test_networks(void)
{
	uint8_t buf[64];
	struct fx a, b;
	size_t n;

	fx_init(&a);
	fx_init(&b);
	join(&a, 1, "alpha");
	join(&a, 2, "beta");
	join(&b, 1, "eve");
	n = frame_to(buf, "alpha", NULL, 8);
	hub_binary(&b.hub, 1, buf, n, b.now);
	g_assert_cmpuint(stats(&b).drop_unknown_peer, ==, 1);
	g_assert_cmpuint(a.rec.bins->len + b.rec.bins->len, ==, 0);
	/* same conn id in both hubs: only its own network's peer gets it */
	join(&b, 2, "beta");
	n = frame_to(buf, "beta", NULL, 8);
	hub_binary(&b.hub, 1, buf, n, b.now);
	g_assert_cmpuint(b.rec.bins->len, ==, 1);
	g_assert_cmpuint(a.rec.bins->len, ==, 0);
	fx_clear(&a);
	fx_clear(&b);
}

/* A hub without binary sends does not offer the relay and drops frames as disabled; a hub with
 * it announces "relay":true in `peers`. */
static void test_available(void)
{
	uint8_t buf[64];
	struct fx f;
	struct hub_relay_cfg cfg;
	size_t n;

	fx_init_ops(&f, &text_ops);
	join(&f, 1, "alpha");
	join(&f, 2, "beta");
	g_assert_false(hub_relay_available(&f.hub));
	g_assert_cmpstr(f.rec.texts->pdata[0], ==, "1 {\"type\":\"peers\",\"peers\":[]}");
	n = frame_to(buf, "beta", NULL, 8);
	hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(stats(&f).drop_disabled, ==, 1);
	fx_clear(&f);

	fx_init(&f);
	join(&f, 1, "alpha");
	g_assert_cmpstr(f.rec.texts->pdata[0], ==,
			"1 {\"type\":\"peers\",\"peers\":[],\"relay\":true,"
			"\"relayRate\":8388608,\"relayBurst\":524288}");

	/* switched off by the operator: not announced, frames dropped */
	hub_relay_cfg_default(&cfg);
	cfg.enabled = false;
	hub_relay_configure(&f.hub, &cfg);
	join(&f, 2, "beta");
	g_assert_cmpstr(f.rec.texts->pdata[1], ==,
			"2 {\"type\":\"peers\",\"peers\":[{\"peerId\":\"alpha\",\"publicKey\":\"" RKEY "\"}]}");
	hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(stats(&f).drop_disabled, ==, 1);
	/* hub_clear keeps the operator's settings */
	hub_clear(&f.hub);
	g_assert_false(hub_relay_available(&f.hub));
	fx_clear(&f);

	/* the announced budget is the operator's per-socket setting (clients pace to it) */
	fx_init(&f);
	hub_relay_cfg_default(&cfg);
	cfg.sock_rate = 123456;
	cfg.sock_burst = 4294967295u;
	hub_relay_configure(&f.hub, &cfg);
	join(&f, 1, "alpha");
	g_assert_cmpstr(f.rec.texts->pdata[0], ==,
			"1 {\"type\":\"peers\",\"peers\":[],\"relay\":true,"
			"\"relayRate\":123456,\"relayBurst\":4294967295}");
	cfg.sock_rate = 1;
	hub_relay_configure(&f.hub, &cfg);
	join(&f, 2, "beta");
	g_assert_cmpstr(f.rec.texts->pdata[1], ==,
			"2 {\"type\":\"peers\",\"peers\":[{\"peerId\":\"alpha\",\"publicKey\":\"" RKEY
			"\"}],\"relay\":true,\"relayRate\":1,\"relayBurst\":4294967295}");
	fx_clear(&f);
}

/* Socket budget: a burst, then the refill rate; at the limit exactly. */
static void test_sock_rate(void)
{
	uint8_t buf[2048];
	struct fx f;
	struct hub_relay_cfg cfg;
	size_t n;

	fx_init(&f);
	f.rec.record = false;
	hub_relay_cfg_default(&cfg);
	cfg.sock_rate = 100 * 1000;		/* bytes/s */
	cfg.sock_burst = 10 * 1000;
	cfg.close_factor = 0;
	hub_relay_configure(&f.hub, &cfg);
	join(&f, 1, "alpha");
	join(&f, 2, "beta");
	/* 936 payload + 2 + 4 + 64 = 1006... use frames that cost exactly 1000 */
	n = frame_to(buf, "beta", NULL, 1000 - 64 - 6);
	g_assert_cmpuint(n + HUB_RELAY_FRAME_COST, ==, 1000);
	for (int i = 0; i < 20; i++)
		hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(f.rec.bin_count[2], ==, 10);	/* the burst, exactly */
	g_assert_cmpuint(stats(&f).drop_sock_rate, ==, 10);
	/* 100 ms later: 10000 bytes refilled = 10 more */
	f.now += 100;
	for (int i = 0; i < 20; i++)
		hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(f.rec.bin_count[2], ==, 20);
	/* a clock going back refills nothing */
	f.now -= 50;
	hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(f.rec.bin_count[2], ==, 20);
	/* one second of a steady 100 frames/s (the rate exactly) loses nothing */
	f.now += 1000;
	for (int i = 0; i < 100; i++) {
		f.now += 10;
		hub_binary(&f.hub, 1, buf, n, f.now);
	}
	g_assert_cmpuint(f.rec.bin_count[2], ==, 120);
	fx_clear(&f);
}

/* A sender flooding the relay far past its budget gets dropped and then closed (1008); a
 * sender just over its budget is only dropped. */
static void test_flood_close(void)
{
	uint8_t buf[2048];
	struct fx f;
	struct hub_relay_cfg cfg;
	size_t n;

	fx_init(&f);
	f.rec.record = false;
	hub_relay_cfg_default(&cfg);
	cfg.sock_rate = 100 * 1000;
	cfg.sock_burst = 10 * 1000;
	cfg.close_factor = 8;
	hub_relay_configure(&f.hub, &cfg);
	join(&f, 1, "alpha");
	join(&f, 2, "beta");
	join(&f, 3, "gamma");
	n = frame_to(buf, "beta", NULL, 1000 - 64 - 6);
	/* twice the budget for two seconds: drops, no close */
	for (int i = 0; i < 400; i++) {
		f.now += 5;
		hub_binary(&f.hub, 3, buf, n, f.now);
	}
	g_assert_cmpuint(f.rec.closes->len, ==, 0);
	g_assert_cmpuint(stats(&f).drop_sock_rate, >, 150);
	/* a burst far past 8x: the abuse bucket (80 frames) empties, the socket is closed */
	for (int i = 0; i < 200; i++)
		hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(f.rec.closes->len, ==, 1);
	g_assert_cmpstr(f.rec.closes->pdata[0], ==, "1 1008");
	g_assert_cmpuint(stats(&f).kicked, ==, 1);
	/* the others saw alpha leave; alpha's later frames are ignored (closing) */
	uint64_t in = stats(&f).frames_in;

	hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(stats(&f).frames_in, ==, in);
	/* garbage counts too: an unjoined socket spraying empty frames is closed the same way */
	g_assert_cmpint(hub_open(&f.hub, 4), ==, 0);
	for (int i = 0; i < 10000 && f.rec.closes->len < 2; i++)
		hub_binary(&f.hub, 4, buf, 0, f.now);
	g_assert_cmpuint(f.rec.closes->len, ==, 2);
	g_assert_cmpstr(f.rec.closes->pdata[1], ==, "4 1008");
	fx_clear(&f);
}

/* Fair share: alpha floods beta at 3x the network rate, gamma sends delta a steady 20% of it.
 * The network is congested the whole time; gamma keeps (nearly) all its throughput and alpha
 * gets what is left, not more. */
static void test_fair(void)
{
	uint8_t buf[2048];
	struct fx f;
	struct hub_relay_cfg cfg;
	size_t n;
	const uint64_t net_rate = 1000 * 1000;	/* 1000 frames of 1000 charged bytes per second */

	fx_init(&f);
	f.rec.record = false;
	hub_relay_cfg_default(&cfg);
	cfg.net_rate = net_rate;
	cfg.net_burst = 50 * 1000;
	cfg.sock_rate = 4 * net_rate;		/* the socket budget is not what limits here */
	cfg.sock_burst = 50 * 1000;
	cfg.close_factor = 0;
	hub_relay_configure(&f.hub, &cfg);
	join(&f, 1, "alpha");
	join(&f, 2, "beta");
	join(&f, 3, "gamma");
	join(&f, 4, "delta");
	n = frame_to(buf, "beta", NULL, 1000 - 64 - 6);
	uint8_t buf2[2048];
	size_t n2 = frame_to(buf2, "delta", NULL, 1000 - 64 - 7);

	g_assert_cmpuint(n2, ==, n);
	uint64_t gamma_sent = 0;

	/* 10 s in 1 ms steps: alpha offers 3 frames/ms, gamma 1 every 5 ms */
	for (int ms = 0; ms < 10000; ms++) {
		f.now++;
		for (int k = 0; k < 3; k++)
			hub_binary(&f.hub, 1, buf, n, f.now);
		if (ms % 5 == 0) {
			hub_binary(&f.hub, 3, buf2, n2, f.now);
			gamma_sent++;
		}
	}
	struct hub_relay_stats s = stats(&f);

	g_test_message("gamma %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ", alpha %" G_GUINT64_FORMAT
		       ", fair drops %" G_GUINT64_FORMAT ", net drops %" G_GUINT64_FORMAT,
		       f.rec.bin_count[4], gamma_sent, f.rec.bin_count[2], s.drop_fair,
		       s.drop_net_rate);
	g_assert_cmpuint(f.rec.bin_count[4] * 100, >=, gamma_sent * 98);
	g_assert_cmpuint(s.drop_fair, >, 0);
	/* alpha gets the rest of the network: at most the rate minus gamma's, plus the burst */
	g_assert_cmpuint(f.rec.bin_count[2] + f.rec.bin_count[4], <=, 10 * 1000 + 50);
	g_assert_cmpuint(f.rec.bin_count[2], >=, 10 * 1000 - gamma_sent - 200);
	fx_clear(&f);
}

/* Two senders toward one receiver whose budget is short: 10 s in 1 ms steps, alpha offering
 * a_per_10ms and gamma g_per_10ms frames of 1000 charged bytes per 10 ms, beta's budget 1 frame
 * per ms (burst 50). What each offered and got. */
struct two { uint64_t a_sent, g_sent, a_got, g_got; };

static struct two two_senders(int a_per_10ms, int g_per_10ms)
{
	uint8_t buf[2048];
	struct fx f;
	struct hub_relay_cfg cfg;
	struct hub_relay_stats s;
	struct two t = { 0 };
	size_t n;

	fx_init(&f);
	f.rec.record = false;
	hub_relay_cfg_default(&cfg);
	cfg.recv_rate = 1000 * 1000;
	cfg.recv_burst = 50 * 1000;
	cfg.sock_rate = 10 * 1000 * 1000;	/* neither the socket nor the network limits here */
	cfg.net_rate = 100 * 1000 * 1000;
	cfg.net_burst = 10 * 1000 * 1000;
	cfg.close_factor = 0;
	hub_relay_configure(&f.hub, &cfg);
	join(&f, 1, "alpha");
	join(&f, 2, "beta");
	join(&f, 3, "gamma");
	n = frame_to(buf, "beta", NULL, 1000 - 64 - 6);
	for (int ms = 0; ms < 10000; ms++) {
		int a = (ms % 10 + 1) * a_per_10ms / 10 - (ms % 10) * a_per_10ms / 10;
		int g = (ms % 10 + 1) * g_per_10ms / 10 - (ms % 10) * g_per_10ms / 10;

		f.now++;
		/* interleaved, so neither always comes first */
		for (int k = 0; k < a || k < g; k++) {
			if (k < g) {
				hub_binary(&f.hub, 3, buf, n, f.now);
				t.g_sent++;
			}
			if (k < a) {
				hub_binary(&f.hub, 1, buf, n, f.now);
				t.a_sent++;
			}
		}
	}
	s = stats(&f);
	t.a_got = f.rec.bin_from['a' - 'a'];
	t.g_got = f.rec.bin_from['g' - 'a'];
	g_test_message("offered %d/%d per 10 ms: alpha %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
		       ", gamma %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ", receiver drops %"
		       G_GUINT64_FORMAT, a_per_10ms, g_per_10ms, t.a_got, t.a_sent, t.g_got, t.g_sent,
		       s.drop_receiver);
	g_assert_cmpuint(s.frames_in, ==, s.frames_out + hub_relay_drops(&s));
	g_assert_cmpuint(s.drop_receiver, ==, hub_relay_drops(&s));	/* only the receiver's */
	g_assert_cmpuint(s.frames_out, ==, t.a_got + t.g_got);
	/* dropped, not buffered: once the senders stop, nothing more reaches beta */
	f.now += 5000;
	hub_binary(&f.hub, 2, buf, 0, f.now);
	g_assert_cmpuint(f.rec.bin_count[2], ==, t.a_got + t.g_got);
	fx_clear(&f);
	return t;
}

/* Fair queuing per receiver (deficit round robin without a queue): a sender flooding a receiver
 * at 10x its budget beside one at 40% leaves the second whole and takes only the rest; at 3x
 * beside 1x they split it evenly; under the budget nobody loses a frame. Without per-receiver
 * shares the flooder would take the budget in proportion to what it offers (~96% in case 1). */
static void test_fair_receiver(void)
{
	static const struct {
		int a, g;		/* frames per 10 ms offered by alpha and gamma */
		int a_min, a_max;	/* frames each gets over 10 s (beta's budget: 10000 + 2 x 50) */
		int g_min, g_max;
	} cases[] = {
		/* 1 */ { 100, 4, 5700, 6150, 4000, 4000 },
		/* 2 */ { 30, 10, 4700, 5300, 4700, 5300 },
		/* 3 */ { 5, 4, 5000, 5000, 4000, 4000 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct two t = two_senders(cases[i].a, cases[i].g);

		g_assert_cmpuint(t.a_got, >=, cases[i].a_min);
		g_assert_cmpuint(t.a_got, <=, cases[i].a_max);
		g_assert_cmpuint(t.g_got, >=, cases[i].g_min);
		g_assert_cmpuint(t.g_got, <=, cases[i].g_max);
		g_assert_cmpuint(t.a_got + t.g_got, <=, 10000 + 100);
	}
}

/* A congested receiver's host backlog (over half of backlog_max) also makes the senders keep to
 * their shares: the one that spent its share is dropped, one within its share gets through. */
static void test_fair_backlog(void)
{
	uint8_t buf[2048];
	struct fx f;
	size_t n;

	fx_init(&f);
	join(&f, 1, "alpha");
	join(&f, 2, "beta");
	join(&f, 3, "gamma");
	join(&f, 4, "delta");
	n = frame_to(buf, "beta", NULL, 1400);	/* 1470 charged bytes */
	hub_binary(&f.hub, 3, buf, n, f.now);
	hub_binary(&f.hub, 4, buf, n, f.now);
	/* three senders: alpha's share is a third of beta's 512 KiB burst (~118 frames); while
	 * beta's budget is over half full alpha may borrow past it */
	for (int i = 0; i < 130; i++)
		hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(f.rec.bin_from['a' - 'a'], ==, 130);
	g_assert_cmpuint(stats(&f).drop_receiver, ==, 0);
	/* beta's socket backs up: alpha, in debt, is dropped; gamma still has its share */
	f.rec.backlog = HUB_RELAY_BACKLOG_MAX / 2 + 1;
	hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(stats(&f).drop_receiver, ==, 1);
	hub_binary(&f.hub, 3, buf, n, f.now);
	g_assert_cmpuint(f.rec.bin_from['g' - 'a'], ==, 2);
	/* past the hard limit everyone is dropped */
	f.rec.backlog = HUB_RELAY_BACKLOG_MAX + 1;
	hub_binary(&f.hub, 4, buf, n, f.now);
	g_assert_cmpuint(stats(&f).drop_slow, ==, 1);
	g_assert_cmpuint(f.rec.bin_from['d' - 'a'], ==, 1);
	fx_clear(&f);
}

/* A receiver whose host backlog is full loses frames instead of growing a queue. */
static void test_slow_receiver(void)
{
	uint8_t buf[64];
	struct fx f;
	size_t n;

	fx_init(&f);
	join(&f, 1, "alpha");
	join(&f, 2, "beta");
	n = frame_to(buf, "beta", NULL, 8);
	f.rec.backlog = HUB_RELAY_BACKLOG_MAX;		/* at the limit: still sent */
	hub_binary(&f.hub, 1, buf, n, f.now);
	f.rec.backlog = HUB_RELAY_BACKLOG_MAX + 1;
	hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(f.rec.bins->len, ==, 1);
	g_assert_cmpuint(stats(&f).drop_slow, ==, 1);
	fx_clear(&f);
}

/* The operator's daily budget per network: payload bytes per UTC day, reset at midnight. */
static void test_daily(void)
{
	uint8_t buf[256];
	struct fx f;
	struct hub_relay_cfg cfg;
	size_t n;
	const uint64_t day = 86400000;

	fx_init(&f);
	f.rec.record = false;
	hub_relay_cfg_default(&cfg);
	cfg.daily_bytes = 1000;
	hub_relay_configure(&f.hub, &cfg);
	f.now = 20000 * day + day - 1000;
	join(&f, 1, "alpha");
	join(&f, 2, "beta");
	n = frame_to(buf, "beta", NULL, 100);
	for (int i = 0; i < 15; i++)
		hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(f.rec.bin_count[2], ==, 10);		/* 1000 bytes exactly */
	g_assert_cmpuint(stats(&f).drop_daily, ==, 5);
	f.now += 1000;						/* next UTC day */
	hub_binary(&f.hub, 1, buf, n, f.now);
	g_assert_cmpuint(f.rec.bin_count[2], ==, 11);
	fx_clear(&f);
}

/* Relaying takes no memory from the host: 100k frames, no new chunk. */
static void test_no_alloc(void)
{
	uint8_t buf[1500];
	struct fx f;
	size_t n, chunks;

	fx_init(&f);
	f.rec.record = false;
	join(&f, 1, "alpha");
	join(&f, 2, "beta");
	chunks = f.rec.chunks;
	n = frame_to(buf, "beta", NULL, 1400);
	for (int i = 0; i < 100000; i++) {
		if (i % 4 == 0)
			f.now++;
		hub_binary(&f.hub, 1, buf, n, f.now);
		hub_binary(&f.hub, 2, buf, 0, f.now);
	}
	g_assert_cmpuint(f.rec.chunks, ==, chunks);
	g_assert_cmpuint(stats(&f).frames_in, ==, 200000);
	fx_clear(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hub/relay/golden", test_golden);
	g_test_add_func("/hub/relay/parse", test_parse);
	g_test_add_func("/hub/relay/drops", test_drops);
	g_test_add_func("/hub/relay/no-spoofing", test_no_spoofing);
	g_test_add_func("/hub/relay/networks", test_networks);
	g_test_add_func("/hub/relay/available", test_available);
	g_test_add_func("/hub/relay/sock-rate", test_sock_rate);
	g_test_add_func("/hub/relay/flood-close", test_flood_close);
	g_test_add_func("/hub/relay/fair", test_fair);
	g_test_add_func("/hub/relay/fair-receiver", test_fair_receiver);
	g_test_add_func("/hub/relay/fair-backlog", test_fair_backlog);
	g_test_add_func("/hub/relay/slow-receiver", test_slow_receiver);
	g_test_add_func("/hub/relay/daily", test_daily);
	g_test_add_func("/hub/relay/no-alloc", test_no_alloc);
	return g_test_run();
}
