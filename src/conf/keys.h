/* WireGuard keys: X25519 (RFC 7748) through OpenSSL 3's EVP, random private keys from the OS
 * CSPRNG, clamped the way `wg genkey` clamps them. Callers wipe what they hold (rg_memzero). */
#ifndef RG_CONF_KEYS_H
#define RG_CONF_KEYS_H

#include <stdint.h>

#include "util/encoding.h"

/* Clears bits 0-2 and 255, sets bit 254 (RFC 7748 §5 decodeScalar25519). */
void conf_key_clamp(uint8_t key[static RG_KEY_LEN]);

/* 32 bytes from getrandom(2), clamped. Returns 0 or -errno. */
int conf_key_generate(uint8_t priv[static RG_KEY_LEN]);

/* pub = X25519(priv, 9). Returns 0 or -EINVAL (OpenSSL refused). */
int conf_key_public(uint8_t pub[static RG_KEY_LEN], const uint8_t priv[static RG_KEY_LEN]);

/* out = X25519(scalar, u). Returns 0, or -EINVAL when the result is all zeros (a small-order u)
 * or OpenSSL refused. */
int conf_key_x25519(uint8_t out[static RG_KEY_LEN], const uint8_t scalar[static RG_KEY_LEN],
		    const uint8_t u[static RG_KEY_LEN]);

#endif
