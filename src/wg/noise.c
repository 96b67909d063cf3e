/* Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s (whitepaper §5.4): handshake messages 1 and 2 and the
 * transport keypairs they yield. Each step follows the whitepaper's notation, one comment per
 * token. Called by peer.c/device.c on the device's loop. Crypto is OpenSSL 3: BLAKE2s-256 (and
 * HMAC over it, the HKDF of the protocol), BLAKE2SMAC for keyed hashing, X25519, and
 * ChaCha20-Poly1305 through EVP; each keypair keeps its two keyed EVP contexts and only changes
 * the nonce per packet. Every temporary key is wiped on every exit path. */
#include "wg/noise.h"

#include <endian.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "util/ct.h"
#include "util/x25519.h"

static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

enum { BLAKE2S_BLOCK_LEN = 64 };

/* Algorithms fetched once per process, immutable afterwards (const tables in STYLE §8's
 * sense): OpenSSL 3's implicit fetch on every EVP_*Init with EVP_blake2s256() and friends
 * costs more than hashing a handshake message. */
static EVP_MAC *blake2smac;
static EVP_MD *blake2s256;
static EVP_CIPHER *chachapoly;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_algorithms(void)
{
	blake2smac = EVP_MAC_fetch(NULL, "BLAKE2SMAC", NULL);
	blake2s256 = EVP_MD_fetch(NULL, "BLAKE2S-256", NULL);
	chachapoly = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
}

static void fetch(void)
{
	pthread_once(&fetch_once, fetch_algorithms);
}

void wg_blake2s(uint8_t out[static WG_HASH_LEN], const void *a, size_t alen, const void *b,
		size_t blen)
{
	EVP_MD_CTX *ctx;
	unsigned int n = WG_HASH_LEN;

	fetch();
	ctx = EVP_MD_CTX_new();
	if (!ctx || !blake2s256 || !EVP_DigestInit_ex(ctx, blake2s256, NULL) ||
	    !EVP_DigestUpdate(ctx, a, alen) || (blen && !EVP_DigestUpdate(ctx, b, blen)) ||
	    !EVP_DigestFinal_ex(ctx, out, &n))
		memset(out, 0, WG_HASH_LEN);	/* unreachable with a working libcrypto */
	EVP_MD_CTX_free(ctx);
}

void wg_blake2s_mac(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen,
		    const void *in, size_t inlen)
{
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t n = 0;

	fetch();
	params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outlen);
	params[1] = OSSL_PARAM_construct_end();
	if (!blake2smac || !(ctx = EVP_MAC_CTX_new(blake2smac)) || !EVP_MAC_init(ctx, key, keylen, params) ||
	    !EVP_MAC_update(ctx, in, inlen) || !EVP_MAC_final(ctx, out, &n, outlen) || n != outlen)
		memset(out, 0, outlen);
	EVP_MAC_CTX_free(ctx);
}

EVP_MAC_CTX *wg_blake2s_mac_new(const uint8_t *key, size_t keylen, size_t outlen)
{
	EVP_MAC_CTX *ctx;
	OSSL_PARAM params[2];

	fetch();
	params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &outlen);
	params[1] = OSSL_PARAM_construct_end();
	if (!blake2smac || !(ctx = EVP_MAC_CTX_new(blake2smac)))
		return NULL;
	if (!EVP_MAC_init(ctx, key, keylen, params)) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

bool wg_blake2s_mac_run(EVP_MAC_CTX *ctx, uint8_t *out, size_t outlen, const void *in,
			size_t inlen)
{
	size_t n = 0;

	/* init without a key restarts with the stored key and size */
	return EVP_MAC_init(ctx, NULL, 0, NULL) && EVP_MAC_update(ctx, in, inlen) &&
	       EVP_MAC_final(ctx, out, &n, outlen) && n == outlen;
}

void wg_blake2s_mac_free(EVP_MAC_CTX *ctx)
{
	EVP_MAC_CTX_free(ctx);	/* cleanses the key */
}

