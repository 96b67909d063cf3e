/* Base64 decoding for the wasm glue (glue.c): certificates, key rotations and WireGuard public
 * keys from `join` frames. Freestanding (no libc), so the Worker's hub.wasm and the native
 * libFuzzer target (fuzz/worker_b64.c, which checks it against util/encoding.c) build the same
 * code. Inputs are public records, so it is not constant time. */
#ifndef RG_WORKER_WASM_B64_H
#define RG_WORKER_WASM_B64_H

#include <stddef.h>
#include <stdint.h>

/* Standard padded base64, strict (length a multiple of 4, '=' only as the final padding, zero
 * pad bits, no whitespace): the length decoded into out, or -1 (bad input, empty input, or more
 * than cap bytes). */
long hubw_b64_decode(uint8_t *out, size_t cap, const char *s, size_t len);

#endif
