/* The device: configuration, the receiver-index table, the receive side of the data path and
 * handshake message dispatch. Driven by the caller's loop through device.h (single-threaded by
 * contract); sends and TUN writes go out through the caller's ops. Malformed or unauthenticated
 * datagrams return -errno without logging above debug level and without allocating. */
#include "wg/device.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/rand.h>

#include "util/clock.h"
#include "util/ct.h"
#include "util/encoding.h"
#include "util/log.h"
#include "util/x25519.h"
#include "wg/messages.h"
#include "wg/peer.h"

enum { NS = 1000000000 };

uint64_t wg_device_now(const struct wg_device *dev)
{
	return dev->ops.mono_ns ? dev->ops.mono_ns(dev->opaque) : rg_mono_ns();
}

uint64_t wg_device_wall(const struct wg_device *dev)
{
	return dev->ops.wall_ns ? dev->ops.wall_ns(dev->opaque) : rg_wall_ns();
}

void wg_device_random(const struct wg_device *dev, uint8_t *buf, size_t len)
{
	if (dev->ops.random)
		dev->ops.random(dev->opaque, buf, len);
	else if (RAND_bytes(buf, (int)len) != 1)
		abort();	/* no entropy: never continue with predictable keys */
}

/* splitmix64 (Steele, Lea, Flood 2014): a counter through a mixing function, full period 2^64.
 * The timers arm new_handshake on nearly every data packet of request/response traffic, where
 * RAND_bytes (with OpenSSL's fork check, a getpid per call) showed in the per-packet cost. */
