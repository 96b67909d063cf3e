/* src/hubd/server.c in this process on a free loopback port, driven by raw sockets (a minimal
 * masked-frame WebSocket client below), so each case can send exactly the bytes it needs. The
 * server runs on this thread's main context; reads poll it with deadlines, never fixed sleeps. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hubd/limits.h"
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
static bool run_until(bool (*cond)(void *), void *data, guint timeout_ms)
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

/* ---- limits (issue 15 item 3): each at its limit and one past it ---- */

static struct hubd_server_cfg cfg_with(struct hubd_limits *l)
{
	return (struct hubd_server_cfg){ .addr = "127.0.0.1:0", .token = token, .limits = l };
}

/* One plain GET; the whole reply (the server closes after it), or "" when it closed first. */
static char *http_get(uint16_t port, const char *path)
{
	g_autofree char *req = g_strdup_printf("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	g_autoptr(GByteArray) r = NULL;
	int fd = tcp_connect(port);

	send(fd, req, strlen(req), MSG_NOSIGNAL);
	r = read_to_eof(fd);
	close(fd);
	return g_strndup((const char *)r->data, r->len);
}

static guint64 metric(uint16_t port, const char *name)
{
	g_autofree char *r = http_get(port, "/metrics");
	g_autofree char *needle = g_strdup_printf("\nriftgate_hub_%s ", name);
	const char *p = strstr(r, needle);

	g_assert_nonnull(p);
	return g_ascii_strtoull(p + strlen(needle), NULL, 10);
}

/* A connection the server closed without a word (refused at accept). */
static bool closed_at_once(int fd)
{
	g_autoptr(GByteArray) b = read_to_eof(fd);

	return b->len == 0;
}

struct open_wait {
	struct hubd_server *srv;
	int want;
};

static bool ws_open_count_is(void *p)
{
	struct open_wait *w = p;

	return hubd_server_open_count(w->srv) == w->want;
}

static void test_max_conns(void)
{
	struct hubd_limits l;
	struct hubd_server_cfg cfg;
	struct wsc w[3];
	struct fx f;
	int extra;

	hubd_limits_default(&l);
	l.max_conns = 3;
	cfg = cfg_with(&l);
	fx_start(&f, &cfg);
	for (int i = 0; i < 3; i++)	/* at the limit: all three served */
		wsc_open(&w[i], f.port, "/connect");
	extra = tcp_connect(f.port);
	g_assert_true(closed_at_once(extra));
	close(extra);
	wsc_close(&w[0]);
	struct open_wait ow = { f.srv, 2 };

	g_assert_true(run_until(ws_open_count_is, &ow, WAIT_MS));
	g_assert_cmpuint(metric(f.port, "refused_max_conns_total"), ==, 1);	/* room again */
	wsc_close(&w[1]);
	wsc_close(&w[2]);
	fx_stop(&f);
}

static void test_max_conns_per_ip(void)
{
	struct hubd_limits l;
	struct hubd_server_cfg cfg;
	struct wsc w[2];
	struct fx f;
	int extra;

	hubd_limits_default(&l);
	l.max_conns_per_ip = 2;
	l.per_ip_loopback = true;	/* the test's clients are all 127.0.0.1 */
	cfg = cfg_with(&l);
	fx_start(&f, &cfg);
	wsc_open(&w[0], f.port, "/connect");
	wsc_open(&w[1], f.port, "/connect");
	extra = tcp_connect(f.port);
	g_assert_true(closed_at_once(extra));
	close(extra);
	wsc_close(&w[0]);
	struct open_wait ow = { f.srv, 1 };

	g_assert_true(run_until(ws_open_count_is, &ow, WAIT_MS));
	wsc_open(&w[0], f.port, "/connect");	/* its slot is free again */
	wsc_close(&w[0]);
	wsc_close(&w[1]);
	/* loopback is exempt by default (a reverse proxy on the same host) */
	fx_stop(&f);
	l.per_ip_loopback = false;
	fx_start(&f, &cfg);
	for (int i = 0; i < 2; i++)
		wsc_open(&w[i], f.port, "/connect");
	struct wsc third;

	wsc_open(&third, f.port, "/connect");
	wsc_close(&third);
	wsc_close(&w[0]);
	wsc_close(&w[1]);
	fx_stop(&f);
}

static void test_join_timeout(void)
{
	struct hubd_limits l;
	struct hubd_server_cfg cfg;
	struct wsc idle, joiner;
	struct fx f;
	gint64 t0;

	hubd_limits_default(&l);
	l.join_timeout_ms = 300;
	cfg = cfg_with(&l);
	fx_start(&f, &cfg);
	t0 = g_get_monotonic_time();
	wsc_open(&idle, f.port, "/connect");
	wsc_open(&joiner, f.port, "/connect");
	wsc_join(&joiner, "a", KEY("A"));
	g_assert_cmpuint(wsc_close_code(&idle, WAIT_MS), ==, 1008);
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 300 * 1000);
	/* the one that joined in time stays */
	g_usleep(400 * 1000);
	wsc_text(&joiner, "{\"type\":\"offer\",\"to\":\"a\",\"sdp\":\"x\"}");	/* to itself */
	g_free(wsc_next_text(&joiner, WAIT_MS));
	g_assert_false(joiner.eof);
	g_assert_cmpuint(metric(f.port, "join_timeouts_total"), ==, 1);
	wsc_close(&idle);
	wsc_close(&joiner);
	fx_stop(&f);
}

