/* libFuzzer target: riftgate-hub's WebSocket reader (src/hubd/ws.c) on its own: the input is
 * the byte stream a client sends after the upgrade, fed in two chunks (so split frames are
 * exercised) the way server.c does. Checks that every event stays inside its bounds. */
#include <stdlib.h>
#include <string.h>

#include "hubd/ws.h"

enum { MSG_MAX = 4096 };

static void read_all(struct hubd_ws_reader *r, GByteArray *in)
{
	struct hubd_ws_event ev;
	size_t off = 0, used;

	while (off < in->len && (used = hubd_ws_read(r, in->data + off, in->len - off, &ev))) {
		if (used > in->len - off)
			abort();
		off += used;
		if (ev.kind == HUBD_WS_EV_ERROR) {
			if (!ev.reason || off != in->len)
				abort();
			break;
		}
		if (ev.kind == HUBD_WS_EV_MESSAGE && ev.len > MSG_MAX)
			abort();
		/* touch every byte: ASan catches a span that is not what it claims */
		volatile uint8_t sum = 0;

		for (size_t i = 0; i < ev.len; i++)
			sum ^= ev.data[i];
		(void)sum;
	}
	g_byte_array_remove_range(in, 0, (guint)off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hubd_ws_reader r;
	GByteArray *in = g_byte_array_new();
	size_t half = size / 2;

	hubd_ws_reader_init(&r, MSG_MAX);
	g_byte_array_append(in, data, (guint)half);
	read_all(&r, in);
	g_byte_array_append(in, data + half, (guint)(size - half));
	read_all(&r, in);
	hubd_ws_reader_clear(&r);
	g_byte_array_unref(in);
	return 0;
}
