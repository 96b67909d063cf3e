/* Peers: lifetime, keypair rotation, the send side of the data path and staged packets.
 * Called from device.c and timers.c on the device's single loop. The send path encrypts in the
 * caller's buffer (WG_DATA_HEADROOM before the packet, WG_DATA_TAILROOM after) and allocates
 * nothing; only staging (no session yet) copies a packet into a bounded per-peer queue. */
#include "wg/peer.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/ct.h"

enum { NS = 1000000000, FLUSH_BATCH = 32 };

struct wg_peer *wg_peer_create(struct wg_device *dev, const uint8_t pub[static 32])
{
	struct wg_peer *peer = calloc(1, sizeof(*peer));

	if (!peer)
		return NULL;
	peer->dev = dev;
	if (wg_timers_init(peer) < 0) {
		free(peer);
		return NULL;
	}
	memcpy(peer->public_key, pub, WG_PUBLIC_KEY_LEN);
	wg_noise_handshake_init(&peer->hs, &dev->id, pub);
	wg_cookie_init(&peer->cookie, pub);
	peer->prev = dev->peers_tail;
	if (dev->peers_tail)
		dev->peers_tail->next = peer;
	else
		dev->peers_head = peer;
	dev->peers_tail = peer;
	dev->npeers++;
	return peer;
}

static void keypair_destroy(struct wg_device *dev, struct wg_keypair **kpp)
{
	struct wg_keypair *kp = *kpp;

	if (!kp)
		return;
	wg_index_remove(dev, &kp->entry);
	wg_noise_keypair_free(kp);
	rg_memzero(kp, sizeof(*kp));
	free(kp);
	*kpp = NULL;
}

/* Teardown order: unlink from routing and the list, wipe keys, stop timers, flush queues. */
void wg_peer_destroy(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;

	wg_allowedips_remove_peer(&dev->aip, peer);
	if (peer->prev)
		peer->prev->next = peer->next;
	else
		dev->peers_head = peer->next;
	if (peer->next)
		peer->next->prev = peer->prev;
	else
		dev->peers_tail = peer->prev;
	dev->npeers--;
	keypair_destroy(dev, &peer->kp_prev);
	keypair_destroy(dev, &peer->kp_cur);
	keypair_destroy(dev, &peer->kp_next);
	wg_noise_handshake_clear(&peer->hs);
	wg_index_remove(dev, &peer->hs.entry);
	wg_timers_stop(peer);
	wg_peer_drop_staged(peer);
	rg_memzero(peer, sizeof(*peer));
	free(peer);
}

static bool keypair_usable(const struct wg_keypair *kp, uint64_t now)
{
	return kp && kp->can_send && now - kp->birth_ns < (uint64_t)WG_REJECT_AFTER_TIME_S * NS &&
	       kp->send_counter < WG_REJECT_AFTER_MESSAGES;
}

int wg_peer_send_initiation(struct wg_peer *peer, bool is_retry)
{
	struct wg_device *dev = peer->dev;
	struct wg_msg_initiation msg;
	uint8_t eph[WG_PRIVATE_KEY_LEN];
	uint64_t now = wg_device_now(dev);
	int ret;

	if (!dev->id.has)
		return -ENOKEY;
	if (!peer->endpoint.len)
		return -EDESTADDRREQ;
	if (!is_retry && peer->timers.last_sent_handshake_ns &&
	    now - peer->timers.last_sent_handshake_ns < (uint64_t)WG_REKEY_TIMEOUT_S * NS)
		return -EAGAIN;		/* one initiation per REKEY_TIMEOUT unless retrying */
	if (!is_retry)
		peer->timers.handshake_attempts = 0;
	peer->timers.last_sent_handshake_ns = now ? now : 1;

	wg_device_random(dev, eph, sizeof(eph));
	wg_index_remove(dev, &peer->hs.entry);
	wg_index_insert(dev, &peer->hs.entry, peer, WG_INDEX_HANDSHAKE);
	if (!wg_noise_create_initiation(&msg, &peer->hs, &dev->id, eph, peer->hs.entry.index,
					wg_device_wall(dev))) {
		wg_index_remove(dev, &peer->hs.entry);
		rg_memzero(eph, sizeof(eph));
		return -EINVAL;
	}
	rg_memzero(eph, sizeof(eph));
	wg_cookie_add_macs(&peer->cookie, (uint8_t *)&msg, WG_INITIATION_MAC1_OFF, now);
	wg_timers_handshake_initiated(peer);
	ret = wg_device_send_raw(dev, peer, (const uint8_t *)&msg, sizeof(msg));
	if (ret == 0) {
		wg_timers_any_authenticated_packet_traversal(peer);
		wg_timers_any_authenticated_packet_sent(peer);
	}
	return ret;
}

/* Writes the data header before pkt, pads and encrypts in place. Returns the datagram length
 * (starting at pkt - WG_DATA_HEADER_LEN) or 0 when the keypair cannot send. */
