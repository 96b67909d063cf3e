/* The WireGuard device: riftgate's userspace WireGuard protocol core (Noise_IKpsk2 handshake,
 * cookies, timers, replay window, cryptokey routing). It does no I/O and owns no thread or
 * timer: the caller feeds it datagrams from the transport (wg_device_input), IP packets from the
 * TUN device (wg_device_tun_input) and timer expiries (wg_device_tick); it hands work back
 * through the callbacks in struct wg_device_ops.
 *
 * Threading: a device is single-threaded by contract. The caller serialises every call on one
 * device (one event loop); callbacks run synchronously inside those calls and may not call back
 * into the same device, except the getters (wg_peer_get_*, wg_device_get_*).
 *
 * Endpoints are opaque to the core: up to WG_ENDPOINT_MAX bytes the transport understands (a
 * struct sockaddr_in/in6 for UDP, a peer id for WebRTC data channels). Two endpoints are equal
 * when their lengths and bytes are equal. Zero the struct before filling it.
 */
#ifndef RG_WG_DEVICE_H
#define RG_WG_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wg_device;
struct wg_peer;

enum wg_device_sizes {
	WG_KEY_LEN = 32,		/* Curve25519 private/public keys, preshared keys */
	WG_ENDPOINT_MAX = 64,		/* bytes of an opaque endpoint */
	/* wg_device_tun_input() encrypts in place: the caller leaves this many writable bytes
	 * before the IP packet (the 16-byte data message header) ... */
	WG_DATA_HEADROOM = 16,
	/* ... and this many after it (zero padding to a multiple of 16 plus the 16-byte tag). */
	WG_DATA_TAILROOM = 32,
	WG_DATA_OVERHEAD = 32,		/* header + tag: transport datagram = padded packet + 32 */
	WG_STAGED_MAX = 128,		/* packets queued per peer while a handshake is pending */
	WG_PACKET_MAX = 65535,		/* largest IP packet accepted from TUN */
};

enum wg_device_limits {
	WG_UNDER_LOAD_HANDSHAKES_PER_S = 128,	/* more initiations per second: demand mac2 */
};

/* An opaque transport address. len == 0 means "none". */
struct wg_endpoint {
	uint32_t len;
	_Alignas(8) uint8_t data[WG_ENDPOINT_MAX];
};

/* An allowed-IPs entry: family is AF_INET (addr[0..3]) or AF_INET6 (addr[0..15]). */
struct wg_allowed_ip {
	uint16_t family;
	uint8_t cidr;
	uint8_t addr[16];
};

/* A buffer for the optional batch send. */
struct wg_send_item {
	const struct wg_endpoint *ep;
	const uint8_t *buf;
	size_t len;
};

enum wg_peer_event {
	WG_PEER_HANDSHAKE_COMPLETE = 1,	/* a new session is usable (either side initiated) */
	WG_PEER_HANDSHAKE_FAILED,	/* gave up after REKEY_ATTEMPT_TIME without an answer */
	WG_PEER_SESSION_EXPIRED,	/* no usable session left (REJECT_AFTER_TIME or keys zeroed) */
};

struct wg_device_ops {
	/* Required: send one datagram to ep. Return 0 or -errno; the core counts tx bytes only
	 * on success and never retries (WireGuard tolerates loss). A data message encrypted by
	 * wg_device_tun_input()/wg_device_peer_send() lies inside the caller's own buffer
	 * (starting at pkt - WG_DATA_HEADROOM), so the caller may defer sending it (batching)
	 * while it keeps that buffer; every other buf (handshake messages, keepalives, staged
	 * packets) belongs to the core and is valid only during the call. */
	int (*send)(void *opaque, const struct wg_endpoint *ep, const uint8_t *buf, size_t len);
	/* Optional: send several datagrams at once (used when flushing staged packets). Returns
	 * how many were sent (a prefix of items). NULL: send() is called per item. */
	size_t (*send_batch)(void *opaque, const struct wg_send_item *items, size_t n);
	/* Required: a decrypted, authenticated IP packet (source already checked against the
	 * peer's allowed IPs) for the TUN device. pkt points into the buffer given to
	 * wg_device_input() and is valid during the call only. */
	void (*tun_write)(void *opaque, struct wg_peer *peer, uint8_t *pkt, size_t len);
	/* Optional: handshake completed / failed, session expired. */
	void (*peer_event)(void *opaque, struct wg_peer *peer, enum wg_peer_event ev);
	/* Optional clocks (tests inject fakes). Defaults: rg_mono_ns() and rg_wall_ns(). The
	 * monotonic clock drives every timer; wall time only TAI64N and last-handshake time. */
	uint64_t (*mono_ns)(void *opaque);
	uint64_t (*wall_ns)(void *opaque);
	/* Optional, tests only: deterministic randomness for ephemeral keys, indexes, cookie
	 * secrets and jitter. Default: OpenSSL RAND_bytes. */
	void (*random)(void *opaque, uint8_t *buf, size_t len);
	/* Optional endpoint text for UAPI `endpoint=`. Defaults treat the bytes as a struct
	 * sockaddr_in/in6 and use "1.2.3.4:51820" / "[::1]:51820" (numeric only).
	 * format: writes a NUL-terminated string, returns 0 or -ENOSPC/-EINVAL.
	 * parse: returns 0 or -EINVAL. */
	int (*endpoint_format)(void *opaque, const struct wg_endpoint *ep, char *out, size_t cap);
	int (*endpoint_parse)(void *opaque, const char *text, struct wg_endpoint *out);
};

