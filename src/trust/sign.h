/* Host side of membership records (cert.h): Ed25519 keys, signing and verification on OpenSSL 3
 * EVP, the trust anchor's printable fingerprint, and the base64 text form records travel in
 * (JSON "cert" fields, invite tickets, revocation files). Agents, the CLI and riftgate-hub use it;
 * the hub core only sees trust_verify() through its ops. */
#ifndef RG_TRUST_SIGN_H
#define RG_TRUST_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trust/cert.h"

enum trust_sign_limits {
	TRUST_SEED_LEN = 32,		/* Ed25519 private key (RFC 8032 seed) */
	/* base64 of the largest record, without the NUL */
	TRUST_CERT_B64_MAX = (TRUST_CERT_MAX + 2) / 3 * 4,
	TRUST_REVOKE_B64_MAX = (TRUST_REVOKE_MAX + 2) / 3 * 4,
	TRUST_SETTINGS_B64_MAX = (TRUST_SETTINGS_MAX + 2) / 3 * 4,
	TRUST_TICKET_B64_MAX = (TRUST_TICKET_MAX + 2) / 3 * 4,
	TRUST_ROTATION_B64_MAX = (TRUST_ROTATION_MAX + 2) / 3 * 4,
};

/* New key pair from the OS RNG. 0 or -EIO. */
int trust_key_generate(uint8_t seed[static TRUST_SEED_LEN], uint8_t pub[static TRUST_KEY_LEN]);
/* Public key of a seed. 0 or -EIO. */
int trust_key_public(uint8_t pub[static TRUST_KEY_LEN], const uint8_t seed[static TRUST_SEED_LEN]);
/* Ed25519 signature of msg. 0 or -EIO. */
int trust_sign(uint8_t sig[static TRUST_SIG_LEN], const uint8_t seed[static TRUST_SEED_LEN],
	       const uint8_t *msg, size_t len);
/* trust_verify_fn for trust_ctx (opaque unused). */
bool trust_verify(void *opaque, const uint8_t pub[TRUST_KEY_LEN], const uint8_t *msg, size_t len,
		  const uint8_t sig[TRUST_SIG_LEN]);

/* Sign a record in place with seed: fills ->sig over its encoding. 0, -EINVAL (does not encode)
 * or -EIO. */
int trust_cert_sign(struct trust_cert *c, const uint8_t seed[static TRUST_SEED_LEN]);
int trust_ticket_sign(struct trust_ticket *t, const uint8_t seed[static TRUST_SEED_LEN]);
int trust_revoke_sign(struct trust_revoke *r, const uint8_t seed[static TRUST_SEED_LEN]);
int trust_rotation_sign(struct trust_rotation *r, const uint8_t seed[static TRUST_SEED_LEN]);
int trust_settings_sign(struct trust_settings *s, const uint8_t seed[static TRUST_SEED_LEN]);

/* Fingerprint people compare: "SHA256:" + the first 16 bytes of SHA-256(pub) as 8 groups of
 * 4 hex digits joined by '-' (7 + 39 characters). */
enum { TRUST_FINGERPRINT_LEN = 7 + 39 };
void trust_fingerprint(char out[static TRUST_FINGERPRINT_LEN + 1], const uint8_t pub[static TRUST_KEY_LEN]);

/* Base64 (standard, padded) text of a record; out must hold TRUST_*_B64_MAX + 1. 0 or -EINVAL. */
int trust_cert_to_base64(char *out, size_t cap, const struct trust_cert *c);
int trust_revoke_to_base64(char *out, size_t cap, const struct trust_revoke *r);
int trust_ticket_to_base64(char *out, size_t cap, const struct trust_ticket *t);
int trust_rotation_to_base64(char *out, size_t cap, const struct trust_rotation *r);
/* Strict decode + parse. 0 or TRUST_E_MALFORMED. */
int trust_cert_from_base64(struct trust_cert *c, const char *s, size_t len);
int trust_revoke_from_base64(struct trust_revoke *r, const char *s, size_t len);
int trust_settings_to_base64(char *out, size_t cap, const struct trust_settings *s);
int trust_settings_from_base64(struct trust_settings *out, const char *s, size_t len);
int trust_ticket_from_base64(struct trust_ticket *t, const char *s, size_t len);
int trust_rotation_from_base64(struct trust_rotation *r, const char *s, size_t len);

/* Random nonzero 64-bit serial / ticket id. 0 on RNG failure. */
uint64_t trust_random_serial(void);

#endif