uint32_t wg_device_jitter(struct wg_device *dev, uint32_t max)
{
	uint64_t z;

	if (!dev->jitter_seeded) {
		wg_device_random(dev, (uint8_t *)&dev->jitter_state, sizeof(dev->jitter_state));
		dev->jitter_seeded = true;
	}
	z = (dev->jitter_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (uint32_t)((z >> 32) % ((uint64_t)max + 1));
}

static void random_cb(void *dev, uint8_t *buf, size_t len)
{
	wg_device_random(dev, buf, len);
}

int wg_device_send_raw(struct wg_device *dev, struct wg_peer *peer, const uint8_t *buf,
		       size_t len)
{
	int ret = dev->ops.send(dev->opaque, &peer->endpoint, buf, len);

	if (ret == 0)
		peer->tx_bytes += len;
	return ret;
}

void wg_device_event(struct wg_device *dev, struct wg_peer *peer, enum wg_peer_event ev)
{
	static const char *const names[] = {
		[WG_PEER_HANDSHAKE_COMPLETE] = "handshake complete",
		[WG_PEER_HANDSHAKE_FAILED] = "handshake failed after REKEY_ATTEMPT_TIME",
		[WG_PEER_SESSION_EXPIRED] = "session expired",
	};

	if (rg_log_on(RG_LOG_DEBUG)) {
		char b64[RG_KEY_B64_LEN + 1];

		rg_key_to_base64(b64, peer->public_key);	/* public: its first 8 chars name it */
		rg_log(RG_LOG_DEBUG, "peer %.8s: %s", b64, names[ev]);
	}
	if (dev->ops.peer_event)
		dev->ops.peer_event(dev->opaque, peer, ev);
}

/* Receiver indexes are random 32-bit values (whitepaper §5.4.2); the table chains the entries
 * embedded in handshakes and keypairs, so insertion allocates nothing. */
static unsigned bucket(uint32_t index)
{
	return index & (WG_INDEX_BUCKETS - 1);
}

struct wg_index_entry *wg_index_lookup(const struct wg_device *dev, uint32_t index)
{
	for (struct wg_index_entry *e = dev->index[bucket(index)]; e; e = e->next)
		if (e->index == index)
			return e;
	return NULL;
}

static void index_link(struct wg_device *dev, struct wg_index_entry *e, struct wg_peer *peer,
		       uint8_t kind, uint32_t index)
{
	e->index = index;
	e->peer = peer;
	e->kind = kind;
	e->next = dev->index[bucket(index)];
	dev->index[bucket(index)] = e;
	e->linked = true;
}

void wg_index_insert(struct wg_device *dev, struct wg_index_entry *e, struct wg_peer *peer,
		     uint8_t kind)
{
	uint32_t index;

	do
		wg_device_random(dev, (uint8_t *)&index, sizeof(index));
	while (wg_index_lookup(dev, index));
	index_link(dev, e, peer, kind, index);
}

void wg_index_remove(struct wg_device *dev, struct wg_index_entry *e)
{
	struct wg_index_entry **pp;

	if (!e->linked)
		return;
	for (pp = &dev->index[bucket(e->index)]; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	e->next = NULL;
	e->linked = false;
}

int wg_device_new(struct wg_device **out, const struct wg_device_ops *ops, void *opaque)
{
	struct wg_device *dev;

	*out = NULL;
	if (!ops || !ops->send || !ops->tun_write)
		return -EINVAL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->ops = *ops;
	dev->opaque = opaque;
	dev->under_load_forced = -1;
	wg_allowedips_init(&dev->aip);
	*out = dev;
	return 0;
}

void wg_device_free(struct wg_device *dev)
{
	if (!dev)
		return;
	wg_device_remove_all_peers(dev);
	wg_allowedips_clear(&dev->aip);
	wg_cookie_checker_clear(&dev->checker);
	free(dev->sched);
	rg_x25519_free(dev->id.key);
	rg_memzero(&dev->id, sizeof(dev->id));
	free(dev);
}

void wg_device_set_private_key(struct wg_device *dev, const uint8_t *key)
{
	struct wg_static_identity id = { 0 };

	if (key && !rg_ct_is_zero(key, WG_KEY_LEN)) {
		memcpy(id.private_key, key, WG_KEY_LEN);
		if (dev->id.has && rg_ct_eq(id.private_key, dev->id.private_key, WG_KEY_LEN)) {
			rg_memzero(&id, sizeof(id));
			return;		/* unchanged (UAPI sets it on every setconf) */
		}
		id.key = rg_x25519_load(id.private_key, id.public_key);
		if (!id.key) {
			rg_memzero(&id, sizeof(id));
			return;
		}
		id.has = true;
	} else if (!dev->id.has) {
		return;
	}
	rg_x25519_free(dev->id.key);
	rg_memzero(&dev->id, sizeof(dev->id));
	dev->id = id;
	rg_memzero(&id, sizeof(id));
	wg_cookie_checker_init(&dev->checker, dev->id.has ? dev->id.public_key : NULL);

	/* A peer with our own public key cannot exist (the kernel removes it too); every other
	 * peer loses its sessions, which were bound to the old identity. */
	for (struct wg_peer *p = dev->peers_head, *next; p; p = next) {
		next = p->next;
		if (dev->id.has && rg_ct_eq(p->public_key, dev->id.public_key, WG_KEY_LEN)) {
			wg_peer_destroy(p);
			continue;
		}
		wg_peer_zero_keys(p);
		wg_noise_handshake_precompute(&p->hs, &dev->id);
	}
}

int wg_device_rotate_private_key(struct wg_device *dev, const uint8_t key[static WG_KEY_LEN])
{
	struct wg_static_identity id = { 0 };
	int ret = -EINVAL;

	memcpy(id.private_key, key, WG_KEY_LEN);
	if (!dev->id.has || rg_ct_is_zero(key, WG_KEY_LEN))
		goto out;
	id.key = rg_x25519_load(id.private_key, id.public_key);
	if (!id.key)
		goto out;
	id.has = true;
	if (wg_device_lookup_peer(dev, id.public_key)) {
		rg_x25519_free(id.key);
		goto out;
	}
	rg_x25519_free(dev->id.key);
	rg_memzero(&dev->id, sizeof(dev->id));
	dev->id = id;
	wg_cookie_checker_init(&dev->checker, dev->id.public_key);
	/* Sessions stay; handshakes under the old identity cannot complete any more. */
	for (struct wg_peer *p = dev->peers_head; p; p = p->next) {
		wg_index_remove(dev, &p->hs.entry);
		wg_noise_handshake_clear(&p->hs);
		wg_noise_handshake_precompute(&p->hs, &dev->id);
	}
	ret = 0;
out:
	rg_memzero(&id, sizeof(id));
	return ret;
}

bool wg_device_get_private_key(const struct wg_device *dev, uint8_t out[static WG_KEY_LEN])
{
	if (!dev->id.has) {
		memset(out, 0, WG_KEY_LEN);
		return false;
	}
	memcpy(out, dev->id.private_key, WG_KEY_LEN);
	return true;
}

bool wg_device_get_public_key(const struct wg_device *dev, uint8_t out[static WG_KEY_LEN])
{
	if (!dev->id.has) {
		memset(out, 0, WG_KEY_LEN);
		return false;
	}
	memcpy(out, dev->id.public_key, WG_KEY_LEN);
	return true;
}

void wg_device_set_mtu(struct wg_device *dev, uint32_t mtu)
{
	dev->mtu = mtu;
}

uint32_t wg_device_get_mtu(const struct wg_device *dev)
{
	return dev->mtu;
}

void wg_device_set_under_load(struct wg_device *dev, int on)
{
	dev->under_load_forced = on < 0 ? -1 : !!on;
}

int wg_device_add_peer(struct wg_device *dev, const uint8_t pub[static WG_KEY_LEN],
		       struct wg_peer **out)
{
	struct wg_peer *peer;

	if (out)
		*out = NULL;
	if (dev->id.has && rg_ct_eq(pub, dev->id.public_key, WG_KEY_LEN))
		return -EINVAL;
	if ((peer = wg_device_lookup_peer(dev, pub))) {
		if (out)
			*out = peer;
		return -EEXIST;
	}
	peer = wg_peer_create(dev, pub);
	if (!peer)
		return -ENOMEM;
	if (out)
		*out = peer;
	return 0;
}

struct wg_peer *wg_device_lookup_peer(const struct wg_device *dev,
				      const uint8_t pub[static WG_KEY_LEN])
{
	for (struct wg_peer *p = dev->peers_head; p; p = p->next)
		if (memcmp(p->public_key, pub, WG_KEY_LEN) == 0)	/* public: no ct needed */
			return p;
	return NULL;
}

int wg_device_peer_rekey(struct wg_device *dev, struct wg_peer *peer,
			 const uint8_t pub[static WG_KEY_LEN])
{
	struct wg_peer *other;

	if (dev->id.has && rg_ct_eq(pub, dev->id.public_key, WG_KEY_LEN))
		return -EINVAL;
	other = wg_device_lookup_peer(dev, pub);
	if (other == peer)
		return 0;
	if (other)
		return -EEXIST;
	wg_index_remove(dev, &peer->hs.entry);
	wg_noise_handshake_clear(&peer->hs);
	memcpy(peer->public_key, pub, WG_KEY_LEN);
	memcpy(peer->hs.remote_static, pub, WG_KEY_LEN);
	/* A new identity: its TAI64N replay floor and flood limit start over. */
	memset(peer->hs.latest_timestamp, 0, sizeof(peer->hs.latest_timestamp));
	peer->hs.last_initiation_consumption_ns = 0;
	wg_noise_handshake_precompute(&peer->hs, &dev->id);
	wg_cookie_init(&peer->cookie, pub);
	return 0;
}

void wg_device_remove_peer(struct wg_device *dev, struct wg_peer *peer)
{
	if (peer && peer->dev == dev)
		wg_peer_destroy(peer);
}

void wg_device_remove_all_peers(struct wg_device *dev)
{
	while (dev->peers_head)
		wg_peer_destroy(dev->peers_head);
}

struct wg_peer *wg_device_first_peer(const struct wg_device *dev)
{
	return dev->peers_head;
}

struct wg_peer *wg_device_next_peer(const struct wg_peer *peer)
{
	return peer->next;
}

size_t wg_device_peer_count(const struct wg_device *dev)
{
	return dev->npeers;
}

struct wg_peer *wg_device_route(const struct wg_device *dev, int family, const uint8_t *dst)
{
	return wg_allowedips_lookup(&dev->aip, family, dst);
}

/* Under load (whitepaper §5.4.7): forced by the caller, or more than
 * WG_UNDER_LOAD_HANDSHAKES_PER_S handshake messages in the current second; it then lasts at
 * least one more second. */
static bool under_load(struct wg_device *dev, uint64_t now)
{
	if (now - dev->load_window_start_ns >= NS) {
		dev->load_window_start_ns = now;
		dev->load_count = 0;
	}
	if (++dev->load_count > WG_UNDER_LOAD_HANDSHAKES_PER_S)
		dev->under_load_until_ns = now + NS;
	if (dev->under_load_forced >= 0)
		return dev->under_load_forced;
	return dev->under_load_until_ns && now < dev->under_load_until_ns;
}

/* mac1 always, mac2 when under load; a sender without mac2 gets a cookie reply instead. */
static int check_macs(struct wg_device *dev, const struct wg_endpoint *src, const uint8_t *buf,
		      size_t len, size_t mac1_off, uint32_t sender, uint64_t now)
{
	enum wg_cookie_mac_state st;
	struct wg_msg_cookie reply;

	st = wg_cookie_validate(&dev->checker, buf, len, mac1_off, src, now, random_cb, dev);
	if (st == WG_COOKIE_INVALID)
		return -EBADMSG;
	if (st == WG_COOKIE_MAC2_VALID || !under_load(dev, now))
		return 0;
	wg_cookie_make_reply(&dev->checker, &reply, buf, mac1_off, sender, src, now, random_cb,
			     dev);
	dev->ops.send(dev->opaque, src, (const uint8_t *)&reply, sizeof(reply));
	return -EBUSY;
}

static void set_endpoint(struct wg_peer *peer, const struct wg_endpoint *src)
{
	if (src && src->len && src->len <= WG_ENDPOINT_MAX &&
	    (src->len != peer->endpoint.len ||
	     memcmp(src->data, peer->endpoint.data, src->len) != 0)) {
		memset(&peer->endpoint, 0, sizeof(peer->endpoint));
		peer->endpoint.len = src->len;
		memcpy(peer->endpoint.data, src->data, src->len);
	}
}

static void authenticated_rx(struct wg_peer *peer, const struct wg_endpoint *src, size_t len)
{
	set_endpoint(peer, src);
	peer->rx_bytes += len;
	wg_timers_any_authenticated_packet_received(peer);
	wg_timers_any_authenticated_packet_traversal(peer);
}

static void session_up(struct wg_peer *peer)
{
	wg_timers_handshake_complete(peer);
	peer->has_session_event = true;
	wg_device_event(peer->dev, peer, WG_PEER_HANDSHAKE_COMPLETE);
}

static struct wg_keypair *keypair_new(struct wg_peer *peer, uint64_t now)
{
	struct wg_keypair *kp = malloc(sizeof(*kp));

	if (!kp)
		return NULL;
	if (!wg_noise_derive_keypair(kp, &peer->hs, now)) {
		rg_memzero(kp, sizeof(*kp));
		free(kp);
		return NULL;
	}
	return kp;
}

/* The session takes over the handshake's index: the peer addresses us by it. */
static void move_index(struct wg_device *dev, struct wg_peer *peer, struct wg_keypair *kp)
{
	uint32_t index = peer->hs.entry.index;

	wg_index_remove(dev, &peer->hs.entry);
	index_link(dev, &kp->entry, peer, WG_INDEX_KEYPAIR, index);
}

static int handle_initiation(struct wg_device *dev, const struct wg_endpoint *src,
			     const uint8_t *buf, size_t len, uint64_t now)
{
	struct wg_noise_initiation_state st;
	struct wg_msg_initiation msg;
	struct wg_msg_response resp;
	struct wg_keypair *kp;
	struct wg_peer *peer;
	uint8_t eph[WG_PRIVATE_KEY_LEN];
	int ret;

	if (len != sizeof(msg))
		return -EINVAL;
	memcpy(&msg, buf, sizeof(msg));
	if ((ret = check_macs(dev, src, buf, len, WG_INITIATION_MAC1_OFF, le32toh(msg.sender),
			      now)))
		return ret;
	if (!wg_noise_consume_initiation_static(&st, &msg, &dev->id))
		return -EBADMSG;
	peer = wg_device_lookup_peer(dev, st.remote_static);
	if (!peer) {
		rg_memzero(&st, sizeof(st));
		return -EPERM;		/* unknown peer */
	}
	if (!wg_noise_consume_initiation_peer(&peer->hs, &st, &msg, now))
		return -EBADMSG;	/* bad timestamp, replay or flood */
	authenticated_rx(peer, src, len);

	wg_device_random(dev, eph, sizeof(eph));
	wg_index_remove(dev, &peer->hs.entry);
	wg_index_insert(dev, &peer->hs.entry, peer, WG_INDEX_HANDSHAKE);
	if (!wg_noise_create_response(&resp, &peer->hs, eph, peer->hs.entry.index)) {
		rg_memzero(eph, sizeof(eph));
		wg_index_remove(dev, &peer->hs.entry);
		return -EINVAL;
	}
	rg_memzero(eph, sizeof(eph));
	wg_cookie_add_macs(&peer->cookie, (uint8_t *)&resp, WG_RESPONSE_MAC1_OFF, now);
	kp = keypair_new(peer, now);
	if (!kp) {
		wg_index_remove(dev, &peer->hs.entry);
		return -ENOMEM;
	}
	move_index(dev, peer, kp);
	wg_peer_install_keypair(peer, kp);
	wg_timers_session_derived(peer);
	if (wg_device_send_raw(dev, peer, (const uint8_t *)&resp, sizeof(resp)) == 0) {
		wg_timers_any_authenticated_packet_traversal(peer);
		wg_timers_any_authenticated_packet_sent(peer);
	}
	return 0;
}

static int handle_response(struct wg_device *dev, const struct wg_endpoint *src,
			   const uint8_t *buf, size_t len, uint64_t now)
{
	struct wg_msg_response msg;
	struct wg_index_entry *e;
	struct wg_keypair *kp;
	struct wg_peer *peer;
	int ret;

	if (len != sizeof(msg))
		return -EINVAL;
	memcpy(&msg, buf, sizeof(msg));
	if ((ret = check_macs(dev, src, buf, len, WG_RESPONSE_MAC1_OFF, le32toh(msg.sender), now)))
		return ret;
	e = wg_index_lookup(dev, le32toh(msg.receiver));
	if (!e || e->kind != WG_INDEX_HANDSHAKE)
		return -ENOENT;
	peer = e->peer;
	if (!wg_noise_consume_response(&peer->hs, &msg, &dev->id))
		return -EBADMSG;
	authenticated_rx(peer, src, len);
	kp = keypair_new(peer, now);
	if (!kp) {
		wg_index_remove(dev, &peer->hs.entry);
		return -ENOMEM;
	}
	move_index(dev, peer, kp);
	wg_peer_install_keypair(peer, kp);
	wg_timers_session_derived(peer);
	session_up(peer);
	/* Staged packets confirm the session to the responder; without any, a keepalive does. */
	wg_peer_send_keepalive(peer);
	return 0;
}

static int handle_cookie(struct wg_device *dev, const uint8_t *buf, size_t len, uint64_t now)
{
	struct wg_msg_cookie msg;
	struct wg_index_entry *e;

	if (len != sizeof(msg))
		return -EINVAL;
	memcpy(&msg, buf, sizeof(msg));
	e = wg_index_lookup(dev, le32toh(msg.receiver));
	if (!e)
		return -ENOENT;
	if (!wg_cookie_consume_reply(&e->peer->cookie, &msg, now))
		return -EBADMSG;
	/* Like the kernel, wait for the retransmit timer rather than resending now. */
	return 0;
}

/* The inner packet's source must be one of the sending peer's allowed IPs. Returns the IP
 * packet's own length (the rest is padding) or 0 to drop. */
static size_t inner_check(struct wg_device *dev, struct wg_peer *peer, const uint8_t *pkt,
			  size_t len)
{
	size_t ip_len;
	int family;
	const uint8_t *src;

	if (len >= 20 && (pkt[0] >> 4) == 4) {
		ip_len = (size_t)pkt[2] << 8 | pkt[3];
		if (ip_len < 20)
			return 0;
		family = AF_INET;
		src = pkt + 12;
	} else if (len >= 40 && (pkt[0] >> 4) == 6) {
		ip_len = ((size_t)pkt[4] << 8 | pkt[5]) + 40;
		family = AF_INET6;
		src = pkt + 8;
	} else {
		return 0;
	}
	if (ip_len > len || wg_allowedips_lookup(&dev->aip, family, src) != peer)
		return 0;
	return ip_len;
}

static int handle_data(struct wg_device *dev, const struct wg_endpoint *src, uint8_t *buf,
		       size_t len, uint64_t now)
{
	struct wg_index_entry *e;
	struct wg_keypair *kp;
	struct wg_peer *peer;
	uint32_t receiver;
	uint64_t counter;
	uint8_t *pkt = buf + WG_DATA_HEADER_LEN;
	size_t plen, ip_len;

	if (len < WG_DATA_HEADER_LEN + WG_AEAD_TAG_LEN)
		return -EINVAL;
	memcpy(&receiver, buf + 4, 4);
	memcpy(&counter, buf + 8, 8);
	receiver = le32toh(receiver);
	counter = le64toh(counter);
	e = wg_index_lookup(dev, receiver);
	if (!e || e->kind != WG_INDEX_KEYPAIR)
		return -ENOENT;
	kp = (struct wg_keypair *)((uint8_t *)e - offsetof(struct wg_keypair, entry));
	peer = e->peer;
	if (!kp->recv || now - kp->birth_ns >= (uint64_t)WG_REJECT_AFTER_TIME_S * NS ||
	    counter >= WG_REJECT_AFTER_MESSAGES)
		return -EKEYEXPIRED;
	plen = len - WG_DATA_HEADER_LEN - WG_AEAD_TAG_LEN;
	if (!wg_noise_decrypt(kp, pkt, len - WG_DATA_HEADER_LEN, counter))
		return -EBADMSG;
	if (!wg_replay_accept(&kp->replay, counter))
		return -EALREADY;
	if (wg_peer_confirm_next(peer, kp)) {
		session_up(peer);
		wg_peer_flush_staged(peer);
	}
	authenticated_rx(peer, src, len);

	/* Whitepaper §6.2: an initiator whose session nears REJECT_AFTER_TIME rekeys on
	 * receive too, in case it has nothing to send. */
	if (peer->kp_cur == kp && kp->initiator &&
	    now - kp->birth_ns >= (uint64_t)(WG_REJECT_AFTER_TIME_S - WG_KEEPALIVE_TIMEOUT_S -
					      WG_REKEY_TIMEOUT_S) * NS)
		wg_peer_send_initiation(peer, false);

	if (plen == 0)
		return 0;		/* keepalive */
	wg_timers_data_received(peer);
	ip_len = inner_check(dev, peer, pkt, plen);
	if (!ip_len)
		return -EPERM;
	dev->ops.tun_write(dev->opaque, peer, pkt, ip_len);
	return 0;
}

int wg_device_input(struct wg_device *dev, const struct wg_endpoint *src, uint8_t *buf,
		    size_t len)
{
	uint64_t now;
	uint32_t type;

	if (!buf || len < 4 || !src || src->len > WG_ENDPOINT_MAX)
		return -EINVAL;
	if (!dev->id.has)
		return -ENOKEY;
	memcpy(&type, buf, 4);
	type = le32toh(type);
	now = wg_device_now(dev);
	switch (type) {
	case WG_MSG_DATA:
		return handle_data(dev, src, buf, len, now);
	case WG_MSG_INITIATION:
		return handle_initiation(dev, src, buf, len, now);
	case WG_MSG_RESPONSE:
		return handle_response(dev, src, buf, len, now);
	case WG_MSG_COOKIE:
		return handle_cookie(dev, buf, len, now);
	default:
		return -EINVAL;
	}
}

int wg_device_peer_send(struct wg_device *dev, struct wg_peer *peer, uint8_t *pkt, size_t len)
{
	int ret;

	if (len > WG_PACKET_MAX)
		return -EMSGSIZE;
	if (!dev->id.has)
		return -ENOKEY;
	if (!peer->endpoint.len)
		return -EDESTADDRREQ;
	if (!peer->staged_count) {
		ret = wg_peer_send_data(peer, pkt, len);
		if (ret != -ENOKEY)
			return ret;
	}
	/* No usable session (or older packets still wait): queue and handshake. */
	ret = wg_peer_stage(peer, pkt, len);
	wg_peer_send_initiation(peer, false);
	if (peer->staged_count && peer->kp_cur && peer->kp_cur->can_send)
		wg_peer_flush_staged(peer);
	return ret < 0 ? ret : 1;
}

int wg_device_tun_input(struct wg_device *dev, uint8_t *pkt, size_t len)
{
	struct wg_peer *peer;

	if (len > WG_PACKET_MAX)
		return -EMSGSIZE;
	if (len >= 20 && (pkt[0] >> 4) == 4)
		peer = wg_allowedips_lookup(&dev->aip, AF_INET, pkt + 16);
	else if (len >= 40 && (pkt[0] >> 4) == 6)
		peer = wg_allowedips_lookup(&dev->aip, AF_INET6, pkt + 24);
	else
		return -EINVAL;
	if (!peer)
		return -ENETUNREACH;
	return wg_device_peer_send(dev, peer, pkt, len);
}

uint64_t wg_device_next_deadline(const struct wg_device *dev)
{
	return wg_timers_earliest(dev);
}

uint64_t wg_device_tick(struct wg_device *dev)
{
	uint64_t now = wg_device_now(dev);

	for (struct wg_peer *p = dev->peers_head; p; p = p->next)
		if (wg_timers_next(p) <= now)
			wg_timers_run(p, now);
	return wg_device_next_deadline(dev);
}

int wg_device_endpoint_format(const struct wg_device *dev, const struct wg_endpoint *ep,
			      char *out, size_t cap)
{
	char addr[INET6_ADDRSTRLEN];
	int n;

	if (dev->ops.endpoint_format)
		return dev->ops.endpoint_format(dev->opaque, ep, out, cap);
	if (ep->len == sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, ep->data, sizeof(sin));
		if (sin.sin_family != AF_INET || !inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof(addr)))
			return -EINVAL;
		n = snprintf(out, cap, "%s:%u", addr, ntohs(sin.sin_port));
	} else if (ep->len == sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, ep->data, sizeof(sin6));
		if (sin6.sin6_family != AF_INET6 ||
		    !inet_ntop(AF_INET6, &sin6.sin6_addr, addr, sizeof(addr)))
			return -EINVAL;
		n = snprintf(out, cap, "[%s]:%u", addr, ntohs(sin6.sin6_port));
	} else {
		return -EINVAL;
	}
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

