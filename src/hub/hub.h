/* Hub core: the signaling hub as a pure state machine (DESIGN.md §Signaling, docs/signaling.md).
 *
 * No I/O, no GLib, no libc: it builds freestanding for wasm32-unknown-unknown (the Cloudflare
 * Worker's Durable Object) as well as natively (riftgate-hub, src/hubd/server.c). The host
 * owns the sockets and feeds events in; the hub answers through the host's vtable:
 *
 *	host                                hub
 *	socket accepted        hub_open()
 *	text frame received    hub_text()   -> ops->send / ops->close / ops->joined
 *	socket closed          hub_close()  -> ops->send (peer-left to the others)
 *	woke from hibernation  hub_restore() (silent: no frame is emitted)
 *	binary frame received  hub_binary()  -> ops->send_binary (relay.h)
 *
 * Rules: frames before `join` are rejected with an error frame; `join` gets a `peers` reply (split
 * across several frames when one would exceed HUB_FRAME_MAX) and is forwarded to everyone else;
 * offer/answer/ice-candidate/revoke go only to `to`, with `from` overwritten by the sender's
 * registered peerId (every other field, unknown ones included, is copied as is); a second
 * connection claiming a live peerId is refused (close 4001) unless it presents the same
 * publicKey, in which case it replaces the first as a reconnect (closed 4000; the others see
 * peer-left then join); malformed JSON, and any member name that decodes to text with U+0000,
 * gets an error frame and the connection is kept; frames over HUB_FRAME_MAX close the
 * connection; no frame the hub emits is larger than HUB_FRAME_MAX (a relay that would grow past
 * it is refused to its sender); a token bucket limits each connection.
 *
 * Memory: the hub never calls malloc. It asks the host for chunks through ops->grow (wasm:
 * memory.grow; native: malloc) and manages them itself; ops->release (may be NULL) gives them
 * back in hub_clear(). Threading: one thread; callbacks must not call back into the hub (a host
 * that closes a socket from ops->close reports it later through hub_close(), which is then a
 * no-op for a connection the hub already dropped).
 */
#ifndef RG_HUB_HUB_H
#define RG_HUB_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/relay.h"

enum hub_limits {
	HUB_FRAME_MAX = 64 * 1024,	/* bytes of one text frame, in and out (the client's limit) */
	HUB_ID_MAX = 64,		/* peerId: 1-64 of A-Z a-z 0-9 . _ - */
	HUB_KEY_LEN = 44,		/* publicKey: base64 of a 32-byte key */
	HUB_ADDR_MAX = 49,		/* address: IPv6 text (45) + "/128"; only 0-9 a-f A-F . : / */
	HUB_CERT_MAX = 2047,		/* bytes of a decoded cert (base64; trust/sign.h max 1400) */
	HUB_ROTATION_MAX = 511,		/* bytes of a decoded key rotation (base64; trust/sign.h max 376) */
	HUB_JSON_DEPTH_MAX = 32,	/* nesting of arrays/objects in one frame */
	HUB_JOIN_EXTRA_DEFAULT = 8 * 1024,	/* bytes of unknown members a join may carry */
};

/* Token bucket per connection: HUB_RATE_PER_S frames/s, bursts of HUB_RATE_BURST. A frame with no
 * token left is dropped with one `rate-limited` error frame; once the debt reaches
 * HUB_RATE_CLOSE_DEBT frames the connection is closed (1008). */
enum hub_rate {
	HUB_RATE_PER_S = 50,
	HUB_RATE_BURST = 200,
	HUB_RATE_CLOSE_DEBT = 200,
};

/* WebSocket close codes the hub asks for. */
enum hub_close_code {
	HUB_CLOSE_NORMAL = 1000,	/* hub shutting down */
	HUB_CLOSE_POLICY = 1008,	/* rate limit grossly exceeded */
	HUB_CLOSE_TOO_BIG = 1009,	/* frame over HUB_FRAME_MAX */
	HUB_CLOSE_REPLACED = 4000,	/* another connection joined with the same peerId and key */
	HUB_CLOSE_ID_IN_USE = 4001,	/* peerId held by a live connection with another key */
	HUB_CLOSE_NOT_ADMITTED = 4003,	/* signed network: join without a valid certificate */
	HUB_CLOSE_ID_TAKEN = 4004,	/* signed network: the peerId is seated on another socket */
};

/* Host callbacks. `host` is the opaque pointer given to hub_init(). Strings are NUL-terminated
 * UTF-8 and valid only during the call; frames are one complete JSON text (not NUL-terminated). */
