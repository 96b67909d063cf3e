/* src/hubd/server.c in this process on a free loopback port, driven by raw sockets (a minimal
 * masked-frame WebSocket client below), so each case can send exactly the bytes it needs. The
 * server runs on this thread's main context; reads poll it with deadlines, never fixed sleeps. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hubd/server.h"
#include "util/err.h"
#include "util/log.h"

enum { WAIT_MS = 5000 };

static const char token[] = "test-token";

struct fx {
	struct hubd_server *srv;
	uint16_t port;
};

static void fx_start(struct fx *f, const struct hubd_server_cfg *cfg_in)
{
	struct hubd_server_cfg cfg = { .addr = "127.0.0.1:0", .token = token };
	struct rg_err err = { 0 };

	if (cfg_in)
		cfg = *cfg_in;
	g_assert_cmpint(hubd_server_new(&f->srv, &cfg, &err), ==, 0);
	f->port = hubd_server_port(f->srv);
}

static void fx_stop(struct fx *f)
{
	hubd_server_free(f->srv);
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static int tcp_connect(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof(a)), ==, 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			g_main_context_iteration(NULL, FALSE);
			continue;
		}
		g_assert_cmpint(w, >, 0);
		b += w;
		n -= (size_t)w;
	}
}

/* Appends what fd has to buf, running the server meanwhile. Returns false at EOF/error. */
static bool pump(int fd, GByteArray *buf)
{
	uint8_t tmp[65536];
	ssize_t r;

	while (g_main_context_iteration(NULL, FALSE))
		;
	r = recv(fd, tmp, sizeof(tmp), 0);
	if (r > 0) {
		g_byte_array_append(buf, tmp, (guint)r);
		return true;
	}
	if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
		g_usleep(1000);
		return true;
	}
	return false;
}

/* Everything until the server closes the connection. */
static GByteArray *read_to_eof(int fd)
{
	GByteArray *b = g_byte_array_new();
	gint64 end = g_get_monotonic_time() + WAIT_MS * 1000;

	while (pump(fd, b))
		g_assert_cmpint(g_get_monotonic_time(), <, end);
	return b;
}

/* ---- a minimal WebSocket client ---- */

#define KEY(c) c "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

struct wsc {
	int fd;
	GByteArray *in;
	bool eof;
};

static const char upgrade_fmt[] = "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
				  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer test-token\r\n\r\n";

static void wsc_open(struct wsc *w, uint16_t port, const char *path)
{
	g_autofree char *req = g_strdup_printf(upgrade_fmt, path);
	gint64 end = g_get_monotonic_time() + WAIT_MS * 1000;
	const char *sep;

	w->fd = tcp_connect(port);
	w->in = g_byte_array_new();
	w->eof = false;
	send_all(w->fd, req, strlen(req));
	while (!w->in->len ||
	       !(sep = g_strstr_len((const char *)w->in->data, w->in->len, "\r\n\r\n"))) {
		g_assert_true(pump(w->fd, w->in));
		g_assert_cmpint(g_get_monotonic_time(), <, end);
	}
	g_assert_true(g_str_has_prefix((const char *)w->in->data, "HTTP/1.1 101 "));
	g_byte_array_remove_range(w->in, 0, (guint)(sep + 4 - (const char *)w->in->data));
}

static void wsc_close(struct wsc *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	g_byte_array_unref(w->in);
	w->in = NULL;
}

/* One masked client frame; b0 is the first header byte (FIN | opcode). */
static void wsc_frame(struct wsc *w, uint8_t b0, const void *p, size_t n)
{
	static const uint8_t mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	g_autoptr(GByteArray) f = g_byte_array_new();
	uint8_t h[14];
	size_t hl = 2;

	h[0] = b0;
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
	g_byte_array_append(f, h, (guint)(hl + 4));
	for (size_t i = 0; i < n; i++) {
		uint8_t c = ((const uint8_t *)p)[i] ^ mask[i & 3];

		g_byte_array_append(f, &c, 1);
	}
	send_all(w->fd, f->data, f->len);
}

