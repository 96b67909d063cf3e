/* Control socket: request/reply over a real unix socket in a private run directory, a second
 * agent refused, stale socket replaced, no agent → clear error, silent client dropped. The client
 * is blocking, so it runs in a thread while the main loop serves. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "agent/ctl.h"
#include "util/err.h"

static char *tmpdir;

static char *handler(void *opaque, const char *cmd)
{
	int *calls = opaque;

	(*calls)++;
	return g_strdup_printf("{\"cmd\":\"%s\"}", cmd);
}

struct req {
	const char *cmd;
	int ret;
	char *reply;
	struct rg_err err;
	GMainLoop *loop;
};

static gpointer req_thread(gpointer data)
{
	struct req *r = data;

	r->ret = agent_ctl_request("rgagt0", r->cmd, 5000, &r->reply, &r->err);
	g_main_loop_quit(r->loop);
	return NULL;
}

static void run_req(struct req *r)
{
	GThread *t;

	r->loop = g_main_loop_new(NULL, FALSE);
	t = g_thread_new("req", req_thread, r);
	g_main_loop_run(r->loop);
	g_thread_join(t);
	g_main_loop_unref(r->loop);
}

static void test_roundtrip(void)
{
	struct agent_ctl c, c2;
	struct rg_err err = { 0 };
	struct req r = { .cmd = "status" };
	struct stat st;
	char path[108];
	int calls = 0;

	g_assert_cmpint(agent_ctl_open(&c, NULL, "rgagt0", handler, &calls, &err), ==, 0);
	g_assert_cmpint(agent_ctl_path(path, sizeof(path), "rgagt0"), ==, 0);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpint(st.st_mode & 077, ==, 0);
	g_assert_cmpint(stat(tmpdir, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);

	run_req(&r);
	g_assert_cmpint(r.ret, ==, 0);
	g_assert_cmpstr(r.reply, ==, "{\"cmd\":\"status\"}");
	g_assert_cmpint(calls, ==, 1);
	g_free(r.reply);

	/* a second agent on the same interface is refused, the first keeps its socket */
	g_assert_cmpint(agent_ctl_open(&c2, NULL, "rgagt0", handler, &calls, &err), ==,
			-EADDRINUSE);
	g_assert_nonnull(strstr(err.msg, "already up on rgagt0"));
	agent_ctl_close(&c2);
	g_assert_cmpint(access(path, F_OK), ==, 0);

	agent_ctl_close(&c);
	g_assert_cmpint(access(path, F_OK), ==, -1);
	agent_ctl_close(&c); /* twice is fine */
}

static void test_not_up(void)
{
	struct rg_err err = { 0 };
	char *reply = (char *)1;

	g_assert_cmpint(agent_ctl_request("rgagt0", "status", 1000, &reply, &err), ==, -ENOENT);
	g_assert_null(reply);
	g_assert_nonnull(strstr(err.msg, "not up on rgagt0"));
}

static void test_stale(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct agent_ctl c;
	struct rg_err err = { 0 };
	struct req r = { .cmd = "down" };
	int calls = 0, fd;

	/* a socket file nobody listens on (a crashed agent) */
	g_assert_cmpint(agent_ctl_path(sa.sun_path, sizeof(sa.sun_path), "rgagt0"), ==, 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	close(fd);
	g_assert_cmpint(agent_ctl_request("rgagt0", "status", 1000, &r.reply, &err), ==,
			-ECONNREFUSED);
	g_assert_cmpint(agent_ctl_open(&c, NULL, "rgagt0", handler, &calls, &err), ==, 0);
	run_req(&r);
	g_assert_cmpint(r.ret, ==, 0);
	g_assert_cmpstr(r.reply, ==, "{\"cmd\":\"down\"}");
	g_free(r.reply);
	agent_ctl_close(&c);
}

static gboolean quit_cb(gpointer loop)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static void test_silent_client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct agent_ctl c;
	struct rg_err err = { 0 };
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	int calls = 0, fd;

	g_assert_cmpint(agent_ctl_open(&c, NULL, "rgagt0", handler, &calls, &err), ==, 0);
	g_assert_cmpint(agent_ctl_path(sa.sun_path, sizeof(sa.sun_path), "rgagt0"), ==, 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	/* half a command, then closed: no handler call, client freed */
	g_assert_cmpint(write(fd, "sta", 3), ==, 3);
	g_timeout_add(200, quit_cb, loop);
	g_main_loop_run(loop);
	g_assert_cmpuint(g_list_length(c.clients), ==, 1);
	close(fd);
	g_timeout_add(200, quit_cb, loop);
	g_main_loop_run(loop);
	g_assert_cmpuint(g_list_length(c.clients), ==, 0);
	g_assert_cmpint(calls, ==, 1); /* EOF after "sta": served as a command */
	agent_ctl_close(&c);
	g_main_loop_unref(loop);
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	{
		char *t = g_dir_make_tmp("rgagt-XXXXXX", NULL);

		g_assert_nonnull(t);
		tmpdir = g_build_filename(t, "run", NULL); /* created by agent_ctl_open */
		g_free(t);
	}
	g_setenv("RIFTGATE_RUN_DIR", tmpdir, TRUE);
	g_test_add_func("/agent/ctl/not-up", test_not_up);
	g_test_add_func("/agent/ctl/roundtrip", test_roundtrip);
	g_test_add_func("/agent/ctl/stale", test_stale);
	g_test_add_func("/agent/ctl/silent-client", test_silent_client);
	ret = g_test_run();
	g_rmdir(tmpdir);
	{
		char *parent = g_path_get_dirname(tmpdir);

		g_rmdir(parent);
		g_free(parent);
	}
	g_free(tmpdir);
	return ret;
}
