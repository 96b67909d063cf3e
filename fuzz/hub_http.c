/* libFuzzer target: riftgate-hub's HTTP request parsing (src/hubd/http.c) on its own: the input
 * is what a client sends before the upgrade. Checks that a parsed head yields the strings the
 * server uses, that a network name it accepts is valid, and that no reply carries a NUL. */
#include <stdlib.h>
#include <string.h>

#include "hubd/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hubd_http_req rq;
	size_t head = hubd_http_head_len(data, size);

	if (head > size || (head && head < 4))
		abort();
	if (!head)
		head = size;	/* parse incomplete heads too: the parser must not care */
	if (hubd_http_parse(&rq, (const char *)data, head)) {
		g_autofree char *name = hubd_http_network_of(rq.path, rq.query);
		GString *out = g_string_new(NULL);

		if (!rq.method || !rq.path)
			abort();
		if (name && !hubd_http_network_valid(name))
			abort();
		(void)hubd_http_has_token(rq.upgrade, "websocket");
		(void)hubd_http_has_token(rq.connection, "upgrade");
		(void)hubd_http_bearer_ok(rq.auth, "secret");
		if (rq.key) {
			hubd_http_upgrade_reply(out, rq.key);
			if (memchr(out->str, '\0', out->len))
				abort();
		}
		g_string_free(out, TRUE);
	}
	hubd_http_req_clear(&rq);
	return 0;
}
