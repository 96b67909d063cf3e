/* libFuzzer target: the network DNS settings parser (src/trust/cert.c), the record agents take
 * from the hub in a signed network. A parse fails cleanly or encodes back to exactly the input,
 * with every search domain and DNS address within its limits. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trust/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trust_settings s;
	uint8_t out[TRUST_SETTINGS_MAX];
	size_t n;

	if (trust_settings_parse(&s, data, size) != TRUST_OK)
		return 0;
	n = trust_settings_encode(&s, out, sizeof(out));
	if (n != size || memcmp(out, data, n) || s.n_dns > TRUST_DNS_MAX ||
	    s.n_search > TRUST_SEARCH_MAX)
		abort();
	for (size_t i = 0; i < s.n_search; i++)
		if (!s.search[i][0] || strlen(s.search[i]) > TRUST_DOMAIN_MAX)
			abort();
	return 0;
}
