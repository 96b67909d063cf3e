/* libFuzzer target: the client's relay frame parser (src/signal/relay.c). A frame that parses
 * must re-encode to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "signal/relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[SIG_RELAY_FRAME_MAX];
	const uint8_t *id, *pl;
	size_t il, pll;
	char name[SIG_RELAY_ID_MAX + 1];

	if (sig_relay_parse(data, size, &id, &il, &pl, &pll))
		return 0;
	if (id != data + 2 || il == 0 || pll == 0 || 2 + il + pll != size)
		abort();
	memcpy(name, id, il);
	name[il] = '\0';
	if (strlen(name) != il)		/* an id with NUL bytes does not re-encode */
		return 0;
	if (sig_relay_encode(out, sizeof(out), name, pl, pll) != size || memcmp(out, data, size))
		abort();
	return 0;
}
