/* Hub core rules (hub.h), driven through a recording host: every action the hub emits becomes one
 * line ("send 2 {...}", "close 1 4000 replaced", "joined 1 a K 10.0.0.1/24"), and each case
 * compares the exact lines. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"

struct rec {
	GPtrArray *lines;
	size_t chunks_live;
	size_t grow_budget;	/* bytes the host still gives; SIZE_MAX = unlimited */
	bool mute;		/* count sends instead of recording them */
	size_t muted_sends;
};

static void rec_send(void *host, uint64_t conn, const char *frame, size_t len)
{
	struct rec *r = host;

	if (r->mute) {
		r->muted_sends++;
		return;
	}
	g_ptr_array_add(r->lines, g_strdup_printf("send %" G_GUINT64_FORMAT " %.*s", conn, (int)len,
						  frame));
}

static void rec_close(void *host, uint64_t conn, uint16_t code, const char *reason)
{
	struct rec *r = host;

	g_ptr_array_add(r->lines, g_strdup_printf("close %" G_GUINT64_FORMAT " %u %s", conn, code,
						  reason));
}

static void rec_joined(void *host, uint64_t conn, const char *p, const char *k, const char *a)
{
	struct rec *r = host;

	g_ptr_array_add(r->lines, g_strdup_printf("joined %" G_GUINT64_FORMAT " %s %s %s", conn, p,
						  k, a));
}

static void *rec_grow(void *host, size_t bytes)
{
	struct rec *r = host;

	if (bytes > r->grow_budget)
		return NULL;
	r->grow_budget -= bytes;
	r->chunks_live++;
	return aligned_alloc(16, (bytes + 15) & ~(size_t)15);
}

static void rec_release(void *host, void *chunk, size_t bytes)
{
	struct rec *r = host;

	(void)bytes;
	r->chunks_live--;
	free(chunk);
}

static const struct hub_ops rec_ops = {
	.send = rec_send, .close = rec_close, .joined = rec_joined,
	.grow = rec_grow, .release = rec_release,
};

struct fx {
	struct rec rec;
	struct hub hub;
	uint64_t now;
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->rec.lines = g_ptr_array_new_with_free_func(g_free);
	f->rec.grow_budget = SIZE_MAX;
	f->now = 1000;
	g_assert_cmpint(hub_init(&f->hub, &rec_ops, &f->rec), ==, 0);
}

static void fx_clear(struct fx *f)
{
	hub_clear(&f->hub);
	g_assert_cmpuint(f->rec.chunks_live, ==, 0);
	g_ptr_array_unref(f->rec.lines);
}

/* Feeds one frame; now advances 100 ms per frame so tests stay inside the rate limit. */
static void in(struct fx *f, uint64_t conn, const char *frame)
{
	f->now += 100;
	hub_text(&f->hub, conn, frame, strlen(frame), f->now);
}

/* Asserts the recorded lines equal the NULL-terminated list, then forgets them. */
static void expect(struct fx *f, ...)
{
	va_list ap;
	guint i = 0;
	const char *want;

	va_start(ap, f);
	while ((want = va_arg(ap, const char *))) {
		if (i >= f->rec.lines->len)
			g_error("missing line %u: %s", i, want);
		if (strcmp(want, f->rec.lines->pdata[i]))
			g_error("line %u:\n  want %s\n  got  %s", i, want,
				(char *)f->rec.lines->pdata[i]);
		i++;
	}
	va_end(ap);
	if (i != f->rec.lines->len)
		g_error("extra line %u: %s", i, (char *)f->rec.lines->pdata[i]);
	g_ptr_array_set_size(f->rec.lines, 0);
}

static void join(struct fx *f, uint64_t conn, const char *id)
{
	char frame[256];

	g_assert_cmpint(hub_open(&f->hub, conn), ==, 0);
	g_snprintf(frame, sizeof(frame), "{\"type\":\"join\",\"peerId\":\"%s\",\"publicKey\":\"K%s\"}",
		   id, id);
	in(f, conn, frame);
	g_ptr_array_set_size(f->rec.lines, 0);
}

