/* See uapisock.h. Replies are written with a short poll() on EAGAIN: `wg` reads promptly, and a
 * client that stops reading for a second is dropped rather than stalling the data path. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "net/tun.h"
#include "net/uapisock.h"
#include "util/ct.h"
#include "util/err.h"
#include "util/log.h"

enum { WRITE_TIMEOUT_MS = 1000, READ_CHUNK = 4096 };

static void client_drop(struct net_uapisock *u, struct net_uapisock_client *c)
{
	(void)u;
	if (c->fd >= 0)
		close(c->fd);	/* also leaves the epoll set */
	if (c->buf)
		rg_memzero(c->buf, c->cap);	/* set requests carry private keys */
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void net_uapisock_close(struct net_uapisock *u)
{
	for (unsigned i = 0; i < NET_UAPISOCK_MAX_CLIENTS; i++)
		if (u->clients[i].fd >= 0 || u->clients[i].buf)
			client_drop(u, &u->clients[i]);
	if (u->listen_fd >= 0) {
		close(u->listen_fd);
		if (u->path[0])
			unlink(u->path);
	}
	if (u->epfd >= 0)
		close(u->epfd);
	u->listen_fd = u->epfd = -1;
	u->path[0] = '\0';
}

/* A socket file that accepts a connection belongs to a running daemon. */
static bool socket_alive(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool alive;

	if (fd < 0)
		return false;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	alive = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return alive;
}

int net_uapisock_open(struct net_uapisock *u, const char *dir, const char *ifname,
		      net_uapisock_handler handler, void *opaque, struct rg_err *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	struct stat st;
	mode_t old_umask;
	int ret, n;

	memset(u, 0, sizeof(*u));
	u->epfd = u->listen_fd = -1;
	for (unsigned i = 0; i < NET_UAPISOCK_MAX_CLIENTS; i++)
		u->clients[i].fd = -1;
	u->handler = handler;
	u->opaque = opaque;
	if (!dir)
		dir = NET_UAPISOCK_DIR;
	if (!net_ifname_valid(ifname))
		return rg_err_set(err, -EINVAL, "invalid interface name '%s'", ifname);
	n = snprintf(u->path, sizeof(u->path), "%s/%s.sock", dir, ifname);
	if (n < 0 || (size_t)n >= sizeof(u->path) || (size_t)n >= sizeof(sun.sun_path)) {
		u->path[0] = '\0';
		return rg_err_set(err, -ENAMETOOLONG, "UAPI socket path '%s/%s.sock' is too long",
				  dir, ifname);
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		u->path[0] = '\0';
		return rg_err_set(err, ret, "cannot create %s: %s", dir, strerror(-ret));
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		u->path[0] = '\0';
		return rg_err_set(err, -ENOTDIR, "%s is not a directory", dir);
	}
	if (lstat(u->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			ret = rg_err_set(err, -EEXIST, "%s exists and is not a socket", u->path);
			u->path[0] = '\0';
			return ret;
		}
		if (socket_alive(u->path)) {
			ret = rg_err_set(err, -EADDRINUSE, "%s is in use: another daemon serves "
					 "interface '%s'", u->path, ifname);
			u->path[0] = '\0';
			return ret;
		}
		unlink(u->path);	/* stale: its daemon died without cleaning up */
	}
	u->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (u->listen_fd < 0)
		goto fail_errno;
	memcpy(sun.sun_path, u->path, (size_t)n + 1);
	old_umask = umask(0077);
	ret = bind(u->listen_fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (ret < 0) {
		ret = -errno;
		close(u->listen_fd);
		u->listen_fd = -1;
		u->path[0] = '\0';
		return rg_err_set(err, ret, "cannot bind %s/%s.sock: %s", dir, ifname,
				  strerror(-ret));
	}
	if (listen(u->listen_fd, 16) < 0)
		goto fail_errno;
	u->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (u->epfd < 0)
		goto fail_errno;
	ev.data.u32 = UINT32_MAX;
	if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, u->listen_fd, &ev) < 0)
		goto fail_errno;
	return 0;
