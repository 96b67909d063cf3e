/* MAC1/MAC2 and cookie replies (whitepaper §5.4.4, §5.4.7): the responder side (checker, one per
 * device) validates macs and makes cookie replies with XChaCha20-Poly1305 (libsodium); the
 * initiator side (one per peer) stamps macs and stores the cookie it was given. */
#ifndef RG_WG_COOKIE_H
#define RG_WG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/messages.h"

struct wg_endpoint;

struct wg_cookie_checker {
	uint8_t secret[WG_HASH_LEN];		/* Rm, rotated every 2 minutes */
	uint64_t secret_birth_ns;
	bool has_secret;
	uint8_t mac1_key[WG_HASH_LEN];		/* HASH(LABEL_MAC1 || S_pub) of our static */
	uint8_t encryption_key[WG_HASH_LEN];	/* HASH(LABEL_COOKIE || S_pub) */
	struct evp_mac_ctx_st *mac1;		/* owned: keyed with mac1_key, so checking mac1
						 * of garbage allocates nothing */
	bool ready;
};

struct wg_cookie {
	uint8_t mac1_key[WG_HASH_LEN];		/* of the peer's static key */
	uint8_t decryption_key[WG_HASH_LEN];
	uint8_t cookie[WG_COOKIE_LEN];
	uint64_t cookie_birth_ns;
	bool have_cookie;
	uint8_t last_mac1_sent[WG_MAC_LEN];
	bool have_last_mac1;
};

enum wg_cookie_mac_state {
	WG_COOKIE_INVALID = 0,		/* bad mac1: drop */
	WG_COOKIE_MAC1_ONLY,		/* mac1 good, mac2 bad or absent */
	WG_COOKIE_MAC2_VALID,
};

void wg_cookie_checker_init(struct wg_cookie_checker *c, const uint8_t *our_public);
void wg_cookie_checker_clear(struct wg_cookie_checker *c);
void wg_cookie_init(struct wg_cookie *ck, const uint8_t peer_public[static 32]);
void wg_cookie_clear(struct wg_cookie *ck);

/* msg is an initiation or response of len bytes (len checked by caller). random fills bytes. */
enum wg_cookie_mac_state wg_cookie_validate(struct wg_cookie_checker *c, const uint8_t *msg,
					    size_t len, size_t mac1_off,
					    const struct wg_endpoint *src, uint64_t now_ns,
					    void (*random)(void *, uint8_t *, size_t), void *ropaque);
void wg_cookie_make_reply(struct wg_cookie_checker *c, struct wg_msg_cookie *reply,
			  const uint8_t *msg, size_t mac1_off, uint32_t receiver,
			  const struct wg_endpoint *src, uint64_t now_ns,
			  void (*random)(void *, uint8_t *, size_t), void *ropaque);
/* Stamps mac1 (and mac2 when a fresh cookie is held) into msg. */
void wg_cookie_add_macs(struct wg_cookie *ck, uint8_t *msg, size_t mac1_off, uint64_t now_ns);
/* Decrypts a cookie reply; false to drop. */
bool wg_cookie_consume_reply(struct wg_cookie *ck, const struct wg_msg_cookie *reply,
			     uint64_t now_ns);

#endif