static void test_join_peers(void)
{
	struct fx f;

	fx_init(&f);
	g_assert_cmpint(hub_open(&f.hub, 1), ==, 0);
	g_assert_cmpint(hub_open(&f.hub, 1), ==, -2);
	in(&f, 1, "{\"type\":\"join\",\"peerId\":\"a\",\"publicKey\":\"KA\",\"address\":\"10.10.0.1/24\"}");
	expect(&f, "joined 1 a KA 10.10.0.1/24", "send 1 {\"type\":\"peers\",\"peers\":[]}", NULL);
	g_assert_cmpint(hub_open(&f.hub, 2), ==, 0);
	/* unknown fields are forwarded as they are; type/peerId come from the registered values */
	in(&f, 2, "{\"publicKey\":\"KB\",\"x\":{\"y\":[1,2]},\"type\":\"join\",\"peerId\":\"b\"}");
	expect(&f, "joined 2 b KB ",
	       "send 2 {\"type\":\"peers\",\"peers\":[{\"peerId\":\"a\",\"publicKey\":\"KA\","
	       "\"address\":\"10.10.0.1/24\"}]}",
	       "send 1 {\"type\":\"join\",\"peerId\":\"b\",\"publicKey\":\"KB\",\"x\":{\"y\":[1,2]}}",
	       NULL);
	g_assert_cmpint(hub_open(&f.hub, 3), ==, 0);
	in(&f, 3, "{\"type\":\"join\",\"peerId\":\"c\\u00e9\",\"publicKey\":\"KC\",\"address\":\"10.10.0.3/24\"}");
	expect(&f, "joined 3 c\xc3\xa9 KC 10.10.0.3/24",
	       "send 3 {\"type\":\"peers\",\"peers\":[{\"peerId\":\"a\",\"publicKey\":\"KA\","
	       "\"address\":\"10.10.0.1/24\"},{\"peerId\":\"b\",\"publicKey\":\"KB\"}]}",
	       "send 1 {\"type\":\"join\",\"peerId\":\"c\xc3\xa9\",\"publicKey\":\"KC\",\"address\":\"10.10.0.3/24\"}",
	       "send 2 {\"type\":\"join\",\"peerId\":\"c\xc3\xa9\",\"publicKey\":\"KC\",\"address\":\"10.10.0.3/24\"}",
	       NULL);
	g_assert_cmpuint(hub_peer_count(&f.hub), ==, 3);
	fx_clear(&f);
}

static void test_relay(void)
{
	struct fx f;

	fx_init(&f);
	join(&f, 1, "a");
	join(&f, 2, "b");
	/* from is overwritten (spoof attempt), everything else kept */
	in(&f, 1, "{\"type\":\"offer\",\"from\":\"b\",\"to\":\"b\",\"sdp\":\"v=0\\r\\n\",\"publicKey\":\"KA\","
		  "\"address\":\"10.10.0.1/24\",\"routes\":[\"10.1.0.0/16\"]}");
	expect(&f, "send 2 {\"type\":\"offer\",\"from\":\"a\",\"to\":\"b\",\"sdp\":\"v=0\\r\\n\","
		   "\"publicKey\":\"KA\",\"address\":\"10.10.0.1/24\",\"routes\":[\"10.1.0.0/16\"]}", NULL);
	in(&f, 2, "{\"type\":\"answer\",\"to\":\"a\",\"sdp\":\"v=0\"}");
	expect(&f, "send 1 {\"type\":\"answer\",\"from\":\"b\",\"to\":\"a\",\"sdp\":\"v=0\"}", NULL);
	/* duplicate from keys are all dropped */
	in(&f, 2, "{\"from\":\"x\",\"type\":\"ice-candidate\",\"to\":\"a\",\"from\":\"y\",\"candidate\":\"candidate:1 1 udp 1 127.0.0.1 5000 typ host\"}");
	expect(&f, "send 1 {\"type\":\"ice-candidate\",\"from\":\"b\",\"to\":\"a\",\"candidate\":\"candidate:1 1 udp 1 127.0.0.1 5000 typ host\"}", NULL);
	in(&f, 1, "{\"type\":\"offer\",\"to\":\"zz\",\"sdp\":\"v=0\"}");
	expect(&f, "send 1 {\"type\":\"error\",\"code\":\"unknown-peer\",\"message\":\"no such peer: zz\"}", NULL);
	in(&f, 1, "{\"type\":\"offer\",\"sdp\":\"v=0\"}");
	expect(&f, "send 1 {\"type\":\"error\",\"code\":\"bad-message\",\"message\":\"missing or invalid field 'to'\"}", NULL);
	in(&f, 1, "{\"type\":\"offer\",\"to\":5}");
	expect(&f, "send 1 {\"type\":\"error\",\"code\":\"bad-message\",\"message\":\"missing or invalid field 'to'\"}", NULL);

	struct hub_stats st;

	hub_get_stats(&f.hub, &st);
	g_assert_cmpuint(st.relayed, ==, 3);
	g_assert_cmpuint(st.rejects, ==, 3);
	g_assert_cmpuint(st.peers, ==, 2);
	g_assert_cmpuint(st.conns, ==, 2);
	fx_clear(&f);
}

