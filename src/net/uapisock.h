/* The UAPI unix socket, /var/run/wireguard/IFNAME.sock, as `wg` and wg-quick expect it. This file
 * only moves text: it frames requests (a request ends at its first empty line) and hands each to
 * the caller's handler, which returns the reply (src/wg/uapi.c does the protocol).
 *
 * The server keeps its listening socket and clients in a private epoll set, so a caller watches a
 * single fd (net_uapisock_fd) from either a plain epoll loop or a GLib source and calls
 * net_uapisock_dispatch() when it is readable. Control path only: replies may be heap-allocated. */
#ifndef RG_NET_UAPISOCK_H
#define RG_NET_UAPISOCK_H

#include <stddef.h>

struct rg_err;

enum net_uapisock_limits {
	NET_UAPISOCK_MAX_CLIENTS = 16,
	NET_UAPISOCK_MAX_REQUEST = 8 << 20,	/* bytes; a setconf with thousands of peers fits */
	NET_UAPISOCK_PATH_MAX = 108,		/* sizeof(sun_path) */
};

/* Handles one request (req is NUL-terminated, len bytes, ending with "\n\n"). Returns a malloc'd
 * reply of *reply_len bytes, or NULL to drop the client. */
typedef char *(*net_uapisock_handler)(void *opaque, const char *req, size_t len, size_t *reply_len);

struct net_uapisock_client {
	int fd;			/* -1 = free slot */
	char *buf;		/* owned; pending request bytes */
	size_t len, cap;
};

struct net_uapisock {
	int epfd, listen_fd;
	char path[NET_UAPISOCK_PATH_MAX];
	net_uapisock_handler handler;
	void *opaque;		/* handler's, not owned */
	struct net_uapisock_client clients[NET_UAPISOCK_MAX_CLIENTS];
};

/* Where `wg` looks for sockets; unit tests pass their own temporary directory. */
#define NET_UAPISOCK_DIR "/var/run/wireguard"

/* Creates dir (mode 0700) and binds dir/IFNAME.sock (mode 0600). A stale socket nobody answers is
 * replaced; a live one is EADDRINUSE. dir NULL means NET_UAPISOCK_DIR. */
int net_uapisock_open(struct net_uapisock *u, const char *dir, const char *ifname,
		      net_uapisock_handler handler, void *opaque, struct rg_err *err);
/* Closes every client, the listener, and removes the socket file. Safe after
 * any net_uapisock_open(), failed or not, and twice. */
void net_uapisock_close(struct net_uapisock *u);
/* The fd to watch for readability. */
int net_uapisock_fd(const struct net_uapisock *u);
/* Accepts, reads and answers whatever is ready, without blocking on reads. */
void net_uapisock_dispatch(struct net_uapisock *u);

#endif
