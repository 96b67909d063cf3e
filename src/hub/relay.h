/* Hub relay: WireGuard datagrams between joined peers of one network, as binary WebSocket frames
 * on the signaling socket (docs/signaling.md §Relay). Part of the freestanding hub core.
 *
 *	host                                 hub
 *	binary frame received   hub_binary() -> ops->send_binary to the addressed peer, or a drop
 *
 * A datagram service: nothing is queued in the hub. A frame that does not fit the sender's
 * budget, the network's budget, the sender's fair share of a congested network, the receiver's
 * budget or the sender's fair share of a congested receiver, the network's daily budget, or a
 * receiver whose host backlog is full is dropped and counted, never buffered. A socket is closed (1008) only when it sends far past its budget (close_factor).
 * Frames are accepted only from joined sockets and delivered only to joined peers of the same
 * struct hub (= one network), with the source peerId written by the hub (no spoofing).
 */
#ifndef RG_HUB_RELAY_H
#define RG_HUB_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hub;

/* Wire format of one relay frame (both directions):
 *	u8 type (HUB_RELAY_DATAGRAM) | u8 L (1..255) | L bytes peerId | payload (1..PAYLOAD_MAX)
 * Client -> hub: peerId is the destination. Hub -> client: peerId is the source. */
enum hub_relay_wire {
	HUB_RELAY_DATAGRAM = 0x01,
	HUB_RELAY_HEADER_MIN = 2,		/* type + id length */
	HUB_RELAY_PAYLOAD_MAX = 9216,		/* a WireGuard datagram at TUN MTU 9000 + 32 fits */
	HUB_RELAY_FRAME_MAX = 2 + 255 + HUB_RELAY_PAYLOAD_MAX,
	HUB_RELAY_FRAME_COST = 64,		/* bytes charged per frame on top of its length */
};

/* Defaults of struct hub_relay_cfg (docs/signaling.md §Relay budgets). Rates in bytes/s of
 * charged bytes (frame length + HUB_RELAY_FRAME_COST). */
enum hub_relay_defaults {
	HUB_RELAY_SOCK_RATE = 8 * 1024 * 1024,		/* per sending socket */
	HUB_RELAY_SOCK_BURST = 512 * 1024,
	HUB_RELAY_NET_RATE = 32 * 1024 * 1024,		/* per network (struct hub) */
	HUB_RELAY_NET_BURST = 2 * 1024 * 1024,
	HUB_RELAY_RECV_RATE = 8 * 1024 * 1024,		/* per receiving socket, all senders */
	HUB_RELAY_RECV_BURST = 512 * 1024,
	HUB_RELAY_BACKLOG_MAX = 256 * 1024,		/* receiver's queued bytes in the host */
	HUB_RELAY_CLOSE_FACTOR = 8,			/* close past 8x the socket budget */
	HUB_RELAY_ACTIVE_WINDOW_MS = 1000,		/* a sender counts as active this long */
	HUB_RELAY_FLOWS = 8,				/* senders tracked per receiver */
};

struct hub_relay_cfg {
	bool enabled;			/* false: every frame dropped (drop_disabled) */
	uint32_t sock_rate, sock_burst;	/* bytes/s, bytes */
	uint32_t net_rate, net_burst;
	uint32_t recv_rate, recv_burst;	/* per receiving socket, shared fairly by its senders */
	uint32_t backlog_max;		/* bytes; checked only when the host has ops->backlog */
	uint32_t close_factor;		/* 0 = never close for flooding */
	uint64_t daily_bytes;		/* relayed payload bytes per UTC day; 0 = unlimited */
};