static size_t seal(struct wg_keypair *kp, uint8_t *pkt, size_t len, uint32_t mtu)
{
	size_t padded = (len + WG_PADDING_MULTIPLE - 1) & ~(size_t)(WG_PADDING_MULTIPLE - 1);
	uint8_t *hdr = pkt - WG_DATA_HEADER_LEN;
	uint32_t type = htole32(WG_MSG_DATA), rx = htole32(kp->remote_index);
	uint64_t counter = kp->send_counter++, le;

	if (counter >= WG_REJECT_AFTER_MESSAGES) {
		kp->can_send = false;
		return 0;
	}
	/* Whitepaper §5.4.6: pad to 16, but a packet near the MTU only up to the MTU. */
	if (mtu && padded > mtu)
		padded = len > mtu ? len : mtu;
	memset(pkt + len, 0, padded - len);
	le = htole64(counter);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 4, &rx, 4);
	memcpy(hdr + 8, &le, 8);
	if (!wg_noise_encrypt(kp, pkt, padded, counter))
		return 0;
	return WG_DATA_HEADER_LEN + padded + WG_AEAD_TAG_LEN;
}

/* Whitepaper §6.2: the initiator of the current session rekeys after REKEY_AFTER_MESSAGES or
 * REKEY_AFTER_TIME, so sessions never reach the reject limits while traffic flows. */
static void keep_key_fresh_send(struct wg_peer *peer)
{
	struct wg_keypair *kp = peer->kp_cur;
	uint64_t now = wg_device_now(peer->dev);

	if (kp && kp->initiator &&
	    (kp->send_counter > WG_REKEY_AFTER_MESSAGES ||
	     now - kp->birth_ns >= (uint64_t)WG_REKEY_AFTER_TIME_S * NS))
		wg_peer_send_initiation(peer, false);
}

static void after_send(struct wg_peer *peer, size_t len, bool keepalive)
{
	peer->tx_bytes += len;
	wg_timers_any_authenticated_packet_traversal(peer);
	wg_timers_any_authenticated_packet_sent(peer);
	if (!keepalive)
		wg_timers_data_sent(peer);
}

int wg_peer_send_data(struct wg_peer *peer, uint8_t *pkt, size_t len)
{
	struct wg_device *dev = peer->dev;
	size_t n;
	int ret;

	if (!keypair_usable(peer->kp_cur, wg_device_now(dev)))
		return -ENOKEY;
	n = seal(peer->kp_cur, pkt, len, dev->mtu);
	if (!n)
		return -ENOKEY;
	ret = dev->ops.send(dev->opaque, &peer->endpoint, pkt - WG_DATA_HEADER_LEN, n);
	if (ret == 0)
		after_send(peer, n, len == 0);
	keep_key_fresh_send(peer);
	return ret;
}

int wg_peer_send_keepalive(struct wg_peer *peer)
{
	uint8_t buf[WG_DATA_HEADROOM + WG_DATA_TAILROOM];

	if (!peer->dev->id.has || !peer->endpoint.len)
		return -ENOKEY;
	if (peer->staged_count) {	/* staged data confirms the session as well */
		wg_peer_flush_staged(peer);
		if (!peer->staged_count)
			return 0;
	}
	if (!keypair_usable(peer->kp_cur, wg_device_now(peer->dev)))
		return wg_peer_send_initiation(peer, false);
	return wg_peer_send_data(peer, buf + WG_DATA_HEADROOM, 0);
}

int wg_peer_stage(struct wg_peer *peer, const uint8_t *pkt, size_t len)
{
	struct wg_staged *s;
	int ret = 0;

	if (peer->staged_count == WG_STAGED_MAX) {	/* drop the oldest */
		s = &peer->staged[peer->staged_head];
		free(s->buf);
		s->buf = NULL;
		peer->staged_head = (peer->staged_head + 1) % WG_STAGED_MAX;
		peer->staged_count--;
		ret = -ENOBUFS;
	}
	s = &peer->staged[(peer->staged_head + peer->staged_count) % WG_STAGED_MAX];
	s->buf = malloc(WG_DATA_HEADROOM + len + WG_DATA_TAILROOM);
	if (!s->buf)
		return -ENOMEM;
	memcpy(s->buf + WG_DATA_HEADROOM, pkt, len);
	s->len = len;
	peer->staged_count++;
	return ret;
}

void wg_peer_drop_staged(struct wg_peer *peer)
{
	while (peer->staged_count) {
		struct wg_staged *s = &peer->staged[peer->staged_head];

		free(s->buf);
		s->buf = NULL;
		peer->staged_head = (peer->staged_head + 1) % WG_STAGED_MAX;
		peer->staged_count--;
	}
	peer->staged_head = 0;
}