/* Lifetime. ops is copied; opaque is passed to every callback. Returns 0 or -ENOMEM. */
int wg_device_new(struct wg_device **out, const struct wg_device_ops *ops, void *opaque);
/* Removes every peer (wiping all keys) and frees the device. NULL is fine. */
void wg_device_free(struct wg_device *dev);

/* Interface private key. NULL or all-zero removes it. Changing it drops every session and
 * handshake (and removes a peer whose public key equals the new public key, like the kernel). */
void wg_device_set_private_key(struct wg_device *dev, const uint8_t *key);
/* Key rotation (docs/membership.md §Key rotation): a new private key that keeps the transport
 * sessions (their keys are symmetric, derived once; they expire on the usual timers), so data
 * keeps flowing while peers learn the new public key. In-flight handshakes are dropped; the next
 * ones use the new key. 0, -EINVAL (no key, a peer has the new public key, unusable key). */
int wg_device_rotate_private_key(struct wg_device *dev, const uint8_t key[static WG_KEY_LEN]);
/* Copies the key out; false when none is set. */
bool wg_device_get_private_key(const struct wg_device *dev, uint8_t out[static WG_KEY_LEN]);
bool wg_device_get_public_key(const struct wg_device *dev, uint8_t out[static WG_KEY_LEN]);

/* Forces (on = 1) or releases (on = 0) "under load": initiations then need a valid mac2 and
 * get a cookie reply otherwise. With -1 (default) the core decides itself from the handshake
 * rate (more than WG_UNDER_LOAD_HANDSHAKES_PER_S in the last second). */
void wg_device_set_under_load(struct wg_device *dev, int on);

/* The TUN MTU (0 = unknown, the default). Data messages pad the packet to a multiple of 16
 * bytes but never beyond the MTU (like the kernel), so a full-MTU packet becomes exactly
 * MTU + WG_DATA_OVERHEAD bytes on the transport: set it when the transport has a hard message
 * size (one SCTP message, one UDP datagram without fragmentation). */
void wg_device_set_mtu(struct wg_device *dev, uint32_t mtu);
uint32_t wg_device_get_mtu(const struct wg_device *dev);

/* Peers, keyed by public key. add: 0, -EEXIST (*out = existing peer), -EINVAL (own key),
 * -ENOMEM. The device owns peers; a wg_peer pointer is valid until it is removed. */
int wg_device_add_peer(struct wg_device *dev, const uint8_t pub[static WG_KEY_LEN],
		       struct wg_peer **out);
struct wg_peer *wg_device_lookup_peer(const struct wg_device *dev,
				      const uint8_t pub[static WG_KEY_LEN]);
/* The peer rotated its key: it keeps its sessions, allowed IPs, endpoint and counters under pub;
 * an in-flight handshake is dropped, and from now on only pub may handshake as this peer (the
 * old key is no peer's). 0, -EINVAL (our own key), -EEXIST (another peer's key). */
int wg_device_peer_rekey(struct wg_device *dev, struct wg_peer *peer,
			 const uint8_t pub[static WG_KEY_LEN]);
/* Wipes the peer's keys, drops staged packets and frees it. */
void wg_device_remove_peer(struct wg_device *dev, struct wg_peer *peer);
void wg_device_remove_all_peers(struct wg_device *dev);
/* Iteration in insertion order: for (p = first(dev); p; p = next(p)). Removing the current peer
 * while iterating is allowed if next() was taken before. */
struct wg_peer *wg_device_first_peer(const struct wg_device *dev);
struct wg_peer *wg_device_next_peer(const struct wg_peer *peer);
size_t wg_device_peer_count(const struct wg_device *dev);
/* Cryptokey routing, outgoing direction: the peer owning dst (longest prefix) or NULL. */
struct wg_peer *wg_device_route(const struct wg_device *dev, int family, const uint8_t *dst);

/* Data path. Both return 0 when the packet was handled, or -errno when it was dropped
 * (silently: no log above debug level). No heap allocation and no copy per packet.
 *
 * A datagram from the transport. buf is decrypted in place (so it must be writable); handshake
 * messages may cause sends, data messages a tun_write. An authenticated packet from a new
 * src updates the peer's endpoint (roaming). */