/* Counters (only grow). Every frame received is either relayed or counted in one drop_*. */
struct hub_relay_stats {
	uint64_t frames_in, bytes_in;		/* binary frames received (all) */
	uint64_t frames_out, bytes_out;		/* relayed frames and their payload bytes */
	uint64_t drop_malformed;		/* empty, short, bad id length, unknown type */
	uint64_t drop_oversized;		/* over HUB_RELAY_FRAME_MAX */
	uint64_t drop_unjoined;			/* sender has not joined */
	uint64_t drop_unknown_peer;		/* no such joined peer (never joined, or left) */
	uint64_t drop_not_allowed;		/* to itself, or membership refused (hub_relay_allow) */
	uint64_t drop_sock_rate;		/* sender over its budget */
	uint64_t drop_net_rate;			/* network over its budget */
	uint64_t drop_fair;			/* network congested, sender over its fair share */
	uint64_t drop_receiver;			/* receiver over its budget, or congested and the
						 * sender over its share of it */
	uint64_t drop_slow;			/* receiver's host backlog full */
	uint64_t drop_daily;			/* network's daily budget spent */
	uint64_t drop_disabled;			/* relay off, or the host cannot send binary */
	uint64_t kicked;			/* sockets closed for flooding */
};

/* One sender's share of a receiver (deficit round robin without a queue, see relay.c). */
struct hub_relay_flow {
	uint64_t src;			/* sending conn id; 0 = free slot */
	int64_t deficit;		/* bytes this sender may still send while congested */
	uint64_t last_ms;		/* last refill */
	uint64_t seen_ms;		/* last frame offered */
};

/* Per-socket state, embedded in the hub's connection (zero = fresh). */
struct hub_relay_conn {
	int64_t tokens;			/* own budget, bytes (may not go below 0) */
	int64_t fair;			/* fair-share budget, bytes (goes negative when borrowing) */
	int64_t abuse;			/* close_factor x budget; socket closed when empty */
	uint64_t last_ms;		/* last refill */
	uint64_t active_epoch;		/* epoch (now / ACTIVE_WINDOW) of the last relayed frame + 1 */
	bool primed;			/* buckets filled once */
	/* as a receiver: its budget, and its senders' shares */
	int64_t rx_tokens;
	uint64_t rx_last_ms;
	bool rx_primed;
	struct hub_relay_flow flows[HUB_RELAY_FLOWS];
};

/* Per-network state, embedded in struct hub. */
struct hub_relay {
	struct hub_relay_cfg cfg;
	struct hub_relay_stats stats;
	int64_t net_tokens;
	uint64_t net_last_ms;
	bool net_primed;
	uint64_t epoch;			/* current active-sender epoch */
	uint32_t active_now, active_prev;	/* senders seen in this / the previous epoch */
	uint64_t day;			/* UTC day number of day_bytes */
	uint64_t day_bytes;
	uint8_t out[HUB_RELAY_FRAME_MAX];	/* the frame being forwarded */
};

/* Fills cfg with the defaults above (enabled). */
void hub_relay_cfg_default(struct hub_relay_cfg *cfg);
/* Replaces the network's relay settings (buckets keep their levels, clamped to the new bursts). */
void hub_relay_configure(struct hub *h, const struct hub_relay_cfg *cfg);
void hub_relay_get_stats(const struct hub *h, struct hub_relay_stats *out);
/* Sum of every drop_* counter. */
uint64_t hub_relay_drops(const struct hub_relay_stats *s);
/* The daily budget's state (UTC day number, payload bytes relayed that day), for hosts that lose
 * the hub's memory (Durable Object hibernation) and keep it elsewhere. */
void hub_relay_usage(const struct hub *h, uint64_t *day, uint64_t *bytes);
void hub_relay_set_usage(struct hub *h, uint64_t day, uint64_t bytes);
/* Whether the hub relays at all (enabled and the host has ops->send_binary): announced to
 * joiners as "relay":true in `peers`. */
bool hub_relay_available(const struct hub *h);

/* One binary frame from conn; now_ms as for hub_text() (wall clock in ms since the Unix epoch
 * makes daily_bytes follow UTC days; a monotonic clock gives 24 h periods). Unknown or closing
 * conns are ignored. */
void hub_binary(struct hub *h, uint64_t conn, const uint8_t *frame, size_t len, uint64_t now_ms);

/* Parses a relay frame: *id, *id_len the peerId; *payload, *payload_len the rest.
 * Returns 0, or which drop_* it is: -1 malformed, -2 oversized. Shared by the hub and tests. */
int hub_relay_parse(const uint8_t *frame, size_t len, const uint8_t **id, size_t *id_len,
		    const uint8_t **payload, size_t *payload_len);

#endif