/* Frames that must be answered with an error frame while the connection stays open. */
static void test_rejects(void)
{
	static const struct { const char *in; const char *out; } cases[] = {
		/* 1 */ { "{\"type\":\"offer\",\"to\":\"a\",\"sdp\":\"x\"}",
			  "{\"type\":\"error\",\"code\":\"not-joined\",\"message\":\"send join first\"}" },
		/* 2 */ { "not json", "{\"type\":\"error\",\"code\":\"bad-json\",\"message\":\"frame is not a valid JSON object\"}" },
		/* 3 */ { "{\"type\":\"join\",", "{\"type\":\"error\",\"code\":\"bad-json\",\"message\":\"frame is not a valid JSON object\"}" },
		/* 4 */ { "[\"join\"]", "{\"type\":\"error\",\"code\":\"bad-json\",\"message\":\"frame is not a valid JSON object\"}" },
		/* 5 */ { "{\"peerId\":\"a\"}", "{\"type\":\"error\",\"code\":\"bad-message\",\"message\":\"missing or invalid field 'type'\"}" },
		/* 6 */ { "{\"type\":7}", "{\"type\":\"error\",\"code\":\"bad-message\",\"message\":\"missing or invalid field 'type'\"}" },
		/* 7 */ { "{\"type\":\"hello\"}", "{\"type\":\"error\",\"code\":\"unknown-type\",\"message\":\"unknown message type: hello\"}" },
		/* 8 */ { "{\"type\":\"join\",\"publicKey\":\"K\"}", "{\"type\":\"error\",\"code\":\"bad-message\",\"message\":\"join: missing field 'peerId'\"}" },
		/* 9 */ { "{\"type\":\"join\",\"peerId\":\"a\"}", "{\"type\":\"error\",\"code\":\"bad-message\",\"message\":\"join: missing field 'publicKey'\"}" },
		/* 10 */ { "{\"type\":\"join\",\"peerId\":\"\",\"publicKey\":\"K\"}", "{\"type\":\"error\",\"code\":\"bad-message\",\"message\":\"join: peerId must be a string of 1-255 bytes\"}" },
		/* 11 */ { "{\"type\":\"join\",\"peerId\":\"a\\u0000b\",\"publicKey\":\"K\"}", "{\"type\":\"error\",\"code\":\"bad-message\",\"message\":\"join: peerId must be a string of 1-255 bytes\"}" },
		/* 12 */ { "{\"type\":\"join\",\"peerId\":1,\"publicKey\":\"K\"}", "{\"type\":\"error\",\"code\":\"bad-message\",\"message\":\"join: peerId must be a string of 1-255 bytes\"}" },
		/* 13 */ { "{\"type\":\"join\",\"peerId\":\"a\",\"publicKey\":\"K\",\"address\":7}", "{\"type\":\"error\",\"code\":\"bad-message\",\"message\":\"join: address must be a string of at most 127 bytes\"}" },
		/* 14 */ { "{\"type\":\"peers\",\"peers\":[]}", "{\"type\":\"error\",\"code\":\"unknown-type\",\"message\":\"unknown message type: peers\"}" },
		/* 15 */ { "{\"type\":\"ice-candidate\",\"to\":\"a\"}", "{\"type\":\"error\",\"code\":\"not-joined\",\"message\":\"send join first\"}" },
	};
	struct fx f;
	char want[512];

	fx_init(&f);
	join(&f, 9, "a");
	g_assert_cmpint(hub_open(&f.hub, 1), ==, 0);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		in(&f, 1, cases[i].in);
		g_snprintf(want, sizeof(want), "send 1 %s", cases[i].out);
		if (f.rec.lines->len != 1 || strcmp(f.rec.lines->pdata[0], want))
			g_error("case %zu: want %s, got %u lines, first %s", i + 1, want,
				f.rec.lines->len,
				f.rec.lines->len ? (char *)f.rec.lines->pdata[0] : "-");
		g_ptr_array_set_size(f.rec.lines, 0);
	}
	/* still usable: a valid join works afterwards */
	in(&f, 1, "{\"type\":\"join\",\"peerId\":\"b\",\"publicKey\":\"KB\"}");
	g_assert_cmpuint(f.rec.lines->len, ==, 3);
	g_assert_cmpuint(hub_peer_count(&f.hub), ==, 2);
	fx_clear(&f);
}

