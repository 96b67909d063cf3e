/* Relay frames as the client sees them (docs/signaling.md §Relay): one WireGuard datagram per
 * binary WebSocket frame, addressed by peerId. The same layout as the hub core's (src/hub/
 * relay.h), kept here so the client does not depend on the hub; the golden vectors of both
 * tests are the same bytes. Pure functions, any thread. */
#ifndef RG_SIGNAL_RELAY_H
#define RG_SIGNAL_RELAY_H

#include <stddef.h>
#include <stdint.h>

enum sig_relay_wire {
	SIG_RELAY_DATAGRAM = 0x01,
	SIG_RELAY_ID_MAX = 255,
	SIG_RELAY_PAYLOAD_MAX = 9216,
	SIG_RELAY_FRAME_MAX = 2 + SIG_RELAY_ID_MAX + SIG_RELAY_PAYLOAD_MAX,
	SIG_RELAY_FRAME_COST = 64,	/* the hub charges each frame this much on top */
};

/* Client-side pacing: the per-socket budget the hub announces in `peers` ("relayRate",
 * "relayBurst"), so a client that keeps to it is never dropped or closed for its own rate.
 * A hub that announces none gets the hub's default (src/hub/relay.h); announced values are
 * clamped to the bounds below (a burst holds at least one largest frame). */
enum sig_relay_budget {
	SIG_RELAY_RATE = 8 * 1024 * 1024,	/* charged bytes per second */
	SIG_RELAY_BURST = 512 * 1024,
	SIG_RELAY_RATE_MIN = 1024,
	SIG_RELAY_RATE_MAX = 1024 * 1024 * 1024,
	SIG_RELAY_BURST_MIN = SIG_RELAY_FRAME_MAX + SIG_RELAY_FRAME_COST,
	SIG_RELAY_BURST_MAX = 64 * 1024 * 1024,
};

/* Writes the frame for payload to peer_id into out (cap bytes). Returns its length, or 0 when
 * the id is empty or too long, the payload empty or too long, or cap too small. */
size_t sig_relay_encode(uint8_t *out, size_t cap, const char *peer_id, const uint8_t *payload,
			size_t len);
/* Parses a frame: the peerId (not NUL-terminated) and the payload, pointing into frame.
 * Returns 0 or -EINVAL (empty, short, unknown type, id past the end, oversized). */
int sig_relay_parse(const uint8_t *frame, size_t len, const uint8_t **id, size_t *id_len,
		    const uint8_t **payload, size_t *payload_len);

#endif
