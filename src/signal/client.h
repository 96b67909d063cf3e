/* Signaling client: one WebSocket to the hub (libsoup 3), kept up forever.
 *
 * Runs on the caller's GMainContext (every callback fires there). ws:// and wss:// (TLS through
 * glib-networking with the system CA store); sends `Authorization: Bearer TOKEN` when a token is
 * set; pings every SIG_CLIENT_PING_S and drops a connection that has been silent (no frame, no
 * pong) for SIG_CLIENT_DEAD_PINGS intervals — a half-open TCP connection behind a NAT would
 * otherwise look alive forever; sends `join` after every (re)connect; reconnects with
 * capped exponential backoff and full jitter (signal/backoff.h). An HTTP 401/403 on the upgrade
 * is reported once through ops->fatal ("hub rejected token") and retried at most every
 * SIG_BACKOFF_AUTH_MIN_MS (a rejected client never loops). A close with code 4000 (another
 * connection joined with our peerId) is reported through ops->fatal too and retried on the same
 * slow schedule, so two processes sharing an id do not flap; so are 4003 and 4004 (a hub that
 * enforces signed membership refused our certificate or our peerId's seat). Incoming frames over SIG_MSG_MAX
 * bytes close the connection; frames that fail to parse are dropped (debug log).
 *
 * Outgoing frames are paced below the hub's per-connection limit (src/hub/hub.h: 50 frames/s,
 * bursts of 200, then it drops and finally closes with 1008): a token bucket of
 * SIG_CLIENT_SEND_PER_S and SIG_CLIENT_SEND_BURST, frames over it queued (at most
 * SIG_CLIENT_QUEUE_MAX, then refused) and sent from a timer, so a burst of offers and candidates
 * to many peers never gets the agent kicked by its own hub.
 */
#ifndef RG_SIGNAL_CLIENT_H
#define RG_SIGNAL_CLIENT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "signal/msg.h"

struct rg_err;
struct sig_client;

enum sig_client_limits {
	SIG_CLIENT_PING_S = 25,
	SIG_CLIENT_DEAD_PINGS = 3,	/* silent for this many ping intervals: reconnect */
	SIG_CLIENT_CONNECT_TIMEOUT_S = 15,
	SIG_CLIENT_SEND_PER_S = 40,	/* below HUB_RATE_PER_S (50) */
	SIG_CLIENT_SEND_BURST = 100,	/* below HUB_RATE_BURST (200) */
	SIG_CLIENT_QUEUE_MAX = 4096,	/* frames waiting for a token */
};

struct sig_client_cfg {
	const char *url;	/* ws://HOST[:PORT][/PATH] or wss://...; copied */
	const char *token;	/* bearer token or NULL; copied, wiped on free */
	const char *peer_id;	/* join fields; copied */
	const char *public_key;
	const char *address;	/* NULL: no address extension */
	const char *cert;	/* base64 device certificate or NULL (signed networks); copied */
	const char *rotation;	/* base64 key rotation of that certificate or NULL; copied */
	/* 16 hex digits: the certificate's serial, sent as X-Riftgate-Serial at every upgrade so a
	 * hub that holds its revocation refuses it before the WebSocket exists; NULL = none */
	const char *cert_serial;
	const char *const *routes;	/* NULL-terminated; NULL: no routes extension; copied */
	/* Test hooks (0/NULL = defaults): backoff base/cap in ms, ping interval in s, the RNG. */
	uint32_t backoff_base_ms, backoff_cap_ms;
	uint32_t ping_s;
	uint32_t (*rng)(void *opaque);
	void *rng_opaque;
};

/* Callbacks, all on the client's GMainContext. Any may be NULL. The client may be freed from
 * inside any of them. */
struct sig_client_ops {
	void (*connected)(struct sig_client *c, void *opaque);	/* join already sent */
	void (*disconnected)(struct sig_client *c, const char *reason, void *opaque);
	/* A parsed frame from the hub (peers, join, offer, answer, ice-candidate, peer-left,
	 * error); m is valid only during the call. */
	void (*message)(struct sig_client *c, const struct sig_msg *m, void *opaque);
	/* Something a person must fix (token rejected, bad URL). The client keeps retrying
	 * slowly unless freed. */
	void (*fatal)(struct sig_client *c, const struct rg_err *err, void *opaque);
	/* A binary frame from the hub: a relay frame (signal/relay.h, not yet parsed), valid only
	 * during the call. Frames over SIG_RELAY_FRAME_MAX are dropped before this. */
	void (*binary)(struct sig_client *c, const uint8_t *frame, size_t len, void *opaque);
};

