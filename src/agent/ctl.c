/* Control socket server (agent GLib loop) and client (CLI, blocking). Small, line-based, one
 * request per connection; see ctl.h for the protocol. Who may do what: the socket file lets in
 * root and the `riftgate` group (when that group exists), and each connection's SO_PEERCRED
 * decides: read-only commands for everyone let in, the rest for root only. */
#include "agent/ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

struct agent_ctl_client {
	struct agent_ctl *ctl;		/* back-pointer, not owned */
	int fd;
	bool privileged;		/* the peer is root (or our own uid): may change things */
	guint src;			/* owned GSource id (fd watch) */
	guint timer;			/* owned GSource id (idle timeout) */
	size_t len;
	char buf[AGENT_CTL_CMD_MAX + 1];
};

static const char *run_dir(void)
{
	const char *d = getenv("RIFTGATE_RUN_DIR");

	return d && d[0] ? d : "/run/riftgate";
}

/* The group that may read status; -1 when it does not exist (then root only). */
static gid_t status_group(void)
{
	const char *name = getenv("RIFTGATE_CTL_GROUP");
	struct group *g = getgrnam(name && name[0] ? name : AGENT_CTL_GROUP);

	return g ? g->gr_gid : (gid_t)-1;
}

bool agent_ctl_read_only(const char *cmd)
{
	static const char *const ro[] = { "status" };

	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		if (strcmp(cmd, ro[i]) == 0)
			return true;
	return false;
}

int agent_ctl_path(char *out, size_t cap, const char *ifname)
{
	int n = snprintf(out, cap, "%s/%s.ctl", run_dir(), ifname);

	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	return 0;
}

static void client_free(struct agent_ctl_client *cl)
{
	if (cl->src)
		g_source_remove(cl->src);
	if (cl->timer)
		g_source_remove(cl->timer);
	if (cl->fd >= 0)
		close(cl->fd);
	cl->ctl->clients = g_list_remove(cl->ctl->clients, cl);
	g_free(cl);
}

/* The reply is small (a few KiB per hundred peers) and the client waits for it: write it with a
 * short send timeout rather than keeping per-client output state. */
static void client_reply(struct agent_ctl_client *cl, const char *cmd)
{
	char *reply;

	if (!cl->privileged && !agent_ctl_read_only(cmd)) {
		rg_log(RG_LOG_INFO, "ctl: refused '%.32s' from a non-root user", cmd);
		reply = g_strdup("{\"ok\":false,\"error\":\"permission denied: only root may do "
				 "that; the riftgate group may read status\"}\n");
	} else {
		reply = cl->ctl->handler(cl->ctl->opaque, cmd);
	}
	struct timeval tv = { .tv_sec = 2 };
	size_t len = strlen(reply), off = 0;
	int fl = fcntl(cl->fd, F_GETFL);

	if (fl >= 0)
		fcntl(cl->fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (off < len) {
		ssize_t w = send(cl->fd, reply + off, len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	g_free(reply);
}

static gboolean client_timeout_cb(gpointer data)
{
	struct agent_ctl_client *cl = data;

	cl->timer = 0;
	rg_log(RG_LOG_DEBUG, "ctl: client sent no command in time, dropped");
	client_free(cl);
	return G_SOURCE_REMOVE;
}

static gboolean client_read_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct agent_ctl_client *cl = data;
	char *nl;
	ssize_t n;

	(void)cond;
	n = recv(fd, cl->buf + cl->len, AGENT_CTL_CMD_MAX - cl->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n > 0)
		cl->len += (size_t)n;
	cl->buf[cl->len] = '\0';
	nl = strchr(cl->buf, '\n');
	if (!nl && n > 0 && cl->len < AGENT_CTL_CMD_MAX)
		return G_SOURCE_CONTINUE;
	cl->src = 0;
	if (nl || (n == 0 && cl->len > 0)) {
		if (nl)
			*nl = '\0';
		g_strstrip(cl->buf);
		client_reply(cl, cl->buf);
	}
	client_free(cl);
	return G_SOURCE_REMOVE;
}

static gboolean listen_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct agent_ctl *c = data;
	struct agent_ctl_client *cl;
	GSource *s;
	int cfd;

	(void)cond;
	/* Bounded: at most a few accepts per wakeup so a flood cannot starve the data path. */
	for (int i = 0; i < 4; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			break;
		if (g_list_length(c->clients) >= AGENT_CTL_CLIENTS_MAX) {
			close(cfd);
			continue;
		}
		cl = g_new0(struct agent_ctl_client, 1);
		cl->ctl = c;
		cl->fd = cfd;
		{
			struct ucred uc;
			socklen_t ul = sizeof(uc);

			cl->privileged = getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) == 0 &&
					 (uc.uid == 0 || uc.uid == geteuid());
		}
		s = g_unix_fd_source_new(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR);
		g_source_set_callback(s, (GSourceFunc)(void (*)(void))client_read_cb, cl, NULL);
		cl->src = g_source_attach(s, c->ctx);
		g_source_unref(s);
		s = g_timeout_source_new(AGENT_CTL_TIMEOUT_MS);
		g_source_set_callback(s, client_timeout_cb, cl, NULL);
		cl->timer = g_source_attach(s, c->ctx);
		g_source_unref(s);
		c->clients = g_list_prepend(c->clients, cl);
	}
	return G_SOURCE_CONTINUE;
}

/* true when something accepts connections on path (a live agent). */
static bool path_is_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return live;
}

