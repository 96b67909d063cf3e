/* Signed membership records (docs/membership.md): device certificates, one-time enrollment
 * tickets and revocations, their compact binary encoding, and the rules that decide whether a
 * certificate may be trusted.
 *
 * Freestanding: no libc, no GLib, fixed-size structs and explicit lengths, so the hub core
 * (wasm32) parses and checks with the same code as the agents. Signatures are checked through a
 * function the host provides (trust_verify_fn; native: trust/sign.c on OpenSSL).
 *
 * Encoding (all integers big-endian; STR = u8 length + bytes; PFX = u8 family 4|6, 4|16 address
 * bytes, u8 prefix length; N x PFX = u8 count + entries). Every record starts with the header
 * 'r' 'g' VERSION TYPE and ends with a 64-byte Ed25519 signature over all bytes before it. The
 * encoding has one form per value (no optional fields, no trailing bytes), so parse then encode
 * gives back the input exactly and the signature is checked over the re-encoded bytes.
 *
 *	cert    hdr(1) STR net, STR name, wg_key[32], dev_key[32], N x PFX addrs, N x PFX routes,
 *	        u64 not_before, u64 not_after, u64 serial, issuer[32], u16 ticket_len, ticket, sig
 *	ticket  hdr(2) STR net, STR name, N x PFX addrs, u64 not_before, u64 use_by,
 *	        u64 cert_not_after, u64 id, ticket_key[32], issuer[32], sig
 *	revoke  hdr(3) STR net, STR name, u64 serial, u64 revoked_at, issuer[32], sig
 *	rotate  hdr(4) STR net, STR name, u64 serial, u32 seq, old_wg[32], new_wg[32],
 *	        u64 rotated_at, sig
 *	settings hdr(5) STR net, u64 serial, u64 issued_at, N x PFX dns (host prefixes: /32, /128),
 *	        u8 count + that many DOMAIN search, issuer[32], sig
 *	        (DOMAIN = u8 length + 1..63 bytes: dot-separated labels of A-Z a-z 0-9 -)
 *
 * A cert with ticket_len 0 is signed by the network key (issuer). A cert that embeds a ticket was
 * made by the enrolling device itself: the ticket is signed by the network key and the cert by the
 * ticket's one-time key; its serial is the ticket id, its name and addresses are the ticket's.
 *
 * A rotation is signed by the device key a cert binds (dev_key), not by the network: it moves the
 * cert with that serial from old_wg to new_wg. Rotations of one cert are numbered 1, 2, ...; the
 * first replaces the cert's own wg_key, each later one the key the one before installed.
 */
#ifndef RG_TRUST_CERT_H
#define RG_TRUST_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum trust_limits {
	TRUST_VERSION = 1,
	TRUST_KEY_LEN = 32,		/* Ed25519 and X25519 public keys */
	TRUST_SIG_LEN = 64,		/* Ed25519 signature */
	TRUST_NAME_MAX = 64,		/* = CONF_NAME_MAX: device (peerId) and network names */
	TRUST_ADDRS_MAX = 4,		/* tunnel addresses in one cert */
	TRUST_ROUTES_MAX = 16,		/* routes one device may advertise */
	TRUST_TICKET_MAX = 4 + 2 * (1 + TRUST_NAME_MAX) + 1 + TRUST_ADDRS_MAX * 18 + 4 * 8 +
			   2 * TRUST_KEY_LEN + TRUST_SIG_LEN,
	TRUST_CERT_MAX = 4 + 2 * (1 + TRUST_NAME_MAX) + 2 * TRUST_KEY_LEN + 2 +
			 (TRUST_ADDRS_MAX + TRUST_ROUTES_MAX) * 18 + 3 * 8 + TRUST_KEY_LEN + 2 +
			 TRUST_TICKET_MAX + TRUST_SIG_LEN,
	TRUST_REVOKE_MAX = 4 + 2 * (1 + TRUST_NAME_MAX) + 2 * 8 + TRUST_KEY_LEN + TRUST_SIG_LEN,
	TRUST_ROTATION_MAX = 4 + 2 * (1 + TRUST_NAME_MAX) + 8 + 4 + 2 * TRUST_KEY_LEN + 8 +
			     TRUST_SIG_LEN,
	TRUST_DNS_MAX = 4,		/* = CONF_DNS_MAX: DNS servers in network settings */
	TRUST_SEARCH_MAX = 8,		/* = CONF_SEARCH_MAX: search domains */
	TRUST_DOMAIN_MAX = 63,		/* one search domain, as conf_valid_domain */
	TRUST_SETTINGS_MAX = 4 + 1 + TRUST_NAME_MAX + 2 * 8 + 1 + TRUST_DNS_MAX * 18 + 1 +
			     TRUST_SEARCH_MAX * (1 + TRUST_DOMAIN_MAX) + TRUST_KEY_LEN + TRUST_SIG_LEN,
	/* Clock skew tolerated between the issuer, the agents and the hub: a cert is accepted
	 * TRUST_SKEW_S before its not_before and after its not_after. */
	TRUST_SKEW_S = 300,
};