/* Creates the client (not yet connecting). Returns 0 or -EINVAL with err (bad URL, missing
 * peer_id/public_key). ctx NULL = the thread-default main context. */
int sig_client_new(struct sig_client **out, GMainContext *ctx, const struct sig_client_cfg *cfg,
		   const struct sig_client_ops *ops, void *opaque, struct rg_err *err);
/* Starts connecting (idempotent). */
void sig_client_start(struct sig_client *c);
/* Sends m if connected (0), else -ENOTCONN; over the pace it is queued (0) or, with the queue
 * full, refused (-ENOBUFS, counted). Messages are not kept across reconnects: the caller
 * re-negotiates on `connected`. */
int sig_client_send(struct sig_client *c, const struct sig_msg *m);
/* Sends one relay frame (signal/relay.h) as a binary frame: 0, -ENOTCONN, -EMSGSIZE, or -ENOBUFS
 * when it would exceed the client's pacing (the budget the hub announced, sig_client_relay_pace)
 * or the socket already has half its send buffer waiting: a datagram, dropped rather than
 * queued. */
int sig_client_send_binary(struct sig_client *c, const uint8_t *frame, size_t len);
/* The hub announced the relay in its last `peers` reply on the current connection. */
bool sig_client_relay_available(const struct sig_client *c);
/* The relay pace in charged bytes (frame + SIG_RELAY_FRAME_COST): per second and burst. */
void sig_client_relay_pace(const struct sig_client *c, uint32_t *rate, uint32_t *burst);
/* Changes the address sent in join from the next (re)connect on; NULL removes it. */
void sig_client_set_address(struct sig_client *c, const char *address);
/* A new WireGuard key (riftgate rotate) with the rotation record that certifies it (NULL in an
 * unsigned network): used by every later join, and sent at once as a join on the open connection
 * (the hub refreshes a joined connection's key in place and forwards the join). */
void sig_client_set_key(struct sig_client *c, const char *public_key, const char *rotation);
/* Replaces the routes extension of join (NULL: absent, an empty list: none) and, while
 * connected, joins again at once: the hub refreshes a joined connection in place and forwards
 * the join to every peer (docs/signaling.md). */
void sig_client_set_routes(struct sig_client *c, const char *const *routes);
bool sig_client_is_connected(const struct sig_client *c);
/* Drops a working connection and reconnects (after the usual short backoff): the host's
 * addresses changed, and the connection may be bound to one that is gone, where TCP would
 * take minutes to notice. Reports disconnected, then connected. No-op while not connected. */
void sig_client_reconnect(struct sig_client *c, const char *why);
/* Why the hub is not connected (the last failure; NONE while connected or before the first
 * attempt ends). Names (sig_client_failure_name) are stable: `status --json` shows them. */
enum sig_client_failure {
	SIG_FAIL_NONE = 0,
	SIG_FAIL_UNREACHABLE,		/* refused, no route, DNS, timeout */
	SIG_FAIL_TLS,			/* TLS handshake or certificate */
	SIG_FAIL_TOKEN,			/* HTTP 401/403: auth_token refused */
	SIG_FAIL_HTTP,			/* another HTTP answer than the upgrade */
	SIG_FAIL_LOST,			/* was connected: closed, silent or reset */
	SIG_FAIL_REPLACED,		/* another connection joined with our peer id */
};
enum sig_client_failure sig_client_last_failure(const struct sig_client *c);
const char *sig_client_failure_name(enum sig_client_failure f);
/* Frames waiting for the pace now, and frames refused since the start (queue full). */
unsigned sig_client_queued(const struct sig_client *c);
uint64_t sig_client_send_dropped(const struct sig_client *c);
/* Successful connections so far (1 after the first connect, +1 per reconnect). */
unsigned sig_client_connect_count(const struct sig_client *c);
/* Closes the socket (normal closure), cancels timers, frees. NULL is fine. */
void sig_client_free(struct sig_client *c);

#endif