/* bob never reads; alice sends him offers of about 60 KiB until his queue passes the cap:
 * bob is closed, alice hears peer-left and keeps working. */
static void slow_reader(struct hubd_limits *l, const char *counter)
{
	struct hubd_server_cfg cfg = cfg_with(l);
	struct wsc a, b;
	struct fx f;
	GString *offer = g_string_new("{\"type\":\"offer\",\"to\":\"bob\",\"sdp\":\"");
	int small = 4096;
	bool left = false;

	fx_start(&f, &cfg);
	wsc_open(&a, f.port, "/connect");
	wsc_join(&a, "alice", KEY("A"));
	b.fd = -1;
	wsc_open(&b, f.port, "/connect");
	setsockopt(b.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	wsc_join(&b, "bob", KEY("B"));
	g_free(wsc_next_text(&a, WAIT_MS));	/* join of bob */
	while (offer->len < 60 * 1024)
		g_string_append(offer, "xxxxxxxxxxxxxxxx");
	g_string_append(offer, "\"}");
	for (int i = 0; i < 150 && !left; i++) {
		char *m;

		wsc_text(&a, offer->str);
		while ((m = wsc_next_text(&a, 5))) {
			left |= strstr(m, "\"peer-left\"") != NULL;
			g_free(m);
		}
	}
	for (int i = 0; i < 200 && !left; i++) {
		char *m = wsc_next_text(&a, 50);

		left |= m && strstr(m, "\"peer-left\"");
		g_free(m);
	}
	g_assert_true(left);
	g_assert_cmpuint(metric(f.port, counter), ==, 1);
	g_assert_cmpuint(metric(f.port, "output_queued_bytes"), <=, l->max_queue);
	g_string_free(offer, TRUE);
	wsc_close(&a);
	wsc_close(&b);
	fx_stop(&f);
}

static void test_max_queue(void)
{
	struct hubd_limits l;

	hubd_limits_default(&l);
	l.max_queue = 256 * 1024;
	slow_reader(&l, "slow_reader_drops_total");
}

static void test_max_queue_total(void)
{
	struct hubd_limits l;

	hubd_limits_default(&l);
	l.max_queue_total = 256 * 1024;
	slow_reader(&l, "output_budget_drops_total");
}

/* Out of descriptors: the listener rests (no spin, no log flood) and serves the waiting
 * connections once descriptors are back (issue 15 item 3: 1.19 M log lines in 2.5 s before). */
static void test_emfile(void)
{
	enum { N = 30 };
	struct fx f;
	struct rlimit old, low;
	struct rusage r0, r1;
	int fds[N], probe;
	unsigned wakeups = 0;
	double cpu;

	fx_start(&f, NULL);
	for (int i = 0; i < N; i++)
		fds[i] = tcp_connect(f.port);	/* queued in the backlog: nobody accepted yet */
	probe = dup(0);
	close(probe);
	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &old), ==, 0);
	low = old;
	low.rlim_cur = (rlim_t)probe + 3;	/* room for 3 accepts, then EMFILE */
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
	getrusage(RUSAGE_SELF, &r0);
	/* blocking iterations: a listener left in epoll while accept fails would wake every one */
	for (gint64 end = g_get_monotonic_time() + 1000 * 1000; g_get_monotonic_time() < end;) {
		g_main_context_iteration(NULL, TRUE);
		wakeups++;
	}
	getrusage(RUSAGE_SELF, &r1);
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &old), ==, 0);
	cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
		       r0.ru_stime.tv_sec) + (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec +
		       r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
	g_test_message("EMFILE for 1 s: %.3f s CPU, %u main loop wakeups", cpu, wakeups);
	g_assert_cmpuint(wakeups, <, 100);	/* a pause per 100 ms, the sweep per 250 ms */
	g_assert_cmpfloat(cpu, <, 0.5);
	/* every waiting connection is served once descriptors are back */
	for (int i = 0; i < N; i++) {
		g_autoptr(GByteArray) r = NULL;

		send_all(fds[i], "GET /healthz HTTP/1.1\r\n\r\n", 25);
		r = read_to_eof(fds[i]);
		g_assert_true(r->len > 12 && !memcmp(r->data, "HTTP/1.1 200", 12));
		close(fds[i]);
	}
	g_assert_cmpuint(metric(f.port, "accept_pauses_total"), >=, 1);
	g_assert_cmpuint(metric(f.port, "accept_pauses_total"), <=, 15);
	fx_stop(&f);
}

