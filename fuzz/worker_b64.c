/* libFuzzer target: the Worker glue's base64 decoder (worker/wasm/b64.c, compiled natively here
 * exactly as it goes into hub.wasm), differentially against util/encoding.c's strict decoder:
 * for every input and output capacity, both accept the same strings and give the same bytes;
 * nothing is written past the capacity. The first input byte picks the capacity. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/encoding.h"

#include "../worker/wasm/b64.c"

enum { CAP_MAX = 2048 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t a[CAP_MAX + 16], b[CAP_MAX];
	size_t cap, n = 0;
	long got;
	int ref;

	if (size < 1)
		return 0;
	cap = data[0] == 0xff ? CAP_MAX : data[0];
	data++, size--;
	memset(a, 0xa5, sizeof(a));
	got = hubw_b64_decode(a, cap, (const char *)data, size);
	ref = rg_base64_decode(b, cap, &n, (const char *)data, size);
	for (size_t i = cap; i < sizeof(a); i++)
		if (a[i] != 0xa5)
			abort();	/* wrote past cap */
	if (size == 0)
		return got == -1 ? 0 : (abort(), 0);	/* the glue refuses empty input */
	if ((got >= 0) != (ref == 0))
		abort();
	if (got >= 0 && ((size_t)got != n || memcmp(a, b, n)))
		abort();
	return 0;
}