enum trust_type {
	TRUST_T_CERT = 1, TRUST_T_TICKET = 2, TRUST_T_REVOKE = 3, TRUST_T_ROTATION = 4,
	TRUST_T_SETTINGS = 5,
};

struct trust_prefix {
	uint8_t family;		/* 4 or 6 */
	uint8_t plen;		/* <= 32 or 128 */
	uint8_t addr[16];	/* IPv4 in the first 4 bytes, the rest zero */
};

struct trust_ticket {
	char net[TRUST_NAME_MAX + 1];	/* NUL-terminated */
	char name[TRUST_NAME_MAX + 1];
	uint8_t n_addrs;
	struct trust_prefix addrs[TRUST_ADDRS_MAX];
	uint64_t not_before;		/* Unix seconds: issued */
	uint64_t use_by;		/* a cert made from it must start by then */
	uint64_t cert_not_after;	/* and end by then */
	uint64_t id;			/* becomes the cert's serial */
	uint8_t ticket_key[TRUST_KEY_LEN];	/* one-time Ed25519 key that signs the cert */
	uint8_t issuer[TRUST_KEY_LEN];	/* network key */
	uint8_t sig[TRUST_SIG_LEN];
};

struct trust_cert {
	char net[TRUST_NAME_MAX + 1];
	char name[TRUST_NAME_MAX + 1];	/* = peerId */
	uint8_t wg_key[TRUST_KEY_LEN];	/* WireGuard (X25519) public key */
	uint8_t dev_key[TRUST_KEY_LEN];	/* device Ed25519 key: signs its own key rotations */
	uint8_t n_addrs, n_routes;
	struct trust_prefix addrs[TRUST_ADDRS_MAX];
	struct trust_prefix routes[TRUST_ROUTES_MAX];
	uint64_t not_before, not_after;	/* Unix seconds, inclusive */
	uint64_t serial;		/* never 0 */
	uint8_t issuer[TRUST_KEY_LEN];	/* network key */
	bool has_ticket;
	struct trust_ticket ticket;	/* when has_ticket: the cert is signed by ticket.ticket_key */
	uint8_t sig[TRUST_SIG_LEN];
};

struct trust_revoke {
	char net[TRUST_NAME_MAX + 1];
	char name[TRUST_NAME_MAX + 1];	/* informative; the serial decides */
	uint64_t serial;
	uint64_t revoked_at;
	uint8_t issuer[TRUST_KEY_LEN];
	uint8_t sig[TRUST_SIG_LEN];
};

struct trust_rotation {
	char net[TRUST_NAME_MAX + 1];
	char name[TRUST_NAME_MAX + 1];	/* the cert's name (= peerId) */
	uint64_t serial;		/* the cert's serial */
	uint32_t seq;			/* 1 for the first rotation of that cert, then +1 */
	uint8_t old_wg[TRUST_KEY_LEN];	/* the WireGuard key it replaces */
	uint8_t new_wg[TRUST_KEY_LEN];
	uint64_t rotated_at;		/* Unix seconds */
	uint8_t sig[TRUST_SIG_LEN];	/* by the cert's dev_key */
};

/* The network's DNS settings (docs/routes.md#dns-push), signed by the network key: the agents
 * forward names outside the mesh zone to dns and add search to the tunnel link. The highest
 * serial an agent has verified wins; the admin CLI uses the issuing time in nanoseconds. */
