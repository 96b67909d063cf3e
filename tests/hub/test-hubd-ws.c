/* src/hubd/ws.c: server frame headers and the client frame reader (RFC 6455 §5). */
#include <glib.h>
#include <string.h>

#include "hubd/ws.h"

/* Appends one masked client frame. */
static void frame(GByteArray *b, bool fin, uint8_t op, const void *p, size_t n)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	uint8_t h[14];
	size_t hl = 2;

	h[0] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (n < 126) {
		h[1] = (uint8_t)(0x80 | n);
	} else if (n <= 0xffff) {
		h[1] = 0x80 | 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	memcpy(h + hl, mask, 4);
	g_byte_array_append(b, h, (guint)(hl + 4));
	for (size_t i = 0; i < n; i++) {
		uint8_t c = ((const uint8_t *)p)[i] ^ mask[i & 3];

		g_byte_array_append(b, &c, 1);
	}
}

static void test_header(void)
{
	static const struct { size_t len; size_t hl; uint8_t b1; } cases[] = {
		/* 1 */ { 0, 2, 0 }, /* 2 */ { 125, 2, 125 }, /* 3 */ { 126, 4, 126 },
		/* 4 */ { 65535, 4, 126 }, /* 5 */ { 65536, 10, 127 },
	};
	uint8_t h[HUBD_WS_SERVER_HEADER_MAX];

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_assert_cmpuint(hubd_ws_header(h, HUBD_WS_OP_TEXT, cases[i].len), ==, cases[i].hl);
		g_assert_cmpuint(h[0], ==, 0x81);
		g_assert_cmpuint(h[1], ==, cases[i].b1);
	}
	hubd_ws_header(h, HUBD_WS_OP_TEXT, 65536);
	g_assert_cmpuint(h[7], ==, 1);
	g_assert_cmpuint(h[8], ==, 0);
}

static void test_close_payload(void)
{
	uint8_t p[2 + HUBD_WS_CLOSE_REASON_MAX];
	char long_reason[300];

	g_assert_cmpuint(hubd_ws_close_payload(p, 1001, "bye"), ==, 5);
	g_assert_cmpuint(p[0] << 8 | p[1], ==, 1001);
	g_assert_cmpmem(p + 2, 3, "bye", 3);
	memset(long_reason, 'x', sizeof(long_reason) - 1);
	long_reason[sizeof(long_reason) - 1] = '\0';
	g_assert_cmpuint(hubd_ws_close_payload(p, 1000, long_reason), ==, 125);
	g_assert_cmpuint(hubd_ws_close_payload(p, 1000, NULL), ==, 2);
}

/* Reads every event from b. */
static GPtrArray *read_events(struct hubd_ws_reader *r, GByteArray *b)
{
	GPtrArray *evs = g_ptr_array_new_with_free_func(g_free);
	struct hubd_ws_event ev;
	size_t off = 0, used;

	while (off < b->len && (used = hubd_ws_read(r, b->data + off, b->len - off, &ev))) {
		off += used;
		if (ev.kind == HUBD_WS_EV_NONE)
			continue;
		g_ptr_array_add(evs, g_strdup_printf("%d:%u:%u:%.*s:%s", ev.kind, ev.opcode,
						     ev.close_code, (int)ev.len,
						     ev.data ? (const char *)ev.data : "",
						     ev.reason ? ev.reason : ""));
		if (ev.kind == HUBD_WS_EV_ERROR)
			break;
	}
	return evs;
}

