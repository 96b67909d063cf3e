/* riftgate-hub's server: the hub core (src/hub) behind a libsoup 3 HTTP/WebSocket server.
 *
 * Serves the WebSocket upgrade on /connect and on any other path that asks for one (like the
 * Go original), GET /healthz and GET /metrics (Prometheus text). A bearer token, when set, is
 * required on the upgrade and compared in constant time. One event per log line. Runs on the
 * thread-default GMainContext of the thread that created it.
 */
#ifndef RG_SIGNAL_HUBSERVER_H
#define RG_SIGNAL_HUBSERVER_H

#include <stdint.h>

struct rg_err;
struct sig_hubserver;

struct sig_hubserver_cfg {
	const char *addr;	/* "HOST:PORT", ":PORT" (all interfaces), "[::1]:PORT"; port 0 = any */
	const char *token;	/* NULL or "" = open hub */
};

/* Binds and starts serving. Returns 0 or -errno with err ("cannot listen on 127.0.0.1:80: ..."). */
int sig_hubserver_new(struct sig_hubserver **out, const struct sig_hubserver_cfg *cfg,
		      struct rg_err *err);
/* The port actually bound (useful with port 0). */
uint16_t sig_hubserver_port(const struct sig_hubserver *s);
/* Sends a close frame (1001 going away) to every WebSocket and stops listening. Sockets finish
 * closing asynchronously; iterate the main context until
 * sig_hubserver_open_count() is 0. */
void sig_hubserver_shutdown(struct sig_hubserver *s);
/* WebSockets still open. */
int sig_hubserver_open_count(const struct sig_hubserver *s);
void sig_hubserver_free(struct sig_hubserver *s);

#endif