fail_errno:
	ret = -errno;
	rg_err_set(err, ret, "UAPI socket %s: %s", u->path, strerror(-ret));
	net_uapisock_close(u);
	return ret;
}

int net_uapisock_fd(const struct net_uapisock *u)
{
	return u->epfd;
}

static void accept_all(struct net_uapisock *u)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		unsigned slot;
		int fd = accept4(u->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return;		/* EAGAIN, or a transient error: try next wakeup */
		}
		for (slot = 0; slot < NET_UAPISOCK_MAX_CLIENTS; slot++)
			if (u->clients[slot].fd < 0)
				break;
		if (slot == NET_UAPISOCK_MAX_CLIENTS) {
			rg_log(RG_LOG_WARN, "uapi: too many clients, refusing one");
			close(fd);
			continue;
		}
		ev.data.u32 = slot;
		if (epoll_ctl(u->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			continue;
		}
		u->clients[slot].fd = fd;
	}
}

static bool write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN || poll(&pfd, 1, WRITE_TIMEOUT_MS) <= 0)
				return false;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Finds the end of the first complete request: the first empty line. */
static size_t request_end(const char *buf, size_t len)
{
	if (len >= 1 && buf[0] == '\n')
		return 1;
	for (size_t i = 1; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\n')
			return i + 1;
	return 0;
}

/* Returns false when the client is gone. */
static bool serve_requests(struct net_uapisock *u, struct net_uapisock_client *c)
{
	size_t end;

	while ((end = request_end(c->buf, c->len)) > 0) {
		size_t reply_len = 0;
		char saved = c->buf[end];
		char *reply;
		bool ok;

		c->buf[end] = '\0';	/* cap > len always leaves room */
		reply = u->handler(u->opaque, c->buf, end, &reply_len);
		c->buf[end] = saved;
		if (!reply)
			return false;
		ok = write_all(c->fd, reply, reply_len);
		rg_memzero(reply, reply_len);
		free(reply);
		if (!ok)
			return false;
		memmove(c->buf, c->buf + end, c->len - end);
		c->len -= end;
		rg_memzero(c->buf + c->len, end);
	}
	return true;
}

static void client_read(struct net_uapisock *u, struct net_uapisock_client *c)
{
	for (;;) {
		ssize_t n;

		if (c->cap - c->len < READ_CHUNK + 1) {
			size_t cap = c->cap ? c->cap * 2 : 2 * READ_CHUNK;
			char *p;

			if (cap > NET_UAPISOCK_MAX_REQUEST + READ_CHUNK + 1) {
				rg_log(RG_LOG_WARN, "uapi: request larger than %d bytes, dropping "
				       "client", NET_UAPISOCK_MAX_REQUEST);
				goto drop;
			}
			p = malloc(cap);	/* not realloc: the old block is wiped */
			if (!p)
				goto drop;
			if (c->buf) {
				memcpy(p, c->buf, c->len);
				rg_memzero(c->buf, c->cap);
				free(c->buf);
			}
			c->buf = p;
			c->cap = cap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			goto drop;	/* EOF: `wg` closes after reading its reply */
		c->len += (size_t)n;
		if (!serve_requests(u, c))
			goto drop;
	}
drop:
	client_drop(u, c);
}

void net_uapisock_dispatch(struct net_uapisock *u)
{
	struct epoll_event evs[NET_UAPISOCK_MAX_CLIENTS + 1];
	int n = epoll_wait(u->epfd, evs, NET_UAPISOCK_MAX_CLIENTS + 1, 0);

	for (int i = 0; i < n; i++) {
		uint32_t slot = evs[i].data.u32;

		if (slot == UINT32_MAX)
			accept_all(u);
		else if (slot < NET_UAPISOCK_MAX_CLIENTS && u->clients[slot].fd >= 0)
			client_read(u, &u->clients[slot]);
	}
}
