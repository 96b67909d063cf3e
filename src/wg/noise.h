/* Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as WireGuard uses it (whitepaper §5.4): the crypto
 * primitives (BLAKE2s, HMAC/HKDF, X25519, ChaCha20-Poly1305 through OpenSSL EVP), the per-peer
 * handshake state and the keypairs it derives. Called by device.c; no I/O, no allocation except
 * when a keypair is created (its two EVP contexts, reused for every packet). */
#ifndef RG_WG_NOISE_H
#define RG_WG_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/messages.h"
#include "wg/replay.h"

struct wg_peer;
struct wg_device;
typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

/* Entry in the device's receiver-index table; embedded in handshakes and keypairs. */
enum wg_index_kind { WG_INDEX_HANDSHAKE = 1, WG_INDEX_KEYPAIR = 2 };
struct wg_index_entry {
	struct wg_index_entry *next;	/* hash chain, owned by the table */
	struct wg_peer *peer;		/* back-pointer, not owned */
	uint32_t index;
	uint8_t kind;
	bool linked;
};

struct wg_keypair {
	struct wg_index_entry entry;	/* entry.index is our receiver index */
	uint32_t remote_index;
	EVP_CIPHER_CTX *send;		/* owned; keyed once, nonce set per packet */
	EVP_CIPHER_CTX *recv;		/* owned */
	uint64_t send_counter;
	struct wg_replay replay;
	uint64_t birth_ns;		/* monotonic */
	bool initiator;
	bool can_send;			/* false once expired or counter exhausted */
};

enum wg_handshake_state {
	WG_HS_ZEROED = 0,
	WG_HS_CREATED_INITIATION,
	WG_HS_CONSUMED_INITIATION,
	WG_HS_CREATED_RESPONSE,
	WG_HS_CONSUMED_RESPONSE,
};

struct wg_handshake {
	struct wg_index_entry entry;	/* our sender index while a handshake is in flight */
	enum wg_handshake_state state;
	uint8_t remote_static[WG_PUBLIC_KEY_LEN];
	uint8_t precomputed_ss[WG_SYMMETRIC_KEY_LEN];	/* DH(S_priv, S_pub_remote) */
	uint8_t psk[WG_SYMMETRIC_KEY_LEN];
	bool has_psk;
	uint8_t ephemeral_private[WG_PRIVATE_KEY_LEN];
	EVP_PKEY *ephemeral_key;	/* owned: the same key loaded once for its DH steps */
	uint8_t remote_ephemeral[WG_PUBLIC_KEY_LEN];
	uint8_t hash[WG_HASH_LEN];
	uint8_t chaining_key[WG_HASH_LEN];
	uint8_t latest_timestamp[WG_TIMESTAMP_LEN];	/* greatest TAI64N consumed */
	uint32_t remote_index;
	uint64_t last_initiation_consumption_ns;	/* 0 = never */
};

/* The static identity the device handshakes with. */
struct wg_static_identity {
	uint8_t private_key[WG_PRIVATE_KEY_LEN];
	uint8_t public_key[WG_PUBLIC_KEY_LEN];
	EVP_PKEY *key;		/* owned, optional: private_key loaded once (saves a scalar
				 * multiplication per DH, since loading derives the public key) */
	bool has;
};

/* Primitives (also used by cookie.c and the tests). */
void wg_blake2s(uint8_t out[static WG_HASH_LEN], const void *a, size_t alen, const void *b,
		size_t blen);
/* Keyed BLAKE2s with outlen bytes of output (1..32), key 1..32 bytes. */
void wg_blake2s_mac(uint8_t *out, size_t outlen, const uint8_t *key, size_t keylen,
		    const void *in, size_t inlen);
/* The same with a key loaded once: new() returns NULL on failure; run() allocates nothing. */
EVP_MAC_CTX *wg_blake2s_mac_new(const uint8_t *key, size_t keylen, size_t outlen);
bool wg_blake2s_mac_run(EVP_MAC_CTX *ctx, uint8_t *out, size_t outlen, const void *in,
			size_t inlen);
