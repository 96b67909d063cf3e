/* RFC 6455 framing for riftgate-hub (src/hubd/server.c): server frame headers out, and a
 * reader that turns the bytes a client sent into whole messages and control frames.
 *
 * Pure byte work: no sockets, no clock. The reader keeps only a fragmented message in
 * progress; the caller owns the input buffer (frames are unmasked in place).
 */
#ifndef RG_HUBD_WS_H
#define RG_HUBD_WS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 6455 §5.2 opcodes. */
enum hubd_ws_opcode {
	HUBD_WS_OP_CONT = 0x0,
	HUBD_WS_OP_TEXT = 0x1,
	HUBD_WS_OP_BINARY = 0x2,
	HUBD_WS_OP_CLOSE = 0x8,
	HUBD_WS_OP_PING = 0x9,
	HUBD_WS_OP_PONG = 0xa,
};

/* RFC 6455 §7.4.1 close codes the server sends or reads. */
enum hubd_ws_close_code {
	HUBD_WS_CLOSE_NORMAL = 1000,
	HUBD_WS_CLOSE_GOING_AWAY = 1001,
	HUBD_WS_CLOSE_PROTOCOL = 1002,
	HUBD_WS_CLOSE_NO_STATUS = 1005,		/* reserved: never on the wire */
	HUBD_WS_CLOSE_ABNORMAL = 1006,		/* reserved: never on the wire */
	HUBD_WS_CLOSE_POLICY = 1008,
	HUBD_WS_CLOSE_TOO_BIG = 1009,
	HUBD_WS_CLOSE_TLS = 1015,		/* reserved: never on the wire */
};

enum hubd_ws_limits {
	HUBD_WS_HEADER_MAX = 14,		/* 2 + 8 length + 4 mask */
	HUBD_WS_SERVER_HEADER_MAX = 10,		/* server frames are not masked */
	HUBD_WS_CONTROL_MAX = 125,		/* payload of a control frame (§5.5) */
	HUBD_WS_CLOSE_REASON_MAX = 123,
};

enum hubd_ws_event_kind {
	HUBD_WS_EV_NONE,	/* a frame that completes nothing (a fragment mid-message) */
	HUBD_WS_EV_MESSAGE,	/* a whole text or binary message: opcode, data, len */
	HUBD_WS_EV_CLOSE,	/* close frame: close_code, valid on the wire (1005 = it had none) */
	HUBD_WS_EV_PING,	/* ping: data, len (the pong payload) */
	HUBD_WS_EV_PONG,
	HUBD_WS_EV_ERROR,	/* close the connection with close_code, reason */
};

struct hubd_ws_event {
	enum hubd_ws_event_kind kind;
	uint8_t opcode;		/* HUBD_WS_EV_MESSAGE: HUBD_WS_OP_TEXT or _BINARY */
	const uint8_t *data;	/* valid until the next hubd_ws_read() or hubd_ws_reader_clear() */
	size_t len;
	uint16_t close_code;
	const char *reason;	/* HUBD_WS_EV_ERROR: static text */
};

/* Reassembles fragmented messages (§5.4). Zeroed = ready. */
struct hubd_ws_reader {
	size_t msg_max;		/* larger messages (or fragment sums) are an error (1009) */
	GByteArray *frag;	/* owned: message in progress, or the last one delivered */
	uint8_t frag_op;
	bool frag_done;		/* frag holds a delivered message: drop it on the next read */
};

void hubd_ws_reader_init(struct hubd_ws_reader *r, size_t msg_max);
void hubd_ws_reader_clear(struct hubd_ws_reader *r);

/* Reads the next client frame from buf[0, avail), unmasking it in place, and says what it meant
 * in ev. Control frames must be final and at most 125 bytes (§5.5). Returns the bytes consumed, or 0 when the frame is not complete yet. An error is
 * reported as soon as the header shows it, before the payload arrived; it consumes all of buf
 * (the caller closes the connection). */
size_t hubd_ws_read(struct hubd_ws_reader *r, uint8_t *buf, size_t avail, struct hubd_ws_event *ev);

/* Whether code may appear in a close frame (RFC 6455 §7.4): not 1004-1006, 1015, nor
 * unassigned. A close frame with another code, or with a 1-byte payload, is a protocol error. */
bool hubd_ws_close_code_valid(uint16_t code);

/* Writes the header of an unmasked, final server frame of len payload bytes into h. Returns the
 * header length (2, 4 or 10). */
size_t hubd_ws_header(uint8_t h[static HUBD_WS_SERVER_HEADER_MAX], enum hubd_ws_opcode op, size_t len);

/* A close frame's payload: code (big endian) + reason cut at HUBD_WS_CLOSE_REASON_MAX. Returns
 * its length. */
size_t hubd_ws_close_payload(uint8_t p[static 2 + HUBD_WS_CLOSE_REASON_MAX], uint16_t code,
			     const char *reason);

#endif
