/* See ws.h. RFC 6455 §5: client frames must be masked and use no RSV bits; fragments of one
 * message may interleave with control frames; messages larger than the reader's msg_max (and
 * any fragment sum that would exceed it) end the connection with 1009 before their payload is
 * read. Called from riftgate-hub's event loop (src/hubd/server.c) and from fuzz/hub_ws.c.
 */
#include <string.h>

#include "hubd/ws.h"

void hubd_ws_reader_init(struct hubd_ws_reader *r, size_t msg_max)
{
	memset(r, 0, sizeof(*r));
	r->msg_max = msg_max;
}

void hubd_ws_reader_clear(struct hubd_ws_reader *r)
{
	if (r->frag)
		g_byte_array_unref(r->frag);
	r->frag = NULL;
	r->frag_done = false;
}

static size_t fail(struct hubd_ws_event *ev, uint16_t code, const char *reason, size_t avail)
{
	ev->kind = HUBD_WS_EV_ERROR;
	ev->data = NULL;
	ev->len = 0;
	ev->close_code = code;
	ev->reason = reason;
	return avail;
}

size_t hubd_ws_read(struct hubd_ws_reader *r, uint8_t *buf, size_t avail, struct hubd_ws_event *ev)
{
	uint64_t n;
	size_t hl = 2;
	uint8_t op, *mask, *p;
	bool fin;

	if (r->frag_done)
		hubd_ws_reader_clear(r);
	memset(ev, 0, sizeof(*ev));
	if (avail < 2)
		return 0;
	op = buf[0] & 0x0f;
	fin = buf[0] & 0x80;
	n = buf[1] & 0x7f;
	if ((buf[0] & 0x70) || !(buf[1] & 0x80))	/* RSV bits, or an unmasked client frame */
		return fail(ev, HUBD_WS_CLOSE_PROTOCOL, "protocol error", avail);
	if (n == 126) {
		if (avail < 4)
			return 0;
		n = (uint64_t)buf[2] << 8 | buf[3];
		hl = 4;
	} else if (n == 127) {
		if (avail < 10)
			return 0;
		n = 0;
		for (int i = 0; i < 8; i++)
			n = n << 8 | buf[2 + i];
		hl = 10;
	}
	/* §5.5: control frames are never fragmented and carry at most 125 bytes */
	if ((op & 0x8) && (!fin || n > HUBD_WS_CONTROL_MAX))
		return fail(ev, HUBD_WS_CLOSE_PROTOCOL, "bad control frame", avail);
	if (n > r->msg_max || (r->frag && r->frag->len + n > r->msg_max))
		return fail(ev, HUBD_WS_CLOSE_TOO_BIG, "message too big", avail);
	if (avail - hl < 4 + n)
		return 0;
	mask = buf + hl;
	p = buf + hl + 4;
	for (uint64_t i = 0; i < n; i++)
		p[i] ^= mask[i & 3];
	ev->data = p;
	ev->len = (size_t)n;
	switch (op) {
	case HUBD_WS_OP_CONT:
		if (!r->frag)
			return fail(ev, HUBD_WS_CLOSE_PROTOCOL, "unexpected continuation", avail);
		g_byte_array_append(r->frag, p, (guint)n);
		if (fin) {
			ev->kind = HUBD_WS_EV_MESSAGE;
			ev->opcode = r->frag_op;
			ev->data = r->frag->data;
			ev->len = r->frag->len;
			r->frag_done = true;
		}
		break;
	case HUBD_WS_OP_TEXT:
	case HUBD_WS_OP_BINARY:
		if (r->frag)
			return fail(ev, HUBD_WS_CLOSE_PROTOCOL, "expected continuation", avail);
		if (fin) {
			ev->kind = HUBD_WS_EV_MESSAGE;
			ev->opcode = op;
		} else {
			r->frag = g_byte_array_new();
			r->frag_op = op;
			g_byte_array_append(r->frag, p, (guint)n);
		}
		break;
	case HUBD_WS_OP_CLOSE:
		ev->kind = HUBD_WS_EV_CLOSE;
		ev->close_code = n >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : HUBD_WS_CLOSE_NO_STATUS;
		if (n == 1 || (n >= 2 && !hubd_ws_close_code_valid(ev->close_code)))
			return fail(ev, HUBD_WS_CLOSE_PROTOCOL, "bad close code", avail);
		break;
	case HUBD_WS_OP_PING:
		ev->kind = HUBD_WS_EV_PING;
		break;
	case HUBD_WS_OP_PONG:
		ev->kind = HUBD_WS_EV_PONG;
		break;
	default:
		return fail(ev, HUBD_WS_CLOSE_PROTOCOL, "unknown opcode", avail);
	}
	return hl + 4 + (size_t)n;
}

bool hubd_ws_close_code_valid(uint16_t code)
{
	/* §7.4.1/§7.4.2: 1004-1006 and 1015 are reserved (1005/1006/1015 say "no code", "closed
	 * without a close frame", "TLS failure": never sent); 1016-2999 unassigned; 3000-4999 for
	 * libraries and applications */
	if (code >= 1000 && code <= 1003)
		return true;
	if (code >= 1007 && code <= 1014)
		return true;
	return code >= 3000 && code <= 4999;
}

size_t hubd_ws_header(uint8_t h[static HUBD_WS_SERVER_HEADER_MAX], enum hubd_ws_opcode op, size_t len)
{
	h[0] = 0x80 | op;
	if (len < 126) {
		h[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		h[1] = 126;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		return 4;
	}
	h[1] = 127;
	for (int i = 0; i < 8; i++)
		h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	return 10;
}

size_t hubd_ws_close_payload(uint8_t p[static 2 + HUBD_WS_CLOSE_REASON_MAX], uint16_t code,
			     const char *reason)
{
	size_t rl = reason ? strlen(reason) : 0;

	if (rl > HUBD_WS_CLOSE_REASON_MAX)
		rl = HUBD_WS_CLOSE_REASON_MAX;
	p[0] = (uint8_t)(code >> 8);
	p[1] = (uint8_t)code;
	if (rl)
		memcpy(p + 2, reason, rl);
	return 2 + rl;
}
