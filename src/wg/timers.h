/* The per-peer timers of the whitepaper (§6), as deadlines in monotonic ns that device.c asks
 * for (wg_timers_next) and runs (wg_timers_run) from wg_device_tick(). Events from the data
 * path arm and disarm them; nothing here sleeps or owns an OS timer. Only timers.c writes a
 * deadline, and every write re-files the peer in its device's schedule (a binary min-heap of
 * peers by earliest deadline), so wg_timers_earliest() answers without walking the peers. */
#ifndef RG_WG_TIMERS_H
#define RG_WG_TIMERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_device;
struct wg_peer;

struct wg_timers {
	/* deadlines, 0 = disarmed */
	uint64_t retransmit_handshake;	/* REKEY_TIMEOUT + jitter after an initiation */
	uint64_t send_keepalive;	/* KEEPALIVE_TIMEOUT after data received, none sent */
	uint64_t new_handshake;		/* KEEPALIVE + REKEY_TIMEOUT after data sent, none received */
	uint64_t zero_key_material;	/* 3 * REJECT_AFTER_TIME after the last new session */
	uint64_t persistent_keepalive;	/* interval after any authenticated packet */
	uint64_t session_expiry;	/* current keypair reaches REJECT_AFTER_TIME */
	unsigned handshake_attempts;
	uint64_t last_sent_handshake_ns;	/* 0 = never */
	bool need_another_keepalive;
	uint64_t next;			/* earliest deadline above, UINT64_MAX = none: heap key */
	size_t sched_pos;		/* index in the device's schedule */
};

/* A new peer: every timer disarmed, filed in its device's schedule. -ENOMEM leaves the
 * peer out of it (the caller frees the peer). */
int wg_timers_init(struct wg_peer *peer);
/* Data-path events (names follow the kernel's timers.c). */
void wg_timers_data_sent(struct wg_peer *peer);
void wg_timers_data_received(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_received(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer);
void wg_timers_handshake_initiated(struct wg_peer *peer);
void wg_timers_handshake_complete(struct wg_peer *peer);
void wg_timers_session_derived(struct wg_peer *peer);
/* Peer teardown: disarms everything and takes the peer out of its device's schedule. */
void wg_timers_stop(struct wg_peer *peer);
/* Key and session state changes made in peer.c and device.c. at_ns 0 = no session. */
void wg_timers_session_expires(struct wg_peer *peer, uint64_t at_ns);
void wg_timers_keys_zeroed(struct wg_peer *peer);
void wg_timers_persistent_keepalive_off(struct wg_peer *peer);

uint64_t wg_timers_next(const struct wg_peer *peer);
/* The earliest deadline of all the device's peers (UINT64_MAX: none), in O(1). */
uint64_t wg_timers_earliest(const struct wg_device *dev);
void wg_timers_run(struct wg_peer *peer, uint64_t now_ns);

#endif