static void wsc_text(struct wsc *w, const char *s)
{
	wsc_frame(w, 0x81, s, strlen(s));
}

/* Next server frame: its opcode, payload in *out (NUL-terminated). False at EOF or after
 * timeout_ms without a whole frame. */
static bool wsc_read(struct wsc *w, uint8_t *op, GByteArray **out, guint timeout_ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	for (;;) {
		if (w->in->len >= 2) {
			uint64_t n = w->in->data[1] & 0x7f;
			size_t hl = 2;

			g_assert_cmpuint(w->in->data[1] & 0x80, ==, 0);	/* server frames unmasked */
			if (n == 126 && w->in->len >= 4) {
				n = (uint64_t)w->in->data[2] << 8 | w->in->data[3];
				hl = 4;
			} else if (n == 127 && w->in->len >= 10) {
				n = 0;
				for (int i = 0; i < 8; i++)
					n = n << 8 | w->in->data[2 + i];
				hl = 10;
			}
			if ((n < 126 || hl > 2) && w->in->len >= hl + n) {
				*op = w->in->data[0] & 0x0f;
				*out = g_byte_array_new();
				g_byte_array_append(*out, w->in->data + hl, (guint)n);
				g_byte_array_append(*out, (const uint8_t *)"", 1);
				g_byte_array_set_size(*out, (guint)n);
				g_byte_array_remove_range(w->in, 0, (guint)(hl + n));
				return true;
			}
		}
		if (w->eof || g_get_monotonic_time() > end)
			return false;
		if (!pump(w->fd, w->in))
			w->eof = true;
	}
}

/* The next text frame's payload (frames of other opcodes are skipped); NULL on EOF/timeout. */
static char *wsc_next_text(struct wsc *w, guint timeout_ms)
{
	GByteArray *p;
	uint8_t op;

	while (wsc_read(w, &op, &p, timeout_ms)) {
		if (op == 0x1) {
			g_byte_array_append(p, (const uint8_t *)"", 1);
			return (char *)g_byte_array_free(p, FALSE);
		}
		g_byte_array_unref(p);
	}
	return NULL;
}

/* Waits for the server's close frame; returns its code (0 = EOF without one). */
static unsigned wsc_close_code(struct wsc *w, guint timeout_ms)
{
	GByteArray *p;
	uint8_t op;

	while (wsc_read(w, &op, &p, timeout_ms)) {
		unsigned code = p->len >= 2 ? (unsigned)(p->data[0] << 8 | p->data[1]) : 1005;

		g_byte_array_unref(p);
		if (op == 0x8)
			return code;
	}
	return 0;
}

static void wsc_join(struct wsc *w, const char *id, const char *key)
{
	g_autofree char *j = g_strdup_printf("{\"type\":\"join\",\"peerId\":\"%s\","
					     "\"publicKey\":\"%s\"}", id, key);
	g_autofree char *p = NULL;

	wsc_text(w, j);
	p = wsc_next_text(w, WAIT_MS);
	g_assert_nonnull(p);
	g_assert_true(g_str_has_prefix(p, "{\"type\":\"peers\""));
}

/* Runs the server until cond or timeout. */
G_GNUC_UNUSED static bool run_until(bool (*cond)(void *), void *data, guint timeout_ms)
{
	gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (!cond(data)) {
		if (g_get_monotonic_time() > end)
			return false;
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(1000);
	}
	return true;
}

/* The bad network name reply is exactly its text: its length used to be hand-counted one byte
 * too long, so the 400 went out with a trailing NUL (and Content-Length 46). */
