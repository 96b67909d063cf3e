/* The direct path's wire format (DESIGN §Performance, "direct path"): WireGuard datagrams sent
 * straight on the ICE-selected UDP 5-tuple between two riftgate peers, beside STUN (consent),
 * DTLS and the path-MTU probe, and the demultiplexing of everything that arrives on that
 * 5-tuple. Pure code: no GLib, no I/O (direct.c sends and receives; the unit tests and the
 * wgframe fuzzer call it directly).
 *
 * RFC 7983 splits on the first byte: 0..3 STUN, 16..19 ZRTP, 20..63 DTLS, 64..79 TURN channel,
 * 128..191 RTP/RTCP (RFC 9443 gives QUIC 80..127 and 192..255). 4..15 is left unassigned; our
 * path-MTU probe uses 12 and the direct path 8. A WireGuard message starts with its type (1..4,
 * which would read as STUN) and three zero bytes; the frame rewrites those four bytes in place,
 * so a frame is exactly as long as the WireGuard message it carries:
 *
 *   0      1      2..3          4..
 *   8      kind   length (BE)   the WireGuard message from its byte 4 on
 *
 * kind 1..4 is the WireGuard message type; the length (the whole datagram) lets a receiver cut
 * a UDP GRO train of frames the way it cuts a train of DTLS records. kind 0x80/0x81 is a
 * reachability probe and its answer (16 bytes: header, 8-byte random token, 4 zero bytes): the
 * answer echoes the token, is never larger than the probe, and cannot be forged off-path. */
#ifndef RG_RTC_WGFRAME_H
#define RG_RTC_WGFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rtc_wgframe_wire {
	RTC_WGF_TYPE = 8,		/* first byte of every frame */
	RTC_WGF_HDR_LEN = 4,
	RTC_WGF_KIND_WG_MIN = 1,	/* WireGuard message types 1..4 */
	RTC_WGF_KIND_WG_MAX = 4,
	RTC_WGF_KIND_PROBE = 0x80,
	RTC_WGF_KIND_PROBE_ACK = 0x81,
	RTC_WGF_PROBE_LEN = 16,
	RTC_WGF_TOKEN_LEN = 8,
	RTC_WGF_WG_MIN = 32,		/* the smallest WireGuard message (keepalive: 16 + tag 16) */
	RTC_WGF_MAX = 65535,		/* the length field's limit */
};

/* Who a datagram on the ICE 5-tuple belongs to (RFC 7983 plus our two types). */
enum rtc_demux {
	RTC_DEMUX_DROP = 0,		/* empty, or a range nobody here speaks */
	RTC_DEMUX_STUN,			/* 0..3 (libnice consumes these before us) */
	RTC_DEMUX_DTLS,			/* 20..63 */
	RTC_DEMUX_PMTU,			/* 12: the path-MTU probe (pmtu.h) */
	RTC_DEMUX_DIRECT,		/* 8: a direct-path frame (may still be malformed) */
};

enum rtc_demux rtc_demux_classify(const uint8_t *buf, size_t len);

/* The length of the first datagram of a UDP GRO train at buf[0..len): a DTLS record's or a
 * frame's own length field, when it is complete and shorter than len (another datagram
 * follows). 0 = the train cannot be cut here (the rest is one datagram, or garbage). */
size_t rtc_demux_train_cut(const uint8_t *buf, size_t len);

/* A WireGuard message → a frame, in place. false (buf untouched) when buf is not one: type
 * 1..4 with zero reserved bytes, RTC_WGF_WG_MIN..RTC_WGF_MAX bytes. */
bool rtc_wgframe_wrap(uint8_t *buf, size_t len);

/* What a received frame is. On RTC_WGF_KIND 1..4 (a WireGuard message) unwrap restores the
 * message in place; the others leave buf alone. */
enum rtc_wgframe_kind {
	RTC_WGF_BAD = 0,		/* not a well-formed frame: drop and count */
	RTC_WGF_WG,			/* buf now holds the WireGuard message */
	RTC_WGF_PROBE,			/* answer it (rtc_wgframe_probe_answer) */
	RTC_WGF_ACK,			/* compare its token (rtc_wgframe_token) */
};
enum rtc_wgframe_kind rtc_wgframe_unwrap(uint8_t *buf, size_t len);

/* A probe (kind RTC_WGF_KIND_PROBE) or its answer carrying token, RTC_WGF_PROBE_LEN bytes. */
void rtc_wgframe_probe(uint8_t out[static RTC_WGF_PROBE_LEN], uint8_t kind,
		       const uint8_t token[static RTC_WGF_TOKEN_LEN]);
/* The token of a well-formed probe or answer (rtc_wgframe_unwrap said PROBE or ACK). */
const uint8_t *rtc_wgframe_token(const uint8_t *buf);

#endif