void wg_hmac_blake2s(uint8_t out[static WG_HASH_LEN], const uint8_t *key, size_t keylen,
		     const void *in, size_t inlen)
{
	uint8_t k[BLAKE2S_BLOCK_LEN] = { 0 }, pad[BLAKE2S_BLOCK_LEN], inner[WG_HASH_LEN];

	if (keylen > BLAKE2S_BLOCK_LEN)
		wg_blake2s(k, key, keylen, NULL, 0);
	else
		memcpy(k, key, keylen);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	wg_blake2s(inner, pad, sizeof(pad), in, inlen);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	wg_blake2s(out, pad, sizeof(pad), inner, sizeof(inner));
	rg_memzero(k, sizeof(k));
	rg_memzero(pad, sizeof(pad));
	rg_memzero(inner, sizeof(inner));
}

/* KDF_n(key, input) of the whitepaper: HKDF with HMAC-BLAKE2s; out1..out3 may be NULL. */
static void kdf(uint8_t *out1, uint8_t *out2, uint8_t *out3, const uint8_t key[WG_HASH_LEN],
		const uint8_t *in, size_t inlen)
{
	uint8_t prk[WG_HASH_LEN], t[WG_HASH_LEN + 1];

	wg_hmac_blake2s(prk, key, WG_HASH_LEN, in, inlen);
	t[0] = 1;
	wg_hmac_blake2s(t, prk, sizeof(prk), t, 1);
	if (out1)
		memcpy(out1, t, WG_HASH_LEN);
	if (out2 || out3) {
		t[WG_HASH_LEN] = 2;
		wg_hmac_blake2s(t, prk, sizeof(prk), t, WG_HASH_LEN + 1);
		if (out2)
			memcpy(out2, t, WG_HASH_LEN);
	}
	if (out3) {
		t[WG_HASH_LEN] = 3;
		wg_hmac_blake2s(t, prk, sizeof(prk), t, WG_HASH_LEN + 1);
		memcpy(out3, t, WG_HASH_LEN);
	}
	rg_memzero(prk, sizeof(prk));
	rg_memzero(t, sizeof(t));
}

/* DH with a loaded private key (sk) or, without one, the raw bytes. */
static bool x25519_key(uint8_t out[static 32], EVP_PKEY *sk, const uint8_t priv[static 32],
		       const uint8_t pub[static 32])
{
	return sk ? rg_x25519_loaded(out, sk, pub) : rg_x25519(out, priv, pub);
}

static void make_nonce(uint8_t nonce[12], uint64_t counter)
{
	uint64_t le = htole64(counter);

	memset(nonce, 0, 4);
	memcpy(nonce + 4, &le, 8);
}

static bool aead(int enc, uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		 size_t adlen, uint64_t counter, const uint8_t key[static 32])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t nonce[12];
	size_t len = enc ? srclen : srclen - WG_AEAD_TAG_LEN;
	int n;
	bool ok = false;

	if (!ctx || (!enc && srclen < WG_AEAD_TAG_LEN))
		goto out;
	make_nonce(nonce, counter);
	fetch();
	if (!chachapoly || !EVP_CipherInit_ex(ctx, chachapoly, NULL, key, nonce, enc))
		goto out;
	if (!enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, WG_AEAD_TAG_LEN,
					 (void *)(src + len)))
		goto out;
	if (adlen && !EVP_CipherUpdate(ctx, NULL, &n, ad, (int)adlen))
		goto out;
	if (len && !EVP_CipherUpdate(ctx, dst, &n, src, (int)len))
		goto out;
	if (EVP_CipherFinal_ex(ctx, dst + len, &n) <= 0)
		goto out;
	if (enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, WG_AEAD_TAG_LEN, dst + len))
		goto out;
	ok = true;
out:
	EVP_CIPHER_CTX_free(ctx);	/* cleanses the key schedule */
	if (!ok && !enc && len)
		rg_memzero(dst, len);
	return ok;
}

bool wg_aead_encrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		     size_t adlen, uint64_t nonce, const uint8_t key[static 32])
{
	return aead(1, dst, src, srclen, ad, adlen, nonce, key);
}

bool wg_aead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		     size_t adlen, uint64_t nonce, const uint8_t key[static 32])
{
	return aead(0, dst, src, srclen, ad, adlen, nonce, key);
}