void wg_blake2s_mac_free(EVP_MAC_CTX *ctx);
void wg_hmac_blake2s(uint8_t out[static WG_HASH_LEN], const uint8_t *key, size_t keylen,
		     const void *in, size_t inlen);
/* One-shot ChaCha20-Poly1305 with a 64-bit counter nonce (96-bit: 4 zero bytes + LE64). */
bool wg_aead_encrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		     size_t adlen, uint64_t nonce, const uint8_t key[static 32]);
bool wg_aead_decrypt(uint8_t *dst, const uint8_t *src, size_t srclen, const uint8_t *ad,
		     size_t adlen, uint64_t nonce, const uint8_t key[static 32]);
/* Whitepaper: TAI64N of wall ns, nanoseconds rounded down to a 2^24 ns granule. */
void wg_tai64n(uint8_t out[static WG_TIMESTAMP_LEN], uint64_t wall_ns);

/* Handshake steps (whitepaper §5.4.2–5.4.4). ephemeral_private is the caller's fresh random
 * key; sender_index is the index the caller reserved. Return false to drop. */
void wg_noise_handshake_init(struct wg_handshake *hs, const struct wg_static_identity *id,
			     const uint8_t remote_static[static WG_PUBLIC_KEY_LEN]);
void wg_noise_handshake_precompute(struct wg_handshake *hs, const struct wg_static_identity *id);
void wg_noise_handshake_clear(struct wg_handshake *hs);
bool wg_noise_create_initiation(struct wg_msg_initiation *msg, struct wg_handshake *hs,
				const struct wg_static_identity *id,
				const uint8_t ephemeral_private[static 32], uint32_t sender_index,
				uint64_t wall_ns);
/* First half: decrypts the initiator's static key (the caller then finds the peer by it). On
 * success *out holds the parsed state to be committed by wg_noise_commit_initiation. */
struct wg_noise_initiation_state {
	uint8_t remote_static[WG_PUBLIC_KEY_LEN];
	uint8_t remote_ephemeral[WG_PUBLIC_KEY_LEN];
	uint8_t hash[WG_HASH_LEN];
	uint8_t chaining_key[WG_HASH_LEN];
	uint8_t timestamp[WG_TIMESTAMP_LEN];
	uint32_t sender;
};
bool wg_noise_consume_initiation_static(struct wg_noise_initiation_state *st,
					const struct wg_msg_initiation *msg,
					const struct wg_static_identity *id);
/* Second half: checks the timestamp with the peer's handshake (ss precomputed) and replay /
 * flood state, and on success moves the state into hs (CONSUMED_INITIATION). */
bool wg_noise_consume_initiation_peer(struct wg_handshake *hs, struct wg_noise_initiation_state *st,
				      const struct wg_msg_initiation *msg, uint64_t now_ns);
bool wg_noise_create_response(struct wg_msg_response *msg, struct wg_handshake *hs,
			      const uint8_t ephemeral_private[static 32], uint32_t sender_index);
/* hs is in CREATED_INITIATION; on success it becomes CONSUMED_RESPONSE. */
bool wg_noise_consume_response(struct wg_handshake *hs, const struct wg_msg_response *msg,
			       const struct wg_static_identity *id);
/* Derives the transport keys from a completed handshake (initiator after consuming the
 * response, responder after creating it) into kp and zeroes the handshake. */
bool wg_noise_derive_keypair(struct wg_keypair *kp, struct wg_handshake *hs, uint64_t now_ns);
void wg_noise_keypair_free(struct wg_keypair *kp);

/* Data messages with a keypair's contexts: encrypt plaintext in place at buf (len bytes,
 * already padded), writing the tag after it. decrypt len bytes (including tag) in place. */
bool wg_noise_encrypt(struct wg_keypair *kp, uint8_t *buf, size_t len, uint64_t counter);
bool wg_noise_decrypt(struct wg_keypair *kp, uint8_t *buf, size_t len, uint64_t counter);

#endif
