/* libFuzzer target: the signaling client's message parser (json-glib) on hub frames, and a
 * write/re-parse round trip of whatever it accepts. */
#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signal/msg.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sig_msg m, again;
	struct rg_err err;
	char *json;
	size_t len;

	if (sig_msg_parse(&m, (const char *)data, size, &err))
		return 0;
	json = sig_msg_to_json(&m, &len, &err);
	if (json) {
		/* what we write, we read back as the same type */
		if (sig_msg_parse(&again, json, len, &err) || again.type != m.type)
			abort();
		sig_msg_clear(&again);
		g_free(json);
	}
	sig_msg_clear(&m);
	return 0;
}