void wg_tai64n(uint8_t out[static WG_TIMESTAMP_LEN], uint64_t wall_ns)
{
	uint64_t sec = htobe64(UINT64_C(0x400000000000000a) + wall_ns / 1000000000u);
	uint32_t nsec = htobe32((uint32_t)(wall_ns % 1000000000u) & ~UINT32_C(0xffffff));

	memcpy(out, &sec, 8);
	memcpy(out + 8, &nsec, 4);
}

/* H = HASH(H || data) */
static void mix_hash(uint8_t h[static WG_HASH_LEN], const void *data, size_t len)
{
	wg_blake2s(h, h, WG_HASH_LEN, data, len);
}

/* C, k = KDF2(C, DH(priv, pub)); false on a zero DH result. */
static bool mix_dh(uint8_t ck[static WG_HASH_LEN], uint8_t *key, EVP_PKEY *sk,
		   const uint8_t priv[static 32], const uint8_t pub[static 32])
{
	uint8_t dh[32];
	bool ok = x25519_key(dh, sk, priv, pub);

	if (ok)
		kdf(ck, key, NULL, ck, dh, sizeof(dh));
	rg_memzero(dh, sizeof(dh));
	return ok;
}

static bool mix_precomputed_dh(uint8_t ck[static WG_HASH_LEN], uint8_t *key,
			       const uint8_t dh[static 32])
{
	if (rg_ct_is_zero(dh, 32))
		return false;
	kdf(ck, key, NULL, ck, dh, 32);
	return true;
}

/* The `e` token of both handshake messages: keep the clamped ephemeral private key and its loaded
 * form, write its public half to the message, then C = KDF1(C, e.pub) and H = HASH(H || e.pub). */
static bool mix_ephemeral(struct wg_handshake *hs, const uint8_t ephemeral_private[static 32],
			  uint8_t ephemeral_public[static 32])
{
	memcpy(hs->ephemeral_private, ephemeral_private, 32);
	rg_x25519_clamp(hs->ephemeral_private);
	rg_x25519_free(hs->ephemeral_key);
	hs->ephemeral_key = rg_x25519_load(hs->ephemeral_private, ephemeral_public);
	if (!hs->ephemeral_key)
		return false;
	kdf(hs->chaining_key, NULL, NULL, hs->chaining_key, ephemeral_public, 32);
	mix_hash(hs->hash, ephemeral_public, 32);
	return true;
}

/* C = CONSTRUCTION hash, H = HASH(HASH(C || IDENTIFIER) || responder static). */
static void initial_state(uint8_t ck[static WG_HASH_LEN], uint8_t h[static WG_HASH_LEN],
			  const uint8_t responder_static[static 32])
{
	wg_blake2s(ck, construction, sizeof(construction) - 1, NULL, 0);
	wg_blake2s(h, ck, WG_HASH_LEN, identifier, sizeof(identifier) - 1);
	mix_hash(h, responder_static, 32);
}

void wg_noise_handshake_init(struct wg_handshake *hs, const struct wg_static_identity *id,
			     const uint8_t remote_static[static WG_PUBLIC_KEY_LEN])
{
	memset(hs, 0, sizeof(*hs));
	memcpy(hs->remote_static, remote_static, WG_PUBLIC_KEY_LEN);
	wg_noise_handshake_precompute(hs, id);
}

void wg_noise_handshake_precompute(struct wg_handshake *hs, const struct wg_static_identity *id)
{
	if (!id->has ||
	    !x25519_key(hs->precomputed_ss, id->key, id->private_key, hs->remote_static))
		rg_memzero(hs->precomputed_ss, sizeof(hs->precomputed_ss));
}

