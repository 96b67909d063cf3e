/* TLS for turns: TURN servers. libnice (RFC 5245 mode) has no TLS client for TURN, so the agent
 * runs one loopback bridge per turns: server: libnice speaks TURN over plain TCP to
 * 127.0.0.1:PORT, and each accepted connection is carried over a verified TLS connection to the
 * real server. Only the agent's own sockets may use the bridge: the kernel's socket table
 * (NETLINK_SOCK_DIAG) names the connecting socket's owner and inode, and the inode must be one
 * of this process's file descriptors; anything else (another user, another process) is refused.
 * A bridged connection that carries nothing either way for AGENT_TURNTLS_IDLE_S is closed.
 * Agent loop only. */
#ifndef RG_AGENT_TURNTLS_H
#define RG_AGENT_TURNTLS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

struct rg_err;
struct agent_turntls;

enum agent_turntls_limits {
	AGENT_TURNTLS_CONNECT_S = 15,		/* TCP connect + TLS handshake, then give up */
	AGENT_TURNTLS_CONNS_MAX = 64,		/* open bridged connections per server */
	AGENT_TURNTLS_RETRY_MS = 500,		/* accept again after an accept error */
	/* No data either way for this long closes a bridged connection: longer than libnice's
	 * TURN refresh interval (it refreshes 60 s before the allocation's lifetime ends, 600 s by
	 * default, RFC 8656 §3.2), so only a dead or abandoned connection goes. */
	AGENT_TURNTLS_IDLE_S = 900,
	AGENT_TURNTLS_IDLE_CHECK_MAX_MS = 30000,	/* idle checks at idle/4, at most this apart */
	AGENT_TURNTLS_ERROR_MAX = 255,
};

/* Starts the bridge for url ("turns:HOST[:PORT][?transport=tcp]", default port 5349). The server
 * certificate is checked against ca_file (PEM, replaces the system store) or, when ca_file is
 * NULL, the system CA store; the server name is HOST. Listens on 127.0.0.1 only, on a port the
 * kernel picks. Returns 0 or -errno with err filled (no TLS backend, bad URL, unreadable
 * ca_file). */
int agent_turntls_new(struct agent_turntls **out, GMainContext *ctx, const char *url,
		      const char *ca_file, struct rg_err *err);
/* Cancels every bridged connection and closes the listener. NULL is fine. */
void agent_turntls_free(struct agent_turntls *t);

/* What libnice gets instead of the turns: URL: "turn:127.0.0.1:PORT?transport=tcp". */
const char *agent_turntls_local_url(const struct agent_turntls *t);
/* The configured turns: URL. */
const char *agent_turntls_url(const struct agent_turntls *t);
/* The last failed TLS connection's error ("" when the last one succeeded or none was tried). */
const char *agent_turntls_error(const struct agent_turntls *t);
/* TLS connections set up (certificate verified) and failed so far. */
uint64_t agent_turntls_ok_count(const struct agent_turntls *t);
uint64_t agent_turntls_fail_count(const struct agent_turntls *t);
/* Bridged connections open now. */
unsigned agent_turntls_open(const struct agent_turntls *t);
/* Connections refused because they did not come from this process's own sockets. */
uint64_t agent_turntls_refused_count(const struct agent_turntls *t);
/* Connections closed because they were idle. */
uint64_t agent_turntls_idle_count(const struct agent_turntls *t);
/* Replaces AGENT_TURNTLS_IDLE_S (tests). 0 restores the default. */
void agent_turntls_set_idle_ms(struct agent_turntls *t, unsigned ms);

#endif
