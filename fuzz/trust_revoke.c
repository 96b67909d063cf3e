/* libFuzzer target: the revocation parser (src/trust/cert.c) and the revocation list it feeds.
 * A parse fails cleanly or encodes back to exactly the input; a parsed serial goes on a bounded
 * list that stays sorted. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trust/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trust_revlist l;
	struct trust_revoke r;
	uint8_t out[TRUST_REVOKE_MAX];
	size_t n;

	if (trust_revoke_parse(&r, data, size) != TRUST_OK)
		return 0;
	n = trust_revoke_encode(&r, out, sizeof(out));
	if (n != size || memcmp(out, data, n))
		abort();
	if (l.n == TRUST_REVOKED_MAX)
		l.n = 0;
	if (trust_revlist_add(&l, r.serial) != TRUST_OK || !trust_revlist_has(&l, r.serial))
		abort();
	for (size_t i = 1; i < l.n; i++)
		if (l.serial[i - 1] >= l.serial[i])
			abort();
	return 0;
}