static void test_bad_network_reply(void)
{
	static const char req[] = "GET /connect/bad!name HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
				  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer test-token\r\n\r\n";
	static const char body[] = "bad network name (1-64 of A-Z a-z 0-9 . _ -)\n";
	struct fx f;
	g_autoptr(GByteArray) r = NULL;
	const char *sep;
	int fd;

	fx_start(&f, NULL);
	fd = tcp_connect(f.port);
	send_all(fd, req, sizeof(req) - 1);
	r = read_to_eof(fd);
	close(fd);
	g_assert_cmpuint(r->len, >, sizeof(body));
	g_assert_null(memchr(r->data, '\0', r->len));
	g_assert_true(g_str_has_prefix((const char *)r->data, "HTTP/1.1 400 Bad Request\r\n"));
	sep = g_strstr_len((const char *)r->data, r->len, "\r\n\r\n");
	g_assert_nonnull(sep);
	g_assert_cmpmem(sep + 4, r->len - (size_t)(sep + 4 - (const char *)r->data), body,
			sizeof(body) - 1);
	g_assert_nonnull(g_strstr_len((const char *)r->data, r->len, "Content-Length: 45\r\n"));
	fx_stop(&f);
}

/* An empty text message after a valid upgrade, whole or as empty fragments: the hub answers
 * bad-json. The fragmented form used to hand the hub (NULL, 0), and its JSON reader computed
 * NULL + 0 (UBSan: "applying zero offset to null pointer", found by fuzz-hub_server). */
static void test_empty_message(void)
{
	struct fx f;
	struct wsc w;
	g_autofree char *e1 = NULL, *e2 = NULL;

	fx_start(&f, NULL);
	wsc_open(&w, f.port, "/connect");
	wsc_frame(&w, 0x81, "", 0);
	e1 = wsc_next_text(&w, WAIT_MS);
	g_assert_cmpstr(e1, ==, "{\"type\":\"error\",\"code\":\"bad-json\","
			"\"message\":\"frame is not a valid JSON object\"}");
	wsc_frame(&w, 0x01, "", 0);
	wsc_frame(&w, 0x80, "", 0);
	e2 = wsc_next_text(&w, WAIT_MS);
	g_assert_cmpstr(e2, ==, e1);
	wsc_join(&w, "a", KEY("A"));
	wsc_close(&w);
	fx_stop(&f);
}

/* A second socket claiming a live peerId with another key is refused with close 4001; the
 * first keeps the id (issue 15 item 0). */
static void test_id_in_use(void)
{
	struct fx f;
	struct wsc a, b, x;
	g_autofree char *err = NULL, *offer = NULL;

	fx_start(&f, NULL);
	wsc_open(&a, f.port, "/connect");
	wsc_join(&a, "alice", KEY("A"));
	wsc_open(&b, f.port, "/connect");
	wsc_join(&b, "bob", KEY("B"));
	g_free(wsc_next_text(&a, WAIT_MS));	/* join of bob */
	wsc_open(&x, f.port, "/connect");
	wsc_text(&x, "{\"type\":\"join\",\"peerId\":\"alice\",\"publicKey\":\"" KEY("X") "\"}");
	err = wsc_next_text(&x, WAIT_MS);
	g_assert_nonnull(strstr(err, "\"code\":\"id-in-use\""));
	g_assert_cmpuint(wsc_close_code(&x, WAIT_MS), ==, 4001);
	wsc_text(&b, "{\"type\":\"offer\",\"to\":\"alice\",\"sdp\":\"v=0\"}");
	offer = wsc_next_text(&a, WAIT_MS);
	g_assert_cmpstr(offer, ==, "{\"type\":\"offer\",\"from\":\"bob\",\"to\":\"alice\",\"sdp\":\"v=0\"}");
	wsc_close(&x);
	wsc_close(&b);
	wsc_close(&a);
	fx_stop(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	rg_log_set_level(RG_LOG_ERROR);
	g_test_add_func("/hubd/server/bad-network-reply", test_bad_network_reply);
	g_test_add_func("/hubd/server/empty-message", test_empty_message);
	g_test_add_func("/hubd/server/id-in-use", test_id_in_use);
	return g_test_run();
}
