/* The object model inside the core: a device owns its peers, each peer embeds its handshake,
 * cookie state, timers and endpoint and owns up to three keypairs (previous, current, next) and
 * its staged-packet queue. Internal to src/wg; callers see the opaque types of device.h. */
#ifndef RG_WG_PEER_H
#define RG_WG_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/allowedips.h"
#include "wg/cookie.h"
#include "wg/device.h"
#include "wg/noise.h"
#include "wg/timers.h"

enum { WG_INDEX_BUCKETS = 1024 };

struct wg_staged {
	uint8_t *buf;			/* owned: headroom + packet + tailroom */
	size_t len;			/* packet bytes after the headroom */
};

struct wg_peer {
	struct wg_device *dev;		/* back-pointer, not owned */
	struct wg_peer *next, *prev;	/* device list, insertion order */
	uint8_t public_key[WG_PUBLIC_KEY_LEN];
	struct wg_handshake hs;
	struct wg_keypair *kp_prev;	/* owned, may be NULL */
	struct wg_keypair *kp_cur;	/* owned */
	struct wg_keypair *kp_next;	/* owned: responder's new keypair until confirmed */
	struct wg_cookie cookie;
	struct wg_timers timers;
	struct wg_endpoint endpoint;
	uint16_t persistent_keepalive_s;
	uint64_t rx_bytes, tx_bytes;
	uint64_t last_handshake_wall_ns;	/* 0 = never */
	struct wg_staged staged[WG_STAGED_MAX];	/* ring */
	unsigned staged_head, staged_count;
	bool has_session_event;		/* HANDSHAKE_COMPLETE sent, no EXPIRED since */
	void *user;			/* caller's, not owned */
};

struct wg_device {
	struct wg_device_ops ops;
	void *opaque;			/* caller's, not owned */
	struct wg_static_identity id;
	struct wg_cookie_checker checker;
	struct wg_peer *peers_head, *peers_tail;	/* owned list */
	size_t npeers;
	struct wg_peer **sched;		/* owned array (not the peers): timers.c's heap */
	size_t sched_len, sched_cap;
	struct wg_allowedips aip;
	struct wg_index_entry *index[WG_INDEX_BUCKETS];	/* chains of embedded entries */
	uint32_t mtu;			/* 0 = unknown: pad to 16 without a cap */
	int under_load_forced;		/* -1 auto, 0 off, 1 on */
	uint64_t load_window_start_ns;
	unsigned load_count;
	uint64_t under_load_until_ns;
	uint64_t jitter_state;		/* timer jitter generator; seeded on first use */
	bool jitter_seeded;
};

/* Device services used by peer.c, timers.c and device.c. */
uint64_t wg_device_now(const struct wg_device *dev);
uint64_t wg_device_wall(const struct wg_device *dev);
void wg_device_random(const struct wg_device *dev, uint8_t *buf, size_t len);
/* Uniform in 0..max for timer jitter only: not secret, so a cheap generator seeded once from
 * wg_device_random (8 bytes, on the first call) rather than the CSPRNG per draw. */
uint32_t wg_device_jitter(struct wg_device *dev, uint32_t max);
int wg_device_send_raw(struct wg_device *dev, struct wg_peer *peer, const uint8_t *buf,
		       size_t len);
void wg_device_event(struct wg_device *dev, struct wg_peer *peer, enum wg_peer_event ev);
/* Reserves a fresh random index for e and links it. */
void wg_index_insert(struct wg_device *dev, struct wg_index_entry *e, struct wg_peer *peer,
		     uint8_t kind);
void wg_index_remove(struct wg_device *dev, struct wg_index_entry *e);
struct wg_index_entry *wg_index_lookup(const struct wg_device *dev, uint32_t index);

/* Peer operations (peer.c). */
struct wg_peer *wg_peer_create(struct wg_device *dev, const uint8_t pub[static 32]);
void wg_peer_destroy(struct wg_peer *peer);
/* Sends an initiation now unless one was sent less than REKEY_TIMEOUT ago (is_retry skips the
 * check). Returns 0, -ENOKEY, -EDESTADDRREQ, -EAGAIN or a send error. */
int wg_peer_send_initiation(struct wg_peer *peer, bool is_retry);
int wg_peer_send_keepalive(struct wg_peer *peer);
/* Encrypts pkt (headroom/tailroom contract) with the current keypair and sends it. Returns
 * -ENOKEY when no keypair can send. */
int wg_peer_send_data(struct wg_peer *peer, uint8_t *pkt, size_t len);
int wg_peer_stage(struct wg_peer *peer, const uint8_t *pkt, size_t len);
void wg_peer_flush_staged(struct wg_peer *peer);
void wg_peer_drop_staged(struct wg_peer *peer);
/* Installs a new keypair from a completed handshake. */
void wg_peer_install_keypair(struct wg_peer *peer, struct wg_keypair *kp);
/* Responder: the initiator used kp_next, so it becomes current. */
bool wg_peer_confirm_next(struct wg_peer *peer, struct wg_keypair *kp);
void wg_peer_zero_keys(struct wg_peer *peer);
void wg_peer_expire_current(struct wg_peer *peer);

#endif
