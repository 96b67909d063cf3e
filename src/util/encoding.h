/* Base64 (RFC 4648 §4, standard alphabet, padded, strict) and hex, constant-time in the bytes
 * encoded or decoded (no table lookups, no branches on data), so keys can pass through them. */
#ifndef RG_UTIL_ENCODING_H
#define RG_UTIL_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rg_key_sizes {
	RG_KEY_LEN = 32,	/* Curve25519 keys, preshared keys */
	RG_KEY_B64_LEN = 44,	/* without the NUL */
	RG_KEY_HEX_LEN = 64,	/* without the NUL */
};

static inline size_t rg_base64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* Writes rg_base64_len(n) characters and a NUL to out. */
void rg_base64_encode(char *out, const uint8_t *in, size_t n);

/* Strict decode of exactly in_len characters: length a multiple of 4, '=' only as final padding,
 * unused bits zero. Returns 0 and sets *out_len, or -EINVAL (bad input) / -ENOSPC (out too small). */
int rg_base64_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *in, size_t in_len);

/* Writes 2n lowercase hex digits and a NUL. */
void rg_hex_encode(char *out, const uint8_t *in, size_t n);
/* Decodes exactly 2n hex digits (either case) from in into n bytes; false on any other input. */
bool rg_hex_decode(uint8_t *out, size_t n, const char *in, size_t in_len);

/* Keys as `wg` prints them: 44 base64 chars. The decoder demands exactly that shape. */
void rg_key_to_base64(char out[static RG_KEY_B64_LEN + 1], const uint8_t key[static RG_KEY_LEN]);
bool rg_key_from_base64(uint8_t key[static RG_KEY_LEN], const char *b64);
void rg_key_to_hex(char out[static RG_KEY_HEX_LEN + 1], const uint8_t key[static RG_KEY_LEN]);
bool rg_key_from_hex(uint8_t key[static RG_KEY_LEN], const char *hex);

#endif
