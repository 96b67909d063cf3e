/* MAC1, MAC2 and cookie replies (whitepaper §5.4.4, §5.4.7). The responder (device) checks mac1
 * on every handshake message, and when under load also mac2, whose key is a cookie derived from
 * a secret rotated every two minutes and the sender's endpoint bytes. A sender without a valid
 * mac2 gets a cookie reply (XChaCha20-Poly1305 via libsodium) instead of a handshake. The
 * initiator (peer) stamps both macs and stores cookies it receives. Called by device.c/peer.c. */
#include "wg/cookie.h"

#include <endian.h>
#include <string.h>

#include <sodium.h>

#include "util/ct.h"
#include "wg/device.h"
#include "wg/noise.h"

static const char label_mac1[] = "mac1----";
static const char label_cookie[] = "cookie--";

static void derive_keys(uint8_t mac1_key[static WG_HASH_LEN], uint8_t enc_key[static WG_HASH_LEN],
			const uint8_t pub[static 32])
{
	wg_blake2s(mac1_key, label_mac1, sizeof(label_mac1) - 1, pub, 32);
	wg_blake2s(enc_key, label_cookie, sizeof(label_cookie) - 1, pub, 32);
}

void wg_cookie_checker_init(struct wg_cookie_checker *c, const uint8_t *our_public)
{
	wg_cookie_checker_clear(c);
	if (!our_public)
		return;
	derive_keys(c->mac1_key, c->encryption_key, our_public);
	c->mac1 = wg_blake2s_mac_new(c->mac1_key, sizeof(c->mac1_key), WG_MAC_LEN);
	c->ready = c->mac1 != NULL;
}

void wg_cookie_checker_clear(struct wg_cookie_checker *c)
{
	wg_blake2s_mac_free(c->mac1);
	rg_memzero(c, sizeof(*c));
}

void wg_cookie_init(struct wg_cookie *ck, const uint8_t peer_public[static 32])
{
	rg_memzero(ck, sizeof(*ck));
	derive_keys(ck->mac1_key, ck->decryption_key, peer_public);
}

void wg_cookie_clear(struct wg_cookie *ck)
{
	rg_memzero(ck, sizeof(*ck));
}

/* Cookie = MAC(Rm, source endpoint bytes), Rm regenerated once older than two minutes. */
static void make_cookie(struct wg_cookie_checker *c, uint8_t cookie[static WG_COOKIE_LEN],
			const struct wg_endpoint *src, uint64_t now_ns,
			void (*random)(void *, uint8_t *, size_t), void *ropaque)
{
	if (!c->has_secret ||
	    now_ns - c->secret_birth_ns >= (uint64_t)WG_COOKIE_SECRET_MAX_AGE_S * 1000000000u) {
		random(ropaque, c->secret, sizeof(c->secret));
		c->secret_birth_ns = now_ns;
		c->has_secret = true;
	}
	wg_blake2s_mac(cookie, WG_COOKIE_LEN, c->secret, sizeof(c->secret), src->data,
		       src->len <= WG_ENDPOINT_MAX ? src->len : WG_ENDPOINT_MAX);
}

enum wg_cookie_mac_state wg_cookie_validate(struct wg_cookie_checker *c, const uint8_t *msg,
					    size_t len, size_t mac1_off,
					    const struct wg_endpoint *src, uint64_t now_ns,
					    void (*random)(void *, uint8_t *, size_t), void *ropaque)
{
	uint8_t mac[WG_MAC_LEN], cookie[WG_COOKIE_LEN];
	enum wg_cookie_mac_state ret = WG_COOKIE_INVALID;

	if (!c->ready || len < mac1_off + 2 * WG_MAC_LEN)
		return WG_COOKIE_INVALID;
	if (!wg_blake2s_mac_run(c->mac1, mac, WG_MAC_LEN, msg, mac1_off) ||
	    !rg_ct_eq(mac, msg + mac1_off, WG_MAC_LEN))
		goto out;		/* bad mac1: drop, say nothing */
	ret = WG_COOKIE_MAC1_ONLY;
	make_cookie(c, cookie, src, now_ns, random, ropaque);
	wg_blake2s_mac(mac, WG_MAC_LEN, cookie, sizeof(cookie), msg, mac1_off + WG_MAC_LEN);
	if (rg_ct_eq(mac, msg + mac1_off + WG_MAC_LEN, WG_MAC_LEN))
		ret = WG_COOKIE_MAC2_VALID;
out:
	rg_memzero(cookie, sizeof(cookie));
	return ret;
}

void wg_cookie_make_reply(struct wg_cookie_checker *c, struct wg_msg_cookie *reply,
			  const uint8_t *msg, size_t mac1_off, uint32_t receiver,
			  const struct wg_endpoint *src, uint64_t now_ns,
			  void (*random)(void *, uint8_t *, size_t), void *ropaque)
{
	uint8_t cookie[WG_COOKIE_LEN];
	unsigned long long clen = 0;

	memset(reply, 0, sizeof(*reply));
	reply->type = htole32(WG_MSG_COOKIE);
	reply->receiver = htole32(receiver);
	random(ropaque, reply->nonce, sizeof(reply->nonce));
	make_cookie(c, cookie, src, now_ns, random, ropaque);
	crypto_aead_xchacha20poly1305_ietf_encrypt(reply->encrypted_cookie, &clen, cookie,
						   sizeof(cookie), msg + mac1_off, WG_MAC_LEN,
						   NULL, reply->nonce, c->encryption_key);
	rg_memzero(cookie, sizeof(cookie));
}

void wg_cookie_add_macs(struct wg_cookie *ck, uint8_t *msg, size_t mac1_off, uint64_t now_ns)
{
	uint8_t *mac1 = msg + mac1_off, *mac2 = mac1 + WG_MAC_LEN;
	uint64_t max_age =
		(uint64_t)(WG_COOKIE_SECRET_MAX_AGE_S - WG_COOKIE_SECRET_LATENCY_S) * 1000000000u;

	wg_blake2s_mac(mac1, WG_MAC_LEN, ck->mac1_key, sizeof(ck->mac1_key), msg, mac1_off);
	memcpy(ck->last_mac1_sent, mac1, WG_MAC_LEN);
	ck->have_last_mac1 = true;
	if (ck->have_cookie && now_ns - ck->cookie_birth_ns < max_age)
		wg_blake2s_mac(mac2, WG_MAC_LEN, ck->cookie, sizeof(ck->cookie), msg,
			       mac1_off + WG_MAC_LEN);
	else
		memset(mac2, 0, WG_MAC_LEN);
}

bool wg_cookie_consume_reply(struct wg_cookie *ck, const struct wg_msg_cookie *reply,
			     uint64_t now_ns)
{
	uint8_t cookie[WG_COOKIE_LEN];
	unsigned long long mlen = 0;

	if (!ck->have_last_mac1)
		return false;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, &mlen, NULL,
						       reply->encrypted_cookie,
						       sizeof(reply->encrypted_cookie),
						       ck->last_mac1_sent, WG_MAC_LEN, reply->nonce,
						       ck->decryption_key) != 0 ||
	    mlen != WG_COOKIE_LEN) {
		rg_memzero(cookie, sizeof(cookie));
		return false;
	}
	memcpy(ck->cookie, cookie, WG_COOKIE_LEN);
	ck->cookie_birth_ns = now_ns;
	ck->have_cookie = true;
	ck->have_last_mac1 = false;	/* one reply per message sent */
	rg_memzero(cookie, sizeof(cookie));
	return true;
}