int wg_device_endpoint_parse(const struct wg_device *dev, const char *text,
			     struct wg_endpoint *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon;
	size_t hlen;
	uint16_t port;

	if (dev->ops.endpoint_parse)
		return dev->ops.endpoint_parse(dev->opaque, text, out);
	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		const char *end = strchr(text, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		hlen = (size_t)(end - text - 1);
		if (hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, text + 1, hlen);
		host[hlen] = 0;
		colon = end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - text);
		if (hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, text, hlen);
		host[hlen] = 0;
	}
	if (parse_port(colon + 1, &port))
		return -EINVAL;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	if (text[0] != '[' && inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
		memcpy(out->data, &sin, sizeof(sin));
		out->len = sizeof(sin);
	} else if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
		memcpy(out->data, &sin6, sizeof(sin6));
		out->len = sizeof(sin6);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* Peer accessors. */
void wg_peer_get_public_key(const struct wg_peer *peer, uint8_t out[static WG_KEY_LEN])
{
	memcpy(out, peer->public_key, WG_KEY_LEN);
}

void wg_peer_set_preshared_key(struct wg_peer *peer, const uint8_t *psk)
{
	if (psk && !rg_ct_is_zero(psk, WG_KEY_LEN)) {
		memcpy(peer->hs.psk, psk, WG_KEY_LEN);
		peer->hs.has_psk = true;
	} else {
		rg_memzero(peer->hs.psk, sizeof(peer->hs.psk));
		peer->hs.has_psk = false;
	}
}

