/* libFuzzer target: the hub core fed a script of events on four connections.
 * Each record: one op byte (low 2 bits: open/close/text/restore; next 2 bits: connection), then
 * for text a 2-byte length and that many bytes of frame. Checks the hub's own invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"

static size_t sent_bytes;

static void f_send(void *host, uint64_t conn, const char *frame, size_t len)
{
	(void)host; (void)conn;
	/* every frame the hub emits is one JSON object */
	if (len < 2 || frame[0] != '{' || frame[len - 1] != '}')
		abort();
	/* and fits the client's limit (issue 15 item 2) */
	if (len > HUB_FRAME_MAX)
		abort();
	sent_bytes += len;
}

static void f_close(void *host, uint64_t conn, uint16_t code, const char *reason)
{
	(void)host; (void)conn; (void)code; (void)reason;
}

static void *f_grow(void *host, size_t bytes)
{
	(void)host;
	return aligned_alloc(16, (bytes + 15) & ~(size_t)15);
}

static void f_release(void *host, void *chunk, size_t bytes)
{
	(void)host; (void)bytes;
	free(chunk);
}

static const struct hub_ops ops = { .send = f_send, .close = f_close, .grow = f_grow,
				    .release = f_release };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hub h;
	uint64_t now = 1;
	size_t i = 0;

	hub_init(&h, &ops, NULL);
	while (i < size) {
		uint8_t op = data[i++];
		uint64_t conn = (op >> 2) & 3;
		size_t len;

		switch (op & 3) {
		case 0:
			hub_open(&h, conn);
			break;
		case 1:
			hub_close(&h, conn);
			break;
		case 2:
			if (size - i < 2) {
				len = size - i;
			} else {
				len = (size_t)data[i] | (size_t)data[i + 1] << 8;
				i += 2;
				if (len > size - i)
					len = size - i;
			}
			hub_text(&h, conn, (const char *)data + i, len, now);
			i += len;
			now += (op >> 4) * 10;
			break;
		case 3:
			hub_restore(&h, conn, (op & 0x10) ? "a" : "b", "KAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
				    (op & 0x20) ? "10.0.0.1/24" : NULL);
			break;
		}
		struct hub_stats st;

		hub_get_stats(&h, &st);
		if (st.peers > st.conns || st.conns > 4)
			abort();
	}
	hub_clear(&h);
	return 0;
}
