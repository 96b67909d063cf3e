/* Membership state on disk (docs/membership.md): what a device keeps beside its config, and the
 * admin device's registry of issued certificates. Host side (libc); the CLI and the agent use it.
 *
 * For a config at DIR/NAME.toml the state lives in DIR/NAME.trust/ (mode 0700):
 *	anchor		base64 network public key (the trust anchor)
 *	cert		base64 of this device's certificate
 *	device.key	base64 device signing seed (0600, secret)
 *	network.key	base64 network signing seed (0600, secret; admin device only)
 *	registry	admin only: one line per issued cert or ticket:
 *			SERIAL(16 hex) NAME ADDRESS NOT_AFTER(unix) cert|ticket active|revoked
 *	revoked		base64 revocation records, one per line (appended)
 *	bindings	ticket bindings seen: ID(16 hex) WGKEY(b64) DEVKEY(b64), one per line
 *	rotation	base64 of this device's newest key rotation (riftgate rotate), if any
 *	rotations	newest key rotation seen per cert: SERIAL(16 hex) SEQ WGKEY(b64), one per line
 * Every file is written whole to a temp file (0600) and renamed, except the append-only ones.
 */
#ifndef RG_TRUST_STORE_H
#define RG_TRUST_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trust/cert.h"
#include "trust/sign.h"

struct rg_err;

struct trust_store {
	char dir[PATH_MAX];
	char net[TRUST_NAME_MAX + 1];		/* the config's network name */
	bool has_anchor, has_cert, has_dev_key, has_net_key;
	uint8_t anchor[TRUST_KEY_LEN];
	struct trust_cert cert;
	uint8_t dev_seed[TRUST_SEED_LEN];	/* secret */
	uint8_t net_seed[TRUST_SEED_LEN];	/* secret */
	struct trust_revlist revoked;
	struct trust_bindings bindings;
	bool has_rotation;
	struct trust_rotation rotation;		/* ours: cert.wg_key -> rotation.new_wg */
	struct trust_rotations rotations;	/* seen from peers */
};

/* DIR/NAME.trust for DIR/NAME.toml (or PATH.trust when the name has no .toml). */
int trust_store_path(char *out, size_t cap, const char *config_path);

/* Loads whatever exists (a missing directory is an empty store: no anchor). Revocations that do
 * not verify against the anchor are skipped. net is the config's network name. 0 or -errno with
 * err naming the file. s is heap-sized: use trust_store_new. */
int trust_store_load(struct trust_store *s, const char *config_path, const char *net,
		     struct rg_err *err);
/* Writes anchor, cert, device.key and network.key (those present). */
int trust_store_save(const struct trust_store *s, struct rg_err *err);
/* Appends one revocation (already checked) to `revoked`, and its serial to s->revoked. */
int trust_store_add_revoke(struct trust_store *s, const struct trust_revoke *r, struct rg_err *err);
/* Calls fn for every record in `revoked` that verifies (in file order, duplicates included). */
void trust_store_each_revoke(const struct trust_store *s,
			     void (*fn)(void *opaque, const struct trust_revoke *r), void *opaque);
/* Rewrites `bindings`. */
int trust_store_save_bindings(const struct trust_store *s, struct rg_err *err);
/* Rewrites `rotations`. */
int trust_store_save_rotations(const struct trust_store *s, struct rg_err *err);
/* Writes `rotation` (s->rotation, which must be set). */
int trust_store_save_rotation(const struct trust_store *s, struct rg_err *err);
/* Our WireGuard public key as certified: the newest rotation's key, else the cert's. */
const uint8_t *trust_store_wg_key(const struct trust_store *s);

struct trust_store *trust_store_new(void);
/* Wipes the seeds and frees. NULL is fine. */
void trust_store_free(struct trust_store *s);

/* A verification context over the store (anchor, network, revocations, OpenSSL verify). */
void trust_store_ctx(const struct trust_store *s, struct trust_ctx *ctx);

/* ---- admin registry ---- */

enum { TRUST_REGISTRY_MAX = 4096 };

struct trust_reg_entry {
	uint64_t serial;
	char name[TRUST_NAME_MAX + 1];
	struct trust_prefix addr;
	uint64_t not_after;
	bool ticket;		/* an invite ticket (the device makes its own cert) */
	bool revoked;
};

struct trust_registry {
	size_t n;
	struct trust_reg_entry e[TRUST_REGISTRY_MAX];
};

/* Missing file = empty registry. */
int trust_registry_load(struct trust_registry *r, const struct trust_store *s, struct rg_err *err);
int trust_registry_save(const struct trust_registry *r, const struct trust_store *s,
			struct rg_err *err);
/* An active (not revoked) entry whose address equals a's (the prefix length is not compared),
 * or NULL. */
const struct trust_reg_entry *trust_registry_find_addr(const struct trust_registry *r,
						       const struct trust_prefix *a);
/* An active entry named name, or NULL. */
const struct trust_reg_entry *trust_registry_find_name(const struct trust_registry *r,
						       const char *name);

#endif
