/* The DTLS layer on its own (dtls.h): two struct rtc_dtls wired back to back through their ops
 * (no ICE, no SCTP, no peer). The handshake, records both ways, close_notify, and a fingerprint
 * that does not match, all seen through what the layer reports. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "rtc/dtls.h"

struct side {
	struct rtc_dtls *d;
	GPtrArray *out;		/* GBytes: datagrams sent, not yet delivered */
	bool flush_due;
	unsigned ups, closed;
	const char *failed;
	GByteArray *last;	/* last record received */
	unsigned records;
};

static void on_send(void *opaque, NiceOutputMessage *msgs, unsigned n)
{
	struct side *s = opaque;

	for (unsigned i = 0; i < n; i++) {
		g_assert_cmpuint(msgs[i].n_buffers, ==, 1);
		g_ptr_array_add(s->out, g_bytes_new(msgs[i].buffers[0].buffer,
						    msgs[i].buffers[0].size));
	}
}

static void on_flush_soon(void *opaque)
{
	((struct side *)opaque)->flush_due = true;
}

static bool on_up(void *opaque)
{
	((struct side *)opaque)->ups++;
	return true;
}

static bool on_record(void *opaque, uint8_t *buf, size_t len)
{
	struct side *s = opaque;

	g_byte_array_set_size(s->last, 0);
	g_byte_array_append(s->last, buf, (guint)len);
	s->records++;
	return true;
}

static void on_closed(void *opaque)
{
	((struct side *)opaque)->closed++;
}

static void on_failed(void *opaque, const char *why)
{
	((struct side *)opaque)->failed = why;
}

static const struct rtc_dtls_ops ops = {
	.send = on_send, .flush_soon = on_flush_soon, .up = on_up, .record = on_record,
	.closed = on_closed, .failed = on_failed,
};

static void side_init(struct side *s, GMainContext *ctx, const char *name)
{
	uint8_t fp[RTC_FP_LEN];

	memset(s, 0, sizeof(*s));
	s->d = g_new0(struct rtc_dtls, 1);
	s->out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	s->last = g_byte_array_new();
	rtc_dtls_init(s->d, ctx, name, &ops, s);
	rtc_dtls_local_fingerprint(fp);	/* one certificate per process: both ends share it */
	rtc_dtls_set_remote_fp(s->d, fp);
}

static void side_clear(struct side *s)
{
	rtc_dtls_clear(s->d);
	g_free(s->d);
	g_ptr_array_free(s->out, TRUE);
	g_byte_array_free(s->last, TRUE);
}

/* Hands what from sent to to, datagram by datagram; true when any went. */
static bool deliver(struct side *from, struct side *to)
{
	bool any = from->out->len > 0;

	if (from->flush_due) {
		from->flush_due = false;
		rtc_dtls_flush(from->d);
		any = any || from->out->len > 0;
	}
	while (from->out->len) {
		GBytes *b = g_ptr_array_steal_index(from->out, 0);
		gsize n;
		const uint8_t *p = g_bytes_get_data(b, &n);

		rtc_dtls_input(to->d, p, n);
		g_bytes_unref(b);
	}
	return any;
}

static void pump(struct side *a, struct side *b)
{
	for (int i = 0; i < 20; i++)
		if (!deliver(a, b) && !deliver(b, a))
			return;
	g_assert_not_reached();
}

static void connect_pair(struct side *a, struct side *b)
{
	g_assert_cmpint(rtc_dtls_start(a->d, true, 1200), ==, 0);
	g_assert_cmpint(rtc_dtls_start(b->d, false, 1200), ==, 0);
	/* Nothing goes out before ICE says it can. */
	rtc_dtls_kick(a->d);
	g_assert_cmpuint(a->out->len, ==, 0);
	rtc_dtls_transport_up(a->d);
	rtc_dtls_transport_up(b->d);
	g_assert_cmpuint(a->out->len, >, 0);	/* the queued ClientHello */
	pump(a, b);
}

static void test_handshake_records_close(void)
{
	GMainContext *ctx = g_main_context_new();
	struct side a, b;
	static const char msg[] = "one SCTP packet";

	g_assert_cmpint(rtc_dtls_global_ref(NULL), ==, 0);
	side_init(&a, ctx, "a");
	side_init(&b, ctx, "b");
	connect_pair(&a, &b);
	g_assert_cmpuint(a.ups, ==, 1);
	g_assert_cmpuint(b.ups, ==, 1);
	g_assert_true(rtc_dtls_up(a.d) && rtc_dtls_up(b.d));
	g_assert_true(rtc_dtls_is_client(a.d));
	g_assert_false(rtc_dtls_is_client(b.d));
	g_assert_null(a.failed);
	g_assert_null(b.failed);

	/* A record each way: queued until a flush, one datagram, handed up whole. */
	g_assert_cmpint(rtc_dtls_write(a.d, msg, sizeof(msg)), ==, 0);
	g_assert_true(a.flush_due);
	g_assert_cmpuint(rtc_dtls_pending(a.d), >, sizeof(msg));
	pump(&a, &b);
	g_assert_cmpuint(b.records, ==, 1);
	g_assert_cmpmem(b.last->data, b.last->len, msg, sizeof(msg));
	g_assert_cmpint(rtc_dtls_write(b.d, "x", 1), ==, 0);
	pump(&a, &b);
	g_assert_cmpuint(a.records, ==, 1);
	g_assert_cmpmem(a.last->data, a.last->len, "x", 1);

	/* close_notify */
	rtc_dtls_shutdown(a.d);
	pump(&a, &b);
	g_assert_cmpuint(b.closed, ==, 1);
	g_assert_null(b.failed);

	side_clear(&a);
	side_clear(&b);
	rtc_dtls_global_unref();
	g_main_context_unref(ctx);
}

static void test_fingerprint_mismatch(void)
{
	GMainContext *ctx = g_main_context_new();
	uint8_t wrong[RTC_FP_LEN];
	struct side a, b;

	g_assert_cmpint(rtc_dtls_global_ref(NULL), ==, 0);
	side_init(&a, ctx, "a");
	side_init(&b, ctx, "b");
	rtc_dtls_local_fingerprint(wrong);
	wrong[0] ^= 1;
	rtc_dtls_set_remote_fp(a.d, wrong);
	connect_pair(&a, &b);
	g_assert_cmpstr(a.failed, ==, "DTLS fingerprint mismatch");
	g_assert_cmpuint(a.ups, ==, 0);
	g_assert_false(rtc_dtls_up(a.d));
	g_assert_cmpint(rtc_dtls_write(a.d, "x", 1), ==, -ENOTCONN);
	side_clear(&a);
	side_clear(&b);
	rtc_dtls_global_unref();
	g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rtc/dtls/handshake-records-close", test_handshake_records_close);
	g_test_add_func("/rtc/dtls/fingerprint-mismatch", test_fingerprint_mismatch);
	return g_test_run();
}