int agent_ctl_open(struct agent_ctl *c, GMainContext *ctx, const char *ifname,
		   agent_ctl_handler handler, void *opaque, struct rg_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir = run_dir();
	gid_t group = status_group();
	mode_t dir_mode = group == (gid_t)-1 ? 0700 : 0750;
	struct stat st;
	GSource *s;
	mode_t old;
	int ret;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->ctx = ctx;
	c->handler = handler;
	c->opaque = opaque;
	if (agent_ctl_path(c->path, sizeof(c->path), ifname))
		return rg_err_set(err, -ENAMETOOLONG, "control socket path %s/%s.ctl is too long",
				  dir, ifname);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return rg_err_set(err, -errno, "cannot create %s: %s", dir, strerror(errno));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return rg_err_set(err, -ENOTDIR, "%s is not a directory", dir);
	/* Ours, 0700; or 0750 with the status group, whose members list the running interfaces
	 * and reach the sockets. A directory someone else left open is tightened. */
	if (st.st_uid != geteuid() ||
	    (group != (gid_t)-1 && st.st_gid != group && chown(dir, (uid_t)-1, group) < 0) ||
	    ((st.st_mode & 07777) != dir_mode && chmod(dir, dir_mode) < 0))
		return rg_err_set(err, -EPERM, "%s must be owned by uid %u with mode %04o", dir,
				  (unsigned)geteuid(), (unsigned)dir_mode);
	if (path_is_live(c->path)) {
		c->path[0] = '\0';
		return rg_err_set(err, -EADDRINUSE, "riftgate is already up on %s", ifname);
	}
	unlink(c->path);

	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		ret = rg_err_set(err, -errno, "control socket: %s", strerror(errno));
		goto fail;
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	old = umask(077);
	ret = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	/* 0660 for the status group (SO_PEERCRED still limits it to read-only commands) */
	if (ret == 0 && group != (gid_t)-1 &&
	    (chown(c->path, (uid_t)-1, group) < 0 || chmod(c->path, 0660) < 0))
		ret = -1;
	if (ret < 0 || listen(c->fd, 16) < 0) {
		ret = rg_err_set(err, -errno, "control socket %s: %s", c->path, strerror(errno));
		goto fail;
	}
	s = g_unix_fd_source_new(c->fd, G_IO_IN);
	g_source_set_callback(s, (GSourceFunc)(void (*)(void))listen_cb, c, NULL);
	c->src = g_source_attach(s, ctx);
	g_source_unref(s);
	return 0;
fail:
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->path[0] = '\0';
	return ret;
}

void agent_ctl_close(struct agent_ctl *c)
{
	while (c->clients)
		client_free(c->clients->data);
	if (c->src)
		g_source_remove(c->src);
	c->src = 0;
	if (c->fd >= 0) {
		close(c->fd);
		if (c->path[0])
			unlink(c->path);
	}
	c->fd = -1;
	c->path[0] = '\0';
}

static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now;
	int r;

	for (;;) {
		now = rg_mono_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)((deadline - now) / RG_NSEC_PER_MSEC) + 1);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

int agent_ctl_request(const char *ifname, const char *cmd, int timeout_ms, char **reply,
		      struct rg_err *err)
{
	uint64_t deadline = rg_mono_ns() + (uint64_t)timeout_ms * RG_NSEC_PER_MSEC;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	GString *in = NULL;
	char line[AGENT_CTL_CMD_MAX + 2];
	char buf[4096];
	int fd, ret, n;

	*reply = NULL;
	if (agent_ctl_path(sa.sun_path, sizeof(sa.sun_path), ifname))
		return rg_err_set(err, -ENAMETOOLONG, "control socket path for %s is too long",
				  ifname);
	n = snprintf(line, sizeof(line), "%s\n", cmd);
	if (n < 0 || (size_t)n >= sizeof(line))
		return rg_err_set(err, -EINVAL, "control command too long");
	/* Non-blocking, so a wedged agent with a full backlog cannot hang the client. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return rg_err_set(err, -errno, "socket: %s", strerror(errno));
	while ((ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa))) < 0 &&
	       (errno == EAGAIN || errno == EINTR) && rg_mono_ns() < deadline)
		g_usleep(20 * 1000);
	if (ret < 0 && errno == EAGAIN)
		errno = ETIMEDOUT;
	if (ret < 0) {
		ret = -errno;
		if (ret == -ENOENT || ret == -ECONNREFUSED)
			rg_err_set(err, ret, "riftgate is not up on %s (no agent at %s)", ifname,
				   sa.sun_path);
		else if (ret == -EACCES || ret == -EPERM)
			rg_err_set(err, ret, "permission denied on %s: run as root, or as a member "
				   "of the '%s' group to read status", sa.sun_path, AGENT_CTL_GROUP);
		else
			rg_err_set(err, ret, "cannot reach the agent at %s: %s", sa.sun_path,
				   strerror(-ret));
		goto out;
	}
	if (wait_fd(fd, POLLOUT, deadline) < 0 || send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
		ret = rg_err_set(err, -EIO, "cannot send to the agent at %s", sa.sun_path);
		goto out;
	}
	in = g_string_new(NULL);
	for (;;) {
		ssize_t r;

		ret = wait_fd(fd, POLLIN, deadline);
		if (ret) {
			rg_err_set(err, ret, "the agent on %s did not answer in time", ifname);
			goto out;
		}
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = rg_err_set(err, -errno, "reading from the agent: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (in->len + (size_t)r > AGENT_CTL_REPLY_MAX) {
			ret = rg_err_set(err, -EMSGSIZE, "the agent's reply is too large");
			goto out;
		}
		g_string_append_len(in, buf, r);
	}
	if (in->len == 0) {
		ret = rg_err_set(err, -EIO, "the agent on %s closed without answering", ifname);
		goto out;
	}
	*reply = g_string_free(in, FALSE);
	in = NULL;
	ret = 0;
out:
	if (in)
		g_string_free(in, TRUE);
	close(fd);
	return ret;
}
