/* libFuzzer target: the key rotation parser (src/trust/cert.c) and the rules after it. A parse
 * fails cleanly or encodes back to exactly the input; a parsed rotation then goes through
 * trust_rotation_check (against a fixed cert, with a verifier that accepts every signature, so
 * the rules past the signature run too) and the bounded table of rotations seen. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trust/cert.h"

static bool accept_all(void *opaque, const uint8_t pub[TRUST_KEY_LEN], const uint8_t *msg,
		       size_t len, const uint8_t sig[TRUST_SIG_LEN])
{
	(void)opaque, (void)pub, (void)msg, (void)len, (void)sig;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trust_rotations t;
	struct trust_ctx ctx = { .verify = accept_all, .skew_s = TRUST_SKEW_S };
	struct trust_cert c = { .serial = 0x0102030405060708, .not_before = 1800000000 };
	struct trust_rotation r;
	uint8_t out[TRUST_ROTATION_MAX];
	size_t n;
	int v;

	if (trust_rotation_parse(&r, data, size) != TRUST_OK)
		return 0;
	n = trust_rotation_encode(&r, out, sizeof(out));
	if (n != size || memcmp(out, data, n))
		abort();
	strcpy(ctx.net, "home");
	strcpy(c.net, "home");
	strcpy(c.name, "alice");
	memset(c.wg_key, 0xa1, sizeof(c.wg_key));
	v = trust_rotation_check(&ctx, &c, &r, 1800003600);
	if (v != TRUST_OK)
		return 0;
	if (r.serial != c.serial || (r.seq == 1 && memcmp(r.old_wg, c.wg_key, TRUST_KEY_LEN)))
		abort();
	if (t.n == TRUST_ROTATIONS_MAX)
		memset(&t, 0, sizeof(t));
	if (trust_rotations_use(&t, &c, &r) == TRUST_OK &&
	    memcmp(trust_rotations_find(&t, c.serial)->wg_key, r.new_wg, TRUST_KEY_LEN))
		abort();
	return 0;
}