static void test_peer_left(void)
{
	struct fx f;

	fx_init(&f);
	join(&f, 1, "a");
	join(&f, 2, "b");
	join(&f, 3, "c");
	hub_close(&f.hub, 2);
	expect(&f, "send 1 {\"type\":\"peer-left\",\"peerId\":\"b\"}",
	       "send 3 {\"type\":\"peer-left\",\"peerId\":\"b\"}", NULL);
	hub_close(&f.hub, 2);		/* unknown now: nothing */
	g_assert_cmpint(hub_open(&f.hub, 4), ==, 0);
	hub_close(&f.hub, 4);		/* never joined: nothing */
	expect(&f, NULL);
	in(&f, 1, "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"x\"}");
	expect(&f, "send 1 {\"type\":\"error\",\"code\":\"unknown-peer\",\"message\":\"no such peer: b\"}", NULL);
	g_assert_cmpuint(hub_peer_count(&f.hub), ==, 2);
	fx_clear(&f);
}

static void test_replace(void)
{
	struct fx f;

	fx_init(&f);
	join(&f, 1, "a");
	join(&f, 2, "b");
	g_assert_cmpint(hub_open(&f.hub, 3), ==, 0);
	in(&f, 3, "{\"type\":\"join\",\"peerId\":\"a\",\"publicKey\":\"KA2\"}");
	expect(&f,
	       "send 1 {\"type\":\"error\",\"code\":\"replaced\",\"message\":\"replaced by a newer connection\"}",
	       "close 1 4000 replaced by a newer connection",
	       "send 2 {\"type\":\"peer-left\",\"peerId\":\"a\"}",
	       "joined 3 a KA2 ",
	       "send 3 {\"type\":\"peers\",\"peers\":[{\"peerId\":\"b\",\"publicKey\":\"Kb\"}]}",
	       "send 2 {\"type\":\"join\",\"peerId\":\"a\",\"publicKey\":\"KA2\"}", NULL);
	/* frames from the replaced socket are ignored; its late close emits nothing */
	in(&f, 1, "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"x\"}");
	hub_close(&f.hub, 1);
	expect(&f, NULL);
	/* relays to "a" reach the new connection */
	in(&f, 2, "{\"type\":\"offer\",\"to\":\"a\",\"sdp\":\"x\"}");
	expect(&f, "send 3 {\"type\":\"offer\",\"from\":\"b\",\"to\":\"a\",\"sdp\":\"x\"}", NULL);
	g_assert_cmpuint(hub_peer_count(&f.hub), ==, 2);

	struct hub_stats st;

	hub_get_stats(&f.hub, &st);
	g_assert_cmpuint(st.replaced, ==, 1);
	g_assert_cmpuint(st.conns, ==, 2);
	fx_clear(&f);
}

static void test_rejoin(void)
{
	struct fx f;

	fx_init(&f);
	join(&f, 1, "a");
	join(&f, 2, "b");
	/* same id again: refresh in place */
	in(&f, 1, "{\"type\":\"join\",\"peerId\":\"a\",\"publicKey\":\"KA9\",\"address\":\"10.0.0.9/24\"}");
	expect(&f, "joined 1 a KA9 10.0.0.9/24",
	       "send 1 {\"type\":\"peers\",\"peers\":[{\"peerId\":\"b\",\"publicKey\":\"Kb\"}]}",
	       "send 2 {\"type\":\"join\",\"peerId\":\"a\",\"publicKey\":\"KA9\",\"address\":\"10.0.0.9/24\"}",
	       NULL);
	/* another id on a joined connection: refused */
	in(&f, 1, "{\"type\":\"join\",\"peerId\":\"z\",\"publicKey\":\"K\"}");
	expect(&f, "send 1 {\"type\":\"error\",\"code\":\"already-joined\",\"message\":\"this connection already joined as: a\"}", NULL);
	g_assert_cmpuint(hub_peer_count(&f.hub), ==, 2);
	fx_clear(&f);
}