static void test_reader(void)
{
	static const uint8_t close_1001[] = { 0x03, 0xe9 };
	struct hubd_ws_reader r;
	g_autoptr(GByteArray) b = g_byte_array_new();
	g_autoptr(GPtrArray) evs = NULL;

	hubd_ws_reader_init(&r, 100);
	frame(b, true, HUBD_WS_OP_TEXT, "hello", 5);
	frame(b, false, HUBD_WS_OP_TEXT, "ab", 2);
	frame(b, true, HUBD_WS_OP_PING, "p", 1);	/* control frames may interleave */
	frame(b, false, HUBD_WS_OP_CONT, "cd", 2);
	frame(b, true, HUBD_WS_OP_CONT, "ef", 2);
	frame(b, true, HUBD_WS_OP_PONG, "", 0);
	frame(b, true, HUBD_WS_OP_CLOSE, close_1001, 2);
	frame(b, true, HUBD_WS_OP_CLOSE, "", 0);
	evs = read_events(&r, b);
	g_assert_cmpuint(evs->len, ==, 6);
	g_assert_cmpstr(evs->pdata[0], ==, "1:1:0:hello:");
	g_assert_cmpstr(evs->pdata[1], ==, "3:0:0:p:");
	g_assert_cmpstr(evs->pdata[2], ==, "1:1:0:abcdef:");
	g_assert_cmpstr(evs->pdata[3], ==, "4:0:0::");
	g_assert_cmpstr(evs->pdata[4], ==, "2:0:1001:\003\351:");
	g_assert_cmpstr(evs->pdata[5], ==, "2:0:1005::");
	hubd_ws_reader_clear(&r);
}

/* Incomplete frames consume nothing: every prefix of a frame reads as "not yet". */
static void test_partial(void)
{
	struct hubd_ws_reader r;
	g_autoptr(GByteArray) b = g_byte_array_new();
	struct hubd_ws_event ev;
	char big[300];

	memset(big, 'x', sizeof(big));
	hubd_ws_reader_init(&r, 1000);
	frame(b, true, HUBD_WS_OP_TEXT, big, sizeof(big));
	for (size_t n = 0; n < b->len; n++)
		g_assert_cmpuint(hubd_ws_read(&r, b->data, n, &ev), ==, 0);
	g_assert_cmpuint(hubd_ws_read(&r, b->data, b->len, &ev), ==, b->len);
	g_assert_cmpint(ev.kind, ==, HUBD_WS_EV_MESSAGE);
	g_assert_cmpuint(ev.len, ==, sizeof(big));
	hubd_ws_reader_clear(&r);
}

