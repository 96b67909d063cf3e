/* Signaling messages (DESIGN.md §Signaling, docs/signaling.md): the six protocol types, the hub's
 * error frame, and the `address` and `routes` extensions, parsed and written with json-glib.
 *
 * Wire-compatible with the Go original: exactly these field names, unknown fields ignored, an
 * empty publicKey in offer/answer omitted, fields written in the original's order. Used by the
 * signaling client (src/signal/client.c) and the agent; any thread, no shared state.
 */
#ifndef RG_SIGNAL_MSG_H
#define RG_SIGNAL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rg_err;

enum sig_msg_type {
	SIG_MSG_NONE = 0,
	SIG_MSG_JOIN,		/* peerId, publicKey, address?, routes? */
	SIG_MSG_PEERS,		/* peers[] */
	SIG_MSG_OFFER,		/* from, to, sdp, publicKey?, address?, routes? */
	SIG_MSG_ANSWER,		/* from, to, sdp, publicKey?, address?, routes? */
	SIG_MSG_ICE_CANDIDATE,	/* from, to, candidate */
	SIG_MSG_PEER_LEFT,	/* peerId */
	SIG_MSG_ERROR,		/* code, message (hub → client only) */
	SIG_MSG_REVOKE,		/* from, to, revocations[], settings (signed networks,
				 * docs/membership.md) */
};

enum sig_msg_limits {
	SIG_MSG_MAX = 64 * 1024,	/* bytes of one frame, either direction */
	SIG_MSG_REVOKE_MAX = 64,	/* revocation records in one revoke frame */
	SIG_MSG_ROUTES_MAX = 64,	/* entries of a routes array; more is an error */
};

struct sig_peer {
	char *peer_id;		/* owned */
	char *public_key;	/* owned; "" when absent */
	char *address;		/* owned; NULL when absent */
	char *cert;		/* owned; NULL when absent (extension: signed networks) */
	char *rotation;		/* owned; NULL when absent: base64 key rotation of that cert */
};

/* One message. Strings are owned, NUL-terminated UTF-8; NULL means the field is absent (the
 * writer omits it). Which fields a type uses is listed in enum sig_msg_type. */
struct sig_msg {
	enum sig_msg_type type;
	char *peer_id;		/* join, peer-left */
	char *public_key;	/* join (required), offer/answer (optional) */
	char *address;		/* extension: join, offer, answer (optional) */
	char *cert;		/* extension: join, offer, answer: base64 device certificate */
	char *rotation;		/* extension: join, offer, answer: base64 newest key rotation of
				 * that certificate (publicKey is then the rotation's new key) */
	/* extension: join, offer, answer: the sender's advertised LAN prefixes as strings, exactly
	 * as received (unchecked: the agent checks each); NULL-terminated, g_strfreev; NULL =
	 * absent, which is not the same as an empty array (no routes any more). */
	char **routes;
	char *from;		/* offer, answer, ice-candidate (the hub overwrites it) */
	char *to;		/* offer, answer, ice-candidate */
	char *sdp;		/* offer, answer */
	char *candidate;	/* ice-candidate: the browser's "candidate:..." string */
	char *code;		/* error */
	char *message;		/* error */
	struct sig_peer *peers;	/* peers: owned array of n_peers */
	size_t n_peers;
	char **revocations;	/* revoke: owned array of base64 records */
	size_t n_revocations;
	char *settings;		/* revoke (optional): base64 network DNS settings record */
	bool relay;		/* peers: the hub announced "relay":true (docs/signaling.md §Relay) */
	uint32_t relay_rate;	/* peers: "relayRate", the hub's per-socket budget; 0 = absent */
	uint32_t relay_burst;	/* peers: "relayBurst"; 0 = absent */
};

/* "join", "ice-candidate", ...; NULL for SIG_MSG_NONE or out of range. */
const char *sig_msg_type_name(enum sig_msg_type type);
/* SIG_MSG_NONE when name is not a known type. */
enum sig_msg_type sig_msg_type_from_name(const char *name);

/* Parses one frame into *m (zeroed first; on failure *m is left empty). Unknown fields and
 * unknown members of peers[] entries are ignored. Returns 0, or -EINVAL/-EMSGSIZE with err
 * saying why ("offer: missing field 'sdp'", "not a JSON object", "unknown type 'foo'"). The
 * field `from` is optional on input (a client sends it empty; the hub fills it). */
int sig_msg_parse(struct sig_msg *m, const char *json, size_t len, struct rg_err *err);

/* Writes m as one compact JSON object (g_free() it; *len_out set when not NULL). Returns NULL
 * (err filled) when a field the type requires is NULL. */
char *sig_msg_to_json(const struct sig_msg *m, size_t *len_out, struct rg_err *err);

/* Frees every owned string and zeroes m. Safe on a zeroed or half-filled message. */
void sig_msg_clear(struct sig_msg *m);

/* Builders: fill *m (which is cleared first) with copies of the strings; NULL optional fields
 * are omitted. */
void sig_msg_init_join(struct sig_msg *m, const char *peer_id, const char *public_key,
		       const char *address);
void sig_msg_init_offer(struct sig_msg *m, enum sig_msg_type type /* OFFER or ANSWER */,
			const char *from, const char *to, const char *sdp, const char *public_key,
			const char *address);
void sig_msg_init_candidate(struct sig_msg *m, const char *from, const char *to,
			    const char *candidate);

#endif
