/* X25519 (RFC 7748) through OpenSSL 3's EVP_PKEY_X25519, shared by the WireGuard core (src/wg)
 * and the key commands (src/conf/keys.c). OpenSSL applies decodeScalar25519 itself, so public
 * keys of unclamped private keys match `wg pubkey`, which clamps before multiplying too. Its own
 * library (rg-x25519): the rest of util stays libc-only for the freestanding hub core. */
#ifndef RG_UTIL_X25519_H
#define RG_UTIL_X25519_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/types.h>

enum { RG_X25519_LEN = 32 };

/* Clears bits 0-2 and 255, sets bit 254 (RFC 7748 §5 decodeScalar25519). */
void rg_x25519_clamp(uint8_t key[static RG_X25519_LEN]);
/* pub = X25519(priv, 9). false: OpenSSL refused. */
bool rg_x25519_public(uint8_t pub[static RG_X25519_LEN], const uint8_t priv[static RG_X25519_LEN]);
/* out = X25519(priv, pub). false (out zeroed) when the result is all zeros (a small-order pub)
 * or OpenSSL refused. */
bool rg_x25519(uint8_t out[static RG_X25519_LEN], const uint8_t priv[static RG_X25519_LEN],
	       const uint8_t pub[static RG_X25519_LEN]);
/* Loads priv once for repeated DH (pub, if not NULL, gets its public key). NULL on failure.
 * rg_x25519_free() cleanses the copy OpenSSL holds. */
EVP_PKEY *rg_x25519_load(const uint8_t priv[static RG_X25519_LEN], uint8_t *pub);
void rg_x25519_free(EVP_PKEY *key);
/* rg_x25519() with a loaded key; allocates only OpenSSL's per-call context. */
bool rg_x25519_loaded(uint8_t out[static RG_X25519_LEN], EVP_PKEY *key,
		      const uint8_t pub[static RG_X25519_LEN]);

#endif