/* Forgets the in-flight handshake; keeps identity, psk, precomputation and replay state. */
void wg_noise_handshake_clear(struct wg_handshake *hs)
{
	rg_memzero(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	rg_x25519_free(hs->ephemeral_key);
	hs->ephemeral_key = NULL;
	rg_memzero(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	rg_memzero(hs->hash, sizeof(hs->hash));
	rg_memzero(hs->chaining_key, sizeof(hs->chaining_key));
	hs->remote_index = 0;
	hs->state = WG_HS_ZEROED;
}

bool wg_noise_create_initiation(struct wg_msg_initiation *msg, struct wg_handshake *hs,
				const struct wg_static_identity *id,
				const uint8_t ephemeral_private[static 32], uint32_t sender_index,
				uint64_t wall_ns)
{
	uint8_t key[WG_SYMMETRIC_KEY_LEN], ts[WG_TIMESTAMP_LEN];
	bool ok = false;

	if (!id->has || rg_ct_is_zero(hs->precomputed_ss, 32))
		goto out;
	memset(msg, 0, sizeof(*msg));
	msg->type = htole32(WG_MSG_INITIATION);
	msg->sender = htole32(sender_index);
	initial_state(hs->chaining_key, hs->hash, hs->remote_static);

	/* e */
	if (!mix_ephemeral(hs, ephemeral_private, msg->ephemeral))
		goto out;

	/* es */
	if (!mix_dh(hs->chaining_key, key, hs->ephemeral_key, hs->ephemeral_private,
		    hs->remote_static))
		goto out;

	/* s */
	if (!wg_aead_encrypt(msg->encrypted_static, id->public_key, 32, hs->hash, WG_HASH_LEN, 0,
			     key))
		goto out;
	mix_hash(hs->hash, msg->encrypted_static, sizeof(msg->encrypted_static));

	/* ss */
	if (!mix_precomputed_dh(hs->chaining_key, key, hs->precomputed_ss))
		goto out;

	/* {t} */
	wg_tai64n(ts, wall_ns);
	if (!wg_aead_encrypt(msg->encrypted_timestamp, ts, sizeof(ts), hs->hash, WG_HASH_LEN, 0,
			     key))
		goto out;
	mix_hash(hs->hash, msg->encrypted_timestamp, sizeof(msg->encrypted_timestamp));

	hs->state = WG_HS_CREATED_INITIATION;
	ok = true;
out:
	rg_memzero(key, sizeof(key));
	if (!ok)
		wg_noise_handshake_clear(hs);
	return ok;
}

bool wg_noise_consume_initiation_static(struct wg_noise_initiation_state *st,
					const struct wg_msg_initiation *msg,
					const struct wg_static_identity *id)
{
	uint8_t key[WG_SYMMETRIC_KEY_LEN];
	bool ok = false;

	if (!id->has)
		return false;
	initial_state(st->chaining_key, st->hash, id->public_key);

	/* e */
	memcpy(st->remote_ephemeral, msg->ephemeral, 32);
	kdf(st->chaining_key, NULL, NULL, st->chaining_key, msg->ephemeral, 32);
	mix_hash(st->hash, msg->ephemeral, 32);

	/* es */
	if (!mix_dh(st->chaining_key, key, id->key, id->private_key, msg->ephemeral))
		goto out;

	/* s */
	if (!wg_aead_decrypt(st->remote_static, msg->encrypted_static,
			     sizeof(msg->encrypted_static), st->hash, WG_HASH_LEN, 0, key))
		goto out;
	mix_hash(st->hash, msg->encrypted_static, sizeof(msg->encrypted_static));
	st->sender = le32toh(msg->sender);
	ok = true;
out:
	rg_memzero(key, sizeof(key));
	if (!ok)
		rg_memzero(st, sizeof(*st));
	return ok;
}

bool wg_noise_consume_initiation_peer(struct wg_handshake *hs, struct wg_noise_initiation_state *st,
				      const struct wg_msg_initiation *msg, uint64_t now_ns)
{
	uint8_t key[WG_SYMMETRIC_KEY_LEN];
	bool ok = false, replay, flood;

	/* ss */
	if (!mix_precomputed_dh(st->chaining_key, key, hs->precomputed_ss))
		goto out;

	/* {t} */
	if (!wg_aead_decrypt(st->timestamp, msg->encrypted_timestamp,
			     sizeof(msg->encrypted_timestamp), st->hash, WG_HASH_LEN, 0, key))
		goto out;
	mix_hash(st->hash, msg->encrypted_timestamp, sizeof(msg->encrypted_timestamp));

	/* TAI64N is big-endian, so bytewise order is time order: an initiation must be newer
	 * than every one consumed before, and at most INITIATIONS_PER_S arrive per second. */
	replay = memcmp(st->timestamp, hs->latest_timestamp, WG_TIMESTAMP_LEN) <= 0;
	flood = hs->last_initiation_consumption_ns &&
		now_ns - hs->last_initiation_consumption_ns < 1000000000u / WG_INITIATIONS_PER_S;
	if (replay || flood)
		goto out;

	wg_noise_handshake_clear(hs);
	memcpy(hs->remote_ephemeral, st->remote_ephemeral, 32);
	memcpy(hs->latest_timestamp, st->timestamp, WG_TIMESTAMP_LEN);
	memcpy(hs->hash, st->hash, WG_HASH_LEN);
	memcpy(hs->chaining_key, st->chaining_key, WG_HASH_LEN);
	hs->remote_index = st->sender;
	hs->last_initiation_consumption_ns = now_ns ? now_ns : 1;
	hs->state = WG_HS_CONSUMED_INITIATION;
	ok = true;
out:
	rg_memzero(key, sizeof(key));
	rg_memzero(st, sizeof(*st));
	return ok;
}

bool wg_noise_create_response(struct wg_msg_response *msg, struct wg_handshake *hs,
			      const uint8_t ephemeral_private[static 32], uint32_t sender_index)
{
	uint8_t key[WG_SYMMETRIC_KEY_LEN], tau[WG_HASH_LEN];
	const uint8_t *psk = hs->psk;
	static const uint8_t zero_psk[WG_SYMMETRIC_KEY_LEN];
	bool ok = false;

	if (hs->state != WG_HS_CONSUMED_INITIATION)
		goto out;
	if (!hs->has_psk)
		psk = zero_psk;
	memset(msg, 0, sizeof(*msg));
	msg->type = htole32(WG_MSG_RESPONSE);
	msg->sender = htole32(sender_index);
	msg->receiver = htole32(hs->remote_index);

	/* e */
	if (!mix_ephemeral(hs, ephemeral_private, msg->ephemeral))
		goto out;

	/* ee */
	if (!mix_dh(hs->chaining_key, NULL, hs->ephemeral_key, hs->ephemeral_private,
		    hs->remote_ephemeral))
		goto out;

	/* se */
	if (!mix_dh(hs->chaining_key, NULL, hs->ephemeral_key, hs->ephemeral_private,
		    hs->remote_static))
		goto out;

	/* psk */
	kdf(hs->chaining_key, tau, key, hs->chaining_key, psk, WG_SYMMETRIC_KEY_LEN);
	mix_hash(hs->hash, tau, sizeof(tau));

	/* {} */
	if (!wg_aead_encrypt(msg->encrypted_nothing, msg->encrypted_nothing, 0, hs->hash, WG_HASH_LEN, 0, key))
		goto out;
	mix_hash(hs->hash, msg->encrypted_nothing, sizeof(msg->encrypted_nothing));

	hs->state = WG_HS_CREATED_RESPONSE;
	ok = true;
out:
	rg_memzero(key, sizeof(key));
	rg_memzero(tau, sizeof(tau));
	if (!ok)
		wg_noise_handshake_clear(hs);
	return ok;
}

bool wg_noise_consume_response(struct wg_handshake *hs, const struct wg_msg_response *msg,
			       const struct wg_static_identity *id)
{
	uint8_t key[WG_SYMMETRIC_KEY_LEN], tau[WG_HASH_LEN], ck[WG_HASH_LEN], h[WG_HASH_LEN];
	uint8_t nothing[1];
	static const uint8_t zero_psk[WG_SYMMETRIC_KEY_LEN];
	const uint8_t *psk = hs->has_psk ? hs->psk : zero_psk;
	bool ok = false;

	if (hs->state != WG_HS_CREATED_INITIATION || !id->has)
		goto out;
	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(h, hs->hash, sizeof(h));

	/* e */
	kdf(ck, NULL, NULL, ck, msg->ephemeral, 32);
	mix_hash(h, msg->ephemeral, 32);

	/* ee */
	if (!mix_dh(ck, NULL, hs->ephemeral_key, hs->ephemeral_private, msg->ephemeral))
		goto out;

	/* se */
	if (!mix_dh(ck, NULL, id->key, id->private_key, msg->ephemeral))
		goto out;

	/* psk */
	kdf(ck, tau, key, ck, psk, WG_SYMMETRIC_KEY_LEN);
	mix_hash(h, tau, sizeof(tau));

	/* {} */
	if (!wg_aead_decrypt(nothing, msg->encrypted_nothing, sizeof(msg->encrypted_nothing), h,
			     WG_HASH_LEN, 0, key))
		goto out;
	mix_hash(h, msg->encrypted_nothing, sizeof(msg->encrypted_nothing));

	/* Commit only now: a forged response leaves the pending handshake intact. */
	memcpy(hs->remote_ephemeral, msg->ephemeral, 32);
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, h, sizeof(h));
	hs->remote_index = le32toh(msg->sender);
	hs->state = WG_HS_CONSUMED_RESPONSE;
	ok = true;
out:
	rg_memzero(key, sizeof(key));
	rg_memzero(tau, sizeof(tau));
	rg_memzero(ck, sizeof(ck));
	rg_memzero(h, sizeof(h));
	return ok;
}

static EVP_CIPHER_CTX *keyed_ctx(const uint8_t key[static 32], int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t nonce[12] = { 0 };

	fetch();
	if (ctx && chachapoly && EVP_CipherInit_ex(ctx, chachapoly, NULL, key, nonce, enc))
		return ctx;
	EVP_CIPHER_CTX_free(ctx);
	return NULL;
}

bool wg_noise_derive_keypair(struct wg_keypair *kp, struct wg_handshake *hs, uint64_t now_ns)
{
	uint8_t t1[WG_SYMMETRIC_KEY_LEN], t2[WG_SYMMETRIC_KEY_LEN];
	bool initiator = hs->state == WG_HS_CONSUMED_RESPONSE;
	bool ok = false;

	if (!initiator && hs->state != WG_HS_CREATED_RESPONSE)
		goto out;
	memset(kp, 0, sizeof(*kp));
	/* T_send_i = T_recv_r, T_recv_i = T_send_r = KDF2(C, ε) */
	kdf(t1, t2, NULL, hs->chaining_key, NULL, 0);
	kp->send = keyed_ctx(initiator ? t1 : t2, 1);
	kp->recv = keyed_ctx(initiator ? t2 : t1, 0);
	if (!kp->send || !kp->recv) {
		wg_noise_keypair_free(kp);
		goto out;
	}
	wg_replay_init(&kp->replay);
	kp->remote_index = hs->remote_index;
	kp->birth_ns = now_ns;
	kp->initiator = initiator;
	kp->can_send = true;
	ok = true;
out:
	rg_memzero(t1, sizeof(t1));
	rg_memzero(t2, sizeof(t2));
	wg_noise_handshake_clear(hs);
	return ok;
}

void wg_noise_keypair_free(struct wg_keypair *kp)
{
	EVP_CIPHER_CTX_free(kp->send);
	EVP_CIPHER_CTX_free(kp->recv);
	kp->send = kp->recv = NULL;
	kp->can_send = false;
}

bool wg_noise_encrypt(struct wg_keypair *kp, uint8_t *buf, size_t len, uint64_t counter)
{
	uint8_t nonce[12];
	int n;

	make_nonce(nonce, counter);
	return EVP_CipherInit_ex(kp->send, NULL, NULL, NULL, nonce, 1) &&
	       (!len || EVP_CipherUpdate(kp->send, buf, &n, buf, (int)len)) &&
	       EVP_CipherFinal_ex(kp->send, buf + len, &n) > 0 &&
	       EVP_CIPHER_CTX_ctrl(kp->send, EVP_CTRL_AEAD_GET_TAG, WG_AEAD_TAG_LEN, buf + len);
}

bool wg_noise_decrypt(struct wg_keypair *kp, uint8_t *buf, size_t len, uint64_t counter)
{
	uint8_t nonce[12];
	size_t plen;
	int n;

	if (len < WG_AEAD_TAG_LEN)
		return false;
	plen = len - WG_AEAD_TAG_LEN;
	make_nonce(nonce, counter);
	return EVP_CipherInit_ex(kp->recv, NULL, NULL, NULL, nonce, 0) &&
	       EVP_CIPHER_CTX_ctrl(kp->recv, EVP_CTRL_AEAD_SET_TAG, WG_AEAD_TAG_LEN, buf + plen) &&
	       (!plen || EVP_CipherUpdate(kp->recv, buf, &n, buf, (int)plen)) &&
	       EVP_CipherFinal_ex(kp->recv, buf + plen, &n) > 0;
}