int wg_device_input(struct wg_device *dev, const struct wg_endpoint *src, uint8_t *buf,
		    size_t len);
/* An IP packet read from TUN at pkt[0..len). The caller guarantees WG_DATA_HEADROOM writable
 * bytes before pkt and WG_DATA_TAILROOM after pkt + len. The packet is routed by destination,
 * encrypted in place and sent. Returns 0 (sent), 1 (staged: copied into the peer's bounded
 * queue and a handshake started; sent when it completes), -ENETUNREACH (no allowed IP),
 * -ENOKEY (no private key), -EDESTADDRREQ (peer has no endpoint), -EINVAL (not IPv4/IPv6 or
 * too short), -EMSGSIZE (longer than WG_PACKET_MAX), -ENOBUFS (staged queue full: oldest
 * dropped), or the transport's send error. */
int wg_device_tun_input(struct wg_device *dev, uint8_t *pkt, size_t len);
/* Sends pkt (same headroom/tailroom contract) to a given peer, bypassing routing (the agent's
 * per-peer paths use it). Same return values. */
int wg_device_peer_send(struct wg_device *dev, struct wg_peer *peer, uint8_t *pkt, size_t len);

/* Runs due timers (retransmit/rekey handshakes, keepalives, expiry, key zeroing, cookie
 * secret rotation) and returns the next deadline in monotonic ns (UINT64_MAX: nothing
 * pending). Call it when that deadline passes; after any other call, re-read
 * wg_device_next_deadline() since input may arm timers. */
uint64_t wg_device_tick(struct wg_device *dev);
uint64_t wg_device_next_deadline(const struct wg_device *dev);

/* Endpoint text through ops->endpoint_format/parse or the sockaddr defaults. */
int wg_device_endpoint_format(const struct wg_device *dev, const struct wg_endpoint *ep,
			      char *out, size_t cap);
int wg_device_endpoint_parse(const struct wg_device *dev, const char *text,
			     struct wg_endpoint *out);

/* Peer configuration. */
void wg_peer_get_public_key(const struct wg_peer *peer, uint8_t out[static WG_KEY_LEN]);
/* NULL or all-zero removes it. */
void wg_peer_set_preshared_key(struct wg_peer *peer, const uint8_t *psk);
/* false when none is set (out is then zeroed). */
bool wg_peer_get_preshared_key(const struct wg_peer *peer, uint8_t out[static WG_KEY_LEN]);
/* ep NULL or len 0 clears it. */
void wg_peer_set_endpoint(struct wg_peer *peer, const struct wg_endpoint *ep);
/* false when the peer has no endpoint. */
bool wg_peer_get_endpoint(const struct wg_peer *peer, struct wg_endpoint *out);
/* 0 disables. Enabling it sends a keepalive now (if a private key is set), like wireguard-go. */
void wg_peer_set_persistent_keepalive(struct wg_peer *peer, uint16_t seconds);
uint16_t wg_peer_get_persistent_keepalive(const struct wg_peer *peer);

/* Allowed IPs. The prefix is masked to cidr. Adding a prefix another peer owns moves it to
 * this peer (like `wg`). Return 0, -EINVAL (bad family/cidr) or -ENOMEM; remove returns
 * -ENOENT when this peer does not own that exact prefix. */
int wg_peer_allowed_ip_add(struct wg_peer *peer, const struct wg_allowed_ip *ip);
int wg_peer_allowed_ip_remove(struct wg_peer *peer, const struct wg_allowed_ip *ip);
void wg_peer_allowed_ips_clear(struct wg_peer *peer);
/* Calls fn for each of the peer's prefixes; stops early and returns fn's value if non-zero. */
int wg_peer_allowed_ips_foreach(const struct wg_peer *peer,
				int (*fn)(void *ctx, const struct wg_allowed_ip *ip), void *ctx);

struct wg_peer_stats {
	uint64_t rx_bytes;		/* transport bytes received and authenticated */
	uint64_t tx_bytes;		/* transport bytes sent */
	int64_t last_handshake_sec;	/* wall clock of the last completed handshake; 0 = never */
	int64_t last_handshake_nsec;
	bool has_session;		/* a keypair usable for sending exists now */
};
void wg_peer_get_stats(const struct wg_peer *peer, struct wg_peer_stats *out);

/* Starts a handshake now (if none is in flight and the rate limit allows). Returns 0,
 * -ENOKEY (no private key), -EDESTADDRREQ (no endpoint) or -EAGAIN (rate limited). */
int wg_peer_handshake_now(struct wg_peer *peer);
/* Caller's data, not owned (e.g. the agent's per-peer state). */
void wg_peer_set_user(struct wg_peer *peer, void *user);
void *wg_peer_get_user(const struct wg_peer *peer);
struct wg_device *wg_peer_device(const struct wg_peer *peer);

#endif