bool wg_peer_get_preshared_key(const struct wg_peer *peer, uint8_t out[static WG_KEY_LEN])
{
	memcpy(out, peer->hs.psk, WG_KEY_LEN);
	return peer->hs.has_psk;
}

void wg_peer_set_endpoint(struct wg_peer *peer, const struct wg_endpoint *ep)
{
	if (!ep || !ep->len || ep->len > WG_ENDPOINT_MAX)
		memset(&peer->endpoint, 0, sizeof(peer->endpoint));
	else
		set_endpoint(peer, ep);
}

bool wg_peer_get_endpoint(const struct wg_peer *peer, struct wg_endpoint *out)
{
	*out = peer->endpoint;
	return peer->endpoint.len != 0;
}

void wg_peer_set_persistent_keepalive(struct wg_peer *peer, uint16_t seconds)
{
	uint16_t old = peer->persistent_keepalive_s;

	peer->persistent_keepalive_s = seconds;
	if (!seconds)
		wg_timers_persistent_keepalive_off(peer);
	else if (seconds != old && peer->dev->id.has && peer->endpoint.len)
		wg_peer_send_keepalive(peer);
}

uint16_t wg_peer_get_persistent_keepalive(const struct wg_peer *peer)
{
	return peer->persistent_keepalive_s;
}