/* ---- WebSocket details (issue 15 item 9) ---- */

static void test_close_codes(void)
{
	static const uint8_t c1006[] = { 0x03, 0xee }, c1015[] = { 0x03, 0xf7 },
			     c4321[] = { 0x10, 0xe1 };
	struct fx f;
	struct wsc w;
	char ping[126];

	memset(ping, 'p', sizeof(ping));
	fx_start(&f, NULL);
	/* 1006/1015 must never be on the wire: answered 1002, not echoed */
	wsc_open(&w, f.port, "/connect");
	wsc_frame(&w, 0x88, c1006, 2);
	g_assert_cmpuint(wsc_close_code(&w, WAIT_MS), ==, 1002);
	wsc_close(&w);
	wsc_open(&w, f.port, "/connect");
	wsc_frame(&w, 0x88, c1015, 2);
	g_assert_cmpuint(wsc_close_code(&w, WAIT_MS), ==, 1002);
	wsc_close(&w);
	/* a valid application code is echoed; none at all is answered 1000 */
	wsc_open(&w, f.port, "/connect");
	wsc_frame(&w, 0x88, c4321, 2);
	g_assert_cmpuint(wsc_close_code(&w, WAIT_MS), ==, 4321);
	wsc_close(&w);
	wsc_open(&w, f.port, "/connect");
	wsc_frame(&w, 0x88, "", 0);
	g_assert_cmpuint(wsc_close_code(&w, WAIT_MS), ==, 1000);
	wsc_close(&w);
	/* pings: 125 bytes answered, 126 or fragmented refused (RFC 6455 §5.5) */
	wsc_open(&w, f.port, "/connect");
	wsc_frame(&w, 0x89, ping, 125);
	{
		GByteArray *p;
		uint8_t op;

		g_assert_true(wsc_read(&w, &op, &p, WAIT_MS));
		g_assert_cmpuint(op, ==, 0xa);
		g_assert_cmpuint(p->len, ==, 125);
		g_byte_array_unref(p);
	}
	wsc_frame(&w, 0x89, ping, 126);
	g_assert_cmpuint(wsc_close_code(&w, WAIT_MS), ==, 1002);
	wsc_close(&w);
	wsc_open(&w, f.port, "/connect");
	wsc_frame(&w, 0x09, "a", 1);
	g_assert_cmpuint(wsc_close_code(&w, WAIT_MS), ==, 1002);
	wsc_close(&w);
	fx_stop(&f);
}