struct trust_settings {
	char net[TRUST_NAME_MAX + 1];
	uint64_t serial;		/* never 0 */
	uint64_t issued_at;		/* Unix seconds */
	uint8_t n_dns, n_search;
	struct trust_prefix dns[TRUST_DNS_MAX];	/* addresses: plen 32 or 128 */
	char search[TRUST_SEARCH_MAX][TRUST_DOMAIN_MAX + 1];	/* NUL-terminated */
	uint8_t issuer[TRUST_KEY_LEN];	/* network key */
	uint8_t sig[TRUST_SIG_LEN];
};

/* Parsers: 0, or a negative trust_verdict (TRUST_E_MALFORMED) on anything not exactly one
 * well-formed record. They check form only; trust_*_check() decides trust. */
int trust_cert_parse(struct trust_cert *out, const uint8_t *in, size_t len);
int trust_ticket_parse(struct trust_ticket *out, const uint8_t *in, size_t len);
int trust_revoke_parse(struct trust_revoke *out, const uint8_t *in, size_t len);
int trust_rotation_parse(struct trust_rotation *out, const uint8_t *in, size_t len);
int trust_settings_parse(struct trust_settings *out, const uint8_t *in, size_t len);

/* Encoders: the length written (signature included), or 0 when the record does not fit cap or
 * breaks a limit. The signed bytes are the first len - TRUST_SIG_LEN. */
size_t trust_cert_encode(const struct trust_cert *c, uint8_t *out, size_t cap);
size_t trust_ticket_encode(const struct trust_ticket *t, uint8_t *out, size_t cap);
size_t trust_revoke_encode(const struct trust_revoke *r, uint8_t *out, size_t cap);
size_t trust_rotation_encode(const struct trust_rotation *r, uint8_t *out, size_t cap);
size_t trust_settings_encode(const struct trust_settings *s, uint8_t *out, size_t cap);

/* Verdicts: why a record is not trusted (0 = trusted). */
enum trust_verdict {
	TRUST_OK = 0,
	TRUST_E_MALFORMED = -1,
	TRUST_E_NETWORK = -2,		/* made for another network */
	TRUST_E_ISSUER = -3,		/* issuer is not our trust anchor */
	TRUST_E_SIGNATURE = -4,
	TRUST_E_NOT_YET_VALID = -5,
	TRUST_E_EXPIRED = -6,
	TRUST_E_REVOKED = -7,
	TRUST_E_TICKET = -8,		/* cert does not match its ticket */
	TRUST_E_TICKET_REUSED = -9,	/* ticket already bound to another key */
	TRUST_E_NAME = -10,		/* cert is not for the name the message claims */
	TRUST_E_KEY = -11,		/* ... nor for its WireGuard key */
	TRUST_E_ADDRESS = -12,		/* ... nor for its address */
	TRUST_E_FULL = -13,		/* a fixed-size table is full */
	TRUST_E_ROTATION = -14,		/* rotation not for this cert, or not chained to its key */
	TRUST_E_STALE = -15,		/* an older rotation (replay), or a key a rotation replaced */
};

/* Short reason for logs and `riftgate status` ("rejected: <reason>"). */
const char *trust_verdict_str(int verdict);

/* Host signature check: true when sig is pub's Ed25519 signature of msg. */
typedef bool (*trust_verify_fn)(void *opaque, const uint8_t pub[TRUST_KEY_LEN], const uint8_t *msg,
				size_t len, const uint8_t sig[TRUST_SIG_LEN]);

/* Revoked serials, sorted, fixed capacity (the hub cannot allocate). */
enum { TRUST_REVOKED_MAX = 1024 };
struct trust_revlist {
	size_t n;
	uint64_t serial[TRUST_REVOKED_MAX];
};

/* Ticket bindings seen: a ticket is honoured for one (wg_key, dev_key) only. Oldest entries are
 * never dropped: a full table refuses new tickets (TRUST_E_FULL) rather than forget one. */
enum { TRUST_BINDINGS_MAX = 256 };
struct trust_binding {
	uint64_t id;
	uint8_t wg_key[TRUST_KEY_LEN], dev_key[TRUST_KEY_LEN];
};
struct trust_bindings {
	size_t n;
	struct trust_binding b[TRUST_BINDINGS_MAX];
};