static void test_too_large(void)
{
	struct fx f;
	size_t n = HUB_FRAME_MAX + 1;
	g_autofree char *big = g_malloc(n);

	fx_init(&f);
	join(&f, 1, "a");
	join(&f, 2, "b");
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	hub_text(&f.hub, 2, big, n, f.now);
	expect(&f, "send 2 {\"type\":\"error\",\"code\":\"too-large\",\"message\":\"frame larger than 65536 bytes\"}",
	       "close 2 1009 frame larger than 65536 bytes",
	       "send 1 {\"type\":\"peer-left\",\"peerId\":\"b\"}", NULL);
	/* exactly the limit is fine */
	hub_text(&f.hub, 1, big, n - 1, f.now);
	expect(&f, "send 1 {\"type\":\"error\",\"code\":\"bad-json\",\"message\":\"frame is not a valid JSON object\"}", NULL);
	hub_close(&f.hub, 2);
	expect(&f, NULL);
	fx_clear(&f);
}

static void test_rate_limit(void)
{
	const char *frame = "{\"type\":\"offer\",\"to\":\"b\",\"sdp\":\"x\"}";
	const char *cand = "{\"type\":\"ice-candidate\",\"to\":\"b\",\"candidate\":\"c\"}";
	struct fx f;
	unsigned delivered = 0, errors = 0, closes = 0;

	fx_init(&f);
	join(&f, 1, "a");
	join(&f, 2, "b");
	/* a burst at one instant: HUB_RATE_BURST pass, then one error,
	 * then silence until the debt reaches HUB_RATE_CLOSE_DEBT and the hub closes */
	for (int i = 0; i < 1000; i++)
		hub_text(&f.hub, 1, frame, strlen(frame), f.now);
	for (guint i = 0; i < f.rec.lines->len; i++) {
		const char *l = f.rec.lines->pdata[i];

		if (g_str_has_prefix(l, "send 2 {\"type\":\"offer\""))
			delivered++;
		else if (g_str_has_prefix(l, "send 1 {\"type\":\"error\",\"code\":\"rate-limited\""))
			errors++;
		else if (g_str_has_prefix(l, "close 1 1008"))
			closes++;
	}
	g_assert_cmpuint(delivered, ==, HUB_RATE_BURST);	/* refilled to the cap since its join */
	g_assert_cmpuint(errors, ==, 2);	/* first drop + the closing one */
	g_assert_cmpuint(closes, ==, 1);
	g_ptr_array_set_size(f.rec.lines, 0);

	/* b paces itself at 40 frames/s for 20 s: never limited */
	for (int i = 0; i < 800; i++) {
		f.now += 25;
		hub_text(&f.hub, 2, cand, strlen(cand), f.now);
	}
	for (guint i = 0; i < f.rec.lines->len; i++)
		g_assert_true(g_str_has_prefix(f.rec.lines->pdata[i], "send 2 {\"type\":\"ice-candidate\""));
	g_assert_cmpuint(f.rec.lines->len, ==, 800);
	g_ptr_array_set_size(f.rec.lines, 0);

	/* a clock going backwards refills nothing but breaks nothing */
	f.now -= 100000;
	for (int i = 0; i < 10; i++)
		hub_text(&f.hub, 2, cand, strlen(cand), f.now);
	g_assert_cmpuint(f.rec.lines->len, ==, 10);
	fx_clear(&f);
}

static void test_restore(void)
{
	struct fx f;

	fx_init(&f);
	/* a fresh hub after hibernation: rebuild silently */
	g_assert_cmpint(hub_restore(&f.hub, 11, "a", "KA", "10.10.0.1/24"), ==, 0);
	g_assert_cmpint(hub_restore(&f.hub, 12, "b", "KB", NULL), ==, 0);
	g_assert_cmpint(hub_restore(&f.hub, 13, "a", "KX", ""), ==, -3);
	g_assert_cmpint(hub_restore(&f.hub, 13, "", "KX", ""), ==, -2);
	expect(&f, NULL);
	g_assert_cmpuint(hub_peer_count(&f.hub), ==, 2);
	/* and it behaves as if they had joined */
	in(&f, 12, "{\"type\":\"offer\",\"to\":\"a\",\"sdp\":\"x\",\"from\":\"evil\"}");
	expect(&f, "send 11 {\"type\":\"offer\",\"from\":\"b\",\"to\":\"a\",\"sdp\":\"x\"}", NULL);
	join(&f, 14, "c");
	hub_close(&f.hub, 11);
	expect(&f, "send 12 {\"type\":\"peer-left\",\"peerId\":\"a\"}",
	       "send 14 {\"type\":\"peer-left\",\"peerId\":\"a\"}", NULL);
	g_assert_cmpint(hub_open(&f.hub, 15), ==, 0);
	in(&f, 15, "{\"type\":\"join\",\"peerId\":\"d\",\"publicKey\":\"KD\"}");
	g_assert_cmpstr(f.rec.lines->pdata[1], ==,
			"send 15 {\"type\":\"peers\",\"peers\":[{\"peerId\":\"b\",\"publicKey\":\"KB\"},"
			"{\"peerId\":\"c\",\"publicKey\":\"Kc\"}]}");
	fx_clear(&f);
}

