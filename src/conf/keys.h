/* WireGuard keys: random private keys from the OS CSPRNG, clamped the way `wg genkey` clamps
 * them. X25519 itself (public keys, DH) is util/x25519.h. Callers wipe what they hold
 * (rg_memzero). */
#ifndef RG_CONF_KEYS_H
#define RG_CONF_KEYS_H

#include <stdint.h>

#include "util/encoding.h"

/* 32 bytes from getrandom(2), clamped. Returns 0 or -errno. */
int conf_key_generate(uint8_t priv[static RG_KEY_LEN]);

#endif