/* What a verifier knows: the anchor, its network id, the revocations it holds. */
struct trust_ctx {
	uint8_t anchor[TRUST_KEY_LEN];
	char net[TRUST_NAME_MAX + 1];
	trust_verify_fn verify;
	void *opaque;			/* for verify */
	const struct trust_revlist *revoked;	/* may be NULL */
	uint32_t skew_s;		/* TRUST_SKEW_S unless a test says otherwise */
};

/* Issuer, network, signatures (ticket and cert), validity at now_s (+/- skew), ticket rules,
 * revocation. Does not look at ticket reuse (see trust_bindings_use). */
int trust_cert_check(const struct trust_ctx *ctx, const struct trust_cert *c, uint64_t now_s);
/* Issuer, network, signature. */
int trust_revoke_check(const struct trust_ctx *ctx, const struct trust_revoke *r);
/* Issuer, network, signature: settings only the network key made. */
int trust_settings_check(const struct trust_ctx *ctx, const struct trust_settings *s);
/* Issuer, network, signature and use_by at now_s (+ skew): what `riftgate join` checks before it
 * spends a ticket. */
int trust_ticket_check(const struct trust_ctx *ctx, const struct trust_ticket *t, uint64_t now_s);

/* For a ticket-bound cert: records the binding the first time, accepts the same binding again,
 * refuses (TRUST_E_TICKET_REUSED) another one. Certs without a ticket: TRUST_OK, nothing kept. */
int trust_bindings_use(struct trust_bindings *b, const struct trust_cert *c);

/* Key rotations seen: the newest per cert serial. Like bindings, a full table refuses. */
enum { TRUST_ROTATIONS_MAX = 1024 };
struct trust_rotated {
	uint64_t serial;
	uint32_t seq;
	uint8_t wg_key[TRUST_KEY_LEN];	/* the key that rotation installed */
};
struct trust_rotations {
	size_t n;
	struct trust_rotated e[TRUST_ROTATIONS_MAX];
};

/* A rotation of cert c (which must pass trust_cert_check first: a revoked or expired cert has no
 * valid rotation): same network, name and serial, seq >= 1, the first one starts from c's key,
 * new key differs from old, rotated_at not before the cert's not_before (- skew) nor after now
 * (+ skew), signed by c's dev_key. Does not look at the order of rotations (trust_rotations_use). */
int trust_rotation_check(const struct trust_ctx *ctx, const struct trust_cert *c,
			 const struct trust_rotation *r, uint64_t now_s);

/* The order of rotations for one cert. With r (checked): a newer seq than the one held is kept
 * (when it is the next one, it must start from the held key: TRUST_E_ROTATION otherwise); the
 * same seq with the same new key is accepted again; an older seq, or the same seq with another
 * key, is TRUST_E_STALE. Without r (the cert's own key is claimed): TRUST_E_STALE once any
 * rotation of that cert was seen. Certs and rotations are not remembered beyond this table. */
int trust_rotations_use(struct trust_rotations *t, const struct trust_cert *c,
			const struct trust_rotation *r);
/* The newest rotation seen of serial, or NULL. */
const struct trust_rotated *trust_rotations_find(const struct trust_rotations *t, uint64_t serial);

bool trust_revlist_has(const struct trust_revlist *l, uint64_t serial);
/* 0 (added or already there), TRUST_E_FULL, TRUST_E_MALFORMED for serial 0. */
int trust_revlist_add(struct trust_revlist *l, uint64_t serial);

/* Message binding: name, WireGuard key and (if given, "" = none) the textual address must be the
 * cert's. address is "10.10.0.2/24" or "fd00::2/64"; it must equal one of the cert's addrs. */
int trust_cert_matches(const struct trust_cert *c, const char *name, const uint8_t wg_key[TRUST_KEY_LEN],
		       const char *address);

/* "10.10.0.2/24" or "fd00::2/64" <-> prefix. Parse: strict (dotted quad, RFC 4291 text with
 * at most one "::", no zone); format writes at most TRUST_PREFIX_STR_MAX bytes with the NUL,
 * IPv6 in RFC 5952 form. */
enum { TRUST_PREFIX_STR_MAX = 44 };
bool trust_prefix_parse(struct trust_prefix *p, const char *s, size_t len);
void trust_prefix_format(const struct trust_prefix *p, char out[static TRUST_PREFIX_STR_MAX]);
bool trust_prefix_eq(const struct trust_prefix *a, const struct trust_prefix *b);

#endif