static void test_errors(void)
{
	static const struct { const char *what; uint8_t b0, b1; uint16_t code; } cases[] = {
		/* 1 */ { "rsv", 0xc1, 0x80, 1002 },
		/* 2 */ { "unmasked", 0x81, 0x00, 1002 },
		/* 3 */ { "opcode 3", 0x83, 0x80, 1002 },
		/* 4 */ { "continuation first", 0x80, 0x80, 1002 },
		/* 5 */ { "too big", 0x81, 0x80 | 126, 1009 },
		/* RFC 6455 §5.5 (issue 15 item 9): control frames final and at most 125 bytes */
		/* 6 */ { "fragmented ping", 0x09, 0x80, 1002 },
		/* 7 */ { "ping of 65535 bytes", 0x89, 0x80 | 126, 1002 },
		/* 8 */ { "ping of 126 bytes", 0x89, 0x80 | 126, 1002 },
		/* 9 */ { "fragmented close", 0x08, 0x80, 1002 },
		/* 10 */ { "pong of 65535 bytes", 0x8a, 0x80 | 126, 1002 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct hubd_ws_reader r;
		uint8_t b[16] = { cases[i].b0, cases[i].b1, 0xff, 0xff };

		if (i == 7)
			b[2] = 0, b[3] = 126;
		struct hubd_ws_event ev;

		hubd_ws_reader_init(&r, 1000);
		g_assert_cmpuint(hubd_ws_read(&r, b, sizeof(b), &ev), ==, sizeof(b));
		g_assert_cmpint(ev.kind, ==, HUBD_WS_EV_ERROR);
		g_assert_cmpuint(ev.close_code, ==, cases[i].code);
		hubd_ws_reader_clear(&r);
	}
	/* a new message while a fragmented one is open; fragments summing over the cap */
	{
		struct hubd_ws_reader r;
		g_autoptr(GByteArray) b = g_byte_array_new();
		g_autoptr(GPtrArray) evs = NULL;
		char part[60] = { 0 };

		hubd_ws_reader_init(&r, 100);
		frame(b, false, HUBD_WS_OP_TEXT, "a", 1);
		frame(b, true, HUBD_WS_OP_TEXT, "b", 1);
		evs = read_events(&r, b);
		g_assert_cmpstr(evs->pdata[0], ==, "5:0:1002::expected continuation");
		hubd_ws_reader_clear(&r);
		g_byte_array_set_size(b, 0);
		g_ptr_array_unref(g_steal_pointer(&evs));
		frame(b, false, HUBD_WS_OP_TEXT, part, sizeof(part));
		frame(b, true, HUBD_WS_OP_CONT, part, sizeof(part));
		evs = read_events(&r, b);
		g_assert_cmpuint(evs->len, ==, 1);
		g_assert_true(g_str_has_prefix(evs->pdata[0], "5:0:1009:"));
		hubd_ws_reader_clear(&r);
	}
}

/* Close codes that must never be on the wire (1005, 1006, 1015), reserved or unassigned ones,
 * and a 1-byte close payload are protocol errors: the server answers 1002 instead of echoing
 * them (issue 15 item 9). */
static void test_close_codes(void)
{
	static const struct { uint16_t code; bool ok; } cases[] = {
		/* 1 */ { 1000, true }, /* 2 */ { 1001, true }, /* 3 */ { 1003, true },
		/* 4 */ { 1004, false }, /* 5 */ { 1005, false }, /* 6 */ { 1006, false },
		/* 7 */ { 1007, true }, /* 8 */ { 1014, true }, /* 9 */ { 1015, false },
		/* 10 */ { 1016, false }, /* 11 */ { 2999, false }, /* 12 */ { 3000, true },
		/* 13 */ { 4999, true }, /* 14 */ { 5000, false }, /* 15 */ { 999, false },
		/* 16 */ { 0, false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct hubd_ws_reader r;
		g_autoptr(GByteArray) b = g_byte_array_new();
		g_autoptr(GPtrArray) evs = NULL;
		uint8_t p[2] = { (uint8_t)(cases[i].code >> 8), (uint8_t)cases[i].code };

		g_assert_cmpint(hubd_ws_close_code_valid(cases[i].code), ==, cases[i].ok);
		hubd_ws_reader_init(&r, 100);
		frame(b, true, HUBD_WS_OP_CLOSE, p, 2);
		evs = read_events(&r, b);
		g_assert_cmpuint(evs->len, ==, 1);
		g_assert_true(g_str_has_prefix(evs->pdata[0], cases[i].ok ? "2:" : "5:0:1002:"));
		hubd_ws_reader_clear(&r);
	}
	{
		struct hubd_ws_reader r;
		g_autoptr(GByteArray) b = g_byte_array_new();
		g_autoptr(GPtrArray) evs = NULL;

		hubd_ws_reader_init(&r, 100);
		frame(b, true, HUBD_WS_OP_CLOSE, "x", 1);
		evs = read_events(&r, b);
		g_assert_cmpstr(evs->pdata[0], ==, "5:0:1002::bad close code");
		hubd_ws_reader_clear(&r);
	}
	{
		struct hubd_ws_reader r;
		g_autoptr(GByteArray) b = g_byte_array_new();
		g_autoptr(GPtrArray) evs = NULL;
		char ping[126];

		memset(ping, 'p', sizeof(ping));
		hubd_ws_reader_init(&r, 1000);
		frame(b, true, HUBD_WS_OP_PING, ping, 125);	/* the limit itself is fine */
		frame(b, true, HUBD_WS_OP_PING, ping, 126);
		evs = read_events(&r, b);
		g_assert_cmpuint(evs->len, ==, 2);
		g_assert_true(g_str_has_prefix(evs->pdata[0], "3:"));
		g_assert_cmpstr(evs->pdata[1], ==, "5:0:1002::bad control frame");
		hubd_ws_reader_clear(&r);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hubd/ws/header", test_header);
	g_test_add_func("/hubd/ws/close-payload", test_close_payload);
	g_test_add_func("/hubd/ws/reader", test_reader);
	g_test_add_func("/hubd/ws/partial", test_partial);
	g_test_add_func("/hubd/ws/errors", test_errors);
	g_test_add_func("/hubd/ws/close-codes", test_close_codes);
	return g_test_run();
}