static void test_out_of_memory(void)
{
	struct fx f;

	fx_init(&f);
	f.rec.grow_budget = 0;
	g_assert_cmpint(hub_open(&f.hub, 1), ==, -1);
	f.rec.grow_budget = SIZE_MAX;
	g_assert_cmpint(hub_open(&f.hub, 1), ==, 0);
	fx_clear(&f);
}

/* Many connections: hash tables grow and shrink correctly, ids stay unique, memory is reused. */
static void test_many(void)
{
	enum { N = 3000 };
	struct fx f;
	char id[32], frame[128];

	fx_init(&f);
	hub_set_seed(&f.hub, 0x9e3779b9u);	/* lookups must agree with the seeded hash */
	f.rec.mute = true;
	for (uint64_t i = 0; i < N; i++) {
		uint64_t conn = i * 0x9e3779b97f4a7c15ULL;	/* spread ids */

		g_assert_cmpint(hub_open(&f.hub, conn), ==, 0);
		g_snprintf(frame, sizeof(frame),
			   "{\"type\":\"join\",\"peerId\":\"p%" G_GUINT64_FORMAT "\",\"publicKey\":\"K\"}", i);
		f.now += 1;
		hub_text(&f.hub, conn, frame, strlen(frame), f.now);
		g_ptr_array_set_size(f.rec.lines, 0);
	}
	g_assert_cmpuint(hub_peer_count(&f.hub), ==, N);
	/* close every odd one */
	for (uint64_t i = 1; i < N; i += 2)
		hub_close(&f.hub, i * 0x9e3779b97f4a7c15ULL);
	g_ptr_array_set_size(f.rec.lines, 0);
	g_assert_cmpuint(hub_peer_count(&f.hub), ==, N / 2);
	/* N peers reply + (N-1)N/2 join forwards + N/2 closes x their remaining audience */
	g_assert_cmpuint(f.rec.muted_sends, >, (size_t)N * (N - 1) / 2);
	f.rec.mute = false;
	/* every even one is still reachable by id, every odd one is gone */
	for (uint64_t i = 0; i < N; i++) {
		g_snprintf(id, sizeof(id), "p%" G_GUINT64_FORMAT, i);
		g_snprintf(frame, sizeof(frame), "{\"type\":\"offer\",\"to\":\"%s\",\"sdp\":\"x\"}", id);
		f.now += 30;
		hub_text(&f.hub, 0, frame, strlen(frame), f.now);
		g_assert_cmpuint(f.rec.lines->len, ==, 1);
		const char *l = f.rec.lines->pdata[0];

		if (i % 2)
			g_assert_true(strstr(l, "unknown-peer"));
		else
			g_assert_true(g_str_has_prefix(l, "send ") && strstr(l, "\"from\":\"p0\""));
		g_ptr_array_set_size(f.rec.lines, 0);
	}
	fx_clear(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hub/hub/join-peers", test_join_peers);
	g_test_add_func("/hub/hub/relay", test_relay);
	g_test_add_func("/hub/hub/rejects", test_rejects);
	g_test_add_func("/hub/hub/peer-left", test_peer_left);
	g_test_add_func("/hub/hub/replace", test_replace);
	g_test_add_func("/hub/hub/rejoin", test_rejoin);
	g_test_add_func("/hub/hub/too-large", test_too_large);
	g_test_add_func("/hub/hub/rate-limit", test_rate_limit);
	g_test_add_func("/hub/hub/restore", test_restore);
	g_test_add_func("/hub/hub/out-of-memory", test_out_of_memory);
	g_test_add_func("/hub/hub/many", test_many);
	return g_test_run();
}