static void test_metrics_addr(void)
{
	struct hubd_server_cfg cfg = { .addr = "127.0.0.1:0", .token = token,
				       .metrics_addr = "127.0.0.1:0" };
	struct fx f;
	uint16_t mport;
	g_autofree char *main_metrics = NULL, *m = NULL;
	g_autofree char *req = g_strdup_printf(upgrade_fmt, "/connect");
	g_autoptr(GByteArray) r = NULL;
	int fd;

	fx_start(&f, &cfg);
	mport = hubd_server_metrics_port(f.srv);
	g_assert_cmpuint(mport, !=, 0);
	g_assert_cmpuint(mport, !=, f.port);
	main_metrics = http_get(f.port, "/metrics");
	g_assert_true(g_str_has_prefix(main_metrics, "HTTP/1.1 404 "));
	m = http_get(mport, "/metrics");
	g_assert_true(g_str_has_prefix(m, "HTTP/1.1 200 "));
	g_assert_nonnull(strstr(m, "\nriftgate_hub_peers 0\n"));
	/* no WebSocket on the metrics listener */
	fd = tcp_connect(mport);
	send_all(fd, req, strlen(req));
	r = read_to_eof(fd);
	close(fd);
	g_assert_true(r->len > 13 && !memcmp(r->data, "HTTP/1.1 404 ", 13));
	fx_stop(&f);
	/* a bad metrics address is an error at start */
	{
		struct hubd_server_cfg bad = { .addr = "127.0.0.1:0", .metrics_addr = "nohost:1" };
		struct hubd_server *srv = NULL;
		struct rg_err err = { 0 };

		g_assert_cmpint(hubd_server_new(&srv, &bad, &err), ==, -EINVAL);
		g_assert_null(srv);
		g_assert_nonnull(strstr(err.msg, "nohost"));
	}
}

static void test_limit_options(void)
{
	static const struct { const char *name, *val; int ok; } cases[] = {
		/* 1 */ { "--max-conns", "100", 1 }, /* 2 */ { "--max-conns", "0", 0 },
		/* 3 */ { "--max-conns-per-ip", "8", 1 }, /* 4 */ { "--max-conns-per-ip", "-1", 0 },
		/* 5 */ { "--join-timeout", "2.5", 1 }, /* 6 */ { "--join-timeout", "0", 0 },
		/* 7 */ { "--max-queue", "1M", 1 }, /* 8 */ { "--max-queue", "64K", 0 },
		/* 9 */ { "--max-queue-total", "1G", 1 }, /* 10 */ { "--max-queue-total", "x", 0 },
		/* 11 */ { "--join-extra-max", "0", 1 }, /* 12 */ { "--join-extra-max", "65K", 0 },
	};
	struct hubd_limits l;

	hubd_limits_default(&l);
	g_assert_cmpuint(l.max_queue, ==, 1024 * 1024);
	g_assert_cmpuint(l.join_timeout_ms, ==, 10000);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rg_err err = { 0 };
		size_t n = strlen(cases[i].name);

		g_assert_true(hubd_limits_is_option(cases[i].name, n));
		g_assert_cmpint(hubd_limits_option(&l, cases[i].name, n, cases[i].val, &err) == 0, ==,
				cases[i].ok);
	}
	g_assert_cmpuint(l.join_timeout_ms, ==, 2500);
	g_assert_cmpuint(l.max_queue_total, ==, 1024ULL * 1024 * 1024);
	g_assert_false(hubd_limits_is_option("--max", 5));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	rg_log_set_level(RG_LOG_ERROR);
	g_test_add_func("/hubd/server/bad-network-reply", test_bad_network_reply);
	g_test_add_func("/hubd/server/empty-message", test_empty_message);
	g_test_add_func("/hubd/server/id-in-use", test_id_in_use);
	g_test_add_func("/hubd/server/max-conns", test_max_conns);
	g_test_add_func("/hubd/server/max-conns-per-ip", test_max_conns_per_ip);
	g_test_add_func("/hubd/server/join-timeout", test_join_timeout);
	g_test_add_func("/hubd/server/max-queue", test_max_queue);
	g_test_add_func("/hubd/server/max-queue-total", test_max_queue_total);
	g_test_add_func("/hubd/server/emfile", test_emfile);
	g_test_add_func("/hubd/server/close-codes", test_close_codes);
	g_test_add_func("/hubd/server/metrics-addr", test_metrics_addr);
	g_test_add_func("/hubd/server/limit-options", test_limit_options);
	return g_test_run();
}
