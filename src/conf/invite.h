/* Invite tokens (docs/cli.md §invite/join): what `riftgate invite` prints and `riftgate join`
 * reads. A token carries the network part of the inviter's config (hub URL and auth token, TURN
 * secret, STUN/TURN servers, webrtc settings), the new device's suggested name and address and an
 * expiry time; never a private key. Pure codec: no I/O, the caller passes the wall clock.
 *
 * Text: "rgi" VERSION "-" base64url-without-padding(payload || check), where check is the first
 * CONF_INVITE_CHECK_LEN bytes of SHA-256("rgi1-" || payload): a typo or a cut is caught before
 * any field is read. The payload is a list of fields TAG LEN VALUE (LEN a canonical LEB128 of at
 * most 3 bytes) in ascending tag order; see enum conf_invite_tag. */
#ifndef RG_CONF_INVITE_H
#define RG_CONF_INVITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"

struct rg_err;

enum conf_invite_limits {
	CONF_INVITE_VERSION = 1,
	CONF_INVITE_CHECK_LEN = 4,		/* bytes of SHA-256 */
	CONF_INVITE_TOKEN_MAX = 1 << 18,	/* characters; a config at every limit fits */
	CONF_INVITE_TICKET_MAX = 1024,		/* bytes of a ticket field */
	CONF_INVITE_TICKET_KEY_LEN = 32,
};

#define CONF_INVITE_PREFIX "rgi"

/* Field tags of version 1. Tags 0x01-0x7f must be understood: an unknown one means a newer
 * inviter and is refused. Tags 0x80-0xff are optional extensions an older reader skips. */
enum conf_invite_tag {
	CONF_INVITE_NETWORK = 0x01,	/* string, required */
	CONF_INVITE_SERVER_URL = 0x02,	/* string, required */
	CONF_INVITE_AUTH_TOKEN = 0x03,	/* string, required, secret */
	CONF_INVITE_TURN_SECRET = 0x04,	/* string, secret */
	CONF_INVITE_INVITER = 0x05,	/* string: the inviting device's name */
	CONF_INVITE_NAME = 0x06,	/* string: suggested name of the new device */
	CONF_INVITE_ADDRESS = 0x07,	/* string CIDR, required */
	CONF_INVITE_EXPIRES = 0x08,	/* 8 bytes, big-endian Unix seconds, required */
	CONF_INVITE_STUN = 0x09,	/* list of LEN string; absent = the built-in defaults */
	CONF_INVITE_TURN = 0x0a,	/* repeated: sub-fields 1 url, 2 username, 3 credential */
	CONF_INVITE_ORDERED = 0x0b,	/* 1 byte, 0 or 1; absent = 0 */
	CONF_INVITE_MAX_RETRANSMITS = 0x0c, /* 2 bytes big-endian; absent = 0 */
	CONF_INVITE_TICKET = 0x0d,	/* bytes: a signed enrollment ticket (src/trust/cert.h);
					 * required-to-understand, so an older riftgate refuses
					 * rather than join unverified */
	CONF_INVITE_TICKET_KEY = 0x0e,	/* 32 bytes, secret: the ticket's one-time signing seed */
	CONF_INVITE_PATH_MTU = 0x80,	/* 2 bytes big-endian; absent = probed. An extension: a
					 * reader without path_mtu support may skip it */
};

/* A decoded invite: conf is a config without a device key (private_key all zero); device_name is
 * NULL when the inviter did not suggest one; interface is the default and mtu 0. */
struct conf_invite {
	struct conf conf;
	char *inviter;		/* NULL = absent */
	int64_t expires;	/* wall clock, Unix seconds */
	uint8_t *ticket;	/* NULL = absent; the bytes are checked by src/trust, not here */
	size_t ticket_len;
	bool has_ticket_key;
	uint8_t ticket_key[CONF_INVITE_TICKET_KEY_LEN];	/* secret */
};

/* Frees and wipes. Safe on a zeroed or half-built struct. */
void conf_invite_clear(struct conf_invite *inv);

struct conf_invite_opts {
	const char *name;	/* suggested device name, NULL = none */
	const char *address;	/* CIDR for the new device, required */
	int64_t expires;	/* Unix seconds */
	bool no_turn_secret;	/* leave out network.turn_secret and the [[turn]] entries that
				 * need it */
	const uint8_t *ticket;	/* NULL = none; with ticket_key (CONF_INVITE_TICKET_KEY_LEN) */
	size_t ticket_len;
	const uint8_t *ticket_key;
};

/* Token for a new device of from's network (from is the inviter's loaded config; its device name
 * becomes the inviter field). Every field is checked as the config loader would check it.
 * *token is NUL-terminated; free it with conf_invite_token_free (it is a secret). Returns 0,
 * -EINVAL (err says which field) or -ENOMEM. */
int conf_invite_encode(const struct conf *from, const struct conf_invite_opts *o, char **token,
		       struct rg_err *err);
void conf_invite_token_free(char *token);

/* Decodes len characters of text (surrounding whitespace is not allowed here: the caller strips
 * it). now is the wall clock in Unix seconds. On failure inv is zeroed and err says why:
 *   -EINVAL           not a riftgate invite token (no "rgiN-" prefix)
 *   -EPROTONOSUPPORT  another version
 *   -EBADMSG          damaged: a character outside base64url, a cut, a checksum mismatch
 *   -EPROTO           checksum fine but a field is malformed, missing or invalid
 *   -ETIME            expired (err names the time in UTC)
 *   -E2BIG, -ENOMEM */
int conf_invite_decode(struct conf_invite *inv, const char *text, size_t len, int64_t now,
		       struct rg_err *err);

/* "2026-11-29 15:46 UTC" into buf (>= 32 bytes). */
void conf_invite_format_time(char *buf, size_t cap, int64_t t);

#endif