int wg_peer_allowed_ip_add(struct wg_peer *peer, const struct wg_allowed_ip *ip)
{
	return wg_allowedips_insert(&peer->dev->aip, ip, peer);
}

int wg_peer_allowed_ip_remove(struct wg_peer *peer, const struct wg_allowed_ip *ip)
{
	return wg_allowedips_remove(&peer->dev->aip, ip, peer);
}

void wg_peer_allowed_ips_clear(struct wg_peer *peer)
{
	wg_allowedips_remove_peer(&peer->dev->aip, peer);
}

struct foreach_ctx {
	int (*fn)(void *ctx, const struct wg_allowed_ip *ip);
	void *ctx;
};

static int foreach_cb(void *ctx, const struct wg_allowed_ip *ip, struct wg_peer *owner)
{
	struct foreach_ctx *f = ctx;

	(void)owner;
	return f->fn(f->ctx, ip);
}

int wg_peer_allowed_ips_foreach(const struct wg_peer *peer,
				int (*fn)(void *ctx, const struct wg_allowed_ip *ip), void *ctx)
{
	struct foreach_ctx f = { fn, ctx };

	return wg_allowedips_foreach(&peer->dev->aip, peer, foreach_cb, &f);
}

void wg_peer_get_stats(const struct wg_peer *peer, struct wg_peer_stats *out)
{
	uint64_t now = wg_device_now(peer->dev);
	const struct wg_keypair *kp = peer->kp_cur;

	memset(out, 0, sizeof(*out));
	out->rx_bytes = peer->rx_bytes;
	out->tx_bytes = peer->tx_bytes;
	out->last_handshake_sec = (int64_t)(peer->last_handshake_wall_ns / NS);
	out->last_handshake_nsec = (int64_t)(peer->last_handshake_wall_ns % NS);
	out->has_session = kp && kp->can_send &&
			   now - kp->birth_ns < (uint64_t)WG_REJECT_AFTER_TIME_S * NS;
}

int wg_peer_handshake_now(struct wg_peer *peer)
{
	return wg_peer_send_initiation(peer, false);
}

void wg_peer_set_user(struct wg_peer *peer, void *user)
{
	peer->user = user;
}

void *wg_peer_get_user(const struct wg_peer *peer)
{
	return peer->user;
}

struct wg_device *wg_peer_device(const struct wg_peer *peer)
{
	return peer->dev;
}
