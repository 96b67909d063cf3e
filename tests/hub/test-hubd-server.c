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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	rg_log_set_level(RG_LOG_ERROR);
	g_test_add_func("/hubd/server/bad-network-reply", test_bad_network_reply);
	return g_test_run();
}
