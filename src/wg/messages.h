/* WireGuard wire formats and protocol constants (whitepaper §5.4, §6). Every struct is the exact
 * on-wire layout, little-endian integers; the core never casts a received buffer to these (it
 * may be unaligned): it memcpy's into a local and converts with le32toh/le64toh. */
#ifndef RG_WG_MESSAGES_H
#define RG_WG_MESSAGES_H

#include <stdint.h>

enum wg_message_type {
	WG_MSG_INITIATION = 1,
	WG_MSG_RESPONSE = 2,
	WG_MSG_COOKIE = 3,
	WG_MSG_DATA = 4,
};

enum wg_noise_lengths {
	WG_PUBLIC_KEY_LEN = 32,
	WG_PRIVATE_KEY_LEN = 32,
	WG_SYMMETRIC_KEY_LEN = 32,
	WG_HASH_LEN = 32,
	WG_AEAD_TAG_LEN = 16,
	WG_TIMESTAMP_LEN = 12,		/* TAI64N */
	WG_COOKIE_LEN = 16,
	WG_COOKIE_NONCE_LEN = 24,
	WG_MAC_LEN = 16,
	WG_DATA_HEADER_LEN = 16,
	WG_PADDING_MULTIPLE = 16,
};

/* Whitepaper §6.1 (seconds unless the name says otherwise). */
enum wg_timer_limits {
	WG_REKEY_AFTER_TIME_S = 120,
	WG_REJECT_AFTER_TIME_S = 180,
	WG_REKEY_ATTEMPT_TIME_S = 90,
	WG_REKEY_TIMEOUT_S = 5,
	WG_KEEPALIVE_TIMEOUT_S = 10,
	WG_COOKIE_SECRET_MAX_AGE_S = 120,
	WG_COOKIE_SECRET_LATENCY_S = 5,
	WG_REKEY_TIMEOUT_JITTER_MAX_MS = 333,
	WG_MAX_TIMER_HANDSHAKES = WG_REKEY_ATTEMPT_TIME_S / WG_REKEY_TIMEOUT_S,
	WG_INITIATIONS_PER_S = 50,	/* per-peer rate limit of consumed initiations */
};

/* Message counters (whitepaper §6.1); too large for an enum constant. */
#define WG_REKEY_AFTER_MESSAGES (UINT64_C(1) << 60)
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (UINT64_C(1) << 13))

struct wg_msg_initiation {
	uint32_t type;			/* 1, then three zero bytes */
	uint32_t sender;
	uint8_t ephemeral[WG_PUBLIC_KEY_LEN];
	uint8_t encrypted_static[WG_PUBLIC_KEY_LEN + WG_AEAD_TAG_LEN];
	uint8_t encrypted_timestamp[WG_TIMESTAMP_LEN + WG_AEAD_TAG_LEN];
	uint8_t mac1[WG_MAC_LEN];
	uint8_t mac2[WG_MAC_LEN];
};
_Static_assert(sizeof(struct wg_msg_initiation) == 148, "initiation is 148 bytes");

struct wg_msg_response {
	uint32_t type;			/* 2 */
	uint32_t sender;
	uint32_t receiver;
	uint8_t ephemeral[WG_PUBLIC_KEY_LEN];
	uint8_t encrypted_nothing[WG_AEAD_TAG_LEN];
	uint8_t mac1[WG_MAC_LEN];
	uint8_t mac2[WG_MAC_LEN];
};
_Static_assert(sizeof(struct wg_msg_response) == 92, "response is 92 bytes");

struct wg_msg_cookie {
	uint32_t type;			/* 3 */
	uint32_t receiver;
	uint8_t nonce[WG_COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[WG_COOKIE_LEN + WG_AEAD_TAG_LEN];
};
_Static_assert(sizeof(struct wg_msg_cookie) == 64, "cookie reply is 64 bytes");

struct wg_msg_data {
	uint32_t type;			/* 4 */
	uint32_t receiver;
	uint64_t counter;
	uint8_t encrypted_packet[];	/* padded packet + 16-byte tag */
};
_Static_assert(sizeof(struct wg_msg_data) == WG_DATA_HEADER_LEN, "data header is 16 bytes");

/* mac1 covers the message up to mac1; mac2 up to mac2. */
enum wg_mac_offsets {
	WG_INITIATION_MAC1_OFF = 116,
	WG_INITIATION_MAC2_OFF = 132,
	WG_RESPONSE_MAC1_OFF = 60,
	WG_RESPONSE_MAC2_OFF = 76,
};
_Static_assert(__builtin_offsetof(struct wg_msg_initiation, mac1) == WG_INITIATION_MAC1_OFF, "");
_Static_assert(__builtin_offsetof(struct wg_msg_initiation, mac2) == WG_INITIATION_MAC2_OFF, "");
_Static_assert(__builtin_offsetof(struct wg_msg_response, mac1) == WG_RESPONSE_MAC1_OFF, "");
_Static_assert(__builtin_offsetof(struct wg_msg_response, mac2) == WG_RESPONSE_MAC2_OFF, "");

#endif
