/* The UAPI socket server: framing, several requests per connection, stale-socket takeover, a live
 * socket refused, 0600 mode, file removed on close. Runs in a temporary directory. */
#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/uapisock.h"
#include "util/err.h"

static unsigned handled;

/* Echoes the request's first line back as "seen=LINE\nerrno=0\n\n"; "drop=1" drops the client. */
static char *echo_handler(void *opaque, const char *req, size_t len, size_t *reply_len)
{
	const char *nl = memchr(req, '\n', len);
	char *out;

	(void)opaque;
	g_assert_cmpuint(strlen(req), ==, len);
	g_assert_true(len >= 1 && req[len - 1] == '\n');
	handled++;
	if (!strncmp(req, "drop=1", 6))
		return NULL;
	out = g_strdup_printf("seen=%.*s\nerrno=0\n\n", (int)(nl - req), req);
	*reply_len = strlen(out);
	char *r = malloc(*reply_len);
	memcpy(r, out, *reply_len);
	g_free(out);
	return r;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Pumps the server until `want` bytes arrive on fd (or 5 s pass). */
static char *pump_read(struct net_uapisock *u, int fd, size_t want)
{
	GString *s = g_string_new(NULL);

	for (int i = 0; i < 500 && s->len < want; i++) {
		struct pollfd p = { .fd = net_uapisock_fd(u), .events = POLLIN };
		char buf[256];
		ssize_t n;

		if (poll(&p, 1, 10) > 0)
			net_uapisock_dispatch(u);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			g_string_append_len(s, buf, n);
		else if (n == 0)
			break;
	}
	return g_string_free(s, FALSE);
}

static void test_roundtrip(void)
{
	char *dir = g_dir_make_tmp("rgwg-uapi-XXXXXX", NULL);
	char *sub = g_build_filename(dir, "wireguard", NULL);
	char *path = g_build_filename(sub, "rgwg9.sock", NULL);
	struct net_uapisock u, u2;
	struct rg_err err = { 0 };
	struct stat st;
	char *got;
	int fd;

	g_assert_cmpint(net_uapisock_open(&u, sub, "rgwg9", echo_handler, NULL, &err), ==, 0);
	g_assert_cmpint(stat(sub, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpint(st.st_mode & 0077, ==, 0);

	/* Two requests in one write, the second split across writes. */
	fd = connect_to(path);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(send(fd, "get=1\n\nset=1\nlisten", 19, 0), ==, 19);
	got = pump_read(&u, fd, strlen("seen=get=1\nerrno=0\n\n"));
	g_assert_cmpstr(got, ==, "seen=get=1\nerrno=0\n\n");
	g_free(got);
	g_assert_cmpint(send(fd, "_port=1\n\n", 9, 0), ==, 9);
	got = pump_read(&u, fd, strlen("seen=set=1\nerrno=0\n\n"));
	g_assert_cmpstr(got, ==, "seen=set=1\nerrno=0\n\n");
	g_free(got);
	/* The handler can drop a client. */
	g_assert_cmpint(send(fd, "drop=1\n\n", 8, 0), ==, 8);
	got = pump_read(&u, fd, 1);
	g_assert_cmpstr(got, ==, "");
	g_free(got);
	close(fd);
	g_assert_cmpuint(handled, ==, 3);

	/* A live socket is not stolen. */
	g_assert_cmpint(net_uapisock_open(&u2, sub, "rgwg9", echo_handler, NULL, &err), ==,
			-EADDRINUSE);
	g_assert_nonnull(strstr(err.msg, "in use"));
	net_uapisock_close(&u2);
	g_assert_cmpint(stat(path, &st), ==, 0);

	/* Close removes the file. */
	net_uapisock_close(&u);
	net_uapisock_close(&u);
	g_assert_cmpint(stat(path, &st), ==, -1);

	/* A stale socket file (bound, nobody listening) is replaced. */
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int s = socket(AF_UNIX, SOCK_STREAM, 0);

		g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
		g_assert_cmpint(bind(s, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
		close(s);
	}
	g_assert_cmpint(connect_to(path), ==, -ECONNREFUSED);
	g_assert_cmpint(net_uapisock_open(&u, sub, "rgwg9", echo_handler, NULL, &err), ==, 0);
	fd = connect_to(path);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(send(fd, "get=1\n\n", 7, 0), ==, 7);
	got = pump_read(&u, fd, strlen("seen=get=1\nerrno=0\n\n"));
	g_assert_cmpstr(got, ==, "seen=get=1\nerrno=0\n\n");
	g_free(got);
	close(fd);
	net_uapisock_close(&u);

	/* A regular file in the way is an error, not deleted. */
	g_assert_true(g_file_set_contents(path, "x", 1, NULL));
	g_assert_cmpint(net_uapisock_open(&u, sub, "rgwg9", echo_handler, NULL, &err), ==, -EEXIST);
	net_uapisock_close(&u);
	g_assert_cmpint(stat(path, &st), ==, 0);
	unlink(path);
	g_assert_cmpint(net_uapisock_open(&u, sub, "bad/name", echo_handler, NULL, &err), ==,
			-EINVAL);
	net_uapisock_close(&u);

	rmdir(sub);
	rmdir(dir);
	g_free(path);
	g_free(sub);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/net/uapisock/roundtrip", test_roundtrip);
	return g_test_run();
}