struct hub_ops {
	void (*send)(void *host, uint64_t conn, const char *frame, size_t len);
	void (*close)(void *host, uint64_t conn, uint16_t code, const char *reason);
	/* conn registered as peer_id (after a join, or a join that replaced another conn). A host
	 * that hibernates persists these three strings and replays them with hub_restore(). address
	 * is "" when the peer sent none. */
	void (*joined)(void *host, uint64_t conn, const char *peer_id, const char *public_key,
		       const char *address);
	/* Returns at least `bytes` bytes of fresh memory, 16-byte aligned, or NULL. */
	void *(*grow)(void *host, size_t bytes);
	/* Optional (may be NULL): returns a chunk obtained from grow(), called only by hub_clear(). */
	void (*release)(void *host, void *chunk, size_t bytes);
	/* Optional: one binary frame (a relay frame, relay.h) to conn. NULL = no relay. */
	void (*send_binary)(void *host, uint64_t conn, const uint8_t *frame, size_t len);
	/* Optional: bytes the host has queued for conn and not yet written; the relay drops
	 * instead of queueing more than HUB_RELAY_BACKLOG_MAX. NULL = unknown (never drops). */
	size_t (*backlog)(void *host, uint64_t conn);
	/* Optional: signed membership (docs/membership.md). When set, a join is admitted only if
	 * this returns 0 for its peerId, publicKey, address ("" = none), cert (base64, "" =
	 * none: the host refuses it, and counts and logs it as it likes) and rotation (base64 key
	 * rotation of that cert, "" = none; publicKey is then the rotation's new key); otherwise the
	 * hub answers an error `not-admitted` with *why and closes the connection
	 * (HUB_CLOSE_NOT_ADMITTED). On 0 the host sets *rot_seq to the rotation's number (0 = none).
	 * A peerId seated on another connection is then never taken over, not even with the same
	 * key (the newcomer is closed with HUB_CLOSE_ID_TAKEN), unless the newcomer's rot_seq is
	 * greater than the seat's: a newer key rotation supersedes the seated key. */
	int (*admit)(void *host, uint64_t conn, const char *peer_id, const char *public_key,
		     const char *address, const char *cert, const char *rotation,
		     uint32_t *rot_seq, const char **why);
	/* Optional: the `revocations` member (JSON array text, validated JSON, not NUL-terminated)
	 * of a `revoke` frame the hub relayed, so a hub that enforces membership learns and keeps
	 * revocations as they travel between agents. */
	void (*revocations)(void *host, uint64_t conn, const char *json_array, size_t len);
};

/* Counters for /metrics. Gauges are current values; the rest only grow. */
struct hub_stats {
	uint64_t conns;		/* gauge: open connections (joined or not) */
	uint64_t peers;		/* gauge: joined connections */
	uint64_t opened;	/* connections ever opened (hub_open + hub_restore) */
	uint64_t joins;		/* successful joins */
	uint64_t relayed;	/* offer/answer/ice-candidate frames delivered */
	uint64_t rejects;	/* frames answered with an error frame or a close */
	uint64_t replaced;	/* connections closed because their peerId joined again */
	uint64_t refused;	/* joins refused by ops->admit or for a seated peerId */
	uint64_t frames_in;	/* text frames received */
	uint64_t frames_out;	/* frames sent */
};

struct hub_conn;
struct hub_chunk;

/* The hub. Callers embed it (its size is part of this header so wasm hosts can place it
 * statically); fields are private to hub.c. */
struct hub {
	const struct hub_ops *ops;
	void *host;
	struct hub_stats stats;
	struct hub_chunk *chunks;	/* every chunk from ops->grow, for hub_clear() */
	uint8_t *bump, *bump_end;	/* free space in the newest chunk */
	void *free_lists[24];		/* per power-of-two size class */
	struct hub_conn **by_id;	/* open addressing on conn id */
	size_t by_id_cap, by_id_used;
	struct hub_conn **by_peer;	/* open addressing on peerId (joined conns only) */
	size_t by_peer_cap, by_peer_used;
	struct hub_conn *joined_head;	/* every joined conn, in join order */
	struct hub_conn *joined_tail;
	char *out;			/* scratch for outgoing frames */
	size_t out_cap;
	char *scratch;			/* decoded strings of the frame being handled */
	size_t scratch_cap;
	uint32_t seed;			/* peerId hash seed (hub_set_seed) */
	struct hub_relay relay;		/* relay.c: budgets, counters (kept by hub_clear) */
	size_t join_extra_max;		/* hub_set_join_extra_max() */
};

/* Prepares h. No memory is requested until the first event. Returns 0 or -1 (ops incomplete). */
int hub_init(struct hub *h, const struct hub_ops *ops, void *host);
/* Seeds the peerId hash with a secret random value, so peers cannot pick ids that collide on
 * purpose (hash flooding). Call right after hub_init(), before any event; 0 = unseeded. */
void hub_set_seed(struct hub *h, uint32_t seed);
/* Bytes of unknown members (everything but type, peerId, publicKey, address, from, as they are
 * written in the forwarded join) a join may carry; a larger join is refused with an error frame.
 * Default HUB_JOIN_EXTRA_DEFAULT, 0 = none; capped so a forwarded join always fits HUB_FRAME_MAX.
 * Survives hub_clear(). */
void hub_set_join_extra_max(struct hub *h, size_t bytes);
/* Releases every chunk (through ops->release when set); h may be hub_init()ed again. No frame
 * is sent: a host shutting down closes its sockets itself. */
void hub_clear(struct hub *h);

/* A socket was accepted with id conn (unique among open conns; the host picks it).
 * Returns 0, -1 when out of memory (host should close the socket), -2 when conn is already open. */
int hub_open(struct hub *h, uint64_t conn);
/* One text frame from conn. now_ms is any millisecond clock of the host (monotonic preferred;
 * a clock going back only pauses the refill). Unknown conns are ignored. */
void hub_text(struct hub *h, uint64_t conn, const char *frame, size_t len, uint64_t now_ms);
/* conn's socket is gone: if it was joined, the others get peer-left. Unknown conns are ignored. */
void hub_close(struct hub *h, uint64_t conn);
/* Re-registers a joined conn after the host lost the hub's memory (Durable Object hibernation):
 * same state as after a join, but nothing is sent and ops->joined is not called. A conn already
 * open is updated. Returns 0, -1 out of memory, -2 invalid strings (the rules of a join), -3
 * peer_id already held by another conn. */
int hub_restore(struct hub *h, uint64_t conn, const char *peer_id, const char *public_key,
		const char *address);

/* Copies the counters into *out (gauges recomputed). */
void hub_get_stats(const struct hub *h, struct hub_stats *out);
/* Number of joined peers (the `peers` gauge). */
size_t hub_peer_count(const struct hub *h);

#endif
