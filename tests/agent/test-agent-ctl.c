/* Control socket: request/reply over a real unix socket in a private run directory, a second
 * agent refused, stale socket replaced, no agent → clear error, silent client dropped; with a
 * status group, a non-root member may read status but not take the agent down, and a non-member
 * cannot connect. The client is blocking, so it runs in a thread (or a child process) while the
 * main loop serves. */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
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

static void child_exited(GPid pid, gint status, gpointer data)
{
	int *out = data;

	g_spawn_close_pid(pid);
	*out = WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

/* In a child as uid/gid 65534, in group 0 when member: status must work and down be refused
 * (member), or the socket must not be reachable at all (non-member). Exit 0 = as expected. */
static int child_client(bool member)
{
	struct rg_err err = { 0 };
	gid_t zero = 0;
	char *reply = NULL;
	int r;

	if (setgroups(member ? 1 : 0, &zero) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
		return 10;
	r = agent_ctl_request("rgagt0", "status", 3000, &reply, &err);
	if (!member)
		return r == -EACCES && strstr(err.msg, "member of the") ? 0 : 11;
	if (r < 0 || strcmp(reply, "{\"cmd\":\"status\"}") != 0)
		return 12;
	g_free(reply);
	r = agent_ctl_request("rgagt0", "down", 3000, &reply, &err);
	if (r < 0 || !strstr(reply, "\"ok\":false") || !strstr(reply, "only root"))
		return 13;
	g_free(reply);
	return 0;
}

static int run_child(bool member)
{
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	int rc = -1;
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0)
		_exit(child_client(member));
	g_child_watch_add(pid, child_exited, &rc);
	while (rc < 0)
		g_main_context_iteration(NULL, TRUE);
	g_main_loop_unref(loop);
	return rc;
}

static void test_group(void)
{
	char *parent = g_path_get_dirname(tmpdir);
	struct agent_ctl c;
	struct rg_err err = { 0 };
	struct stat st;
	char path[108];
	int calls = 0;

	if (geteuid() != 0) {
		g_test_skip("needs root (the clients switch to uid 65534)");
		g_free(parent);
		return;
	}
	g_setenv("RIFTGATE_CTL_GROUP", "root", TRUE);	/* gid 0 stands in for `riftgate` */
	g_assert_cmpint(chmod(parent, 0755), ==, 0);
	g_assert_cmpint(agent_ctl_open(&c, NULL, "rgagt0", handler, &calls, &err), ==, 0);
	g_assert_cmpint(agent_ctl_path(path, sizeof(path), "rgagt0"), ==, 0);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0660);
	g_assert_cmpint(st.st_gid, ==, 0);
	g_assert_cmpint(stat(tmpdir, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0750);

	g_assert_cmpint(run_child(true), ==, 0);
	g_assert_cmpint(calls, ==, 1);	/* status served, down refused before the handler */
	g_assert_cmpint(run_child(false), ==, 0);
	g_assert_cmpint(calls, ==, 1);

	agent_ctl_close(&c);
	g_setenv("RIFTGATE_CTL_GROUP", "rg-no-such-group", TRUE);
	/* back to root only: the next open tightens the directory again */
	g_assert_cmpint(agent_ctl_open(&c, NULL, "rgagt0", handler, &calls, &err), ==, 0);
	g_assert_cmpint(stat(tmpdir, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700);
	agent_ctl_close(&c);
	chmod(parent, 0700);
	g_free(parent);
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
	/* root only unless a test names a group (the host may have a real `riftgate` group) */
	g_setenv("RIFTGATE_CTL_GROUP", "rg-no-such-group", TRUE);
	g_test_add_func("/agent/ctl/not-up", test_not_up);
	g_test_add_func("/agent/ctl/roundtrip", test_roundtrip);
	g_test_add_func("/agent/ctl/stale", test_stale);
	g_test_add_func("/agent/ctl/silent-client", test_silent_client);
	g_test_add_func("/agent/ctl/group", test_group);
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
