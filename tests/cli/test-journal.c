/* src/cli/journal.c without systemd: sd_notify datagrams to a path and to an abstract
 * $NOTIFY_SOCKET, native journald records (fields, exact bytes), the stderr fallback when
 * journald is gone, and a journald that does not read: the logger must not block on it.
 * The journald cases bind /run/systemd/journal/socket in a private mount namespace over a
 * tmpfs /run (root), so the host's /run is untouched. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/journal.h"
#include "util/log.h"

static int dgram_bound(const char *path, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpuint(len, <, sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, len);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&sa,
			     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)), ==, 0);
	return fd;
}

/* The next datagram queued on fd (NUL-terminated), or NULL when none is. */
static char *dgram_next(int fd)
{
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0)
		return NULL;
	return g_strndup(buf, (gsize)n);
}

static void test_notify(void)
{
	char *dir = g_dir_make_tmp("rgjn.XXXXXX", NULL), *path = g_build_filename(dir, "n", NULL);
	char abs[64], *got;
	int fd;

	/* a path, as systemd gives it */
	fd = dgram_bound(path, strlen(path));
	g_setenv("NOTIFY_SOCKET", path, TRUE);
	cli_notify("READY=1\nSTATUS=up, 2/2 peers connected");
	got = dgram_next(fd);
	g_assert_cmpstr(got, ==, "READY=1\nSTATUS=up, 2/2 peers connected");
	g_free(got);
	close(fd);

	/* an abstract name: '@' stands for the leading NUL */
	snprintf(abs, sizeof(abs), "@rg-test-notify-%d", (int)getpid());
	{
		char name[64];
		size_t len = strlen(abs);

		memcpy(name, abs, len);
		name[0] = '\0';
		fd = dgram_bound(name, len);
	}
	g_setenv("NOTIFY_SOCKET", abs, TRUE);
	cli_notify("STOPPING=1");
	got = dgram_next(fd);
	g_assert_cmpstr(got, ==, "STOPPING=1");
	g_free(got);

	/* not a path or an abstract name, too long, unset: nothing is sent, nothing breaks */
	g_setenv("NOTIFY_SOCKET", "relative/notify", TRUE);
	cli_notify("READY=1");
	g_setenv("NOTIFY_SOCKET", "@", TRUE);
	cli_notify("READY=1");
	{
		char *longp = g_strnfill(200, 'x');

		longp[0] = '/';
		g_setenv("NOTIFY_SOCKET", longp, TRUE);
		cli_notify("READY=1");
		g_free(longp);
	}
	g_unsetenv("NOTIFY_SOCKET");
	cli_notify("READY=1");
	g_assert_null(dgram_next(fd));
	close(fd);

	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

/* stderr goes to a file; $JOURNAL_STREAM names it, as systemd does for a unit's stderr. */
static char *stderr_to_file(void)
{
	char *path = NULL;
	int fd = g_file_open_tmp("rgjs.XXXXXX", &path, NULL);
	struct stat st;
	char v[64];

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(dup2(fd, STDERR_FILENO), ==, STDERR_FILENO);
	close(fd);
	g_assert_cmpint(fstat(STDERR_FILENO, &st), ==, 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	g_setenv("JOURNAL_STREAM", v, TRUE);
	return path;
}

static unsigned count_lines_with(const char *path, const char *needle)
{
	char *text = NULL, **lines;
	unsigned n = 0;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++)
		n += strstr(*l, needle) != NULL;
	g_strfreev(lines);
	g_free(text);
	return n;
}

static void on_alarm(int sig)
{
	static const char msg[] = "test-journal: the logger blocked on a full journald queue\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* exiting anyway */
	}
	_exit(1);
}

static void test_journal(void)
{
	int saved_err = dup(STDERR_FILENO), fd;
	char *errpath, *got;
	unsigned in_journal = 0, on_stderr;

	if (geteuid() != 0) {
		g_test_skip("needs root (a private mount namespace for /run/systemd/journal)");
		return;
	}
	g_assert_cmpint(unshare(CLONE_NEWNS), ==, 0);
	g_assert_cmpint(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), ==, 0);
	g_assert_cmpint(mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents("/run/systemd/journal", 0755), ==, 0);

	/* no journald yet: tee refuses */
	g_assert_false(cli_journal_tee("rgjt0"));
	fd = dgram_bound("/run/systemd/journal/socket", strlen("/run/systemd/journal/socket"));

	errpath = stderr_to_file();
	g_assert_true(cli_journal_use("rgjt0"));

	/* a line about a peer: every field, in order, exact bytes */
	rg_log(RG_LOG_INFO, "peer 3f9a0c: up via relay (turn 10.0.0.1:3478), mtu 1280");
	got = dgram_next(fd);
	g_assert_cmpstr(got, ==,
			"MESSAGE=peer 3f9a0c: up via relay (turn 10.0.0.1:3478), mtu 1280\n"
			"PRIORITY=6\nSYSLOG_IDENTIFIER=riftgate\nIFACE=rgjt0\nPEER=3f9a0c\n"
			"PATH_TYPE=relay\n");
	g_free(got);
	/* a warning about nothing in particular; a control byte arrives escaped, on one line */
	rg_log(RG_LOG_WARN, "hub: cannot connect\n(retrying)");
	got = dgram_next(fd);
	g_assert_nonnull(got);
	g_assert_true(g_str_has_prefix(got, "MESSAGE=hub: cannot connect"));
	g_assert_true(g_str_has_suffix(got, "(retrying)\nPRIORITY=4\nSYSLOG_IDENTIFIER=riftgate\n"
						 "IFACE=rgjt0\n"));
	g_assert_cmpuint(count_lines_with(errpath, "cannot connect"), ==, 0);
	g_free(got);

	/* journald stops reading: its queue fills, and the logger must neither block nor lose the
	 * lines (they go to stderr, the unit's stream). The alarm turns a block into a failure. */
	signal(SIGALRM, on_alarm);
	alarm(30);
	for (int i = 0; i < 3000; i++)
		rg_log(RG_LOG_INFO, "flood line %d", i);
	alarm(0);
	while ((got = dgram_next(fd))) {
		in_journal += strstr(got, "MESSAGE=flood line ") == got;
		g_free(got);
	}
	on_stderr = count_lines_with(errpath, "<6>flood line ");
	g_assert_cmpuint(in_journal, >, 0);
	g_assert_cmpuint(on_stderr, >, 0);
	g_assert_cmpuint(in_journal + on_stderr, ==, 3000);

	/* journald is gone: the line goes to stderr with its priority */
	close(fd);
	g_unlink("/run/systemd/journal/socket");
	rg_log(RG_LOG_ERROR, "hub: the token was refused");
	g_assert_cmpuint(count_lines_with(errpath, "<3>hub: the token was refused"), ==, 1);

	rg_log_set_sink(NULL, NULL);
	dup2(saved_err, STDERR_FILENO);
	close(saved_err);
	g_unlink(errpath);
	g_free(errpath);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/cli/journal/notify", test_notify);
	g_test_add_func("/cli/journal/records", test_journal);
	return g_test_run();
}
