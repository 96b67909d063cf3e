/* riftgate-hub's server: the hub core (src/hub) behind its own epoll HTTP/1.1 + WebSocket
 * server (server.c; parsing in http.c and ws.c).
 *
 * Serves the WebSocket upgrade on /connect and on any other path that asks for one (like the
 * Go original), GET /healthz and GET /metrics (Prometheus text; with metrics_addr only on that
 * second listener, e.g. loopback). A bearer token, when set, is required on the upgrade and
 * compared in constant time. Connections, queues and the time to join are bounded (limits.h).
 * One event per log line, control characters escaped. Runs on the thread-default GMainContext
 * of the thread that created it.
 */
#ifndef RG_HUBD_SERVER_H
#define RG_HUBD_SERVER_H

#include <stdint.h>

struct hub_relay_cfg;
struct hubd_limits;
struct rg_err;
struct hubd_server;

struct hubd_server_cfg {
	const char *addr;	/* "HOST:PORT", ":PORT" (all interfaces), "[::1]:PORT"; port 0 = any */
	const char *token;	/* NULL or "" = open hub */
	const struct hub_relay_cfg *relay;	/* copied; NULL = the defaults (src/hub/relay.h) */
	const char *version;	/* riftgate_hub_build_info labels (copied); NULL = "" */
	const char *revision;
	/* Signed membership (docs/membership.md): with a trust anchor (base64 Ed25519 public key)
	 * and the network id its certificates name, every join needs a valid, unrevoked
	 * certificate for its peerId, key and address, and a seated peerId is never taken over.
	 * revoked_file: the admin's NAME.trust/revoked (base64 records), re-read when it changes. */
	const char *trust_anchor;	/* NULL = no enforcement */
	const char *trust_network;
	const char *revoked_file;	/* NULL = none */
	/* trust_state_file: ticket bindings and key rotations the hub has seen, appended as they
	 * happen and read back at start, so a restart cannot allow a second binding of a ticket
	 * or bring back a key a rotation replaced; NULL = kept in memory only */
	const char *trust_state_file;
	const struct hubd_limits *limits;	/* copied; NULL = the defaults (limits.h) */
	const char *metrics_addr;	/* NULL: /metrics on addr; else only on this listener */
};

/* Binds and starts serving. Returns 0 or -errno with err ("cannot listen on 127.0.0.1:80: ..."). */
int hubd_server_new(struct hubd_server **out, const struct hubd_server_cfg *cfg,
		      struct rg_err *err);
/* The port actually bound (useful with port 0). */
uint16_t hubd_server_port(const struct hubd_server *s);
/* The --metrics-addr listener's port, 0 when there is none. */
uint16_t hubd_server_metrics_port(const struct hubd_server *s);
/* Sends a close frame (1001 going away) to every WebSocket and stops listening. Sockets finish
 * closing asynchronously; iterate the main context until
 * hubd_server_open_count() is 0. */
void hubd_server_shutdown(struct hubd_server *s);
/* WebSockets still open. */
int hubd_server_open_count(const struct hubd_server *s);
void hubd_server_free(struct hubd_server *s);

#endif