void wg_peer_flush_staged(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	struct wg_send_item items[FLUSH_BATCH];
	uint8_t *bufs[FLUSH_BATCH];
	size_t n, sent;

	while (peer->staged_count && keypair_usable(peer->kp_cur, wg_device_now(dev))) {
		for (n = 0; n < FLUSH_BATCH && peer->staged_count; n++) {
			struct wg_staged *s = &peer->staged[peer->staged_head];
			uint8_t *pkt = s->buf + WG_DATA_HEADROOM;
			size_t len = seal(peer->kp_cur, pkt, s->len, dev->mtu);

			bufs[n] = s->buf;
			s->buf = NULL;
			peer->staged_head = (peer->staged_head + 1) % WG_STAGED_MAX;
			peer->staged_count--;
			items[n] = (struct wg_send_item){ &peer->endpoint, pkt - WG_DATA_HEADER_LEN,
							  len };
		}
		if (dev->ops.send_batch) {
			size_t m = 0, k = 0;

			/* skip packets seal() refused */
			for (size_t i = 0; i < n; i++)
				if (items[i].len)
					items[m++] = items[i];
			sent = m ? dev->ops.send_batch(dev->opaque, items, m) : 0;
			for (k = 0; k < sent && k < m; k++)
				after_send(peer, items[k].len, false);
		} else {
			for (size_t i = 0; i < n; i++)
				if (items[i].len &&
				    dev->ops.send(dev->opaque, items[i].ep, items[i].buf,
						  items[i].len) == 0)
					after_send(peer, items[i].len, false);
		}
		for (size_t i = 0; i < n; i++)
			free(bufs[i]);
	}
	if (!peer->staged_count)
		peer->staged_head = 0;
	keep_key_fresh_send(peer);
}

void wg_peer_install_keypair(struct wg_peer *peer, struct wg_keypair *kp)
{
	struct wg_device *dev = peer->dev;

	if (kp->initiator) {
		/* The session we initiated is confirmed by the response: use it now. An
		 * unconfirmed responder session in next is older news; it becomes previous. */
		if (peer->kp_next) {
			keypair_destroy(dev, &peer->kp_prev);
			peer->kp_prev = peer->kp_next;
			peer->kp_next = NULL;
			keypair_destroy(dev, &peer->kp_cur);
		} else {
			keypair_destroy(dev, &peer->kp_prev);
			peer->kp_prev = peer->kp_cur;
		}
		peer->kp_cur = kp;
		wg_timers_session_expires(peer, kp->birth_ns + (uint64_t)WG_REJECT_AFTER_TIME_S * NS);
	} else {
		/* Responder: wait for the initiator's first data packet (key confirmation).
		 * Previous goes, since current shifts into it upon confirmation. */
		keypair_destroy(dev, &peer->kp_next);
		peer->kp_next = kp;
		keypair_destroy(dev, &peer->kp_prev);
	}
}

bool wg_peer_confirm_next(struct wg_peer *peer, struct wg_keypair *kp)
{
	struct wg_device *dev = peer->dev;

	if (peer->kp_next != kp)
		return false;
	keypair_destroy(dev, &peer->kp_prev);
	peer->kp_prev = peer->kp_cur;
	peer->kp_cur = kp;
	peer->kp_next = NULL;
	wg_timers_session_expires(peer, kp->birth_ns + (uint64_t)WG_REJECT_AFTER_TIME_S * NS);
	return true;
}

void wg_peer_zero_keys(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	bool had = peer->has_session_event;

	keypair_destroy(dev, &peer->kp_prev);
	keypair_destroy(dev, &peer->kp_cur);
	keypair_destroy(dev, &peer->kp_next);
	wg_noise_handshake_clear(&peer->hs);
	wg_index_remove(dev, &peer->hs.entry);
	wg_timers_keys_zeroed(peer);
	if (had) {
		peer->has_session_event = false;
		wg_device_event(dev, peer, WG_PEER_SESSION_EXPIRED);
	}
}

void wg_peer_expire_current(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	uint64_t now = wg_device_now(dev), limit = (uint64_t)WG_REJECT_AFTER_TIME_S * NS;

	/* Past REJECT_AFTER_TIME a keypair is useless both ways: wipe it now rather than at
	 * the zero-key-material timer. The previous keypair is older than the current one. */
	if (peer->kp_cur && now - peer->kp_cur->birth_ns >= limit) {
		keypair_destroy(dev, &peer->kp_prev);
		keypair_destroy(dev, &peer->kp_cur);
	}
	if (peer->kp_next && now - peer->kp_next->birth_ns >= limit)
		keypair_destroy(dev, &peer->kp_next);
	wg_timers_session_expires(peer, peer->kp_cur ? peer->kp_cur->birth_ns + limit : 0);
	if (peer->has_session_event && !peer->kp_cur) {
		peer->has_session_event = false;
		wg_device_event(dev, peer, WG_PEER_SESSION_EXPIRED);
	}
}
