/* DCEP, the Data Channel Establishment Protocol (RFC 8832): DATA_CHANNEL_OPEN and
 * DATA_CHANNEL_ACK, carried as SCTP messages with PPID 50. Pure encode/decode; sctp.c sends
 * and receives them, fuzz/dcep.c feeds the decoder. */
#ifndef RG_RTC_DCEP_H
#define RG_RTC_DCEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rtc_dcep_msg { RTC_DCEP_ACK = 0x02, RTC_DCEP_OPEN = 0x03 };

/* Channel types (RFC 8832 §5.1); bit 0x80 = unordered. */
enum rtc_dcep_type {
	RTC_DCEP_RELIABLE = 0x00,
	RTC_DCEP_PARTIAL_RELIABLE_REXMIT = 0x01,
	RTC_DCEP_PARTIAL_RELIABLE_TIMED = 0x02,
	RTC_DCEP_UNORDERED = 0x80,
};

/* SCTP payload protocol identifiers (RFC 8831 §8). */
enum rtc_ppid {
	RTC_PPID_DCEP = 50,
	RTC_PPID_STRING = 51,
	RTC_PPID_BINARY_PARTIAL = 52,	/* deprecated */
	RTC_PPID_BINARY = 53,
	RTC_PPID_STRING_PARTIAL = 54,	/* deprecated */
	RTC_PPID_STRING_EMPTY = 56,
	RTC_PPID_BINARY_EMPTY = 57,
};

enum { RTC_DCEP_OPEN_HDR = 12 };

struct rtc_dcep_open {
	uint8_t channel_type;
	uint16_t priority;
	uint32_t reliability;	/* retransmissions or lifetime in ms, per channel_type */
	const uint8_t *label;	/* points into the decoded buffer, not NUL-terminated */
	uint16_t label_len;
	const uint8_t *protocol;
	uint16_t protocol_len;
};

/* Bytes rtc_dcep_encode_open needs. */
size_t rtc_dcep_open_len(const struct rtc_dcep_open *o);
/* Writes DATA_CHANNEL_OPEN into buf; returns its length or -ENOSPC. */
int rtc_dcep_encode_open(uint8_t *buf, size_t cap, const struct rtc_dcep_open *o);
/* Parses DATA_CHANNEL_OPEN: length checked before every read, label/protocol must fit
 * exactly. Returns false on anything malformed. */
bool rtc_dcep_decode_open(struct rtc_dcep_open *o, const uint8_t *buf, size_t len);
/* Message type of a DCEP message, or -1 if empty. */
int rtc_dcep_msg_type(const uint8_t *buf, size_t len);

#endif
