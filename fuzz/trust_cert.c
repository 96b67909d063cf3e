/* libFuzzer target: the certificate and ticket parsers (src/trust/cert.c), the bytes a hub or a
 * peer hands an agent in a "cert" field. A parse either fails cleanly or yields a record that
 * encodes back to exactly the input (one form per value, so signatures cover what was parsed),
 * and checking it against a fixed anchor never crashes. The first byte picks the parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trust/cert.h"
#include "trust/sign.h"

static bool never(void *opaque, const uint8_t pub[TRUST_KEY_LEN], const uint8_t *msg, size_t len,
		  const uint8_t sig[TRUST_SIG_LEN])
{
	(void)opaque, (void)pub, (void)msg, (void)len, (void)sig;
	return true;	/* let the rules behind the signature run too */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trust_cert c;
	static struct trust_ticket t;
	static struct trust_bindings b;
	static uint8_t out[TRUST_CERT_MAX];
	struct trust_ctx ctx = { .verify = never, .skew_s = TRUST_SKEW_S };
	size_t n;

	if (size < 1)
		return 0;
	strcpy(ctx.net, "home");
	if (data[0] & 1) {
		if (trust_ticket_parse(&t, data + 1, size - 1) != TRUST_OK)
			return 0;
		n = trust_ticket_encode(&t, out, sizeof(out));
		if (n != size - 1 || memcmp(out, data + 1, n))
			abort();
		memcpy(ctx.anchor, t.issuer, TRUST_KEY_LEN);
		(void)trust_ticket_check(&ctx, &t, 1800000000);
		return 0;
	}
	if (trust_cert_parse(&c, data + 1, size - 1) != TRUST_OK)
		return 0;
	n = trust_cert_encode(&c, out, sizeof(out));
	if (n != size - 1 || memcmp(out, data + 1, n))
		abort();
	memcpy(ctx.anchor, c.issuer, TRUST_KEY_LEN);
	(void)trust_cert_check(&ctx, &c, 1800000000);
	(void)trust_cert_matches(&c, "alice", c.wg_key, "10.10.0.2/24");
	if (b.n == TRUST_BINDINGS_MAX)
		b.n = 0;
	(void)trust_bindings_use(&b, &c);
	return 0;
}
